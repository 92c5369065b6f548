package io.cardiospike.ops;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The scoring job as {@code job status} shows it: state, the model it scores with (from its recorded parameters,
 * {@code "?"} where none) and its shadow model (version and bundle, null for none), parallelism (of its widest
 * operator) and checkpoints.
 */
public record JobStatus(String id, String state, String modelVersion, String modelDir, String shadowModelVersion,
                        String shadowModelDir, int parallelism, Optional<Checkpoint> lastCheckpoint,
                        Checkpoints checkpoints) {

    /** A completed checkpoint: its id, when its last acknowledgement came, and its incremental and full sizes. */
    public record Checkpoint(long id, Instant acknowledged, long durationMs, long checkpointedBytes, long stateBytes,
                             String path) {}

    /** Counts of the job's checkpoints, and their end-to-end durations. */
    public record Checkpoints(long completed, long failed, long minMs, double p50Ms, long maxMs) {}

    /** As {@code job status} prints it: one fact a line. */
    public String report() {
        String head = String.format(Locale.ROOT, "job %s%nstate %s%nmodel %s (%s)%n%sparallelism %d%n", id, state,
                modelVersion, modelDir, shadowModelDir == null ? ""
                        : String.format("shadow model %s (%s)%n", shadowModelVersion, shadowModelDir), parallelism);
        if (lastCheckpoint.isEmpty()) {
            return head + String.format("last checkpoint none yet%n");
        }
        Checkpoint last = lastCheckpoint.get();
        return head + String.format(Locale.ROOT, "last checkpoint %d at %s, duration %d ms, size %,d bytes (full %,d), "
                        + "%s%ncheckpoints %d completed, %d failed; duration min %d / p50 %.0f / max %d ms%n",
                last.id(), last.acknowledged(), last.durationMs(), last.checkpointedBytes(), last.stateBytes(),
                last.path(), checkpoints.completed(), checkpoints.failed(), checkpoints.minMs(), checkpoints.p50Ms(),
                checkpoints.maxMs());
    }
}
