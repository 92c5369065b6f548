package io.cardiospike.cli;

import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.EmbeddedKafka;
import io.cardiospike.stream.KafkaConnection;
import io.cardiospike.stream.LocalJob;
import io.cardiospike.stream.ReplayProducer;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * End-to-end benchmark of the streaming job: synthetic patients -> Kafka -> job (RocksDB, exactly-once) -> Kafka ->
 * a read_committed consumer. Reports the sustained throughput (scores committed per second between 10% and 90% of
 * the run, so job start-up and the final idle flush are left out) and the latency from the send of the beat that
 * completes a window (beat i + lookahead) to the moment beat i's score is readable as committed.
 */
@Command(name = "stream", description = "Benchmark the streaming job end to end: events/s and latency through Kafka.")
final class StreamBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "${env:CARDIOSPIKE_MODEL:-models}",
            description = "model bundle dir (default ${DEFAULT-VALUE}): compare bundles on the same machine")
    Path model;

    @Option(names = "--events", defaultValue = "600000", description = "beats to send (default ${DEFAULT-VALUE})")
    int events;

    @Option(names = "--patients", defaultValue = "500", description = "synthetic patients (default ${DEFAULT-VALUE})")
    int patients;

    @Option(names = "--rate", defaultValue = "0", description = "events/s to offer; 0 = as fast as possible (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--parallelism", defaultValue = "2", description = "job parallelism (default ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--bootstrap-servers",
            description = "an external broker to measure (default: an embedded one; the run uses topics of its own)")
    String bootstrapServers;

    @Mixin KafkaConfigOption kafkaConfig;

    @Option(names = "--checkpoint-interval", defaultValue = "1s",
            description = "scores become visible when their checkpoint commits: this bounds latency from below "
                    + "(default ${DEFAULT-VALUE})")
    String checkpointInterval;

    @Override
    public Integer call() throws Exception {
        ModelManifest manifest = ModelManifest.load(model);
        int lookahead = manifest.spec().lookaheadBeats();
        System.err.printf("generating %,d beats of %d synthetic patients...%n", events, patients);
        List<ReplayProducer.Event> beats = new ArrayList<>(events);
        Iterator<ReplayProducer.Event> fleet = ReplayProducer.syntheticFleet(patients, 7, 1_700_000_000_000L);
        Map<String, Integer> patientIndex = new HashMap<>();
        List<List<Integer>> seqByPatient = new ArrayList<>(); // beat k of patient p -> global sequence number
        for (int s = 0; s < events; s++) {
            ReplayProducer.Event e = fleet.next();
            beats.add(e);
            int p = patientIndex.computeIfAbsent(e.patientId(), id -> {
                seqByPatient.add(new ArrayList<>());
                return seqByPatient.size() - 1;
            });
            seqByPatient.get(p).add(s);
        }
        // (patient, ts) -> sequence of the beat whose arrival completes that beat's window, and of the beat itself
        Map<String, Map<Long, Integer>> completingSeq = new HashMap<>(), ownSeq = new HashMap<>();
        for (Map.Entry<String, Integer> e : patientIndex.entrySet()) {
            List<Integer> seqs = seqByPatient.get(e.getValue());
            Map<Long, Integer> m = new HashMap<>(seqs.size() * 2), own = new HashMap<>(seqs.size() * 2);
            for (int k = 0; k < seqs.size(); k++) {
                own.put(beats.get(seqs.get(k)).ts(), seqs.get(k));
                if (k + lookahead < seqs.size()) {
                    m.put(beats.get(seqs.get(k)).ts(), seqs.get(k + lookahead));
                }
            }
            completingSeq.put(e.getKey(), m);
            ownSeq.put(e.getKey(), own);
        }
        long[] alertLatencies = new long[events];
        int[] alertCount = {0};

        Path work = Files.createTempDirectory("cardiospike-bench");
        AtomicLongArray sentNanos = new AtomicLongArray(events);
        long[] readNanos = new long[events];
        int[] latencyCount = {0};
        long[] latencies = new long[events];
        long[] received = {0};
        // An external broker gets topics of this run's own, so its other data cannot enter the figures.
        String run = Long.toHexString(System.nanoTime());
        EmbeddedKafka kafka = bootstrapServers == null ? EmbeddedKafka.start(work.resolve("kafka")) : null;
        KafkaConnection connection = kafka != null ? KafkaConnection.plain(kafka.bootstrapServers())
                : kafkaConfig.connect(bootstrapServers);
        List<String> topics = kafka != null ? List.of()
                : List.of("--input-topic", "bench-" + run + "-rr-events", "--scores-topic", "bench-" + run + "-rr-scores",
                        "--alerts-topic", "bench-" + run + "-rr-alerts", "--dlq-topic", "bench-" + run + "-rr-dlq",
                        "--group-id", "bench-" + run, "--transactional-id-prefix", "bench-" + run);
        JobClient job = null;
        try {
            List<String> args = new ArrayList<>(List.of("--bootstrap-servers", connection.bootstrapServers(),
                    "--model-dir", model.toString(), "--parallelism", Integer.toString(parallelism),
                    "--checkpoint-dir", work.resolve("checkpoints").toString(),
                    "--checkpoint-interval", checkpointInterval, "--idle-flush", "3s", "--allowed-lateness", "1s",
                    "--transaction-timeout", "5min"));
            args.addAll(topics);
            if (kafkaConfig.file != null) {
                args.addAll(List.of("--kafka-config", kafkaConfig.file));
            }
            StreamConfig config = StreamConfig.fromArgs(args.toArray(String[]::new));
            EmbeddedKafka.createTopics(connection, parallelism, config.inputTopic(), config.scoresTopic(),
                    config.alertsTopic(), config.dlqTopic());
            job = LocalJob.start(config, null);
            Object lock = new Object();
            String alertsTopic = config.alertsTopic();
            try (TopicReader reader = new TopicReader(connection, List.of(config.scoresTopic(), alertsTopic), false, r -> {
                synchronized (lock) {
                    if (r.topic().equals(alertsTopic)) {
                        // an alert at onset: from the arrival of its first anomalous beat to the committed "open"
                        Map<Long, Integer> own = ownSeq.getOrDefault(r.key(), Map.of());
                        Integer seq = own.get(r.value().path("start_ts").asLong());
                        if (r.value().path("status").asText().equals("open") && seq != null && sentNanos.get(seq) != 0
                                && alertCount[0] < alertLatencies.length) {
                            alertLatencies[alertCount[0]++] = r.readNanos() - sentNanos.get(seq);
                        }
                        return;
                    }
                    if (received[0] < events) {
                        readNanos[(int) received[0]] = r.readNanos();
                    }
                    received[0]++;
                    Integer seq = completingSeq.get(r.key()).get(r.value().path("ts").asLong());
                    if (seq != null && sentNanos.get(seq) != 0) {
                        latencies[latencyCount[0]++] = r.readNanos() - sentNanos.get(seq);
                    }
                }
            });
                 ReplayProducer producer = new ReplayProducer(connection, config.inputTopic(),
                         Double.POSITIVE_INFINITY, rate)) {
                awaitRunning(job);
                System.err.printf("sending %s...%n", rate > 0 ? String.format("at %,.0f events/s", rate) : "at max speed");
                long start = System.nanoTime();
                producer.send(beats.iterator(), 0, (e, seq) -> sentNanos.set((int) seq, System.nanoTime()));
                double sendSeconds = (System.nanoTime() - start) / 1e9;
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
                long last = -1;
                while (System.nanoTime() < deadline) {
                    long n;
                    synchronized (lock) {
                        n = received[0];
                    }
                    if (n >= events) {
                        break;
                    }
                    System.err.printf("\rscored %,d / %,d   ", n, events);
                    if (n == last && job.getJobStatus().get().isGloballyTerminalState()) {
                        throw new IllegalStateException("job stopped: " + job.getJobStatus().get());
                    }
                    last = n;
                    Thread.sleep(1000);
                }
                System.err.println();
                synchronized (lock) {
                    report(start, sendSeconds, readNanos, (int) Math.min(received[0], events), latencies,
                            latencyCount[0], Arrays.copyOf(alertLatencies, alertCount[0]), lookahead);
                }
            }
        } finally {
            // The job goes first: a job left running without its broker logs a stack trace per checkpoint.
            if (job != null) {
                try {
                    job.cancel().get(15, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // already stopped
                }
            }
            if (kafka != null) {
                kafka.close();
            }
            try (Stream<Path> paths = Files.walk(work)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return 0;
    }

    private void report(long startNanos, double sendSeconds, long[] readNanos, int n, long[] latencies, int nLat,
                        long[] alertLat, int lookaheadBeats) {
        int lo = (int) (n * 0.1), hi = (int) (n * 0.9) - 1;
        double sustained = hi > lo ? (hi - lo) / ((readNanos[hi] - readNanos[lo]) / 1e9) : Double.NaN;
        double total = (readNanos[n - 1] - startNanos) / 1e9;
        long[] lat = Arrays.copyOf(latencies, nLat);
        Arrays.sort(lat);
        System.out.printf(Locale.ROOT, "events sent:      %,d in %.1f s (%,.0f events/s offered)%n", events, sendSeconds,
                events / sendSeconds);
        System.out.printf(Locale.ROOT, "scores committed: %,d, last after %.1f s (%,.0f events/s overall, incl. start-up"
                + " and final flush)%n", n, total, n / total);
        System.out.printf(Locale.ROOT, "sustained:        %,.0f events/s end to end (Kafka -> job -> Kafka, committed)%n",
                sustained);
        if (nLat > 0) {
            System.out.printf(Locale.ROOT, "latency (window complete -> score committed): p50 %.0f ms, p99 %.0f ms, "
                    + "max %.0f ms over %,d beats%n", lat[nLat / 2] / 1e6, lat[(int) (nLat * 0.99)] / 1e6,
                    lat[nLat - 1] / 1e6, nLat);
        }
        if (alertLat.length > 0) {
            Arrays.sort(alertLat);
            System.out.printf(Locale.ROOT, "alert latency (anomalous beat sent -> its \"open\" alert committed): p50 %.0f ms, "
                    + "p99 %.0f ms over %,d alerts (floor: %d beats of lookahead + one checkpoint interval)%n",
                    alertLat[alertLat.length / 2] / 1e6, alertLat[(int) (alertLat.length * 0.99)] / 1e6, alertLat.length,
                    lookaheadBeats);
        }
        System.out.printf("setup: parallelism %d, %d patients, checkpoint interval %s, exactly-once, RocksDB, %d cores%n",
                parallelism, patients, checkpointInterval, Runtime.getRuntime().availableProcessors());
    }

    private static void awaitRunning(JobClient job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (job.getJobStatus().get() != org.apache.flink.api.common.JobStatus.RUNNING
                && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        Thread.sleep(2000); // tasks deploy and open (model load) after the job reports RUNNING
    }
}
