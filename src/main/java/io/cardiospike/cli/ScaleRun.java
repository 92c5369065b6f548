package io.cardiospike.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.TopicReader;
import io.cardiospike.model.ScorerStages;
import io.cardiospike.ops.JobObserver;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.functions.PatientScorer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.state.rocksdb.RocksDBNativeMetricOptions;

/**
 * One size of {@code bench stream}: a broker, the job on a MiniCluster, and a fleet of synthetic patients, through
 * phases that each answer one question:
 * <ol>
 *   <li>fill: every patient sends enough beats to fill its window (the state reaches its steady size);</li>
 *   <li>throughput: beats at full speed; scores committed per second between 10 % and 90 % of them;</li>
 *   <li>latency: half that rate for a while; window and alert latency;</li>
 *   <li>backlog (optional): the same, while one device uploads an offline backlog in bursts;</li>
 *   <li>state: checkpoints of the phases above, RocksDB's figures, memory; a full savepoint;</li>
 *   <li>restore from that savepoint, then a rescale (stop with a savepoint, start at another parallelism), each
 *       timed until every scoring task has its state and model.</li>
 * </ol>
 * Every phase's beats stream on from the same patients: event time only moves forward.
 */
final class ScaleRun implements AutoCloseable {
    /** What one size measured while streaming, and its {@link State}; -1 where a figure is not known. */
    record Figures(int patients, long filled, long beats, double sustained, double rate, long[] window, long[] windowHalf,
                   long[] alert, long[] backlogWindow, long[] backlogAlert, String cpu, State state) {}

    /** The state's figures at one size: checkpoints, RocksDB, memory, savepoint, restore, rescale. */
    record State(long checkpoints, long[] checkpointMs, long[] checkpointBytes, long fullCheckpointBytes,
                 long savepointMs, long savepointBytes, long rocksLiveBytes, long restoreMs, long rescaleMs,
                 String rescale, double heapMb, double rssMb, double rocksMemMb, double rocksDiskMb) {}

    /**
     * What a size runs with: the command's options; {@code broker} null: a broker of the run's own; {@code tap}: told
     * every beat of the fleet sent (a test's audit), or null.
     */
    record Setup(int patients, int windowBeats, int lookahead, long warmup, long events, Duration latencyPhase,
                 long backlog, int backlogBurst, StreamConfig config, Map<String, String> flinkOptions,
                 KafkaConnection broker, Consumer<ReplayProducer.Event> tap) {}

    private static final String SCORER = "score-patients";

    private final Setup setup;
    /** The setup's job configuration on this run's broker. */
    private final StreamConfig config;
    private final Path work;
    private final EmbeddedKafka kafka;
    private final KafkaConnection connection;
    private final FleetIndex index;
    private final Iterator<ReplayProducer.Event> fleet;
    private final AtomicLong scores = new AtomicLong();
    private final Object lock = new Object();
    private JobClient job;
    private TopicReader reader;
    /** Reads the job's committed offsets while a phase waits for it (one client for the run, not one a poll). */
    private final Admin admin;
    private int restPort;
    /** Where the reader files what it reads; null between phases. */
    private Phase phase;

    /** The latencies and read times of one phase's records. */
    private static final class Phase {
        final long[] readNanos;
        int reads;
        final LongList window = new LongList(), alerts = new LongList();
        /** CPU by thread group and the scorer's stages at 10 % and 90 % of the expected scores. */
        final List<Map<String, ThreadCpu.Sample>> cpu = new ArrayList<>();
        final List<ScorerStages.Totals> stages = new ArrayList<>();
        /** The shadow model's stages ({@code --shadow-model}), apart: what a shadow costs. */
        final List<ScorerStages.Totals> shadowStages = new ArrayList<>();
        final long[] markNanos = new long[2];
        final int[] marks;

        Phase(long expected) {
            readNanos = new long[(int) Math.min(expected, Integer.MAX_VALUE - 8)];
            marks = new int[] {(int) (readNanos.length * 0.1), (int) (readNanos.length * 0.9)};
        }

