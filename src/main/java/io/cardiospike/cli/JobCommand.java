package io.cardiospike.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.ops.ClusterConfig;
import io.cardiospike.ops.ClusterStorage;
import io.cardiospike.ops.FlinkRest;
import io.cardiospike.ops.Installation;
import io.cardiospike.stream.BundleStore;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.ScoringJob;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.local.TopicReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code job submit|status|savepoint|upgrade|cancel}: the scoring job on the cluster of {@code cluster start},
 * through Flink's REST API. Bundles and checkpoints live in the cluster's object store.
 */
@Command(name = "job", description = "Submit, inspect, savepoint, upgrade or cancel the scoring job on the cluster.",
        subcommands = {JobCommand.Submit.class, JobCommand.Status.class, JobCommand.Savepoint.class,
                JobCommand.Upgrade.class, JobCommand.Cancel.class})
final class JobCommand {
    static final Duration SAVEPOINT_TIMEOUT = Duration.ofMinutes(5);

    /** The cluster, its REST API and (for bundles) its object store. */
    static final class Target {
        @Mixin ClusterCommand.Dir dir;

        @Option(names = "--job-id", description = "the job to act on (default: the one running scoring job)")
        String jobId;

        ClusterConfig cluster;
        FlinkRest rest;

        void connect() throws IOException {
            cluster = dir.load();
            rest = new FlinkRest(cluster.restUrl());
        }

        /** The job named by --job-id, else the single running scoring job. */
        String job() throws IOException, UserException {
            if (jobId != null) {
                return jobId;
            }
            List<FlinkRest.Job> running = rest.jobs().stream()
                    .filter(j -> j.name().equals(ScoringJob.JOB_NAME) && j.state().equals("RUNNING")).toList();
            if (running.size() != 1) {
                throw new UserException(running.isEmpty() ? "no running scoring job on " + cluster.restUrl()
                        + " (submit one: bin/cardiospike job submit)"
                        : running.size() + " scoring jobs are running: name one with --job-id "
                        + running.stream().map(FlinkRest.Job::id).toList());
            }
            return running.get(0).id();
        }

        /**
         * The bundle at {@code model} as the cluster will read it: a local directory is uploaded to
         * {@code s3://cardiospike/models/<model_version>} first; a URI is fetched and checked here.
         */
        Bundle bundle(String model) throws IOException, ModelBundleException {
            ClusterStorage.connect(cluster, Installation.current());
            if (BundleStore.isRemote(model)) {
                return new Bundle(model, ModelManifest.load(BundleStore.localCopy(model)));
            }
            Path local = Path.of(model);
            ModelManifest manifest = ModelManifest.load(local);
            String uri = ClusterConfig.modelsUri(manifest.modelVersion());
            System.err.println("uploading bundle " + manifest.modelVersion() + " to " + uri + "...");
            BundleStore.upload(local, uri);
            return new Bundle(uri, manifest);
        }

        /** Uploads the job jar; returns its id on the cluster. */
        String upload(Path jar) throws IOException, UserException {
            Path file = jar != null ? jar : Installation.current().jobJar();
            if (!Files.isRegularFile(file)) {
                throw new UserException("no job jar at " + file + " (build it: mvn -B package -DskipTests)");
            }
            return rest.uploadJar(file);
        }

        /** Runs an uploaded jar, then deletes the upload (the job's classes stay in the cluster's blob store). */
        String run(String jarId, List<String> args, int parallelism, String savepoint) throws IOException {
            try {
                return rest.runJar(jarId, ScoringJob.class.getName(), args, parallelism, savepoint);
            } finally {
                rest.deleteJar(jarId);
            }
        }

        void awaitRunning(String id) throws IOException, InterruptedException, UserException {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (System.nanoTime() < deadline) {
                JsonNode job = rest.job(id);
                String state = job.path("state").asText();
                boolean tasksRunning = job.path("vertices").size() > 0;
                for (JsonNode v : job.path("vertices")) {
                    tasksRunning &= v.path("status").asText().equals("RUNNING");
                }
                if (state.equals("RUNNING") && tasksRunning) {
                    return;
                }
                if (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED")) {
                    throw new UserException("job " + id + " is " + state + ": see " + cluster.restUrl()
                            + "/#/job/completed/" + id + "/exceptions");
                }
                Thread.sleep(200);
            }
            throw new UserException("job " + id + " not running within 2 minutes");
        }
    }

    record Bundle(String uri, ModelManifest manifest) {}

    @Command(name = "submit", description = "Submit the scoring job; prints its id. Options it does not know go to the "
            + "job (see java -cp target/cardiospike-job.jar io.cardiospike.stream.ScoringJob --help).")
    static final class Submit implements Callable<Integer> {
        @Mixin Target target;

        @Option(names = "--model", defaultValue = "${env:CARDIOSPIKE_MODEL:-models}",
                description = "bundle: a local directory (uploaded to s3://cardiospike/models/<model_version>) or a "
                        + "URI such as s3://cardiospike/models/<model_version> (default ${DEFAULT-VALUE})")
        String model;

