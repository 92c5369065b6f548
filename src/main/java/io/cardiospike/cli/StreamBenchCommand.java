package io.cardiospike.cli;

import io.cardiospike.features.FeatureSpec;
import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.JobTuningOptions;
import io.cardiospike.stream.StreamConfig;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * End-to-end benchmark of the streaming job: synthetic patients -> Kafka -> job (RocksDB, exactly-once) -> Kafka ->
 * a read_committed consumer, at one or more fleet sizes ({@link ScaleRun}: fill, throughput, latency at half of it,
 * an optional device backlog, state, savepoint, restore, rescale), then a table and, for a sweep, a plot.
 */
@Command(name = "stream", description = "Benchmark the streaming job end to end at one or more fleet sizes: events/s, "
        + "latency, state per patient, checkpoints, savepoint, restore and rescale.",
        defaultValueProvider = StreamBenchCommand.Defaults.class)
final class StreamBenchCommand implements Callable<Integer> {
    /** Scores committed every second; the idle flush follows the fleet's size unless given ({@link #config}). */
    static final class Defaults extends JobDefaults {
        Defaults() {
            super(Map.of("--checkpoint-interval", "1s", "--idle-flush", "2min", "--allowed-lateness", "1s",
                    "--transaction-timeout", "5min"));
        }
    }

    @Spec CommandSpec spec;

    @Mixin ModelOption model;

    @Mixin ShadowModelOption shadowModel;

    @Option(names = "--patients", split = ",", defaultValue = "500",
            description = "synthetic patients; a list (1000,10000,100000,1000000) runs each size in turn and writes "
                    + "--plot (default ${DEFAULT-VALUE})")
    List<Integer> patients;

    @Option(names = "--events", defaultValue = "600000",
            description = "beats of the throughput phase, at least 2 per patient (default ${DEFAULT-VALUE})")
    long events;

    @Option(names = "--warmup", defaultValue = "600000",
            description = "beats streamed at full speed first and left out of every figure, at least a window's worth "
                    + "per patient, so that every patient's state is full and the JIT has compiled the hot paths "
                    + "(default ${DEFAULT-VALUE})")
    long warmup;

    @Option(names = "--latency-phase", converter = StreamConfig.DurationConverter.class, defaultValue = "30s",
            description = "how long the fleet streams at half the sustained rate for the latency figures "
                    + "(default ${DEFAULT-VALUE})")
    Duration latencyPhase;

    @Option(names = "--backlog", defaultValue = "0",
            description = "beats of one device's offline backlog, uploaded in bursts during a second latency phase: "
                    + "the other patients' latency with and without it (default ${DEFAULT-VALUE}: none)")
    long backlog;

    @Option(names = "--backlog-burst", defaultValue = "50000",
            description = "beats per upload of the backlog, one upload every 5 s (default ${DEFAULT-VALUE})")
    int backlogBurst;

    @Option(names = "--plot", defaultValue = "bench-stream.png",
            description = "a sweep's plot (events/s, state per patient, checkpoint, restore and rescale time against "
                    + "patients), rewritten after each size; its figures go next to it as .csv; a single size writes "
                    + "them only when this is given (default ${DEFAULT-VALUE})")
    Path plot;

    @Option(names = "--rate", defaultValue = "0", description = "the soak's events/s (default ${DEFAULT-VALUE})")
    double rate;

    @Mixin JobTuningOptions tuning;

    @Mixin KafkaOptions kafkaOptions;