        /** Where the cores went between the marks, per score; null if the phase did not reach both. */
        String cpuPerEvent() {
            if (cpu.size() < 2) {
                return null;
            }
            ScorerStages.Totals shadow = shadowStages.get(1).minus(shadowStages.get(0));
            return ThreadCpu.perEvent(cpu.get(0), cpu.get(1), marks[1] - marks[0],
                    (markNanos[1] - markNanos[0]) / 1e9) + System.lineSeparator()
                    + "  the scoring tasks' scorer, us per window: " + stages.get(1).minus(stages.get(0)).perWindow()
                    + (shadow.windows() == 0 ? "" : System.lineSeparator()
                    + "  the shadow model's scorer, us per window: " + shadow.perWindow());
        }
    }

    /** A growable array of longs (latencies: millions of them at a million patients). */
    private static final class LongList {
        long[] values = new long[1024];
        int size;

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        /** p50, p99, max, count; all -1 when empty. */
        long[] percentiles() {
            if (size == 0) {
                return new long[] {-1, -1, -1, 0};
            }
            long[] v = Arrays.copyOf(values, size);
            Arrays.sort(v);
            return new long[] {v[size / 2], v[(int) (size * 0.99)], v[size - 1], size};
        }
    }

    ScaleRun(Setup setup) throws Exception {
        this.setup = setup;
        this.work = Files.createTempDirectory("cardiospike-bench");
        this.kafka = setup.broker() == null ? EmbeddedKafka.start(work.resolve("kafka")) : null;
        this.connection = kafka != null ? KafkaConnection.plain(kafka.bootstrapServers()) : setup.broker();
        this.config = with(setup.config(), "--bootstrap-servers", connection.bootstrapServers());
        this.admin = Admin.create(connection.clientConfig(Map.of()));
        this.index = new FleetIndex(setup.patients(), setup.lookahead(), config.allowedLateness().toMillis());
        this.fleet = ReplayProducer.syntheticFleet(setup.patients(), 7, ReplayProducer.REPLAY_BASE_EPOCH_MS);
        List<String> topics = new ArrayList<>(List.of(config.inputTopic(), config.scoresTopic(), config.alertsTopic(),
                config.dlqTopic()));
        if (config.shadowModelDir() != null) {
            topics.add(config.shadowScoresTopic());
        }
        EmbeddedKafka.createTopics(connection, config.parallelism(), topics.toArray(String[]::new));
    }

    /**
     * Starts the job and the reader, and fills every patient's window: at least a window's worth of beats per
     * patient, at full speed; returns how many beats that took.
     */
    long startAndFill() throws Exception {
        int n = setup.patients();
        job = startJob(config, null);
        reader = new TopicReader(connection, List.of(config.scoresTopic(), config.alertsTopic()), false, this::onRecord);
        awaitReady(job, System.currentTimeMillis());
        long filled = Math.max(setup.warmup(), (long) n * setup.windowBeats());
        progress("fill: %,d beats, %,d per patient, at full speed", filled, filled / n);
        send(filled, 0);
        awaitCaughtUp("fill");
        return filled;
    }

    /** The phases after the fill; the job and broker stay up until {@link #close}. */
    Figures run() throws Exception {
        int n = setup.patients();
        long filled = startAndFill();
        long beats = Math.max(setup.events(), 2L * n);
        progress("throughput: %,d beats at full speed", beats);
        Phase full = begin(beats);
        long sendStart = System.nanoTime(), phasesStart = System.currentTimeMillis();
        send(beats, 0);
        awaitCaughtUp("throughput");
        double sustained = sustained(full, sendStart, config.checkpointInterval());
        progress("  sent in %.1f s; sustained %,.0f events/s", (System.nanoTime() - sendStart) / 1e9, sustained);

        double rate = Math.max(100, sustained / 2);
        long halfBeats = Math.round(rate * setup.latencyPhase().toSeconds());
        progress("latency: %,d beats at %,.0f events/s (half)", halfBeats, rate);
        Phase half = begin(halfBeats);
        send(halfBeats, rate);
        awaitCaughtUp("latency");
        Phase backlog = null;
        if (setup.backlog() > 0) {
            backlog = begin(halfBeats);
            progress("backlog: %,d beats of one device in bursts of %,d, others at %,.0f events/s", setup.backlog(),
                    setup.backlogBurst(), rate);
            long backlogStart = System.currentTimeMillis();
            sendWithBacklog(rate);
            awaitCaughtUp("backlog");
            long[] during = percentiles(checkpoints(backlogStart), "end_to_end_duration");
            progress("  checkpoints during the backlog: p50 %d ms, p99 %d ms", during[0], during[1]);
        }
        synchronized (lock) {
            phase = null;
        }

        // The state is measured, saved, restored and rescaled as in a live job: the fleet streams on at half rate.
        try (ReplayProducer live = new ReplayProducer(connection, config.inputTopic(), Double.POSITIVE_INFINITY, rate)) {
            Thread liveSender = streamFleet(live);
            try {
                Thread.sleep(Math.max(5000, 3 * config.checkpointInterval().toMillis()));
                Figures streaming;
                synchronized (lock) { // only for the copy: the reader goes on reading meanwhile
                    streaming = new Figures(n, filled, beats, sustained, rate, full.window.percentiles(),
                            half.window.percentiles(), half.alerts.percentiles(),
                            backlog == null ? null : backlog.window.percentiles(),
                            backlog == null ? null : backlog.alerts.percentiles(), full.cpuPerEvent(), null);
                }
                return measureState(phasesStart, streaming);
            } finally {
                live.stop();
                liveSender.join();
            }
        }
    }

