package io.cardiospike.cli;

import io.cardiospike.stream.JobTuningOptions;
import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.model.ScorerStages;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.local.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
@Command(name = "stream", description = "Benchmark the streaming job end to end: events/s and latency through Kafka.",
        defaultValueProvider = StreamBenchCommand.Defaults.class)
final class StreamBenchCommand implements Callable<Integer> {
    /** Scores committed every second; patients' segments end soon after the run's last beat. */
    static final class Defaults extends JobDefaults {
        Defaults() {
            super(Map.of("--checkpoint-interval", "1s", "--idle-flush", "3s", "--allowed-lateness", "1s",
                    "--transaction-timeout", "5min"));
        }
    }

    @Mixin ModelOption model;

    @Option(names = "--events", defaultValue = "600000", description = "beats to send (default ${DEFAULT-VALUE})")
    int events;

    @Option(names = "--patients", defaultValue = "500", description = "synthetic patients (default ${DEFAULT-VALUE})")
    int patients;

    @Option(names = "--rate", defaultValue = "0", description = "events/s to offer; 0 = as fast as possible (default ${DEFAULT-VALUE})")
    double rate;

    @Mixin JobTuningOptions tuning;

    @Mixin KafkaOptions kafkaOptions;

    @Option(names = "--warmup", defaultValue = "600000",
            description = "beats streamed at full speed before the measured ones and left out of every figure, so that "
                    + "the JIT has compiled the hot paths of broker and job, as in a job that has run a while "
                    + "(default ${DEFAULT-VALUE}; 0: a cold JVM; a soak has none)")
    int warmup;

    @Option(names = "--minutes", defaultValue = "0",
            description = "soak: stream at --rate for this long and sample lag, memory, RocksDB size and checkpoint "
                    + "duration every 10 s into --samples and a PNG (default ${DEFAULT-VALUE}: a fixed --events run)")
    double minutes;

    @Option(names = "--samples", defaultValue = "soak.csv",
            description = "the soak's samples, CSV; the plot goes next to it as .png (default ${DEFAULT-VALUE})")
    Path samples;

    static final Duration SAMPLE_EVERY = Duration.ofSeconds(10);

