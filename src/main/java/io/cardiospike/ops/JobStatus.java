package io.cardiospike.ops;

import java.time.Instant;
import java.util.Optional;

/**
 * The scoring job as {@code job status} shows it: state, the model it scores with (from its recorded parameters,
 * {@code "?"} where none), parallelism (of its widest operator) and checkpoints.
 */
public record JobStatus(String id, String state, String modelVersion, String modelDir, int parallelism,
                        Optional<Checkpoint> lastCheckpoint, Checkpoints checkpoints) {

    /** A completed checkpoint: its id, when its last acknowledgement came, and its incremental and full sizes. */
    public record Checkpoint(long id, Instant acknowledged, long durationMs, long checkpointedBytes, long stateBytes,
                             String path) {}

    /** Counts of the job's checkpoints, and their end-to-end durations. */
    public record Checkpoints(long completed, long failed, long minMs, double p50Ms, long maxMs) {}
}
