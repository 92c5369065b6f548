package io.cardiospike.ops;

import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.BundleStore;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.ScoringJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.GlobalConfiguration;

/**
 * The scoring job on the cluster of {@code cluster start}, one method per action: bundles into the cluster's object
 * store, the job jar uploaded and run, savepoints, the upgrade, cancel; what it observes comes from
 * {@link JobObserver}, what an upgrade may do from {@link UpgradePlan}. Through Flink's REST API ({@link FlinkRest}).
 * Progress of the slow actions goes to {@code progress}, a line at a time. Closing deletes jars uploaded and not run.
 * Errors the user can fix are {@link ScoringJobException}s (a refused bundle, options or job) or {@link IOException}s
 * (the cluster did not answer or refused a request), each one line.
 */
public final class ScoringJobClient implements AutoCloseable {
    public static final Duration SAVEPOINT_TIMEOUT = Duration.ofMinutes(5);
    static final Duration RUNNING_TIMEOUT = Duration.ofMinutes(2);
    /** How long an upgrade waits for the new job's first committed score, to measure the downtime. */
    static final Duration FIRST_SCORE_TIMEOUT = Duration.ofSeconds(60);

    private final ClusterConfig cluster;
    private final Installation installation;
    private final Consumer<String> progress;
    private final FlinkRest rest;
    private final JobObserver observer;
    private final Set<String> uploadedJars = new LinkedHashSet<>();

    public ScoringJobClient(ClusterConfig cluster, Installation installation, Consumer<String> progress) {
        this.cluster = cluster;
        this.installation = installation;
        this.progress = progress;
        this.rest = new FlinkRest(cluster.restUrl());
        this.observer = new JobObserver(rest);
    }

    public ClusterConfig cluster() {
        return cluster;
    }

    /** Where the cluster's jobs write checkpoints ({@code state.checkpoints.dir} of its configuration). */
    public String checkpointDir() {
        return GlobalConfiguration.loadConfiguration(cluster.confDir().toString())
                .get(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
    }

    /**
     * The bundle at {@code model} as the cluster will read it: a local directory is uploaded to
     * {@code s3://cardiospike/models/<model_version>} first; a URI is fetched and checked here.
     */
    public ClusterBundle bundle(String model) throws IOException, ModelBundleException {
        ClusterStorage.connect(cluster, installation);
        if (BundleStore.isRemote(model)) {
            return new ClusterBundle(model, ModelManifest.load(BundleStore.localCopy(model)));
        }
        Path local = Path.of(model);
        ModelManifest manifest = ModelManifest.load(local);
        String uri = ClusterConfig.modelsUri(manifest.modelVersion());
        progress.accept("uploading bundle " + manifest.modelVersion() + " to " + uri + "...");
        BundleStore.upload(local, uri);
        return new ClusterBundle(uri, manifest);
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
     * Runs an uploaded jar's scoring job ({@code savepoint}: where to restore from, or null), then deletes the upload
     * (the job's classes stay in the cluster's blob store); returns the job's id.
     */
    public String run(String jarId, List<String> args, int parallelism, String savepoint) throws IOException {
        try {
            return rest.runJar(jarId, ScoringJob.class.getName(), args, parallelism, savepoint);
        } finally {
            rest.deleteJar(jarId);
            uploadedJars.remove(jarId);
        }
    }

    /** Until the job and all its tasks run (at most two minutes). */
    public void awaitRunning(String id) throws IOException, InterruptedException, ScoringJobException {
        observer.awaitRunning(id, RUNNING_TIMEOUT);
    }

    /** Uploads {@code jar} (null: this installation's), runs it and waits for the job to run; returns its id. */
    public String submit(Path jar, List<String> args, int parallelism, String savepoint)
            throws IOException, InterruptedException, ScoringJobException {
        String id = run(upload(jar), args, parallelism, savepoint);
        awaitRunning(id);
        return id;
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

    /** Stops the job with a savepoint (no drain); returns where. */
    public String stopWithSavepoint(String id) throws IOException, InterruptedException {
        return rest.stopWithSavepoint(id, SAVEPOINT_TIMEOUT);
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
        Map<String, String> running = observer.parameters(id);
        UpgradePlan.recordedArgs(id, running); // a job not submitted by bin/cardiospike is refused before any upload
        ClusterBundle next = bundle(model != null ? model : running.get(JobParameters.MODEL_DIR));
        return upgrade(UpgradePlan.decide(id, running, next, jobOptions), jar);
    }

    /**
     * Act on {@code plan}: stop with a savepoint, run the new job from it, wait for its tasks; the downtime as a
     * consumer of the scores topic sees it.
     */
    private String upgrade(UpgradePlan plan, Path jar) throws IOException, InterruptedException, ScoringJobException {
        String jarId = upload(jar); // before the stop: the upload is no downtime
        try (DowntimeMeter downtime = new DowntimeMeter(plan.config().kafka(), plan.config().scoresTopic())) {
            long stopNanos = System.nanoTime();
            progress.accept("stopping job " + plan.jobId() + " with a savepoint...");
            String savepoint;
            try {
                savepoint = stopWithSavepoint(plan.jobId());
            } catch (IOException e) {
                throw new ScoringJobException("stop-with-savepoint of " + plan.jobId() + " failed, nothing changed: "
                        + e.getMessage());
            }
            progress.accept("savepoint " + savepoint);
            String newId;
            try {
                newId = run(jarId, plan.args(), plan.parallelism(), savepoint);
                awaitRunning(newId);
                downtime.newJobRunning();
            } catch (IOException | ScoringJobException e) {
                throw new ScoringJobException("the old job is stopped, and the new one did not start: "
                        + e.getMessage() + ". Restore by hand: bin/cardiospike job submit --from-savepoint "
                        + savepoint + " --model " + plan.previousModelDir());
            }
            progress.accept(String.format(Locale.ROOT, "job %s running from the savepoint: model %s, parallelism %d "
                            + "(%.1f s from the stop request to running tasks)", newId,
                    plan.bundle().manifest().modelVersion(), plan.parallelism(), (System.nanoTime() - stopNanos) / 1e9));
            progress.accept(downtime.await(FIRST_SCORE_TIMEOUT));
            return newId;
        }
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
    }
}
