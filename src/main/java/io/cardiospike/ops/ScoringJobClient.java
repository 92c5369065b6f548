package io.cardiospike.ops;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.BundleStore;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.ScoringJob;
import io.cardiospike.stream.ShadowModel;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.migration.KeyGroups;
import io.cardiospike.stream.migration.SavepointMigration;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.runtime.highavailability.FileSystemJobResultStore;
import org.apache.flink.runtime.highavailability.JobResultStore;

/**
 * The scoring job on the cluster of {@code cluster start}, one method per action: bundles into the cluster's object
 * store, the job jar uploaded and run, savepoints, the upgrade, cancel; what it observes comes from
 * {@link JobObserver}, what an upgrade may do from {@link UpgradePlan}. Through Flink's REST API ({@link FlinkRest}) of
 * the leading JobManager ({@link JobManagerLeader}); a run and an upgrade come through a failover with one job
 * running, never none and never two. Progress of the slow actions goes to {@code progress}, a line at a time. Closing
 * deletes jars uploaded and not run. Errors the user can fix are {@link ScoringJobException}s (a refused bundle,
 * options or job) or {@link IOException}s (the cluster did not answer or refused a request), each one line.
 */
public final class ScoringJobClient implements AutoCloseable {
    public static final Duration SAVEPOINT_TIMEOUT = Duration.ofMinutes(5);
    static final Duration RUNNING_TIMEOUT = Duration.ofMinutes(2);
    /** How long {@code job migrate-savepoint} waits for its batch job (about a minute per 10^6 patients per task). */
    public static final Duration MIGRATION_TIMEOUT = Duration.ofHours(6);
    /** How long an upgrade waits for the new job's first committed score, to measure the downtime. */
    static final Duration FIRST_SCORE_TIMEOUT = Duration.ofSeconds(60);

    private final ClusterConfig cluster;
    private final Installation installation;
    private final Consumer<String> progress;
    private final JobManagerLeader leader;
    private final FlinkRest rest;
    private final JobObserver observer;
    private final Set<String> uploadedJars = new LinkedHashSet<>();

    public ScoringJobClient(ClusterConfig cluster, Installation installation, Consumer<String> progress)
            throws IOException {
        this.cluster = cluster;
        this.installation = installation;
        this.progress = progress;
        this.leader = new JobManagerLeader(cluster);
        this.rest = new FlinkRest(() -> leader.awaitRestUrl(FlinkRest.FAILOVER_TIMEOUT));
        this.observer = new JobObserver(rest);
    }

    public ClusterConfig cluster() {
        return cluster;
    }

    /** The leading JobManager's REST API and web UI. */
    public String restUrl() throws IOException {
        return rest.baseUrl();
    }

    /** Where recoveries' time goes, seen on the leading JobManager. */
    public RecoveryProbe recoveryProbe() {
        return new RecoveryProbe(rest);
    }

    /** Where the cluster's jobs write checkpoints ({@code state.checkpoints.dir} of its configuration). */
    public String checkpointDir() {
        return flinkConf().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
    }

    private Configuration flinkConf() {
        return GlobalConfiguration.loadConfiguration(cluster.confDir().toString());
    }

    /**
     * The bundle at {@code model} as the cluster will read it: a local directory is uploaded to
     * {@code s3://cardiospike/models/<model_version>} first; a URI is fetched and checked here.
     */
    public ClusterBundle bundle(String model) throws IOException, ModelBundleException {
        return bundle(model, null);
    }

    /**
     * {@link #bundle(String)} of a shadow model for the live model {@code live}: one that cannot score from the live
     * model's windows ({@link ShadowModel}) is refused before it is uploaded.
     */
    public ClusterBundle shadowBundle(String model, ModelManifest live) throws IOException, ModelBundleException {
        return bundle(model, live);
    }

    private ClusterBundle bundle(String model, ModelManifest shadowOf) throws IOException, ModelBundleException {
        ClusterStorage.connect(cluster, installation);
        boolean remote = BundleStore.isRemote(model);
        ModelManifest manifest = ModelManifest.load(remote ? BundleStore.localCopy(model) : Path.of(model));
        if (shadowOf != null) {
            ShadowModel.requireSameWindows(shadowOf, manifest);
        }
        if (remote) {
            return new ClusterBundle(model, manifest);
        }
        String uri = ClusterConfig.modelsUri(manifest.modelVersion());
        progress.accept("uploading bundle " + manifest.modelVersion() + " to " + uri + "...");
        BundleStore.upload(Path.of(model), uri);
        return new ClusterBundle(uri, manifest);
    }

