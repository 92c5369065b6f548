package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.features.WindowFeatures;
import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.TopicReader;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment a user runs, through {@code bin/cardiospike} as a user types it: {@code cluster start} (Kafka,
 * s3proxy, ZooKeeper, two Flink JobManagers, one leading, and two TaskManagers, each its own process), {@code job submit} of the shaded job jar
 * with the bundle and a shadow bundle uploaded to S3, synthetic patients streamed with {@code produce}, {@code job
 * upgrade} mid-stream to a copied bundle at parallelism 3 (the shadow kept), {@code job upgrade --promote-shadow},
 * then {@code job savepoint --stop}, {@code job migrate-savepoint} to 256 key groups and {@code job submit
 * --from-savepoint} at parallelism 1, and {@code cluster stop}. Every beat must be committed exactly once
 * ({@code read_committed}) and equal the batch scores of the bundle its {@code model_version} names; beats scored after
 * each switch carry the new {@code model_version}; while the shadow is set, every beat is also in
 * {@code rr-scores-shadow} once, with both bundles' batch scores; checkpoints are in the bucket; the object store's key
 * is in no log; nothing is left running.
 */
class ClusterIT {
    static final String NEW_VERSION = "cs-upgrade-check";
    /** The shadow bundle: the committed one reweighted, so that it scores every beat differently. */
    static final String SHADOW_VERSION = "cs-shadow-check";
    static final Pattern JOB_ID = Pattern.compile("^([0-9a-f]{32})$", Pattern.MULTILINE);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path clusterDir;
    private String lastJob;
    private ClusterCli cli;

    /**
     * {@code chaos} on the same kind of cluster: two TaskManagers and the leading JobManager SIGKILLed, the broker
     * SIGKILLed and restarted and the object store frozen while 40 patients stream, and not one beat or alert lost
     * or duplicated. Then {@code job upgrade} twice with the leading JobManager SIGKILLed mid-way: each leaves one
     * job running, never none and never two.
     */
    @Test
    void chaosKillsTaskManagersTheLeaderAndTheBrokerAndFreezesStorageWithoutLossOrDuplicates() throws Throwable {
        clusterDir = dir.resolve("cluster");
        cli = new ClusterCli("ClusterIT", dir, clusterDir);
        List<String> start = new ArrayList<>(List.of("cluster", "start", "--taskmanagers", "2"));
        start.addAll(ports());
        try {
            ClusterCli.Result started = cli.run(start.toArray(String[]::new));
            assertThat(started.exit()).as("cluster start: %s", started).isZero();
            ClusterCli.Result chaos = cli.run("chaos", "--minutes", "2", "--rate", "400", "--patients", "40", "--kills", "2",
                    "--jobmanager-kills", "1", "--broker-restarts", "1", "--storage-outage", "15s");
            cli.log("chaos:\n" + chaos.out());
            assertThat(chaos.exit()).as("chaos: %s", chaos).isZero();
            assertThat(chaos.out()).contains("result: OK", "missing: 0, duplicated: 0, mismatched: 0",
                    "dead letters: 0");
            assertThat(chaos.out().lines().filter(l -> l.startsWith("recovery: ")))
                    .hasSize(5).noneMatch(l -> l.endsWith("never"))
                    .anyMatch(l -> l.matches("recovery: jobmanager-\\d \\(leader\\) SIGKILLed at .*"));
            // each recovery explained, from Flink's own timestamps (one that outlasts the 20 s to the next fault is
            // said to: at least one here does not)
            assertThat(chaos.out().lines().filter(l -> l.startsWith("  phases: "))).hasSize(5)
                    .anyMatch(l -> l.matches("  phases: detection [0-9.]+ s, restart delay .*, = running again .*"));
            assertThat(chaos.out()).containsPattern("recovery p50: taskmanager \\(2\\): running again ([0-9.]+ s|-), "
                    + "first committed output [0-9.]+ s");
            Map<String, long[]> status = status();
            assertThat(status.get("kafka")[1]).as("broker restarts").isEqualTo(1);
            assertThat(status.get("taskmanager-1")[1] + status.get("taskmanager-2")[1]).as("TaskManager restarts")
                    .isEqualTo(2);
            assertThat(status.get("jobmanager-1")[1] + status.get("jobmanager-2")[1]).as("JobManager restarts")
                    .isEqualTo(1);

            ClusterCli.Result submit = cli.run("job", "submit", "--model", "models", "--parallelism", "2", "--checkpoint-interval", "2s");
            assertThat(submit.exit()).as("job submit: %s", submit).isZero();
            // During the savepoint (the stop's answer may be lost: the old job runs on, or the new one runs), and
            // after it (the old job is stopped: the new one must run, on the new leader).
            upgradeWithTheLeaderKilledAt("stopping job", "1");
            upgradeWithTheLeaderKilledAt("savepoint s3://", "2");
            assertThat(cli.run("cluster", "stop").exit()).isZero();
        } catch (Throwable t) {
            cli.run("cluster", "stop");
            throw new AssertionError(t.getMessage() + cli.keepLogs("cluster-it-logs"), t);
        }
    }

