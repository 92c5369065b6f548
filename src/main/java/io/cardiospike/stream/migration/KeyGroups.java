package io.cardiospike.stream.migration;

import io.cardiospike.stream.ScoringPipeline;
import java.io.IOException;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.runtime.SavepointLoader;

/**
 * The key groups (max parallelism) of a savepoint of the scoring job, and the one-line refusals when they differ
 * from a job's: Flink restores keyed state only into a job of the same number of key groups (and refuses any
 * operator's state of another max parallelism), so a change goes through {@link SavepointMigration}.
 */
public final class KeyGroups {
    private KeyGroups() {}

    /**
     * The key groups of the scorer's state in the savepoint or retained checkpoint at {@code savepoint} (a directory
     * with its {@code _metadata}, on any filesystem Flink has here).
     */
    public static int of(String savepoint) throws IOException {
        return scorerState(SavepointLoader.loadSavepointMetadata(savepoint), savepoint).getMaxParallelism();
    }

    static OperatorState scorerState(CheckpointMetadata metadata, String savepoint) throws IOException {
        OperatorID scorer = OperatorIdentifier.forUid(ScoringPipeline.SCORER_UID).getOperatorId();
        return metadata.getOperatorStates().stream().filter(o -> o.getOperatorID().equals(scorer)).findFirst()
                .orElseThrow(() -> new IOException(savepoint + " is no savepoint of the scoring job: it holds no "
                        + "state of operator " + ScoringPipeline.SCORER_UID));
    }

    /** Refuses (an {@link IllegalArgumentException}, its message one line) a restore into another number. */
    public static void requireRestorable(String savepoint, int maxParallelism) throws IOException {
        int saved = of(savepoint);
        if (saved != maxParallelism) {
            throw new IllegalArgumentException(restoreRefusal(savepoint, saved, maxParallelism));
        }
    }

    /** {@code job upgrade} to another number of key groups. */
    public static String upgradeRefusal(int saved, int wanted) {
        return "the job's state has " + saved + " key groups and the new job would have " + wanted + "; a savepoint "
                + "cannot change its key groups on restore. Stop the job with a savepoint (job savepoint --stop), "
                + "migrate it (bin/cardiospike job migrate-savepoint --from URI --max-parallelism " + wanted + ") and "
                + "submit from it (job submit --from-savepoint NEW_URI --max-parallelism " + wanted + "); the job was left "
                + "running.";
    }

    /** A restore of {@code savepoint} (with {@code saved} key groups) into a job of {@code wanted}. */
    public static String restoreRefusal(String savepoint, int saved, int wanted) {
        return "savepoint " + savepoint + " has " + saved + " key groups and the job would have " + wanted + "; a "
                + "savepoint cannot change its key groups on restore. Migrate it (bin/cardiospike job "
                + "migrate-savepoint --from " + savepoint + " --max-parallelism " + wanted + ") and submit from it "
                + "(job submit --from-savepoint NEW_URI --max-parallelism " + wanted + "), or submit with "
                + "--max-parallelism " + saved + ".";
    }
}