    /**
     * The state's figures: checkpoints since {@code sinceMs}, RocksDB and memory now, a full savepoint, a restore
     * from it and a rescale; {@code streaming}'s figures with them.
     */
    private Figures measureState(long sinceMs, Figures streaming) throws Exception {
        double[] memory = memory();
        List<JsonNode> checkpoints = checkpoints(sinceMs);
        long fullBytes = checkpoints.isEmpty() ? -1 : checkpoints.get(checkpoints.size() - 1).path("state_size").asLong();
        long rocksLive = (long) scorerMetric("rocksdb_estimate-live-data-size", false);
        progress("state: a full savepoint");
        long t0 = System.nanoTime();
        String savepoint = job.triggerSavepoint(work.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get(10, TimeUnit.MINUTES);
        long savepointMs = (System.nanoTime() - t0) / 1_000_000;
        long savepointBytes = StreamBenchCommand.directoryBytes(Path.of(URI.create(savepoint)));

        progress("restore from the savepoint");
        LocalJob.stop(job, Duration.ofSeconds(30));
        long restoreStart = System.currentTimeMillis();
        job = startJob(config, Path.of(URI.create(savepoint)));
        long restoreMs = awaitReady(job, restoreStart) - restoreStart;
        int to = config.parallelism() > 1 ? config.parallelism() - 1 : 2;
        progress("rescale %d -> %d: stop with a savepoint, start from it", config.parallelism(), to);
        long rescaleStart = System.currentTimeMillis();
        String stopped = job.stopWithSavepoint(false, work.resolve("rescale").toUri().toString(),
                SavepointFormatType.CANONICAL).get(10, TimeUnit.MINUTES);
        job = startJob(with(config, "--parallelism", Integer.toString(to)), Path.of(URI.create(stopped)));
        long rescaleMs = awaitReady(job, rescaleStart) - rescaleStart;
        return new Figures(streaming.patients(), streaming.filled(), streaming.beats(), streaming.sustained(),
                streaming.rate(), streaming.window(), streaming.windowHalf(), streaming.alert(),
                streaming.backlogWindow(), streaming.backlogAlert(), streaming.cpu(), new State(checkpoints.size(),
                percentiles(checkpoints, "end_to_end_duration"), percentiles(checkpoints, "checkpointed_size"),
                fullBytes, savepointMs, savepointBytes, rocksLive, restoreMs, rescaleMs,
                config.parallelism() + " -> " + to, memory[0], memory[1], memory[2], memory[3]));
    }

    /** The reader's callback: every committed score and alert, filed under the phase it was read in. */
    private void onRecord(TopicReader.Record r) {
        boolean alert = r.topic().equals(config.alertsTopic());
        if (!alert) {
            scores.incrementAndGet();
        }
        synchronized (lock) {
            if (phase == null) {
                return;
            }
            int p = FleetIndex.patient(r.key());
            if (alert) {
                if (r.value().path("status").asText().equals("open")) {
                    // from the beat that completed the window of the episode's first anomalous beat
                    long l = index.latencyMs(p, r.value().path("start_ts").asLong(), r.readNanos());
                    if (l >= 0) {
                        phase.alerts.add(l);
                    }
                }
                return;
            }
            if (phase.cpu.size() < 2 && phase.reads == phase.marks[phase.cpu.size()]) {
                phase.markNanos[phase.cpu.size()] = System.nanoTime();
                phase.stages.add(ScorerStages.now());
                phase.shadowStages.add(ScorerStages.shadow());
                phase.cpu.add(ThreadCpu.snapshot());
            }
            if (phase.reads < phase.readNanos.length) {
                phase.readNanos[phase.reads++] = r.readNanos();
            }
            long l = index.latencyMs(p, r.value().path("ts").asLong(), r.readNanos());
            if (l >= 0) {
                phase.window.add(l);
            }
        }
    }

    /** Streams the fleet through {@code producer} on a thread of its own until the producer is stopped. */
    private Thread streamFleet(ReplayProducer producer) {
        Thread sender = new Thread(() -> {
            try {
                producer.send(fleet, 0, (e, seq) -> sent(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "fleet");
        sender.start();
        return sender;
    }

    /** A beat of the fleet was handed to the producer. */
    private void sent(ReplayProducer.Event e) {
        index.sent(FleetIndex.patient(e.patientId()), e.ts());
        if (setup.tap() != null) {
            setup.tap().accept(e);
        }
    }

    KafkaConnection connection() {
        return connection;
    }

    /** The job's configuration on this run's broker. */
    StreamConfig config() {
        return config;
    }

    private Phase begin(long expected) {
        synchronized (lock) {
            phase = new Phase(expected);
            return phase;
        }
    }

    /** Sends {@code count} of the fleet's next beats at {@code rate} events/s (0: full speed). */
    private void send(long count, double rate) throws Exception {
        try (ReplayProducer producer = new ReplayProducer(connection, config.inputTopic(),
                Double.POSITIVE_INFINITY, rate)) {
            Thread progress = progressLine(() -> String.format(Locale.ROOT, "sent %,d / %,d, scored %,d",
                    producer.sent(), count, scores.get()));
            try {
                producer.send(fleet, count, (e, seq) -> sent(e));
            } finally {
                progress.interrupt();
                progress.join();
            }
        }
    }

    /**
     * The latency phase's rate for the fleet, while one device that was offline uploads its backlog: bursts of
     * {@code backlogBurst} beats at full speed, one every 5 s, beats of the days it was away.
     */
    private void sendWithBacklog(double rate) throws Exception {
        long beats = setup.backlog();
        SyntheticRr.Patient device = new SyntheticRr.Patient(99);
        long[] ts = {ReplayProducer.REPLAY_BASE_EPOCH_MS - beats * 1000};
        Iterator<ReplayProducer.Event> backlog = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public ReplayProducer.Event next() {
                double rr = device.next().rrMs();
                ts[0] += Math.max(1, Math.round(rr));
                return new ReplayProducer.Event("device-backlog", ts[0], rr);
            }
        };
        Thread uploads = new Thread(() -> {
            try (ReplayProducer upload = new ReplayProducer(connection, config.inputTopic(),
                    Double.POSITIVE_INFINITY, 0)) {
                for (long sent = 0; sent < beats; sent += setup.backlogBurst()) {
                    upload.send(backlog, Math.min(setup.backlogBurst(), beats - sent), null);
                    Thread.sleep(5000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "backlog-upload");
        uploads.start();
        try (ReplayProducer producer = new ReplayProducer(connection, config.inputTopic(),
                Double.POSITIVE_INFINITY, rate)) {
            Thread fleetSender = streamFleet(producer);
            Thread progress = progressLine(() -> String.format(Locale.ROOT, "fleet sent %,d, scored %,d",
                    producer.sent(), scores.get()));
            uploads.join();
            producer.stop();
            fleetSender.join();
            progress.interrupt();
            progress.join();
        }
    }

    /**
     * Waits until the job has caught up: its consumer group committed the input topic up to the input clock's few
     * latest ticks (Flink commits its offsets with each checkpoint) and no score was committed for 3 s. A phase's figures are then its own, not the
     * previous phase's queue; scores alone cannot say it, since a fleet of a million scores nothing until its
     * patients' 17th beats.
     */
    private void awaitCaughtUp(String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(90), last = -1, quietSince = System.nanoTime();
        long lastPrint = 0;
        while (System.nanoTime() < deadline) {
            long n = scores.get(), lag = lag();
            if (n != last) {
                last = n;
                quietSince = System.nanoTime();
            } else if (lag < 1000 && System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(3)) {
                return;
            }
            if (job.getJobStatus().get().isGloballyTerminalState()) {
                throw new IllegalStateException("job stopped: " + job.getJobStatus().get());
            }
            if (System.nanoTime() - lastPrint > TimeUnit.SECONDS.toNanos(10)) {
                progress("  %s: %,d beats not yet consumed, %,d scored", what, lag, n);
                lastPrint = System.nanoTime();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(what + ": the job did not catch up within 90 minutes");
    }

    /** Beats in the input topic past the job's committed offsets. */
    private long lag() throws Exception {
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        for (int p = 0; p < config.parallelism(); p++) {
            ends.put(new TopicPartition(config.inputTopic(), p), OffsetSpec.latest());
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(config.groupId())
                .partitionsToOffsetAndMetadata().get();
        long lag = 0;
        for (var end : admin.listOffsets(ends).all().get().entrySet()) {
            OffsetAndMetadata at = committed.get(end.getKey());
            lag += end.getValue().offset() - (at == null ? 0 : at.offset());
        }
        return lag;
    }

    /**
     * Scores committed per second between 10 % and 90 % of the phase's. Scores arrive a checkpoint's commit at a time,
     * so a phase of a few commits would read as an absurd rate: then the whole phase, from its first send to its last
     * score, is the figure.
     */
    private static double sustained(Phase p, long sendStartNanos, Duration checkpointInterval) {
        int lo = (int) (p.reads * 0.1), hi = (int) (p.reads * 0.9) - 1;
        if (hi <= lo) {
            return Double.NaN;
        }
        long window = p.readNanos[hi] - p.readNanos[lo];
        return window >= 5 * checkpointInterval.toNanos() ? (hi - lo) / (window / 1e9)
                : p.reads / ((p.readNanos[p.reads - 1] - sendStartNanos) / 1e9);
    }

    /** A line on stderr every 10 s while the returned thread runs. */
    private static Thread progressLine(Supplier<String> line) {
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(10_000);
                    System.err.println("  " + line.get());
                }
            } catch (InterruptedException e) {
                // done
            }
        }, "bench-progress");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void progress(String format, Object... args) {
        System.err.printf(Locale.ROOT, format + "%n", args);
    }

    private JobClient startJob(StreamConfig config, Path savepoint) throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            restPort = socket.getLocalPort();
        }
        Map<String, String> options = new HashMap<>(setup.flinkOptions());
        options.put("rest.bind-port", Integer.toString(restPort));
        options.put("rest.port", Integer.toString(restPort));
        options.put("state.backend.rocksdb.localdir", Files.createDirectories(work.resolve("rocksdb")).toString());
        options.put("web.checkpoints.history", "10000");
        // A production TaskManager's RocksDB memory (k8s/flinkdeployment.yaml: 0.4 of 4 GB), not the MiniCluster's
        // 128 MB: with that, a million patients' index blocks no longer fit the block cache and every read of a
        // patient's state re-read and parsed one (the job fell from ~11,000 to ~350 events/s at 15 M beats).
        options.putIfAbsent("taskmanager.memory.managed.size", "1g");
        for (var metric : List.of(RocksDBNativeMetricOptions.ESTIMATE_LIVE_DATA_SIZE,
                RocksDBNativeMetricOptions.MONITOR_SIZE_ALL_MEM_TABLES, RocksDBNativeMetricOptions.BLOCK_CACHE_USAGE,
                RocksDBNativeMetricOptions.ESTIMATE_TABLE_READERS_MEM)) {
            options.put(metric.key(), "true");
        }
        return LocalJob.start(config, savepoint, options);
    }

    /** {@code c} with one option changed. */
    private static StreamConfig with(StreamConfig c, String option, String value) {
        List<String> args = new ArrayList<>(c.toArgs());
        int i = args.indexOf(option);
        if (i >= 0) {
            args.set(i + 1, value);
        } else {
            args.addAll(List.of(option, value));
        }
        return StreamConfig.fromArgs(args.toArray(String[]::new));
    }

    private JobObserver observer() {
        return new JobObserver("http://127.0.0.1:" + restPort);
    }

    /**
     * Waits until every scoring task has restored its state and loaded its model; returns when the last did (epoch
     * ms, the tasks' own gauge), at least {@code since}.
     */
    private long awaitReady(JobClient job, long since) throws Exception {
        String id = job.getJobID().toHexString();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                List<Long> ready = observer().subtaskGauge(id, SCORER, PatientScorer.MODEL_READY_AT);
                if (!ready.isEmpty() && ready.stream().allMatch(r -> r >= since)) {
                    return ready.stream().mapToLong(Long::longValue).max().getAsLong();
                }
            } catch (IOException e) {
                // the REST endpoint is not up yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the job's scoring tasks did not get ready within 10 minutes");
    }

    /** The completed checkpoints (not savepoints) triggered since {@code sinceMs}, oldest first. */
    private List<JsonNode> checkpoints(long sinceMs) throws IOException {
        return observer().completedCheckpoints(job.getJobID().toHexString(), sinceMs);
    }

    private static long[] percentiles(List<JsonNode> checkpoints, String field) {
        LongList l = new LongList();
        checkpoints.forEach(c -> l.add(c.path(field).asLong()));
        return l.percentiles();
    }

    /**
     * A RocksDB figure of the scoring operator, summed over its subtasks and its column families (state names;
     * {@code max}: the largest column family's instead, for the block cache they share).
     */
    private double scorerMetric(String name, boolean max) throws IOException {
        return observer().operatorMetric(job.getJobID().toHexString(), SCORER, name, max);
    }

    /** Heap used and RSS of this process (broker, job, producer), RocksDB's memory and its files, in MB. */
    private double[] memory() throws IOException {
        double rocksMem = (scorerMetric("rocksdb_size-all-mem-tables", false)
                + scorerMetric("rocksdb_block-cache-usage", true)
                + scorerMetric("rocksdb_estimate-table-readers-mem", false)) / 1048576.0;
        return new double[] {ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0,
                StreamBenchCommand.rssMb(), rocksMem,
                StreamBenchCommand.directoryBytes(work.resolve("rocksdb")) / 1048576.0};
    }

    /**
     * The soak: {@code count} beats at {@code rate}, and every {@code every} a sample: minutes, sent, committed, lag,
     * heap MB, RSS MB, RocksDB files MB, the last checkpoint's duration (ms) and size (KB).
     */
    void soak(double rate, long count, Duration every, java.util.function.Consumer<double[]> sample) throws Exception {
        String jobId = job.getJobID().toHexString();
        JobObserver observer = observer();
        long committedBefore = scores.get();
        try (ReplayProducer producer = new ReplayProducer(connection, config.inputTopic(),
                Double.POSITIVE_INFINITY, rate)) {
            Thread sender = new Thread(() -> {
                try {
                    producer.send(fleet, count, (e, seq) -> sent(e));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "soak-producer");
            long start = System.nanoTime();
            sender.start();
            while (sender.isAlive()) {
                sender.join(every.toMillis());
                java.util.Optional<io.cardiospike.ops.JobStatus.Checkpoint> last = observer.lastCheckpoint(jobId);
                long sent = producer.sent(), done = scores.get() - committedBefore;
                sample.accept(new double[] {(System.nanoTime() - start) / 60e9, sent, done, sent - done,
                        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0,
                        StreamBenchCommand.rssMb(), StreamBenchCommand.directoryBytes(work.resolve("rocksdb")) / 1048576.0,
                        last.map(c -> (double) c.durationMs()).orElse(0.0),
                        last.map(c -> c.checkpointedBytes() / 1024.0).orElse(0.0)});
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (reader != null) {
            try {
                reader.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        admin.close();
        // The job goes first: a job left running without its broker logs a stack trace per checkpoint.
        if (job != null) {
            LocalJob.stop(job, Duration.ofSeconds(15));
        }
        if (kafka != null) {
            kafka.close();
        }
        StreamBenchCommand.deleteTree(work);
    }
}
