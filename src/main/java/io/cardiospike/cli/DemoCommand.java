package io.cardiospike.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.wire.StreamJson;
import io.cardiospike.stream.JobTuningOptions;
import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.api.ApiServer;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.local.TopicReader;
import java.time.Duration;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Everything in one process, no external services: an in-process KRaft Kafka broker, the topics, the scoring job on
 * a local Flink MiniCluster (RocksDB, exactly-once checkpointing) and a producer replaying a CSV or streaming
 * synthetic patients. Prints a live status line; Ctrl-C stops it cleanly.
 */
@Command(name = "demo", description = "Run broker, streaming job and a replay producer in one process (Ctrl-C stops).",
        defaultValueProvider = DemoCommand.Defaults.class)
final class DemoCommand implements Callable<Integer> {
    /** Scores committed every second, for a person watching. */
    static final class Defaults extends JobDefaults {
        Defaults() {
            super(Map.of("--checkpoint-interval", "1s", "--transaction-timeout", "5min"));
        }
    }

    @Option(names = "--replay", description = "CSV (id,time,x) to replay, one patient per key, interleaved by time")
    Path replay;

    @Option(names = "--patients", defaultValue = "20", description = "synthetic patients without --replay (default ${DEFAULT-VALUE})")
    int patients;

    @Option(names = "--speed", defaultValue = "1", description = "1 = real time, 10 = ten times faster, max = no pause (default ${DEFAULT-VALUE})")
    String speed;

    @Option(names = "--exit-when-done", description = "stop once the replay is completely scored")
    boolean exitWhenDone;

    @Option(names = "--scores-csv", description = "write the committed rr-scores as id,time,y,proba (like `score`)")
    Path scoresCsv;

    @Mixin ModelOption model;

    @Mixin ShadowModelOption shadowModel;

    @Mixin JobTuningOptions tuning;

    @Option(names = "--port", defaultValue = "8080",
            description = "dashboard port, any free port if taken; 0 = any free port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--no-dashboard", description = "do not start the web dashboard")
    boolean noDashboard;

    @Option(names = "--kafka-port", description = "bind the embedded broker to 127.0.0.1:PORT so your own producers and "
            + "consumers can attach (default: 9092 when free, else a free port; the demo prints it)")
    Integer kafkaPort;

    @Mixin KafkaOptions kafkaOptions;

    /** Kafka's usual port: the broker listens there when it is free. */
    static final int DEFAULT_KAFKA_PORT = 9092;

    private volatile boolean stopRequested;