    /**
     * {@code job upgrade --parallelism P}, and the leading JobManager SIGKILLed as soon as the upgrade prints
     * {@code at}. Then exactly one scoring job runs: the new one if the upgrade says it runs, else the old one.
     */
    private void upgradeWithTheLeaderKilledAt(String at, String parallelism) throws Exception {
        Matcher running = Pattern.compile("^job ([0-9a-f]{32})$", Pattern.MULTILINE)
                .matcher(cli.run("job", "status").out());
        assertThat(running.find()).as("a running job before the upgrade").isTrue();
        String old = running.group(1);
        ClusterCli.Launched upgrade = cli.launch("job", "upgrade", "--parallelism", parallelism);
        await("the upgrade printing '" + at + "'", 120_000,
                () -> read(upgrade.err()).contains(at) || !upgrade.process().isAlive());
        String killed = new FaultInjector(ClusterConfig.load(clusterDir), 1).killLeadingJobManager();
        assertThat(upgrade.process().waitFor(5, TimeUnit.MINUTES)).as("upgrade returned").isTrue();
        ClusterCli.Result r = new ClusterCli.Result(upgrade.process().exitValue(), read(upgrade.out()), read(upgrade.err()));
        cli.log("upgrade with " + killed + " killed at '" + at + "': " + r);
        String expected;
        if (r.exit() == 0) {
            expected = jobId(r);
        } else {
            assertThat(r.err()).as("a failed upgrade: %s", r).contains("nothing changed");
            expected = old;
        }
        Map<String, String> jobs = new HashMap<>();
        await("only job " + expected + " running", 120_000, () -> {
            jobs.clear();
            jobs.putAll(liveScoringJobs());
            return jobs.equals(Map.of(expected, "RUNNING"));
        }, () -> "scoring jobs not ended: " + jobs);
    }