        @Option(names = "--parallelism", defaultValue = "2", description = "job parallelism (default ${DEFAULT-VALUE})")
        int parallelism;

        @Option(names = "--jar", description = "job jar (default: this installation's target/cardiospike-job.jar)")
        Path jar;

        @Option(names = "--from-savepoint", description = "restore from this savepoint or retained checkpoint")
        String savepoint;

        @Unmatched List<String> jobOptions = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            target.connect();
            Bundle bundle = target.bundle(model);
            List<String> args = new ArrayList<>(List.of("--bootstrap-servers", target.cluster.kafkaBootstrap(),
                    "--model-dir", bundle.uri(), "--parallelism", Integer.toString(parallelism)));
            args.addAll(jobOptions);
            String id = target.run(target.upload(jar), args, parallelism, savepoint);
            target.awaitRunning(id);
            System.err.println("job running: model " + bundle.manifest().modelVersion() + ", parallelism " + parallelism
                    + ", checkpoints to the cluster's " + checkpointDir(target) + "; web UI " + target.cluster.restUrl()
                    + "/#/job/running/" + id);
            System.out.println(id);
            return 0;
        }
    }

    @Command(name = "status", description = "The job's id, state, model version, parallelism and last checkpoint.")
    static final class Status implements Callable<Integer> {
        @Mixin Target target;

        @Override
        public Integer call() throws Exception {
            target.connect();
            String id = target.job();
            JsonNode job = target.rest.job(id);
            Map<String, String> params = target.rest.jobParameters(id);
            int parallelism = 0;
            for (JsonNode v : job.path("vertices")) {
                parallelism = Math.max(parallelism, v.path("parallelism").asInt());
            }
            System.out.println("job " + id);
            System.out.println("state " + job.path("state").asText());
            System.out.println("model " + params.getOrDefault(JobParameters.MODEL_VERSION, "?") + " ("
                    + params.getOrDefault(JobParameters.MODEL_DIR, "?") + ")");
            System.out.println("parallelism " + parallelism);
            JsonNode checkpoints = target.rest.checkpoints(id);
            JsonNode last = checkpoints.path("latest").path("completed");
            if (last.isMissingNode() || last.isNull()) {
                System.out.println("last checkpoint none yet");
            } else {
                System.out.printf(Locale.ROOT,
                        "last checkpoint %d at %s, duration %d ms, size %,d bytes (full %,d), %s%n",
                        last.path("id").asLong(), Instant.ofEpochMilli(last.path("latest_ack_timestamp").asLong()),
                        last.path("end_to_end_duration").asLong(), last.path("checkpointed_size").asLong(),
                        last.path("state_size").asLong(), last.path("external_path").asText());
                JsonNode counts = checkpoints.path("counts");
                JsonNode duration = checkpoints.path("summary").path("end_to_end_duration");
                System.out.printf(Locale.ROOT, "checkpoints %d completed, %d failed; duration min %d / p50 %.0f / "
                                + "max %d ms%n", counts.path("completed").asLong(), counts.path("failed").asLong(),
                        duration.path("min").asLong(), duration.path("p50").asDouble(), duration.path("max").asLong());
            }
            return 0;
        }
    }

    @Command(name = "savepoint", description = "Take a savepoint of the running job (it keeps running); prints where.")
    static final class Savepoint implements Callable<Integer> {
        @Mixin Target target;

        @Override
        public Integer call() throws Exception {
            target.connect();
            System.out.println(target.rest.savepoint(target.job(), SAVEPOINT_TIMEOUT));
            return 0;
        }
    }

    @Command(name = "upgrade", description = "Stop the job with a savepoint and resubmit it from there with a new "
            + "model, jar, parallelism or job options (--name value pairs): patients keep their windows and open "
            + "episodes; outputs lose and duplicate nothing.")
    static final class Upgrade implements Callable<Integer> {
        @Mixin Target target;

        @Option(names = "--model", description = "new bundle: local directory or URI (default: the job's current one)")
        String model;

        @Option(names = "--jar", description = "new job jar (default: this installation's target/cardiospike-job.jar)")
        Path jar;

        @Option(names = "--parallelism", description = "new parallelism (default: the job's current one)")
        Integer parallelism;

        /** Job options to change (`--checkpoint-interval 5s`); the others stay as submitted. */
        @Unmatched List<String> jobOptions = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            target.connect();
            String oldId = target.job();
            Map<String, String> params = target.rest.jobParameters(oldId);
            List<String> args = new ArrayList<>(JobParameters.args(params));
            if (args.isEmpty()) {
                throw new UserException("job " + oldId + " records no arguments: was it submitted by bin/cardiospike?");
            }
            String modelDir = model != null ? model : params.get(JobParameters.MODEL_DIR);
            Bundle bundle = target.bundle(modelDir);
            // Refuse before anything stops: the saved windows were cut for the running job's geometry and features.
            String geometry = params.get(JobParameters.PAST_BEATS) + "/" + params.get(JobParameters.LOOKAHEAD_BEATS)
                    + " " + params.get(JobParameters.FEATURE_SPEC);
            String next = bundle.manifest().spec().pastBeats() + "/" + bundle.manifest().spec().lookaheadBeats() + " "
                    + io.cardiospike.features.FeatureSpec.VERSION;
            if (!geometry.equals(next)) {
                throw new UserException("bundle " + bundle.manifest().modelVersion()
                        + " cannot continue the job's state: "
                        + "window past/lookahead and feature spec " + next + " vs the running job's " + geometry
                        + "; the job was left running. Start such a bundle as a new job (job cancel, job submit).");
            }
            int newParallelism = parallelism != null ? parallelism : Integer.parseInt(
                    option(args, "--parallelism", "2"));
            set(args, "--model-dir", bundle.uri());
            set(args, "--parallelism", Integer.toString(newParallelism));
            if (jobOptions.size() % 2 != 0) {
                throw new UserException("job options come as --name value pairs: " + jobOptions);
            }
            for (int i = 0; i < jobOptions.size(); i += 2) {
                set(args, jobOptions.get(i), jobOptions.get(i + 1));
            }
            StreamConfig nextConfig;
            try {
                // bad options fail here, not after the stop
                nextConfig = StreamConfig.fromArgs(args.toArray(String[]::new));
            } catch (picocli.CommandLine.ParameterException | IllegalArgumentException e) {
                throw new UserException("job options " + jobOptions + ": " + e.getMessage());
            }

            String jarId = target.upload(jar); // before the stop: the upload is no downtime
            // Downtime as a consumer of rr-scores sees it: the last score committed before the stop, the first after.
            AtomicLong lastCommitNanos = new AtomicLong(), firstAfterNanos = new AtomicLong();
            AtomicBoolean newJobRunning = new AtomicBoolean();
            String scoresTopic = nextConfig.scoresTopic();
            String newId;
            try (TopicReader scores = new TopicReader(nextConfig.kafka(), List.of(scoresTopic), true, r -> {
                // The old job commits its last transactions as the savepoint completes; the new job cannot commit
                // before its tasks run. So every score read before those run is the old job's.
                if (!newJobRunning.get()) {
                    lastCommitNanos.set(r.readNanos());
                } else {
                    firstAfterNanos.compareAndSet(0, r.readNanos());
                }
            })) {
                long stopNanos = System.nanoTime();
                System.err.println("stopping job " + oldId + " with a savepoint...");
                String savepoint;
                try {
                    savepoint = target.rest.stopWithSavepoint(oldId, SAVEPOINT_TIMEOUT);
                } catch (IOException e) {
                    target.rest.deleteJar(jarId);
                    throw new UserException("stop-with-savepoint of " + oldId + " failed, nothing changed: "
                            + e.getMessage());
                }
                System.err.println("savepoint " + savepoint);
                try {
                    newId = target.run(jarId, args, newParallelism, savepoint);
                    target.awaitRunning(newId);
                    newJobRunning.set(true);
                } catch (IOException | UserException e) {
                    throw new UserException("the old job is stopped, and the new one did not start: " + e.getMessage()
                            + ". Restore by hand: bin/cardiospike job submit --from-savepoint " + savepoint
                            + " --model " + params.get(JobParameters.MODEL_DIR));
                }
                System.err.printf(Locale.ROOT, "job %s running from the savepoint: model %s, parallelism %d "
                                + "(%.1f s from the stop request to running tasks)%n", newId,
                        bundle.manifest().modelVersion(), newParallelism, (System.nanoTime() - stopNanos) / 1e9);
                if (lastCommitNanos.get() != 0) {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (firstAfterNanos.get() == 0 && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                }
                System.err.println(lastCommitNanos.get() == 0 || firstAfterNanos.get() == 0
                        ? "downtime: not measured (no scores committed " + (lastCommitNanos.get() == 0
                        ? "before the stop" : "within 60 s after the restart") + ")"
                        : String.format(Locale.ROOT, "downtime: %.1f s between the last score committed before the "
                        + "upgrade and the first after it (%s, read_committed)",
                        (firstAfterNanos.get() - lastCommitNanos.get()) / 1e9, scoresTopic));
            }
            System.out.println(newId);
            return 0;
        }
    }

    @Command(name = "cancel", description = "Cancel the job (its last checkpoint is retained in the object store).")
    static final class Cancel implements Callable<Integer> {
        @Mixin Target target;

        @Override
        public Integer call() throws Exception {
            target.connect();
            String id = target.job();
            target.rest.cancel(id);
            System.out.println("cancelled " + id);
            return 0;
        }
    }

    private static String checkpointDir(Target target) throws IOException {
        return org.apache.flink.configuration.GlobalConfiguration.loadConfiguration(target.cluster.confDir().toString())
                .get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY);
    }

    private static String option(List<String> args, String name, String fallback) {
        int i = args.indexOf(name);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : fallback;
    }

    private static void set(List<String> args, String name, String value) {
        int i = args.indexOf(name);
        if (i >= 0 && i + 1 < args.size()) {
            args.set(i + 1, value);
        } else {
            args.add(name);
            args.add(value);
        }
    }
}