    @Override
    public Integer call() throws Exception {
        double pace = parseSpeed(speed);
        if (replay == null && (exitWhenDone || scoresCsv != null)) {
            throw new UserException("--exit-when-done and --scores-csv need --replay (synthetic patients never end)");
        }
        ModelManifest manifest = ModelManifest.load(model.path()); // fail early, before anything starts
        ModelManifest shadow = shadowModel.check(manifest);
        RrCsv.Table table = replay == null ? null : RrCsv.read(replay);
        List<ReplayProducer.Event> events = table == null ? null : ReplayProducer.interleave(table.recordings(), ReplayProducer.REPLAY_BASE_EPOCH_MS);
        // The replay is done when each of its beats is committed or dead-lettered: counting would also count what
        // other producers send to the same broker (--kafka-port invites them).
        Set<String> pending = events == null ? null : beatKeys(events);

        Path work = Files.createTempDirectory("cardiospike-demo");
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Thread onCtrlC = new Thread(() -> {
            stopRequested = true;
            try {
                cleanedUp.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(onCtrlC);

        EmbeddedKafka kafka = null;
        JobClient job = null;
        ReplayProducer producer = null;
        TopicReader reader = null;
        ApiServer dashboard = null;
        Thread feeder = null;
        boolean complete = false;
        try {
            String brokers;
            KafkaConnection kafkaConnection;
            if (kafkaOptions.given()) {
                kafkaConnection = kafkaOptions.connect();
                brokers = kafkaConnection.bootstrapServers();
                log("using the external Kafka broker " + brokers + " (" + kafkaConnection + ")");
            } else {
                if (kafkaOptions.configFile() != null) {
                    throw new UserException("--kafka-config goes with --bootstrap-servers: the embedded broker is PLAINTEXT");
                }
                if (kafkaPort != null && !ClusterCommand.portFree(kafkaPort)) {
                    throw new UserException("--kafka-port " + kafkaPort + " is in use; choose another or leave it out");
                }
                // Kafka's usual port when it is free, so the docs' clients (127.0.0.1:9092) reach the demo as written.
                int port = kafkaPort != null ? kafkaPort
                        : ClusterCommand.portFree(DEFAULT_KAFKA_PORT) ? DEFAULT_KAFKA_PORT : EmbeddedKafka.freePort();
                log("starting Kafka broker (in-process, KRaft)...");
                kafka = EmbeddedKafka.start(work.resolve("kafka"), port, EmbeddedKafka.freePort());
                brokers = kafka.bootstrapServers();
                kafkaConnection = KafkaConnection.plain(brokers);
                if (kafkaPort == null && port != DEFAULT_KAFKA_PORT) {
                    log(DEFAULT_KAFKA_PORT + " is taken: the broker is at " + brokers + "; give other commands "
                            + "--bootstrap-servers " + brokers);
                } else {
                    log("the broker is at " + brokers + (port == DEFAULT_KAFKA_PORT
                            ? ", where produce, consume and the docs' consumers look by default" : ""));
                }
            }
            System.out.println("kafka: " + brokers); // attach your own producers and consumers here
            StreamConfig config = StreamConfig.builder().tuning(tuning)
                    .bootstrapServers(brokers).kafkaConfig(kafkaOptions.configFile()).modelDir(model.value())
                    .shadowModelDir(shadowModel.value()).checkpointDir(work.resolve("checkpoints").toString()).build();
            EmbeddedKafka.createTopics(kafkaConnection, config.parallelism(), config.inputTopic(), config.scoresTopic(),
                    config.alertsTopic(),
                    config.dlqTopic(), config.monitoringTopic());
            if (shadow != null) {
                EmbeddedKafka.createTopics(kafkaConnection, config.parallelism(), config.shadowScoresTopic());
                log("shadow model " + shadow.modelVersion() + " scores every beat beside " + manifest.modelVersion()
                        + ": both scores in " + config.shadowScoresTopic());
            }
            log("starting the scoring job on a local Flink MiniCluster (RocksDB, checkpoints every "
                    + StreamConfig.format(config.checkpointInterval()) + ")...");
            job = LocalJob.start(config, null);

            if (!noDashboard) {
                dashboard = startDashboard(kafkaConnection, config);
                log("dashboard (live patients, API docs at /docs): " + dashboard.url());
            }

            Map<String, Map<Long, Score>> scoresByPatient = new ConcurrentHashMap<>();
            DemoStatus status = new DemoStatus(manifest.spec().lookaheadBeats(), config.idleFlushGap());
            String inputTopic = config.inputTopic(), scoresTopic = config.scoresTopic(), alertsTopic = config.alertsTopic();
            reader = new TopicReader(kafkaConnection, List.of(inputTopic, scoresTopic, alertsTopic, config.dlqTopic()),
                    false, r -> {
                        if (r.topic().equals(inputTopic)) {
                            status.input(r.key(), r.value(), r.readNanos());
                        } else if (r.topic().equals(scoresTopic)) {
                            status.scored(r.key());
                            if (pending != null) {
                                pending.remove(beatKey(r.key(), r.value().path("ts").asLong()));
                            }
                            if (scoresCsv != null) {
                                scoresByPatient.computeIfAbsent(r.key(), k -> new ConcurrentHashMap<>())
                                        .put(r.value().path("ts").asLong(), new Score(
                                                r.value().path("proba").asDouble(), r.value().path("anomaly").asBoolean()));
                            }
                        } else if (r.topic().equals(alertsTopic)) {
                            if ("open".equals(r.value().path("status").asText())) {
                                status.alert();
                            }
                        } else {
                            status.deadLetter(r.key(), r.value());
                            if (pending != null) {
                                pending.remove(rejectedBeatKey(r.value()));
                            }
                        }
                    });

            ReplayProducer feed = new ReplayProducer(kafkaConnection, config.inputTopic(), pace, 0);
            producer = feed;
            Iterator<ReplayProducer.Event> source = events != null ? events.iterator()
                    : ReplayProducer.syntheticFleet(patients, 42, System.currentTimeMillis());
            feeder = new Thread(() -> {
                try {
                    feed.send(source, 0, null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "replay-producer");
            feeder.setDaemon(true);
            feeder.start();
            log(events != null ? "replaying " + events.size() + " beats of " + table.recordings().size()
                    + " patients from " + replay + " at speed " + speed
                    : "streaming " + patients + " synthetic patients at speed " + speed);

            long lastIn = 0, lastNanos = System.nanoTime(), lastPrinted = 0;
            String lastLine = "";
            // On a terminal the line is redrawn every second; into a file or pipe, a line every 10 s
            boolean terminal = Progress.stderrIsTerminal();
            while (!stopRequested) {
                Thread.sleep(1000);
                long now = System.nanoTime(), in = status.in();
                double rate = (in - lastIn) / ((now - lastNanos) / 1e9);
                lastIn = in;
                lastNanos = now;
                String line = status.line(rate, now);
                boolean news = !complete || !line.equals(lastLine); // once the replay is committed, only news
                if (news && terminal) {
                    System.err.print("\r" + line + "   ");
                    lastLine = line;
                } else if (news && now - lastPrinted >= 10_000_000_000L) {
                    System.err.println(line);
                    lastLine = line;
                    lastPrinted = now;
                }
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    throw new IllegalStateException("the scoring job stopped: " + job.getJobStatus().get());
                }
                if (!complete && pending != null && !feeder.isAlive() && pending.isEmpty()) {
                    complete = true;
                    System.err.println(terminal ? "" : line);
                    log("the replay is committed: " + events.size() + " beats, " + status.scored() + " scored, "
                            + DemoStatus.plural(status.deadLetters(), "dead letter") + ", "
                            + DemoStatus.plural(status.alerts(), "alert")
                            + (exitWhenDone ? "" : "; the job runs on for other producers' beats (Ctrl-C stops)"));
                    if (exitWhenDone) {
                        break;
                    }
                }
            }
            if (!complete && terminal) {
                System.err.println();
            }
            if (scoresCsv != null && table != null) {
                if (!complete) {
                    log("stopped before the replay was completely scored: " + scoresCsv + " has NaN for the rest");
                }
                writeScores(table, scoresByPatient);
                log("wrote " + table.rowCount() + " scores to " + scoresCsv);
            }
            log("scored " + status.scored() + " beats, " + DemoStatus.plural(status.alerts(), "alert") + ", "
                    + DemoStatus.plural(status.deadLetters(), "dead letter") + "; stopping...");
        } finally {
            if (producer != null) {
                producer.stop();
            }
            if (feeder != null) {
                feeder.join(5000);
            }
            if (job != null) {
                LocalJob.stop(job, Duration.ofSeconds(15));
            }
            if (dashboard != null) {
                dashboard.close();
            }
            if (reader != null) {
                reader.close();
            }
            if (producer != null) {
                producer.close();
            }
            if (kafka != null) {
                kafka.close();
            }
            deleteTree(work);
            cleanedUp.countDown();
            if (!stopRequested) {
                Runtime.getRuntime().removeShutdownHook(onCtrlC);
            }
        }
        return 0;
    }

    /** The dashboard on the same broker, listing the replayed recordings too; a taken port falls back to a free one. */
    private ApiServer startDashboard(KafkaConnection kafka, StreamConfig config) throws Exception {
        ApiServer.Options.Builder options = ApiServer.Options.builder().modelDir(model.path()).dataFile(replay)
                .kafka(kafka).topics(config.scoresTopic(), config.alertsTopic())
                .modelTopics(config.shadowScoresTopic(), config.monitoringTopic());
        try {
            return ApiServer.start(options.port(port).build());
        } catch (io.javalin.util.JavalinBindException e) {
            log("port " + port + " is taken; the dashboard uses a free port");
            return ApiServer.start(options.port(0).build());
        }
    }

    /** A beat's result on the scores topic: what the stream decided. */
    private record Score(double proba, boolean anomaly) {}

    /** Same rows and formatting as {@code bin/cardiospike score}: RrCsv.writeScores, in the input's row order. */
    private void writeScores(RrCsv.Table table, Map<String, Map<Long, Score>> scoresByPatient) throws IOException {
        List<double[]> proba = new ArrayList<>();
        List<int[]> decisions = new ArrayList<>();
        for (Recording rec : table.recordings()) {
            Map<Long, Score> byTs = scoresByPatient.getOrDefault(rec.id(), Map.of());
            double[] p = new double[rec.size()];
            int[] y = new int[rec.size()];
            for (int i = 0; i < rec.size(); i++) {
                Score v = byTs.get(ReplayProducer.replayTs(rec.time()[i], ReplayProducer.REPLAY_BASE_EPOCH_MS));
                p[i] = v == null ? Double.NaN : v.proba();
                y[i] = v != null && v.anomaly() ? 1 : 0;
            }
            proba.add(p);
            decisions.add(y);
        }
        if (scoresCsv.toAbsolutePath().getParent() != null) {
            Files.createDirectories(scoresCsv.toAbsolutePath().getParent());
        }
        try (Writer out = Files.newBufferedWriter(scoresCsv, StandardCharsets.UTF_8)) {
            RrCsv.writeScores(out, table, proba, decisions);
        }
    }

    /** The replay's beats, each once: a repeated (patient, time) is a duplicate and dropped by design. */
    private static Set<String> beatKeys(List<ReplayProducer.Event> events) {
        Set<String> keys = ConcurrentHashMap.newKeySet();
        for (ReplayProducer.Event e : events) {
            keys.add(beatKey(e.patientId(), e.ts()));
        }
        return keys;
    }

    private static String beatKey(String patientId, long ts) {
        return patientId + '\u0000' + ts;
    }

    /** The beat a dead letter holds when its raw value is a one-beat event (as every replayed record is); else "". */
    private static String rejectedBeatKey(JsonNode deadLetter) {
        try {
            JsonNode raw = StreamJson.read(deadLetter.path("raw_value").asText().getBytes(StandardCharsets.UTF_8));
            return raw != null && raw.path("patient_id").isTextual() && raw.path("ts").isIntegralNumber()
                    && raw.path("rr_ms").isNumber() ? beatKey(raw.path("patient_id").textValue(), raw.path("ts").asLong())
                    : "";
        } catch (java.io.UncheckedIOException notJson) {
            return "";
        }
    }

    /** {@code --speed}: a positive factor of real time, or {@code max} (no pause). */
    static double parseSpeed(String s) throws UserException {
        if ("max".equalsIgnoreCase(s)) {
            return Double.POSITIVE_INFINITY;
        }
        try {
            double v = Double.parseDouble(s);
            if (v > 0 && Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new UserException("--speed must be a positive number or 'max', got '" + s + "'");
    }

    private static void log(String message) {
        System.err.println("demo: " + message);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir; best effort
        }
    }
}
