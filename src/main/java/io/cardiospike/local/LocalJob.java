package io.cardiospike.local;

import io.cardiospike.stream.ScoringJob;
import io.cardiospike.stream.ScoringPipeline;
import io.cardiospike.stream.ShadowModel;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.migration.KeyGroups;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.runtime.checkpoint.CheckpointFailureManager;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutionException;
import java.time.Duration;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs the {@link ScoringPipeline} on an in-process Flink MiniCluster (the demo, the benchmark and the tests): same
 * pipeline, same RocksDB and checkpoint configuration as on a cluster. The MiniCluster goes away with the job.
 */
public final class LocalJob {
    private LocalJob() {}

    /**
     * Starts the Kafka job; {@code restoreFrom} (a checkpoint directory) or null for a fresh start. A savepoint of
     * other key groups than the job's is refused ({@link KeyGroups}), and so is a shadow model that cannot share the
     * live model's windows ({@link ShadowModel}).
     */
    public static JobClient start(StreamConfig config, Path restoreFrom) throws Exception {
        return start(config, restoreFrom, java.util.Map.of());
    }

    /** The same with Flink options of the caller's (a REST port to watch, a RocksDB directory to measure). */
    public static JobClient start(StreamConfig config, Path restoreFrom, java.util.Map<String, String> flinkOptions)
            throws Exception {
        if (config.checkpointDir() == null) {
            throw new IllegalArgumentException("a local job needs a checkpoint directory (--checkpoint-dir)");
        }
        ShadowModel.check(config); // a shadow that cannot share the live windows: refused before anything starts
        Configuration conf = ScoringPipeline.flinkConfiguration(config);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, config.parallelism());
        conf.set(RestOptions.BIND_PORT, "0"); // never clash with a running Flink or a second demo
        if (restoreFrom != null) {
            // Flink would refuse it too, at length; this says what to do
            KeyGroups.requireRestorable(restoreFrom.toUri().toString(), config.maxParallelism());
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
        }
        flinkOptions.forEach(conf::setString);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(config.parallelism(), conf);
        ScoringPipeline.kafka(config).build(env);
        return env.executeAsync(ScoringJob.JOB_NAME);
    }

    /**
     * Cancels the job and waits up to {@code timeout} for it to end; false if it had ended already or did not end in
     * time. A checkpoint in flight is aborted by design then, and the WARN with a stack trace that the checkpoint
     * coordinator or its failure manager logs for it would read like a fault at every normal stop, so those two
     * loggers are quiet from here on (a local job's process ends with its job).
     */
    public static boolean stop(JobClient job, Duration timeout) {
        Logger.getLogger(CheckpointCoordinator.class).setLevel(Level.ERROR);
        Logger.getLogger(CheckpointFailureManager.class).setLevel(Level.ERROR);
        try {
            job.cancel().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false; // already gone (e.g. Ctrl-C also stopped the MiniCluster), or stuck: the process ends anyway
        }
    }

    /** The newest complete checkpoint the job left in {@code config}'s checkpoint directory, if any. */
    public static Optional<Path> latestCheckpoint(StreamConfig config, JobClient job) throws IOException {
        Path jobDir = Path.of(URI.create(config.checkpointUri())).resolve(job.getJobID().toHexString());
        if (!Files.isDirectory(jobDir)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(jobDir)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
                    .filter(d -> Files.exists(d.resolve("_metadata")))
                    .max(Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString().substring(4))));
        }
    }
}