    @Override
    public Integer call() throws Exception {
        if (minutes > 0) {
            return soak();
        }
        ModelManifest manifest = ModelManifest.load(model.path());
        int lookahead = manifest.spec().lookaheadBeats();
        System.err.printf("generating %,d beats of %d synthetic patients...%n", warmup + events, patients);
        List<ReplayProducer.Event> beats = new ArrayList<>(events);
        Iterator<ReplayProducer.Event> fleet = ReplayProducer.syntheticFleet(patients, 7, 1_700_000_000_000L);
        List<ReplayProducer.Event> warmupBeats = new ArrayList<>(warmup); // the same patients, earlier
        for (int s = 0; s < warmup; s++) {
            warmupBeats.add(fleet.next());
        }
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
        long[] warmupScores = {0};
        // CPU by thread group and the scorer's stages at 10 % and 90 % of the scores: the same span as "sustained"
        List<Map<String, ThreadCpu.Sample>> cpu = new ArrayList<>();
        List<ScorerStages.Totals> stages = new ArrayList<>();
        long[] markNanos = new long[2];
        int[] marks = {(int) (events * 0.1), (int) (events * 0.9)};
        JobClient job = null;
        EmbeddedKafka kafka = null;
        try {
            Bench bench = start(work, Map.of());
            job = bench.job();
            kafka = bench.kafka();
            KafkaConnection connection = bench.connection();
            StreamConfig config = bench.config();
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
                    long ts = r.value().path("ts").asLong();
                    if (!ownSeq.getOrDefault(r.key(), Map.of()).containsKey(ts)) {
                        warmupScores[0]++; // a warm-up beat's score
                        return;
                    }
                    if (received[0] < events) {
                        readNanos[(int) received[0]] = r.readNanos();
                    }
                    if (cpu.size() < 2 && received[0] == marks[cpu.size()]) {
                        markNanos[cpu.size()] = System.nanoTime();
                        stages.add(ScorerStages.now());
                        cpu.add(ThreadCpu.snapshot());
                    }
                    received[0]++;
                    Integer seq = completingSeq.get(r.key()).get(ts);
                    if (seq != null && sentNanos.get(seq) != 0) {
                        latencies[latencyCount[0]++] = r.readNanos() - sentNanos.get(seq);
                    }
                }
            });
                 ReplayProducer producer = new ReplayProducer(connection, config.inputTopic(),
                         Double.POSITIVE_INFINITY, rate)) {
                awaitRunning(job);
                if (warmup > 0) {
                    warmUp(connection, config.inputTopic(), warmupBeats, warmupScores, lock, lookahead);
                }
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
                    report(config, start, sendSeconds, readNanos, (int) Math.min(received[0], events), latencies,
                            latencyCount[0], Arrays.copyOf(alertLatencies, alertCount[0]), lookahead);
                    if (cpu.size() == 2) {
                        System.out.println("where the cores went, 10 % to 90 % of the scores: " + ThreadCpu.perEvent(
                                cpu.get(0), cpu.get(1), marks[1] - marks[0], (markNanos[1] - markNanos[0]) / 1e9));
                        System.out.println("  the scoring tasks' scorer, us per window: "
                                + stages.get(1).minus(stages.get(0)).perWindow());
                    }
                }
            }
        } finally {
            stop(job, kafka, work);
        }
        return 0;
    }

    /**
     * Streams the warm-up beats and waits for their scores: all but each patient's last beats, whose windows the
     * measured beats complete.
     */
    private void warmUp(KafkaConnection connection, String topic, List<ReplayProducer.Event> warmupBeats, long[] scores,
                        Object lock, int lookahead) throws Exception {
        System.err.printf("warming up with %,d beats...%n", warmupBeats.size());
        try (ReplayProducer fullSpeed = new ReplayProducer(connection, topic, Double.POSITIVE_INFINITY, 0)) {
            fullSpeed.send(warmupBeats, null);
        }
        // Each patient's last lookahead beats, and those within the allowed lateness, wait for the measured ones.
        long expected = Math.max(0, warmupBeats.size() - (long) patients * (lookahead + 4));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10), last = -1, stalledSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            long n;
            synchronized (lock) {
                n = scores[0];
            }
            if (n >= expected || System.nanoTime() - stalledSince > TimeUnit.SECONDS.toNanos(20)) {
                break;
            }
            if (n != last) {
                stalledSince = System.nanoTime();
                last = n;
            }
            System.err.printf("\rwarm-up scored %,d / %,d   ", n, expected);
            Thread.sleep(1000);
        }
        System.err.println();
    }

    /**
     * The soak: synthetic patients at {@code --rate} for {@code --minutes}, a sample every 10 s. Broker, job and
     * producer share this JVM, so heap and RSS are the whole process's; RocksDB is the job's local state directory.
     */
    private int soak() throws Exception {
        if (rate <= 0) {
            throw new UserException("a soak (--minutes) needs --rate: half of the maximum bench stream reports");
        }
        Path work = Files.createTempDirectory("cardiospike-soak");
        Path rocksDb = Files.createDirectories(work.resolve("rocksdb"));
        int restPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            restPort = socket.getLocalPort();
        }
        JobClient job = null;
        EmbeddedKafka kafka = null;
        List<double[]> rows = new ArrayList<>();
        String header = "minute,sent,committed,lag_events,heap_mb,rss_mb,rocksdb_mb,checkpoint_ms,checkpoint_kb";
        try {
            Bench bench = start(work, Map.of("state.backend.rocksdb.localdir", rocksDb.toString(),
                    "rest.bind-port", Integer.toString(restPort), "rest.port", Integer.toString(restPort)));
            job = bench.job();
            kafka = bench.kafka();
            io.cardiospike.ops.JobObserver observer = new io.cardiospike.ops.JobObserver("http://127.0.0.1:" + restPort);
            java.util.concurrent.atomic.AtomicLong committed = new java.util.concurrent.atomic.AtomicLong();
            long events = Math.round(rate * minutes * 60);
            try (TopicReader reader = new TopicReader(bench.connection(), List.of(bench.config().scoresTopic()), false,
                    r -> committed.incrementAndGet());
                 ReplayProducer producer = new ReplayProducer(bench.connection(), bench.config().inputTopic(),
                         Double.POSITIVE_INFINITY, rate)) {
                awaitRunning(job);
                System.err.printf(Locale.ROOT, "soak: %d patients at %,.0f events/s for %.1f min, a sample every %d s "
                        + "into %s%n", patients, rate, minutes, SAMPLE_EVERY.toSeconds(), samples);
                Thread sender = new Thread(() -> {
                    try {
                        producer.send(ReplayProducer.syntheticFleet(patients, 7, ReplayProducer.REPLAY_BASE_EPOCH_MS),
                                events, null);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "soak-producer");
                long start = System.nanoTime();
                sender.start();
                String jobId = job.getJobID().toHexString();
                while (sender.isAlive()) {
                    sender.join(SAMPLE_EVERY.toMillis());
                    java.util.Optional<io.cardiospike.ops.JobStatus.Checkpoint> last = observer.lastCheckpoint(jobId);
                    long sent = producer.sent(), done = committed.get();
                    double[] row = {(System.nanoTime() - start) / 60e9, sent, done, sent - done,
                            (java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed())
                                    / 1048576.0, rssMb(), directoryBytes(rocksDb) / 1048576.0,
                            last.map(c -> (double) c.durationMs()).orElse(0.0),
                            last.map(c -> c.checkpointedBytes() / 1024.0).orElse(0.0)};
                    rows.add(row);
                    System.err.printf(Locale.ROOT, "%5.1f min: sent %,d, committed %,d, lag %,d, heap %.0f MB, RSS "
                            + "%.0f MB, RocksDB %.1f MB, checkpoint %.0f ms%n", row[0], sent, done, sent - done,
                            row[4], row[5], row[6], row[7]);
                    writeSamples(header, rows);
                }
            }
        } finally {
            stop(job, kafka, work);
        }
        writeSamples(header, rows);
        double[] minute = rows.stream().mapToDouble(r -> r[0]).toArray();
        java.util.function.IntFunction<double[]> col = c -> rows.stream().mapToDouble(r -> r[c]).toArray();
        Path png = samples.resolveSibling(samples.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
        SoakChart.write(png, String.format(Locale.ROOT, "bench stream soak: %d patients at %,.0f events/s, %.0f min",
                patients, rate, minutes), minute, List.of(
                new SoakChart.Panel("consumer lag: sent, not yet committed", "events",
                        List.of(new SoakChart.Series("lag", col.apply(3), java.awt.Color.RED))),
                new SoakChart.Panel("memory of the process (broker, job, producer)", "MB",
                        List.of(new SoakChart.Series("heap used", col.apply(4), java.awt.Color.BLUE),
                                new SoakChart.Series("RSS", col.apply(5), java.awt.Color.DARK_GRAY))),
                new SoakChart.Panel("RocksDB local state", "MB",
                        List.of(new SoakChart.Series("size on disk", col.apply(6), new java.awt.Color(0, 130, 0)))),
                new SoakChart.Panel("last completed checkpoint", "ms",
                        List.of(new SoakChart.Series("duration", col.apply(7), new java.awt.Color(150, 0, 150))))));
        double[] lag = col.apply(3), rss = col.apply(5), heap = col.apply(4), rocks = col.apply(6);
        int half = rows.size() / 2;
        System.out.printf(Locale.ROOT, "soak: %d samples over %.1f min; lag max %,.0f events (last %,.0f); RSS %.0f -> "
                        + "%.0f MB (second half max %.0f); heap max %.0f MB; RocksDB %.1f -> %.1f MB%n", rows.size(),
                minute.length == 0 ? 0 : minute[minute.length - 1], max(lag, 0), lag.length == 0 ? 0 : lag[lag.length - 1],
                rss.length == 0 ? 0 : rss[0], rss.length == 0 ? 0 : rss[rss.length - 1], max(rss, half), max(heap, 0),
                rocks.length == 0 ? 0 : rocks[0], rocks.length == 0 ? 0 : rocks[rocks.length - 1]);
        System.out.println("samples: " + samples.toAbsolutePath() + ", plot: " + png.toAbsolutePath());
        return 0;
    }

    private static double max(double[] values, int from) {
        double m = 0;
        for (int i = from; i < values.length; i++) {
            m = Math.max(m, values[i]);
        }
        return m;
    }

    private void writeSamples(String header, List<double[]> rows) throws java.io.IOException {
        StringBuilder csv = new StringBuilder(header).append('\n');
        for (double[] r : rows) {
            csv.append(String.format(Locale.ROOT, "%.2f,%.0f,%.0f,%.0f,%.1f,%.1f,%.2f,%.0f,%.1f%n", r[0], r[1], r[2],
                    r[3], r[4], r[5], r[6], r[7], r[8]));
        }
        Files.writeString(samples, csv);
    }

    /** Resident set size of this process, from /proc (0 where there is none). */
    private static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux
        }
        return 0;
    }

    /** Bytes under {@code dir}; files RocksDB deletes meanwhile (compaction) count as 0. */
    private static long directoryBytes(Path dir) {
        long bytes = 0;
        java.io.File[] entries = dir.toFile().listFiles();
        for (java.io.File f : entries == null ? new java.io.File[0] : entries) {
            bytes += f.isDirectory() ? directoryBytes(f.toPath()) : f.length();
        }
        return bytes;
    }

    /** The broker (embedded, or the one named) and the job this run measures, on topics of the run's own. */
    private record Bench(EmbeddedKafka kafka, KafkaConnection connection, StreamConfig config, JobClient job) {}

    private Bench start(Path work, Map<String, String> flinkOptions) throws Exception {
        // An external broker gets topics of this run's own, so its other data cannot enter the figures.
        String run = Long.toHexString(System.nanoTime());
        EmbeddedKafka kafka = kafkaOptions.given() ? null : EmbeddedKafka.start(work.resolve("kafka"));
        KafkaConnection connection = kafka != null ? KafkaConnection.plain(kafka.bootstrapServers())
                : kafkaOptions.connect();
        StreamConfig.Builder builder = StreamConfig.builder().tuning(tuning)
                .bootstrapServers(connection.bootstrapServers()).kafkaConfig(kafkaOptions.configFile()).modelDir(model.value())
                .checkpointDir(work.resolve("checkpoints").toString());
        if (kafka == null) {
            String prefix = "bench-" + run;
            builder.topics(prefix + "-rr-events", prefix + "-rr-scores", prefix + "-rr-alerts", prefix + "-rr-dlq")
                    .identity(prefix, prefix);
        }
        StreamConfig config = builder.build();
        EmbeddedKafka.createTopics(connection, config.parallelism(), config.inputTopic(), config.scoresTopic(),
                config.alertsTopic(), config.dlqTopic());
        JobClient job = LocalJob.start(config, null, flinkOptions);
        return new Bench(kafka, connection, config, job);
    }

    private static void stop(JobClient job, EmbeddedKafka kafka, Path work) throws java.io.IOException {
        // The job goes first: a job left running without its broker logs a stack trace per checkpoint.
        if (job != null) {
            LocalJob.stop(job, Duration.ofSeconds(15));
        }
        if (kafka != null) {
            kafka.close();
        }
        try (Stream<Path> paths = Files.walk(work)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void report(StreamConfig config, long startNanos, double sendSeconds, long[] readNanos, int n, long[] latencies, int nLat,
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
        System.out.printf("setup: parallelism %d, %d patients, checkpoint interval %s, exactly-once, RocksDB, %d cores%s%n",
                config.parallelism(), patients, StreamConfig.format(config.checkpointInterval()), Runtime.getRuntime().availableProcessors(),
                warmup > 0 ? String.format(Locale.ROOT, ", after a warm-up of %,d beats", warmup) : "");
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