    @Option(names = "--minutes", defaultValue = "0",
            description = "soak: fill every patient's window, then stream at --rate for this long and sample lag, "
                    + "memory, RocksDB size and checkpoint duration every 10 s into --samples and a PNG, and the "
                    + "heap a full collection leaves at its start and end; for RSS to show only what the process "
                    + "keeps, commit the heap at start-up: CARDIOSPIKE_JAVA_OPTS=\"-Xms4g -Xmx4g "
                    + "-XX:+AlwaysPreTouch\" (default ${DEFAULT-VALUE}: the phases above)")
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
        FeatureSpec geometry = manifest.spec();
        ModelManifest shadow = shadowModel.check(manifest);
        List<ScaleRun.Figures> sizes = new ArrayList<>();
        for (int n : patients) {
            if (n < 1) {
                throw new UserException("--patients: " + n + " is not a number of patients");
            }
            StreamConfig config = config(n);
            System.out.printf(Locale.ROOT, "== %,d patients: parallelism %d, checkpoint interval %s, idle flush %s, "
                    + "exactly-once, RocksDB, %d cores%s ==%n", n, config.parallelism(),
                    StreamConfig.format(config.checkpointInterval()), StreamConfig.format(config.idleFlushGap()),
                    Runtime.getRuntime().availableProcessors(),
                    shadow == null ? "" : ", shadow model " + shadow.modelVersion());
            ScaleRun.Setup setup = new ScaleRun.Setup(n, geometry.pastBeats() + geometry.lookaheadBeats() + 1,
                    geometry.lookaheadBeats(), warmup, events, latencyPhase, backlog, backlogBurst, config, Map.of(),
                    kafkaOptions.given() ? kafkaOptions.connect() : null, null);
            try (ScaleRun run = new ScaleRun(setup)) {
                ScaleRun.Figures f = run.run();
                sizes.add(f);
                report(f, geometry.lookaheadBeats());
            }
            // after each size, so that a long sweep stopped early keeps what it measured
            if (patients.size() > 1 || spec.commandLine().getParseResult().hasMatchedOption("--plot")) {
                plot(sizes);
            }
        }
        table(sizes);
        return 0;
    }

    /**
     * The job's options for {@code n} patients. At a bench's rates a patient's beats come {@code n / (events/s)}
     * seconds apart on the input clock (a second at a million patients and a million events/s, a minute at this
     * machine's 15,000), and a phase waits while the job works through what the one before sent (25 minutes of the
     * fill at a million), so unless {@code --idle-flush} is given it grows with the fleet: 5 ms per patient, at least
     * 2 min; the state retention at least twice that. A shorter one would end segments between two beats, as a real
     * pause does, and a new segment scores nothing until its 17th beat (the window's reflection at its start).
     */
    StreamConfig config(int n) {
        if (!spec.commandLine().getParseResult().hasMatchedOption("--idle-flush")) {
            tuning.idleFlush(Duration.ofMillis(Math.max(120_000, 5L * n)));
        }
        if (!spec.commandLine().getParseResult().hasMatchedOption("--state-retention")) {
            tuning.stateRetention(Duration.ofMillis(Math.max(3_600_000, 10L * n)));
        }
        String prefix = "bench-" + Long.toHexString(System.nanoTime());
        // The run's own topics, so that an external broker's other data cannot enter the figures.
        return StreamConfig.builder().tuning(tuning).bootstrapServers("127.0.0.1:9") // ScaleRun names the broker
                .kafkaConfig(kafkaOptions.configFile()).modelDir(model.value()).checkpointDir(Path.of(System.getProperty("java.io.tmpdir"), prefix).toString())
                .topics(prefix + "-rr-events", prefix + "-rr-scores", prefix + "-rr-alerts", prefix + "-rr-dlq")
                .shadowModelDir(shadowModel.value()).shadowScoresTopic(prefix + "-rr-scores-shadow")
                .identity(prefix, prefix).build();
    }

    private static void report(ScaleRun.Figures f, int lookahead) {
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "fill:             %,d beats (%,d per patient) before any figure%n", f.filled(),
                f.filled() / f.patients());
        out.printf(Locale.ROOT, "sustained:        %,.0f events/s end to end (Kafka -> job -> Kafka, committed) over "
                + "%,d beats%n", f.sustained(), f.beats());
        out.printf(Locale.ROOT, "latency at full speed (window complete -> score committed): p50 %s, p99 %s%n",
                ms(f.window()[0]), ms(f.window()[1]));
        out.printf(Locale.ROOT, "latency at %,.0f events/s (half): window complete -> score committed p50 %s, p99 %s; "
                + "alert p50 %s, p99 %s over %,d alerts (after the %d beats of lookahead, the patient's own time)%n",
                f.rate(), ms(f.windowHalf()[0]), ms(f.windowHalf()[1]), ms(f.alert()[0]), ms(f.alert()[1]),
                f.alert()[3], lookahead);
        if (f.backlogWindow() != null) {
            out.printf(Locale.ROOT, "backlog: the other patients' window latency p99 %s (%.1fx without it), alert p99 "
                    + "%s (%.1fx) over %,d alerts%n", ms(f.backlogWindow()[1]),
                    ratio(f.backlogWindow()[1], f.windowHalf()[1]), ms(f.backlogAlert()[1]),
                    ratio(f.backlogAlert()[1], f.alert()[1]), f.backlogAlert()[3]);
        }
        out.printf(Locale.ROOT, "checkpoints:      %,d incremental: duration p50 %s, p99 %s; size p50 %s, p99 %s; full "
                + "size %s%n", f.state().checkpoints(), ms(f.state().checkpointMs()[0]), ms(f.state().checkpointMs()[1]),
                bytes(f.state().checkpointBytes()[0]), bytes(f.state().checkpointBytes()[1]), bytes(f.state().fullCheckpointBytes()));
        out.printf(Locale.ROOT, "savepoint:        full (canonical) in %s, %s%n", ms(f.state().savepointMs()),
                bytes(f.state().savepointBytes()));
        out.printf(Locale.ROOT, "state per patient: %d bytes (the savepoint's keyed state; RocksDB live data %d, full "
                + "checkpoint %d)%n", statePerPatient(f), f.state().rocksLiveBytes() / f.patients(),
                f.state().fullCheckpointBytes() / f.patients());
        out.printf(Locale.ROOT, "restore:          %s from the savepoint until every scoring task has its state and "
                + "model%n", ms(f.state().restoreMs()));
        out.printf(Locale.ROOT, "rescale:          %s downtime, parallelism %s (stop with a savepoint, start from it, "
                + "as job upgrade --parallelism)%n", ms(f.state().rescaleMs()), f.state().rescale());
        out.printf(Locale.ROOT, "memory:           heap %.0f MB, RSS %.0f MB (broker, job and producer: one process); "
                + "RocksDB memory %.0f MB, files %.0f MB%n", f.state().heapMb(), f.state().rssMb(), f.state().rocksMemMb(), f.state().rocksDiskMb());
        if (f.cpu() != null) {
            out.println("where the cores went, 10 % to 90 % of the throughput phase: " + f.cpu());
        }
    }

    /** One line per size: the figures a sizing decision needs. */
    private static void table(List<ScaleRun.Figures> sizes) {
        System.out.println();
        System.out.printf("%10s %9s %10s %10s %9s %10s %10s %10s %9s %9s %8s%n", "patients", "events/s",
                "alert p99", "B/patient", "ckpt p99", "ckpt size", "savepoint", "restore", "rescale", "RSS MB",
                "RocksDB");
        for (ScaleRun.Figures f : sizes) {
            System.out.printf(Locale.ROOT, "%,10d %,9.0f %10s %10d %9s %10s %10s %10s %9s %,9.0f %7.0fM%n",
                    f.patients(), f.sustained(), ms(f.alert()[1]), statePerPatient(f), ms(f.state().checkpointMs()[1]),
                    bytes(f.state().checkpointBytes()[1]), ms(f.state().savepointMs()), ms(f.state().restoreMs()), ms(f.state().rescaleMs()),
                    f.state().rssMb(), f.state().rocksDiskMb());
        }
    }

    static final String CSV_HEADER = "patients,events_per_s,alert_p50_ms,alert_p99_ms,state_bytes_per_patient,"
            + "rocksdb_live_bytes_per_patient,checkpoint_p50_ms,checkpoint_p99_ms,checkpoint_p99_bytes,"
            + "full_checkpoint_bytes,savepoint_ms,savepoint_bytes,restore_ms,rescale_ms,heap_mb,rss_mb,"
            + "rocksdb_memory_mb,rocksdb_files_mb";

    /**
     * Writes the sizes' figures to the CSV beside {@code --plot}, keeping the rows of other sizes an earlier run left
     * there (a sweep can be run a size at a time), and draws the plot from all of them.
     */
    private void plot(List<ScaleRun.Figures> sizes) throws IOException {
        Path csv = plot.resolveSibling(plot.getFileName().toString().replaceFirst("\\.png$", "") + ".csv");
        java.util.TreeMap<Integer, double[]> rows = new java.util.TreeMap<>();
        if (Files.exists(csv)) {
            List<String> lines = Files.readAllLines(csv);
            if (!lines.isEmpty() && lines.get(0).equals(CSV_HEADER)) {
                for (String line : lines.subList(1, lines.size())) {
                    double[] row = java.util.Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray();
                    rows.put((int) row[0], row);
                }
            }
        }
        for (ScaleRun.Figures f : sizes) {
            ScaleRun.State st = f.state();
            rows.put(f.patients(), new double[] {f.patients(), f.sustained(), f.alert()[0], f.alert()[1],
                    statePerPatient(f), st.rocksLiveBytes() / f.patients(), st.checkpointMs()[0], st.checkpointMs()[1],
                    st.checkpointBytes()[1], st.fullCheckpointBytes(), st.savepointMs(), st.savepointBytes(),
                    st.restoreMs(), st.rescaleMs(), st.heapMb(), st.rssMb(), st.rocksMemMb(), st.rocksDiskMb()});
        }
        StringBuilder out = new StringBuilder(CSV_HEADER).append('\n');
        for (double[] row : rows.values()) {
            out.append(java.util.Arrays.stream(row).mapToObj(v -> String.format(Locale.ROOT, "%.0f", v))
                    .collect(java.util.stream.Collectors.joining(","))).append('\n');
        }
        Files.writeString(csv, out);
        java.util.function.IntFunction<double[]> col = c -> rows.values().stream().mapToDouble(r -> r[c]).toArray();
        java.util.function.BiFunction<Integer, Double, double[]> scaled = (c, by) -> java.util.Arrays.stream(col.apply(c))
                .map(v -> v / by).toArray();
        double[] x = java.util.Arrays.stream(col.apply(0)).map(Math::log10).toArray();
        double lo = Math.floor(x[0]), hi = Math.max(Math.ceil(x[x.length - 1]), lo + 1);
        double[] ticks = java.util.stream.DoubleStream.iterate(lo, t -> t <= hi, t -> t + 1).toArray();
        SoakChart.write(plot, "bench stream: the job as the fleet grows (" + Runtime.getRuntime().availableProcessors()
                        + " cores, broker, job and producer sharing them)",
                new SoakChart.XAxis(x, ticks, t -> String.format(Locale.ROOT, "%,.0f patients", Math.pow(10, t))),
                List.of(new SoakChart.Panel("sustained throughput", "events/s",
                                List.of(new SoakChart.Series("committed scores", col.apply(1), Color.BLUE))),
                        new SoakChart.Panel("keyed state per patient", "bytes", List.of(
                                new SoakChart.Series("savepoint", col.apply(4), Color.BLUE),
                                new SoakChart.Series("RocksDB live data", col.apply(5), new Color(0, 130, 0)))),
                        new SoakChart.Panel("checkpoints", "s", List.of(
                                new SoakChart.Series("incremental p99", scaled.apply(7, 1000.0), new Color(150, 0, 150)),
                                new SoakChart.Series("full savepoint", scaled.apply(10, 1000.0), Color.DARK_GRAY))),
                        new SoakChart.Panel("downtime", "s", List.of(
                                new SoakChart.Series("restore", scaled.apply(12, 1000.0), Color.RED),
                                new SoakChart.Series("rescale", scaled.apply(13, 1000.0), Color.ORANGE)))));
        System.out.println("plot: " + plot.toAbsolutePath() + ", figures: " + csv.toAbsolutePath());
    }

    /** The savepoint's bytes per patient: every patient's keyed state, once, as serialized. */
    static long statePerPatient(ScaleRun.Figures f) {
        return f.state().savepointBytes() / f.patients();
    }

    private static String ms(long ms) {
        return ms < 0 ? "-" : ms < 10_000 ? ms + " ms" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    private static String bytes(long b) {
        return b < 0 ? "-" : b < 10_240 ? b + " B" : b < 10L << 20 ? String.format(Locale.ROOT, "%.0f KB", b / 1024.0)
                : String.format(Locale.ROOT, "%.0f MB", b / 1048576.0);
    }

    private static double ratio(long a, long b) {
        return b <= 0 ? Double.NaN : a / (double) b;
    }

    /**
     * The soak: every patient's window filled first, then the fleet at {@code --rate} for {@code --minutes}, a sample
     * every 10 s. Broker, job and producer share this JVM, so heap and RSS are the whole process's; RocksDB is the
     * job's local state directory.
     */
    private int soak() throws Exception {
        if (rate <= 0) {
            throw new UserException("a soak (--minutes) needs --rate: half of the sustained rate bench stream reports");
        }
        int n = patients.get(0);
        FeatureSpec geometry = ModelManifest.load(model.path()).spec();
        List<double[]> rows = new ArrayList<>();
        double[] liveHeapMb = new double[2]; // at the soak's start and end
        String header = "minute,sent,committed,lag_events,heap_mb,rss_mb,rocksdb_mb,checkpoint_ms,checkpoint_kb";
        ScaleRun.Setup setup = new ScaleRun.Setup(n, geometry.pastBeats() + geometry.lookaheadBeats() + 1,
                geometry.lookaheadBeats(), warmup, 0, latencyPhase, 0, backlogBurst, config(n), Map.of(),
                kafkaOptions.given() ? kafkaOptions.connect() : null, null);
        try (ScaleRun run = new ScaleRun(setup)) {
            run.startAndFill();
            liveHeapMb[0] = liveHeapMb();
            System.err.printf(Locale.ROOT, "soak: %,d patients at %,.0f events/s for %.1f min, a sample every %d s "
                    + "into %s%n", n, rate, minutes, SAMPLE_EVERY.toSeconds(), samples);
            run.soak(rate, Math.round(rate * minutes * 60), SAMPLE_EVERY, row -> {
                rows.add(row);
                System.err.printf(Locale.ROOT, "%5.1f min: sent %,.0f, committed %,.0f, lag %,.0f, heap %.0f MB, RSS "
                        + "%.0f MB, RocksDB %.1f MB, checkpoint %.0f ms%n", row[0], row[1], row[2], row[3], row[4],
                        row[5], row[6], row[7]);
                try {
                    writeSamples(header, rows);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            liveHeapMb[1] = liveHeapMb();
        }
        writeSamples(header, rows);
        double[] minute = rows.stream().mapToDouble(r -> r[0]).toArray();
        java.util.function.IntFunction<double[]> col = c -> rows.stream().mapToDouble(r -> r[c]).toArray();
        Path png = samples.resolveSibling(samples.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
        SoakChart.write(png, String.format(Locale.ROOT, "bench stream soak: %d patients at %,.0f events/s, %.0f min",
                n, rate, minutes), minute, List.of(
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
        // The heap's used figure includes garbage a collector has not reached yet, and the JVM commits heap (RSS) as
        // it grows towards -Xmx: what the process holds on to is what a full collection leaves.
        var heapNow = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        System.out.printf(Locale.ROOT, "soak: live heap after a full collection %.0f -> %.0f MB; heap committed %.0f "
                + "of at most %.0f MB%n", liveHeapMb[0], liveHeapMb[1], heapNow.getCommitted() / 1048576.0,
                heapNow.getMax() / 1048576.0);
        System.out.println("samples: " + samples.toAbsolutePath() + ", plot: " + png.toAbsolutePath());
        return 0;
    }

    /** The heap a full collection leaves (a pause of about a second at 10^6 patients), MB. */
    private static double liveHeapMb() {
        System.gc(); // G1: a full, stop-the-world collection (unless the JVM was told otherwise)
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
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
    static double rssMb() {
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
    static long directoryBytes(Path dir) {
        long bytes = 0;
        java.io.File[] entries = dir.toFile().listFiles();
        for (java.io.File f : entries == null ? new java.io.File[0] : entries) {
            bytes += f.isDirectory() ? directoryBytes(f.toPath()) : f.length();
        }
        return bytes;
    }

    /** Deletes {@code dir} and everything under it. */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
