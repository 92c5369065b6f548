package io.cardiospike.cli;

import io.cardiospike.stream.JobTuningOptions;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.ops.ClusterBundle;
import io.cardiospike.ops.ClusterConfig;
import io.cardiospike.ops.FaultInjector;
import io.cardiospike.ops.Installation;
import io.cardiospike.ops.RecoveryProbe;
import io.cardiospike.ops.ScoringJobClient;
import io.cardiospike.stream.BundleStore;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.ReplayAudit;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.local.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code chaos}: faults made to happen on the cluster of {@code cluster start} while synthetic patients stream through
 * a scoring job of the run's own (own topics, consumer group and transactional ids): TaskManagers, the leading
 * JobManager and the broker SIGKILLed (the supervisor restarts them; a standby JobManager takes the job over), the
 * object store frozen, and (on a cluster started with {@code --hosts}) a part's link cut for a while: a TaskManager's,
 * the broker's, or the leading JobManager's, which must lose the lead to another. Then every committed output is checked against a batch re-score of exactly what was sent
 * ({@link ReplayAudit}); any loss or duplicate fails the run. The job runs with the job's own defaults, its idle flush
 * among them: no fault may look like a patient's pause.
 */
@Command(name = "chaos", description = "Stream synthetic patients through a job on the local cluster while killing "
        + "TaskManagers, the leading JobManager and the broker and freezing the object store (on a cluster started "
        + "with --hosts, cutting links too); check every output against a batch re-score.")
final class ChaosCommand implements Callable<Integer> {
    @Mixin ClusterCommand.Dir dir;

    @Option(names = "--minutes", defaultValue = "5", description = "how long to stream (default ${DEFAULT-VALUE})")
    double minutes;

    @Option(names = "--rate", defaultValue = "1000", description = "events/s to send (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--patients", defaultValue = "100", description = "synthetic patients (default ${DEFAULT-VALUE})")
    int patients;

    @Option(names = "--kills", defaultValue = "2", description = "TaskManager SIGKILLs (default ${DEFAULT-VALUE})")
    int kills;

    @Option(names = "--jobmanager-kills", defaultValue = "1",
            description = "SIGKILLs of the leading JobManager; a standby takes over (default ${DEFAULT-VALUE})")
    int jobManagerKills;

    @Option(names = "--broker-restarts", defaultValue = "1",
            description = "broker SIGKILLs, each restarted by the supervisor (default ${DEFAULT-VALUE})")
    int brokerRestarts;

    @Option(names = "--storage-outage", defaultValue = "0s",
            description = "how long the object store is unreachable, once (default ${DEFAULT-VALUE}: never)")
    String storageOutage;

    @Option(names = "--partitions", defaultValue = "0",
            description = "network partitions, on a cluster started with --hosts: each cuts one part's link for "
                    + "--partition-length and restores it, in turn the leading JobManager's (it must lose the lead to "
                    + "another; with 2 or more JobManagers), a TaskManager's, the broker's (default ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--partition-length", defaultValue = "20s",
            description = "how long each partition lasts (default ${DEFAULT-VALUE})")
    String partitionLength;

    @Mixin ModelOption model;

    @Mixin JobTuningOptions tuning;

    @Option(names = "--seed", defaultValue = "1", description = "patients and fault victims (default ${DEFAULT-VALUE})")
    long seed;

    static final Duration QUIET_TIMEOUT = Duration.ofMinutes(5);
    /** How long the last fault's recovery is observed at most. */
    static final Duration RECOVERY_TIMEOUT = Duration.ofMinutes(3);

    /** A fault made, its kind ({@code taskmanager}, {@code jobmanager}, {@code broker}, {@code storage}), and where
     * its recovery's time went (known once the job ran again and checkpointed, or the next fault came). */
    record Fault(String kind, String what, long atMs, Future<RecoveryProbe.Recovery> recovery) {}

    @Override
    public Integer call() throws Exception {
        Duration outage = TimeUtils.parseDuration(storageOutage);
        Duration cut = TimeUtils.parseDuration(partitionLength);
        ClusterConfig cluster = dir.load();
        if (partitions > 0 && !cluster.onHosts()) {
            throw new UserException("--partitions needs a cluster whose parts are on hosts of their own: "
                    + "bin/cardiospike cluster start --hosts");
        }
        try (ScoringJobClient jobs = new ScoringJobClient(cluster, Installation.current(), System.err::println)) {
            return chaos(jobs, outage, cut);
        }
    }