    /** The scoring jobs, by id, that the leading JobManager has not ended (their states). */
    private Map<String, String> liveScoringJobs() {
        try {
            Map<String, String> live = new HashMap<>();
            for (FlinkRest.Job j : new FlinkRest(ClusterConfig.load(clusterDir).restUrl(leader())).jobs()) {
                if (j.name().equals(io.cardiospike.stream.ScoringJob.JOB_NAME)
                        && !List.of("FINISHED", "CANCELED", "FAILED").contains(j.state())) {
                    live.put(j.id(), j.state());
                }
            }
            return live;
        } catch (IOException | AssertionError e) {
            return Map.of("(no answer: " + e.getMessage() + ")", "");
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private int kafkaPort, s3Port, zooKeeperPort, restPort, rpcPort, promPort;

    /** Free ports for a cluster of two JobManagers and two TaskManagers, as {@code cluster start} options. */
    private List<String> ports() throws IOException {
        kafkaPort = freePorts(2);
        s3Port = freePorts(1);
        zooKeeperPort = freePorts(1);
        restPort = freePorts(2);
        rpcPort = freePorts(2);
        promPort = freePorts(4);
        return List.of("--kafka-port", "" + kafkaPort, "--s3-port", "" + s3Port, "--zookeeper-port", "" + zooKeeperPort,
                "--rest-port", "" + restPort, "--rpc-port", "" + rpcPort, "--prometheus-port", "" + promPort);
    }

    @Test
    void aJobUpgradedMidStreamToANewBundleMigratedToOtherKeyGroupsAndRescaledKeepsEveryBeatExactlyOnce() throws Throwable {
        clusterDir = dir.resolve("cluster");
        cli = new ClusterCli("ClusterIT", dir, clusterDir);
        List<String> ports = ports();
        try {
            List<String> start = new ArrayList<>(List.of("cluster", "start", "--taskmanagers", "2"));
            start.addAll(ports);
            ClusterCli.Result started = cli.run(start.toArray(String[]::new));
            assertThat(started.exit()).as("cluster start: %s", started).isZero();
            assertThat(started.out()).contains("cluster started", "127.0.0.1:" + kafkaPort,
                    "http://127.0.0.1:" + s3Port, "http://127.0.0.1:" + restPort);
            cli.log("cluster started");
            ClusterCli.Result again = cli.run(start.toArray(String[]::new));
            assertThat(again.exit()).as("a second start: %s", again).isNotZero();
            assertThat(again.err()).contains("already running");

            Map<String, long[]> status = status();
            assertThat(status.keySet()).containsExactlyInAnyOrder("kafka", "s3", "zookeeper", "jobmanager-1",
                    "jobmanager-2", "taskmanager-1", "taskmanager-2");
            assertThat(status.values()).allSatisfy(s -> assertThat(s[1]).as("restarts").isZero());

            // Supervision: the object store SIGKILLed comes back by itself.
            long s3Pid = status.get("s3")[0];
            ProcessHandle.of(s3Pid).orElseThrow().destroyForcibly();
            await("s3 restarted by the supervisor", 60_000, () -> {
                long[] s = status().get("s3");
                return s != null && s[0] != s3Pid && s[1] == 1 && running("s3");
            });
            cli.log("s3 restarted after SIGKILL");

            // Patients split at two instants of their common time line, so each phase's beats come after the last.
            List<Recording> recordings = SyntheticRr.recordings(12, 450, 650, 20261201L);
            double shortest = recordings.stream().mapToDouble(r -> r.time()[r.size() - 1]).min().orElseThrow();
            Path phaseA = writeCsv("a.csv", recordings, Double.NEGATIVE_INFINITY, 0.3 * shortest);
            Path phaseB = writeCsv("b.csv", recordings, 0.3 * shortest, 0.75 * shortest);
            Path phaseC = writeCsv("c.csv", recordings, 0.75 * shortest, Double.POSITIVE_INFINITY);
            int beats = recordings.stream().mapToInt(Recording::size).sum();
            Path newBundle = withVersion(dir.resolve("bundle-v2"), NEW_VERSION);
            Path otherGeometry = withGeometry(dir.resolve("bundle-12-8"), new FeatureSpec(12, 8));
            Path shadowBundle = BundleCopies.reweighted(dir.resolve("bundle-shadow"), SHADOW_VERSION);

            // A generous lateness, and an idle flush longer than a patient waits for its next beat while the job
            // catches up after an upgrade.
            ClusterCli.Result submit = cli.run("job", "submit", "--model", "models", "--parallelism", "2",
                    "--checkpoint-interval", "2s", "--idle-flush", "40s", "--allowed-lateness", "5s",
                    "--shadow-model", shadowBundle.toString());
            assertThat(submit.exit()).as("job submit: %s", submit).isZero();
            assertThat(submit.err()).contains("shadow model " + SHADOW_VERSION);
            String firstJob = jobId(submit);
            cli.log("submitted " + firstJob + " with shadow " + SHADOW_VERSION);

            ClusterConfig cluster = ClusterConfig.load(clusterDir);
            Map<String, List<JsonNode>> scores = new ConcurrentHashMap<>();
            Map<String, List<JsonNode>> shadowScores = new ConcurrentHashMap<>();
            List<JsonNode> alerts = new CopyOnWriteArrayList<>(), deadLetters = new CopyOnWriteArrayList<>();
            try (TopicReader reader = new TopicReader(cluster.kafkaBootstrap(), List.of("rr-scores", "rr-alerts", "rr-dlq",
                    "rr-scores-shadow"), // created by job submit --shadow-model
                    r -> {
                        switch (r.topic()) {
                            case "rr-scores" -> scores.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>())
                                    .add(r.value());
                            case "rr-scores-shadow" -> shadowScores.computeIfAbsent(r.key(),
                                    k -> new CopyOnWriteArrayList<>()).add(r.value());
                            case "rr-alerts" -> alerts.add(r.value());
                            default -> deadLetters.add(r.value());
                        }
                    })) {
                Supplier<Integer> scored = () -> scores.values().stream().mapToInt(List::size).sum();
                // A bundle cut for other windows cannot continue the saved state: refused, the job untouched.
                ClusterCli.Result refused = cli.run("job", "upgrade", "--model", otherGeometry.toString());
                assertThat(refused.exit()).as("upgrade to another geometry: %s", refused).isEqualTo(2);
                assertThat(refused.err()).contains("cannot continue the job's state");
                // Nor a shadow of other windows, nor a promotion together with a new live model.
                ClusterCli.Result refusedShadow = cli.run("job", "upgrade", "--shadow-model", otherGeometry.toString());
                assertThat(refusedShadow.exit()).as("a shadow of another geometry: %s", refusedShadow).isEqualTo(2);
                assertThat(refusedShadow.err()).contains("cannot share the windows");
                ClusterCli.Result refusedPromotion = cli.run("job", "upgrade", "--promote-shadow", "--model",
                        newBundle.toString());
                assertThat(refusedPromotion.exit()).as("--promote-shadow with --model: %s", refusedPromotion)
                        .isEqualTo(2);
                assertThat(refusedPromotion.err()).contains("give no --model with it");
                assertThat(cli.run("job", "status").out()).contains("job " + firstJob, "state RUNNING",
                        "shadow model " + SHADOW_VERSION + " (s3://cardiospike/models/" + SHADOW_VERSION + ")");

                // A as a burst, then B and C paced, back to back, while the job is upgraded twice.
                ClusterCli.Result a = cli.run("produce", "--input", phaseA.toString(), "--speed", "max",
                        "--bootstrap-servers", cluster.kafkaBootstrap());
                assertThat(a.exit()).as("produce phase A: %s", a).isZero();
                assertThat(a.err()).contains("all acknowledged");
                java.util.concurrent.CompletableFuture<List<ClusterCli.Result>> bc = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            try {
                                ClusterCli.Result b = cli.run("produce", "--input", phaseB.toString(), "--speed", "8",
                                        "--bootstrap-servers", cluster.kafkaBootstrap());
                                ClusterCli.Result c = cli.run("produce", "--input", phaseC.toString(), "--speed", "8",
                                        "--bootstrap-servers", cluster.kafkaBootstrap());
                                return List.of(b, c);
                            } catch (Exception e) {
                                throw new java.util.concurrent.CompletionException(e);
                            }
                        });
                await("first scores committed", 90_000, () -> scored.get() > 100);

                Map<String, Long> lastOldTs = new HashMap<>(); // per patient: a beat committed before the switch
                scores.forEach((p, list) -> lastOldTs.put(p, list.stream().mapToLong(s -> s.path("ts").asLong()).max()
                        .orElse(Long.MIN_VALUE)));

                ClusterCli.Result upgrade = cli.run("job", "upgrade", "--model", newBundle.toString(), "--parallelism", "3");
                assertThat(upgrade.exit()).as("upgrade to the new bundle at parallelism 3: %s", upgrade).isZero();
                String secondJob = jobId(upgrade);
                cli.log("upgraded to " + secondJob + " (new bundle, parallelism 3); scored so far " + scored.get());
                assertThat(cli.run("job", "status").out()).contains("job " + secondJob, "model " + NEW_VERSION,
                        "shadow model " + SHADOW_VERSION, "parallelism 3");

                // The shadow made live mid-stream, through the same savepoint path.
                Map<String, Long> lastUnpromotedTs = new HashMap<>(); // per patient: committed before the promotion
                scores.forEach((p, list) -> lastUnpromotedTs.put(p, list.stream().mapToLong(s -> s.path("ts").asLong())
                        .max().orElse(Long.MIN_VALUE)));
                ClusterCli.Result promote = cli.run("job", "upgrade", "--promote-shadow");
                assertThat(promote.exit()).as("job upgrade --promote-shadow: %s", promote).isZero();
                String promotedJob = jobId(promote);
                cli.log("promoted the shadow: " + promotedJob + "; scored so far " + scored.get());
                String promotedStatus = cli.run("job", "status").out();
                assertThat(promotedStatus).contains("job " + promotedJob, "model " + SHADOW_VERSION, "parallelism 3")
                        .doesNotContain("shadow model");
                ClusterCli.Result nothingToPromote = cli.run("job", "upgrade", "--promote-shadow");
                assertThat(nothingToPromote.exit()).as("a second promotion: %s", nothingToPromote).isEqualTo(2);
                assertThat(nothingToPromote.err()).contains("scores without a shadow model: nothing to promote");

                // More key groups for a job that has run: stopped with a savepoint, the savepoint migrated to 256,
                // and a job submitted from it at parallelism 1 (a rescale as well).
                ClusterCli.Result stopped = cli.run("job", "savepoint", "--stop");
                assertThat(stopped.exit()).as("job savepoint --stop: %s", stopped).isZero();
                String savepoint = stopped.out().strip();
                List<String> resubmit = List.of("job", "submit", "--model", shadowBundle.toString(), "--parallelism", "1",
                        "--checkpoint-interval", "1s", "--idle-flush", "40s", "--allowed-lateness", "5s",
                        "--max-parallelism", "256", "--from-savepoint");
                ClusterCli.Result otherKeyGroups = cli.run(concat(resubmit, savepoint));
                assertThat(otherKeyGroups.exit()).as("a 4096 savepoint into a 256 job: %s", otherKeyGroups).isEqualTo(2);
                assertThat(otherKeyGroups.err()).contains("job migrate-savepoint");
                ClusterCli.Result migrated = cli.run("job", "migrate-savepoint", "--from", savepoint,
                        "--max-parallelism", "256");
                assertThat(migrated.exit()).as("job migrate-savepoint: %s", migrated).isZero();
                assertThat(migrated.out().strip()).isEqualTo(savepoint + "-kg256");
                ClusterCli.Result rescale = cli.run(concat(resubmit, migrated.out().strip()));
                assertThat(rescale.exit()).as("submitted from the migrated savepoint at 1: %s", rescale).isZero();
                String thirdJob = jobId(rescale);
                lastJob = thirdJob;
                List<String> args = io.cardiospike.stream.JobParameters.args(
                        new FlinkRest(cluster.restUrl()).jobParameters(thirdJob));
                assertThat(String.join(" ", args)).as("the resubmitted job's arguments")
                        .contains("--checkpoint-interval 1s", "--parallelism 1", "--idle-flush 40s", "--max-parallelism 256",
                                "--model-dir s3://cardiospike/models/" + SHADOW_VERSION);
                cli.log("resubmitted from the migrated savepoint: " + thirdJob + " (parallelism 1, 256 key groups); scored so far " + scored.get());
                for (ClusterCli.Result phase : bc.get(5, TimeUnit.MINUTES)) {
                    assertThat(phase.exit()).as("produce phases B and C: %s", phase).isZero();
                }

                await("all " + beats + " beats committed", 180_000, () -> scored.get() >= beats,
                        () -> "scored " + scored.get() + ", dead letters " + deadLetters.size() + " "
                                + deadLetters.stream().limit(5).map(JsonNode::toString).toList());
                Thread.sleep(5_000); // two more checkpoints: nothing more may arrive
                cli.log("all beats committed");

                ClusterCli.Result status3 = cli.run("job", "status");
                assertThat(status3.out()).contains("job " + thirdJob, "state RUNNING", "model " + SHADOW_VERSION,
                        "parallelism 1", "s3://cardiospike/checkpoints/" + thirdJob + "/chk-");

                String oldVersion = ModelManifest.load(BundleCopies.COMMITTED).modelVersion();
                List<String> versions = List.of(oldVersion, NEW_VERSION, SHADOW_VERSION); // in the order they went live
                int shadowed = 0;
                try (EnsembleScorer scorer = EnsembleScorer.open(BundleCopies.COMMITTED);
                     EnsembleScorer shadowScorer = EnsembleScorer.open(shadowBundle)) {
                    for (Recording rec : recordings) {
                        double[] liveProba = scorer.scoreRecording(rec.rr()).proba();
                        double[] shadowProba = shadowScorer.scoreRecording(rec.rr()).proba();
                        int[] liveDecided = scorer.decide(liveProba), shadowDecided = shadowScorer.decide(shadowProba);
                        List<JsonNode> stream = new ArrayList<>(scores.getOrDefault(rec.id(), List.of()));
                        assertThat(stream).as("committed scores of %s (exactly once)", rec.id()).hasSize(rec.size());
                        stream.sort((x, y) -> Long.compare(x.path("ts").asLong(), y.path("ts").asLong()));
                        Map<Long, JsonNode> shadowByTs = new HashMap<>();
                        for (JsonNode s : shadowScores.getOrDefault(rec.id(), List.of())) {
                            assertThat(shadowByTs.put(s.path("ts").asLong(), s)).as("%s: a beat once in "
                                    + "rr-scores-shadow", rec.id()).isNull();
                        }
                        int live = 0;
                        for (int i = 0; i < rec.size(); i++) {
                            JsonNode s = stream.get(i);
                            long ts = ReplayProducer.replayTs(rec.time()[i], ReplayProducer.REPLAY_BASE_EPOCH_MS);
                            assertThat(s.path("ts").asLong()).as("%s beat %d ts", rec.id(), i).isEqualTo(ts);
                            String version = s.path("model_version").asText();
                            assertThat(version).isIn(versions);
                            // the committed bundle and its copy score alike; the promoted shadow as its batch does
                            boolean promoted = version.equals(SHADOW_VERSION);
                            assertThat(s.path("proba").asDouble()).as("%s beat %d (%s)", rec.id(), i, version)
                                    .isCloseTo(promoted ? shadowProba[i] : liveProba[i], within(1e-5));
                            assertThat(s.path("anomaly").asBoolean()).as("%s beat %d decision", rec.id(), i)
                                    .isEqualTo((promoted ? shadowDecided[i] : liveDecided[i]) == 1);
                            if (ts <= lastOldTs.getOrDefault(rec.id(), Long.MIN_VALUE)) {
                                assertThat(version).as("%s beat %d, committed before the switch", rec.id(), i)
                                        .isEqualTo(oldVersion);
                            }
                            if (ts <= lastUnpromotedTs.getOrDefault(rec.id(), Long.MIN_VALUE)) {
                                assertThat(version).as("%s beat %d, committed before the promotion", rec.id(), i)
                                        .isNotEqualTo(SHADOW_VERSION);
                            }
                            assertThat(versions.indexOf(version)).as("%s beat %d: no version after a later one",
                                    rec.id(), i).isGreaterThanOrEqualTo(live);
                            live = versions.indexOf(version);
                            // while the shadow was set (before the promotion), the beat is in rr-scores-shadow too
                            JsonNode both = shadowByTs.remove(ts);
                            if (promoted) {
                                assertThat(both).as("%s beat %d: scored without a shadow", rec.id(), i).isNull();
                                continue;
                            }
                            assertThat(both).as("%s beat %d in rr-scores-shadow", rec.id(), i).isNotNull();
                            shadowed++;
                            assertThat(both.path("live").path("model_version").asText()).isEqualTo(version);
                            assertThat(both.path("live").path("proba").asDouble()).isCloseTo(liveProba[i], within(1e-5));
                            assertThat(both.path("shadow").path("model_version").asText()).isEqualTo(SHADOW_VERSION);
                            assertThat(both.path("shadow").path("proba").asDouble()).as("%s beat %d shadow", rec.id(), i)
                                    .isCloseTo(shadowProba[i], within(1e-5));
                            assertThat(both.path("shadow").path("anomaly").asBoolean()).isEqualTo(shadowDecided[i] == 1);
                        }
                        assertThat(shadowByTs).as("%s: rr-scores-shadow holds no other beat", rec.id()).isEmpty();
                        assertThat(stream.get(rec.size() - 1).path("model_version").asText())
                                .as("%s: the last beat, scored after the promotion", rec.id()).isEqualTo(SHADOW_VERSION);
                    }
                }
                cli.log(shadowed + " beats scored with the shadow beside the live model");
                assertThat(shadowed).as("beats scored while the shadow was set").isPositive();
                // shadow report reads the same topic: both pairs (before and after the first upgrade), every beat
                ClusterCli.Result report = cli.run("shadow", "report", "--json", "--bootstrap-servers",
                        cluster.kafkaBootstrap());
                assertThat(report.exit()).as("shadow report: %s", report).isZero();
                JsonNode pairs = JSON.readTree(report.out()).path("pairs");
                long reported = 0;
                for (JsonNode pair : pairs) {
                    assertThat(pair.path("live").path("model_version").asText()).isIn(oldVersion, NEW_VERSION);
                    assertThat(pair.path("shadow").path("model_version").asText()).isEqualTo(SHADOW_VERSION);
                    reported += pair.path("beats").asLong();
                }
                assertThat(reported).as("shadow report: %s", report.out()).isEqualTo(shadowed);
                assertThat(deadLetters).as("dead letters").isEmpty();
                List<String> alertIds = alerts.stream().map(x -> x.path("alert_id").asText() + " "
                        + x.path("status").asText()).toList();
                assertThat(alertIds).as("alerts committed once each (open, closed)").doesNotHaveDuplicates();
            }

            // Metrics: the job's counters on a TaskManager, checkpoints on the JobManager, Kafka lag from the source.
            // The Kafka source registers pendingRecords at its first fetch: on a loaded machine the last upgrade can
            // come after the producers have finished, so the running job has fetched nothing yet. A patient of its
            // own, sent now, makes it fetch (the checks above are done; this adds no beat to them).
            Path probe = dir.resolve("metrics-probe.csv");
            StringBuilder probeCsv = new StringBuilder("id,time,x\n");
            for (int i = 0; i < 60; i++) {
                probeCsv.append("metrics-probe,").append(i * 800L).append(",800\n");
            }
            Files.writeString(probe, probeCsv);
            ClusterCli.Result sent = cli.run("produce", "--input", probe.toString(), "--speed", "max", "--bootstrap-servers",
                    cluster.kafkaBootstrap());
            assertThat(sent.exit()).as("produce the metrics probe: %s", sent).isZero();
            String[] scraped = {""};
            await("every charted metric served", 90_000, () -> {
                try {
                    scraped[0] = scrape(cluster.taskManagerPrometheusPort(1))
                            + scrape(cluster.taskManagerPrometheusPort(2)) + scrape(leaderPrometheusPort(cluster));
                } catch (Exception | AssertionError e) {
                    return false; // not answering yet: tried again
                }
                return ProductionFilesTest.DASHBOARD_METRICS.stream().allMatch(m -> scraped[0].contains(m + "{"));
            }, () -> "missing " + ProductionFilesTest.DASHBOARD_METRICS.stream()
                    .filter(m -> !scraped[0].contains(m + "{")).toList());
            String tms = scrape(cluster.taskManagerPrometheusPort(1)) + scrape(cluster.taskManagerPrometheusPort(2));
            assertThat(sum(tms, "flink_taskmanager_job_task_operator_beatsScored")).as("beatsScored").isPositive();
            assertThat(tms).contains("flink_taskmanager_job_task_operator_eventsIn",
                    "flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max",
                    "flink_taskmanager_job_task_operator_scoringLatencyMicros");
            String jm = scrape(leaderPrometheusPort(cluster)); // the job's metrics: on the leading JobManager
            assertThat(jm).contains("flink_jobmanager_job_lastCheckpointDuration", "flink_jobmanager_job_lastCheckpointSize");
            for (String metric : ProductionFilesTest.DASHBOARD_METRICS) { // the Grafana dashboard charts real names
                assertThat(tms + jm).as("metric %s served", metric).contains(metric + "{");
            }

            // Checkpoints and savepoints in the bucket, read back through the S3 API as the cluster writes them.
            ClusterStorage.connect(cluster, Installation.current());
            FileSystem s3 = FileSystem.get(URI.create("s3://cardiospike/"));
            String jobCheckpoints = "s3://cardiospike/checkpoints/" + lastJob;
            List<String> checkpoints = Arrays.stream(s3.listStatus(new org.apache.flink.core.fs.Path(jobCheckpoints)))
                    .map(f -> f.getPath().getName()).filter(n -> n.startsWith("chk-")).toList();
            assertThat(checkpoints).as("checkpoints of the running job in %s", jobCheckpoints).isNotEmpty();
            // A checkpoint completes every second here, so the listing often holds one still being written too
            assertThat(checkpoints).as("a complete checkpoint among %s", checkpoints).anyMatch(c -> {
                try {
                    return s3.exists(new org.apache.flink.core.fs.Path(jobCheckpoints + "/" + c + "/_metadata"));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThat(Arrays.stream(s3.listStatus(new org.apache.flink.core.fs.Path("s3://cardiospike/savepoints"))))
                    .as("two upgrades, a stop and its migration: four savepoints").hasSize(4);
            assertThat(s3.exists(new org.apache.flink.core.fs.Path("s3://cardiospike/models/" + NEW_VERSION
                    + "/manifest.json"))).isTrue();

            ClusterCli.Result cancel = cli.run("job", "cancel");
            assertThat(cancel.exit()).as("job cancel: %s", cancel).isZero();

            String secret = cluster.s3SecretKey();
            try (Stream<Path> logs = Files.list(cluster.logsDir())) {
                for (Path log : logs.toList()) {
                    assertThat(Files.readString(log, StandardCharsets.ISO_8859_1)).as("%s", log).doesNotContain(secret);
                }
            }
            for (Path out : cli.outputs()) {
                assertThat(Files.readString(out)).as("%s", out).doesNotContain(secret);
            }

            ClusterCli.Result stop = cli.run("cluster", "stop");
            assertThat(stop.exit()).as("cluster stop: %s", stop).isZero();
            assertThat(ProcessHandle.allProcesses().filter(h -> h.info().commandLine()
                    .map(cmd -> cmd.contains(clusterDir.toString())).orElse(false)).map(ProcessHandle::pid))
                    .as("processes left").isEmpty();
            for (int port : List.of(kafkaPort, kafkaPort + 1, s3Port, zooKeeperPort, restPort, restPort + 1, rpcPort,
                    rpcPort + 1, promPort, promPort + 1, promPort + 2, promPort + 3)) {
                try (ServerSocket free = new ServerSocket(port)) {
                    assertThat(free.getLocalPort()).isEqualTo(port);
                }
            }
            cli.log("cluster stopped");
        } catch (Throwable t) {
            cli.run("cluster", "stop");
            throw new AssertionError(t.getMessage() + cli.keepLogs("cluster-it-logs"), t);
        }
    }


    /** {@code cluster status}, parsed: name -> {pid, restarts, running (1/0), leader (1/0)}. */
    private Map<String, long[]> status() {
        try {
            ClusterCli.Result r = cli.run("cluster", "status");
            Map<String, long[]> s = new HashMap<>();
            Matcher m = Pattern.compile("^(\\S+) pid (\\d+) (\\S+) restarts (\\d+)( leader)?$", Pattern.MULTILINE)
                    .matcher(r.out());
            while (m.find()) {
                s.put(m.group(1), new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(4)),
                        m.group(3).equals("RUNNING") ? 1 : 0, m.group(5) != null ? 1 : 0});
            }
            return s;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The leading JobManager's number, as {@code cluster status} marks it. */
    private int leader() {
        List<String> leaders = status().entrySet().stream().filter(e -> e.getValue()[3] == 1).map(Map.Entry::getKey)
                .toList();
        assertThat(leaders).as("one leading JobManager").hasSize(1);
        return Integer.parseInt(leaders.get(0).substring("jobmanager-".length()));
    }

    private int leaderPrometheusPort(ClusterConfig cluster) {
        return cluster.jobManagerPrometheusPort(leader());
    }

    private boolean running(String name) {
        long[] s = status().get(name);
        return s != null && s[2] == 1;
    }

    private static String[] concat(List<String> args, String last) {
        List<String> all = new ArrayList<>(args);
        all.add(last);
        return all.toArray(String[]::new);
    }

    private static String jobId(ClusterCli.Result r) {
        Matcher m = JOB_ID.matcher(r.out());
        assertThat(m.find()).as("a job id on stdout: %s", r).isTrue();
        return m.group(1);
    }

    /** The beats of every recording with {@code from <= time < to}, in {@code id,time,x}. */
    private Path writeCsv(String name, List<Recording> recordings, double from, double to) throws IOException {
        StringBuilder csv = new StringBuilder("id,time,x\n");
        for (Recording r : recordings) {
            for (int i = 0; i < r.size(); i++) {
                if (r.time()[i] >= from && r.time()[i] < to) {
                    csv.append(r.id()).append(',').append(RrCsv.formatTime(r.time()[i])).append(',')
                            .append(RrCsv.formatTime(r.rr()[i])).append('\n');
                }
            }
        }
        return Files.writeString(dir.resolve(name), csv);
    }

    private static Path withVersion(Path to, String version) throws Exception {
        Files.createDirectories(to);
        BundleCopies.copy(to);
        ObjectNode manifest = (ObjectNode) JSON.readTree(to.resolve(ModelManifest.FILE).toFile());
        manifest.put("model_version", version);
        JSON.writeValue(to.resolve(ModelManifest.FILE).toFile(), manifest);
        return to;
    }

    /** A valid manifest for another window geometry (the model files are the committed ones). */
    private static Path withGeometry(Path to, FeatureSpec spec) throws Exception {
        Path copy = withVersion(to, "cs-other-geometry");
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve(ModelManifest.FILE).toFile());
        manifest.put("past_beats", spec.pastBeats()).put("lookahead_beats", spec.lookaheadBeats())
                .put("window", spec.windowSize());
        manifest.putPOJO("feature_names", new WindowFeatures(spec).names());
        JSON.writeValue(copy.resolve(ModelManifest.FILE).toFile(), manifest);
        ModelManifest.load(copy); // valid on its own
        return copy;
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static double sum(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private void await(String what, long timeoutMs, BooleanSupplier done) throws InterruptedException {
        await(what, timeoutMs, done, () -> "");
    }

    private void await(String what, long timeoutMs, BooleanSupplier done, Supplier<String> progress)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what + "; " + progress.get());
            }
            Thread.sleep(250);
        }
    }

    private final java.util.Set<Integer> taken = new java.util.HashSet<>();

    /** The first of {@code n} consecutive free ports, none handed out before. */
    private int freePorts(int n) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int first;
            try (ServerSocket s = new ServerSocket(0)) {
                first = s.getLocalPort();
            }
            boolean free = first + n < 65536;
            for (int i = 0; i < n; i++) {
                free &= !taken.contains(first + i);
            }
            for (int i = 0; i < n && free; i++) {
                try (ServerSocket s = new ServerSocket(first + i)) {
                    free = true;
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                for (int i = 0; i < n; i++) {
                    taken.add(first + i);
                }
                return first;
            }
        }
        throw new IOException("no " + n + " consecutive free ports");
    }

}