    /**
     * Creates the topic of the shadow's scores ({@code --shadow-scores-topic}) if the job has a shadow and the topic
     * is not there yet, with the partitions of its scores topic: the cluster's broker creates no topic by itself, and
     * the job's sink would wait for it and fail.
     */
    public void createShadowScoresTopic(StreamConfig config) throws IOException, InterruptedException {
        if (config.shadowModelDir() == null) {
            return;
        }
        KafkaConnection kafka = config.kafka();
        try {
            EmbeddedKafka.createTopics(kafka, kafka.partitions(config.scoresTopic(), Duration.ofSeconds(30)),
                    config.shadowScoresTopic());
        } catch (ExecutionException e) {
            throw new IOException("topic " + config.shadowScoresTopic() + " not created: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    /** Uploads the job jar ({@code null}: this installation's); returns its id on the cluster. */
    public String upload(Path jar) throws IOException, ScoringJobException {
        Path file = jar != null ? jar : installation.jobJar();
        if (!Files.isRegularFile(file)) {
            throw new ScoringJobException("no job jar at " + file + " (build it: mvn -B package -DskipTests)");
        }
        String id = rest.uploadJar(file);
        uploadedJars.add(id);
        return id;
    }

    /**
     * Runs the scoring job of an uploaded jar ({@code jar}, null: this installation's; {@code savepoint}: where to
     * restore from, or null) under an id chosen here, so that a try cut off by a JobManager failover is told from one
     * that got through: the job exists once, whichever leader it reached. A jar the new leader lacks (each
     * JobManager keeps its own uploads) is uploaded again. Then deletes the upload (the job's classes stay in the
     * cluster's blob store); returns the job's id.
     */
    private String run(Path jar, String jarId, List<String> args, int parallelism, String savepoint)
            throws IOException, InterruptedException, ScoringJobException {
        return run(jar, jarId, ScoringJob.class.getName(), args, parallelism, savepoint, false);
    }

    /**
     * {@link #run(Path, String, List, int, String)} of any entry class of the job jar; {@code dropState}: state in the
     * savepoint whose operator the new job lacks may go.
     */
    private String run(Path jar, String jarId, String entryClass, List<String> args, int parallelism,
                       String savepoint, boolean dropState)
            throws IOException, InterruptedException, ScoringJobException {
        String id = new JobID().toHexString();
        long deadline = System.nanoTime() + FlinkRest.FAILOVER_TIMEOUT.toNanos();
        String uploaded = jarId;
        while (true) {
            try {
                rest.runJar(uploaded, entryClass, args, parallelism, savepoint, dropState, id);
                break;
            } catch (FlinkRest.Failure e) {
                if (observer.exists(id)) {
                    break; // the try reached a leader before it failed over
                }
                boolean jarLost = !rest.jars().contains(uploaded);
                if (!(e.failover() || jarLost) || System.nanoTime() > deadline) {
                    throw e;
                }
                progress.accept("job " + id + " not submitted (" + e.getMessage() + "); again on the leading JobManager");
                if (jarLost) {
                    uploaded = upload(jar);
                }
                Thread.sleep(500);
            }
        }
        try {
            rest.deleteJar(uploaded);
        } catch (IOException e) {
            // left in that JobManager's upload directory: harmless
        }
        uploadedJars.remove(uploaded);
        return id;
    }

    /** Until the job and all its tasks run (at most two minutes). */
    public void awaitRunning(String id) throws IOException, InterruptedException, ScoringJobException {
        observer.awaitRunning(id, RUNNING_TIMEOUT);
    }

    /** Uploads {@code jar} (null: this installation's), runs it and waits for the job to run; returns its id. */
    public String submit(Path jar, List<String> args, int parallelism, String savepoint)
            throws IOException, InterruptedException, ScoringJobException {
        String id = run(jar, upload(jar), args, parallelism, savepoint);
        awaitRunning(id);
        return id;
    }

    /**
     * Refuses a restore of {@code savepoint} into a job of {@code maxParallelism} key groups when the savepoint's
     * differ (Flink would refuse it after the upload, at length): read from its {@code _metadata} in the object store.
     */
    public void requireRestorable(String savepoint, int maxParallelism) throws IOException, ScoringJobException {
        ClusterStorage.connect(cluster, installation);
        int saved = KeyGroups.of(savepoint);
        if (saved != maxParallelism) {
            throw new ScoringJobException(KeyGroups.restoreRefusal(savepoint, saved, maxParallelism));
        }
    }

    /**
     * Rewrites savepoint {@code from} into {@code to} with {@code maxParallelism} key groups: the job jar's
     * {@link SavepointMigration} run on the cluster as a batch job of {@code parallelism} tasks, waited for (at most
     * {@link #MIGRATION_TIMEOUT}); returns {@code to}. Checked first here: a savepoint that is not the scoring job's,
     * or has that number already, is refused before the upload.
     */
    public String migrateSavepoint(Path jar, String from, String to, int maxParallelism, int parallelism)
            throws IOException, InterruptedException, ScoringJobException {
        ClusterStorage.connect(cluster, installation);
        int saved = KeyGroups.of(from);
        if (saved == maxParallelism) {
            throw new ScoringJobException(from + " has " + maxParallelism + " key groups already: nothing to migrate");
        }
        String jarId = upload(jar);
        progress.accept("migrating " + from + " (" + saved + " key groups) to " + to + " (" + maxParallelism
                + " key groups)...");
        long started = System.nanoTime();
        String id = run(jar, jarId, SavepointMigration.class.getName(), List.of("--from", from, "--to", to,
                "--max-parallelism", Integer.toString(maxParallelism)), parallelism, null, false);
        observer.awaitFinished(id, MIGRATION_TIMEOUT);
        progress.accept(String.format(Locale.ROOT, "migrated in %.1f s (job %s)", (System.nanoTime() - started) / 1e9,
                id));
        return to;
    }

    /** The one running scoring job. */
    public String runningJob() throws IOException, ScoringJobException {
        return observer.runningScoringJob();
    }

    public JobStatus status(String id) throws IOException {
        return observer.status(id);
    }

    /** The TaskManagers (resource ids) that run some task of the job now. */
    public Set<String> taskManagersOf(String id) throws IOException {
        return observer.taskManagersOf(id);
    }

    /** A savepoint of the running job (it keeps running); returns where. */
    public String savepoint(String id) throws IOException, InterruptedException {
        return rest.savepoint(id, SAVEPOINT_TIMEOUT);
    }

    /**
     * Stops the job with a savepoint into the cluster's savepoint directory (no drain); returns where. Its outputs up
     * to the savepoint are committed, and nothing after it is written.
     */
    public String stopWithSavepoint(String id) throws IOException, InterruptedException {
        return rest.stopWithSavepoint(id, flinkConf().get(CheckpointingOptions.SAVEPOINT_DIRECTORY), SAVEPOINT_TIMEOUT);
    }


    /** Cancels the job (its last checkpoint stays in the object store). */
    public void cancel(String id) throws IOException {
        rest.cancel(id);
    }

    /**
     * Moves job {@code id} to {@code model} (null: its current bundle), {@code jar} (null: this installation's)
     * and {@code jobOptions} ({@code --name value} pairs): decided ({@link UpgradePlan}) before
     * anything stops, then stopped with a savepoint and run from it; returns the new job's id. If the new job does
     * not start, the message says how to restore the old one.
     */
    public String upgrade(String id, String model, Path jar, List<String> jobOptions)
            throws IOException, InterruptedException, ModelBundleException, ScoringJobException {
        return upgrade(id, model, UpgradePlan.ShadowChoice.KEEP, jar, jobOptions);
    }

    /**
     * {@link #upgrade(String, String, Path, List)} with a shadow model set, kept, dropped or promoted to the live one
     * ({@code shadow}); a promotion is the same stop-with-savepoint and restore, so patients keep their windows and
     * open episodes.
     */
    public String upgrade(String id, String model, UpgradePlan.ShadowChoice shadow, Path jar, List<String> jobOptions)
            throws IOException, InterruptedException, ModelBundleException, ScoringJobException {
        Map<String, String> running = observer.parameters(id);
        UpgradePlan.recordedArgs(id, running); // a job not submitted by bin/cardiospike is refused before any upload
        UpgradePlan.Bundles bundles = UpgradePlan.bundles(id, running, model, shadow);
        ClusterBundle next = bundle(bundles.live());
        UpgradePlan.requireContinues(running, next); // the live bundle's refusal first, then the shadow's
        ClusterBundle nextShadow = bundles.shadow() == null ? null
                : shadowBundle(bundles.shadow(), next.manifest()); // other windows: refused before the upload
        return upgrade(UpgradePlan.decide(id, running, next, nextShadow, jobOptions), jar);
    }

    /**
     * Act on {@code plan}: stop with a savepoint, run the new job from it, wait for its tasks; the downtime as a
     * consumer of the scores topic sees it. The new job runs only once the old one is stopped for good
     * ({@link #stoppedForGood}); a leader that fails over in between loses the stop's answer, not its effect, so
     * the savepoint goes to a directory of this upgrade's own, where it is found again.
     */
    private String upgrade(UpgradePlan plan, Path jar) throws IOException, InterruptedException, ScoringJobException {
        String jarId = upload(jar); // before the stop: the upload is no downtime
        createShadowScoresTopic(plan.config());
        String directory = flinkConf().get(CheckpointingOptions.SAVEPOINT_DIRECTORY) + "/upgrade-" + plan.jobId()
                + "-" + System.currentTimeMillis();
        try (DowntimeMeter downtime = new DowntimeMeter(plan.config().kafka(), plan.config().scoresTopic())) {
            long stopNanos = System.nanoTime();
            progress.accept("stopping job " + plan.jobId() + " with a savepoint...");
            String savepoint = null;
            String lost = "";
            try {
                savepoint = rest.stopWithSavepoint(plan.jobId(), directory, SAVEPOINT_TIMEOUT);
            } catch (IOException e) {
                lost = ": " + e.getMessage();
            }
            if (!stoppedForGood(plan.jobId())) {
                throw new ScoringJobException("stop-with-savepoint of " + plan.jobId() + " failed, nothing changed"
                        + " (the job runs on)" + lost);
            }
            if (savepoint == null) {
                savepoint = savepointIn(directory).orElseThrow(() -> new ScoringJobException("job " + plan.jobId()
                        + " stopped, and its savepoint is not in " + directory + ". Restore by hand from its latest "
                        + "checkpoint (" + checkpointDir() + "/" + plan.jobId() + "): bin/cardiospike job submit "
                        + "--from-savepoint s3://.../chk-N --model " + plan.previousModelDir() + shadowOption(plan)));
            }
            progress.accept("savepoint " + savepoint);
            String newId;
            try {
                newId = run(jar, jarId, ScoringJob.class.getName(), plan.args(), plan.parallelism(), savepoint,
                        plan.dropsShadow()); // the old shadow's scores sink: its transactions committed by the stop

                awaitRunning(newId);
                downtime.newJobRunning();
            } catch (IOException | ScoringJobException e) {
                throw new ScoringJobException("the old job is stopped, and the new one did not start: "
                        + e.getMessage() + ". Restore by hand: bin/cardiospike job submit --from-savepoint "
                        + savepoint + " --model " + plan.previousModelDir() + shadowOption(plan));
            }
            progress.accept(String.format(Locale.ROOT, "job %s running from the savepoint: model %s, %sparallelism %d "
                            + "(%.1f s from the stop request to running tasks)", newId,
                    plan.bundle().manifest().modelVersion(), plan.shadow() == null ? ""
                            : "shadow model " + plan.shadow().manifest().modelVersion() + ", ",
                    plan.parallelism(), (System.nanoTime() - stopNanos) / 1e9));
            progress.accept(downtime.await(FIRST_SCORE_TIMEOUT));
            return newId;
        }
    }

    /** The old job's shadow, for the command that restores it by hand. */
    private static String shadowOption(UpgradePlan plan) {
        return plan.previousShadowDir() == null ? "" : " --shadow-model " + plan.previousShadowDir();
    }

    /**
     * Whether job {@code id} is stopped for good: its result is in the cluster's job result store (kept there:
     * {@code job-result-store.delete-on-commit: false}), so no JobManager runs it again. False as soon as the leading
     * JobManager runs it, or will run it again (a standby that took over recovered it); the result is written right
     * after the job ends, so the wait is short.
     */
    private boolean stoppedForGood(String id) throws IOException, InterruptedException, ScoringJobException {
        ClusterStorage.connect(cluster, installation);
        JobResultStore results = FileSystemJobResultStore.fromConfiguration(flinkConf(), Runnable::run);
        long deadline = System.nanoTime() + FlinkRest.FAILOVER_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (results.hasJobResultEntryAsync(JobID.fromHexString(id)).get()) {
                    return true;
                }
            } catch (ExecutionException e) {
                throw new IOException("job result store: " + e.getCause().getMessage(), e.getCause());
            }
            if (observer.runsOrWillRun(id)) {
                return false;
            }
            Thread.sleep(200);
        }
        throw new ScoringJobException("job " + id + " neither runs nor has a result after "
                + FlinkRest.FAILOVER_TIMEOUT.toSeconds() + " s: see bin/cardiospike job status --job-id " + id);
    }

    /** The completed savepoint in {@code directory} (one with its {@code _metadata}), if any. */
    private Optional<String> savepointIn(String directory) throws IOException {
        FileSystem fs = FileSystem.get(URI.create(directory));
        org.apache.flink.core.fs.Path dir = new org.apache.flink.core.fs.Path(directory);
        if (!fs.exists(dir)) {
            return Optional.empty();
        }
        for (FileStatus s : fs.listStatus(dir)) {
            if (fs.exists(new org.apache.flink.core.fs.Path(s.getPath(), "_metadata"))) {
                return Optional.of(s.getPath().toString());
            }
        }
        return Optional.empty();
    }

    /** Deletes the jars uploaded and not run (an upgrade refused or failed after the upload); best effort. */
    @Override
    public void close() {
        for (String jarId : List.copyOf(uploadedJars)) {
            try {
                rest.deleteJar(jarId);
            } catch (IOException e) {
                // left in the cluster's upload directory: harmless
            }
        }
        uploadedJars.clear();
        leader.close();
    }
}