    private int chaos(ScoringJobClient jobs, Duration outage, Duration cut) throws Exception {
        ClusterConfig cluster = jobs.cluster();
        String run = "chaos-" + System.currentTimeMillis();
        ClusterBundle bundle = jobs.bundle(model.value());
        StreamConfig config = StreamConfig.builder().tuning(tuning).bootstrapServers(cluster.kafkaBootstrap())
                .topics(run + "-events", run + "-scores", run + "-alerts", run + "-dlq").identity(run, run)
                .modelDir(bundle.uri()).build();
        KafkaConnection kafka = config.kafka();
        EmbeddedKafka.createTopics(kafka, cluster.partitions(), config.inputTopic(), config.scoresTopic(),
                config.alertsTopic(), config.dlqTopic(), config.monitoringTopic());

        String job = jobs.submit(null, config.toArgs(), config.parallelism(), null);
        System.err.printf(Locale.ROOT, "chaos run %s: job %s, %d patients at %,.0f events/s for %.1f min; faults: %d "
                + "TaskManager kills, %d JobManager kills, %d broker restarts, storage outage %s%s%n", run, job, patients,
                rate, minutes, kills, jobManagerKills, brokerRestarts, outage.isZero() ? "none" : storageOutage,
                partitions > 0 ? ", " + partitions + " partitions of " + partitionLength : "");

        ReplayAudit audit = new ReplayAudit();
        FaultInjector faults = new FaultInjector(cluster, seed);
        List<Fault> injected = new ArrayList<>();
        long events = Math.round(rate * minutes * 60);
        AtomicLong maxLag = new AtomicLong();
        try (EnsembleScorer scorer = EnsembleScorer.open(BundleStore.localCopy(bundle.uri()));
             TopicReader reader = new TopicReader(kafka, List.of(config.scoresTopic(), config.alertsTopic(),
                     config.dlqTopic()), false, r -> audit.received(r.topic(), r.value(), config, System.currentTimeMillis()));
             ReplayProducer producer = new ReplayProducer(kafka, config.inputTopic(), Double.POSITIVE_INFINITY, rate)) {
            Thread sender = new Thread(() -> {
                try {
                    producer.send(ReplayProducer.syntheticFleet(patients, seed, ReplayProducer.REPLAY_BASE_EPOCH_MS),
                            events, (e, seq) -> audit.sent(e, System.currentTimeMillis()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "chaos-producer");
            long startMs = System.currentTimeMillis();
            sender.start();
            Thread lag = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    maxLag.accumulateAndGet(audit.sentCount() - audit.scoredBeats(), Math::max);
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "chaos-lag");
            lag.setDaemon(true);
            lag.start();

            // Faults spread evenly over the run, in a fixed order: TaskManagers, JobManagers, broker, storage.
            List<String> plan = new ArrayList<>();
            for (int k = 0; k < kills; k++) {
                plan.add("taskmanager");
            }
            for (int k = 0; k < jobManagerKills; k++) {
                plan.add("jobmanager");
            }
            for (int b = 0; b < brokerRestarts; b++) {
                plan.add("broker");
            }
            if (!outage.isZero()) {
                plan.add("storage");
            }
            // Partitions among the other faults, evenly; victims in turn.
            List<String> victims = cluster.jobManagers() > 1 ? List.of("jobmanager", "taskmanager", "broker")
                    : List.of("taskmanager", "broker");
            int others = plan.size();
            for (int k = 0; k < partitions; k++) {
                plan.add(others * (k + 1) / (partitions + 1) + k, "partition-" + victims.get(k % victims.size()));
            }
            boolean partitionsOk = true;
            long runMs = (long) (minutes * 60_000);
            RecoveryProbe probe = jobs.recoveryProbe();
            ExecutorService probes = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "chaos-recovery-probe");
                t.setDaemon(true);
                return t;
            });
            for (int f = 0; f < plan.size(); f++) {
                long due = startMs + runMs * (f + 1) / (plan.size() + 1);
                Thread.sleep(Math.max(0, due - System.currentTimeMillis()));
                long at = System.currentTimeMillis();
                String what = switch (plan.get(f)) {
                    case "taskmanager" -> faults.killTaskManager(busyTaskManagers(jobs, job)) + " SIGKILLed";
                    case "jobmanager" -> faults.killLeadingJobManager() + " (leader) SIGKILLed";
                    case "broker" -> {
                        faults.killBroker();
                        yield "broker SIGKILLed";
                    }
                    case "partition-jobmanager", "partition-taskmanager", "partition-broker" -> {
                        FaultInjector.Cut c = switch (plan.get(f)) {
                            case "partition-jobmanager" -> faults.partitionLeadingJobManager(cut);
                            case "partition-taskmanager" -> faults.partitionTaskManager(busyTaskManagers(jobs, job), cut);
                            default -> faults.partitionBroker(cut);
                        };
                        partitionsOk &= c.ok();
                        yield c.what();
                    }
                    default -> {
                        faults.storageOutage(outage);
                        yield "object store unreachable for " + storageOutage;
                    }
                };
                // observed until the next fault, so that no two recoveries mix
                long next = f + 1 < plan.size() ? startMs + runMs * (f + 2) / (plan.size() + 1)
                        : System.currentTimeMillis() + RECOVERY_TIMEOUT.toMillis();
                Duration observe = Duration.ofMillis(Math.max(1000, next - System.currentTimeMillis()));
                injected.add(new Fault(plan.get(f), what, at, probes.submit(() -> probe.await(job, at, observe))));
                System.err.printf(Locale.ROOT, "+%5.1f s  %s (back after %.1f s)%n", (at - startMs) / 1e3, what,
                        (System.currentTimeMillis() - at) / 1e3);
            }
            sender.join();
            System.err.printf(Locale.ROOT, "+%5.1f s  all %,d events sent; waiting for the job to go quiet...%n",
                    (System.currentTimeMillis() - startMs) / 1e3, audit.sentCount());
            awaitQuiet(audit, config.idleFlushGap());
            lag.interrupt();

            ReplayAudit.Report report = audit.check(scorer);
            System.out.printf(Locale.ROOT, "events sent: %d%n", report.sent());
            System.out.printf(Locale.ROOT, "beats committed: %d, missing: %d, duplicated: %d, mismatched: %d%n",
                    report.committed(), report.missing(), report.duplicated(), report.mismatched());
            System.out.printf(Locale.ROOT, "alerts expected: %d, missing: %d, duplicated: %d, unexpected: %d%n",
                    report.alertsExpected(), report.alertsMissing(), report.alertsDuplicated(),
                    report.alertsUnexpected());
            System.out.printf(Locale.ROOT, "dead letters: %d%n", report.deadLetters());
            Map<String, List<long[]>> byKind = new LinkedHashMap<>(); // kind -> {running again, first commit}
            for (Fault f : injected) {
                long back = audit.firstScoreOfBeatSentAfter(f.atMs());
                System.out.printf(Locale.ROOT, "recovery: %s at +%.1f s: %s%n", f.what(), (f.atMs() - startMs) / 1e3,
                        back < 0 ? "never" : String.format(Locale.ROOT, "%.1f s", (back - f.atMs()) / 1e3));
                RecoveryProbe.Recovery r = f.recovery().get();
                System.out.println("  phases: " + (r == null ? "neither a restart nor a checkpoint seen before the "
                        + "next fault" : r.phases(back)));
                byKind.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(new long[] {
                        r == null ? -1 : r.runningAgainMs(), back < 0 ? -1 : back - f.atMs()});
            }
            probes.shutdownNow();
            byKind.forEach((kind, times) -> System.out.printf(Locale.ROOT,
                    "recovery p50: %s (%d): running again %s, first committed output %s%n", kind, times.size(),
                    p50(times, 0), p50(times, 1)));
            System.out.printf(Locale.ROOT, "max lag: %d events (%.1f s at %,.0f events/s)%n", maxLag.get(),
                    maxLag.get() / rate, rate);
            if (!partitionsOk) {
                System.out.println("partitions: a JobManager cut off kept or took back the lead (see the recovery lines)");
            }
            boolean ok = report.clean() && partitionsOk;
            System.out.println("result: " + (ok ? "OK" : "FAILED"));
            return ok ? 0 : 1;
        } finally {
            jobs.cancel(job);
        }
    }

    /** The median of column {@code c} over the faults that have it, in seconds. */
    private static String p50(List<long[]> times, int c) {
        long[] known = times.stream().mapToLong(t -> t[c]).filter(t -> t >= 0).sorted().toArray();
        return known.length == 0 ? "-" : String.format(Locale.ROOT, "%.1f s",
                (known[(known.length - 1) / 2] + known[known.length / 2]) / 2e3);
    }

    /** The TaskManagers running the job's tasks; none known while it restarts. */
    private static java.util.Set<String> busyTaskManagers(ScoringJobClient jobs, String job) {
        try {
            return jobs.taskManagersOf(job);
        } catch (java.io.IOException e) {
            return java.util.Set.of();
        }
    }

    /** Until every sent beat is scored and two more checkpoints passed, or nothing new came for a while. */
    private static void awaitQuiet(ReplayAudit audit, Duration idleFlush) throws InterruptedException {
        long deadline = System.nanoTime() + QUIET_TIMEOUT.toNanos();
        long last = -1, unchangedSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            long scored = audit.scoredBeats();
            if (scored >= audit.sentCount()) {
                Thread.sleep(5_000); // duplicates would arrive with the next commits
                return;
            }
            if (scored != last) {
                last = scored;
                unchangedSince = System.nanoTime();
            } else if (System.nanoTime() - unchangedSince > idleFlush.plusMinutes(1).toNanos()) {
                return; // the rest is missing
            }
            Thread.sleep(1000);
        }
    }
}
