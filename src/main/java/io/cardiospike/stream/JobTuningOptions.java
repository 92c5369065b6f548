package io.cardiospike.stream;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * How the scoring job runs: parallelism, checkpoints, a patient's timing, state retention, transactions and where a
 * new job starts reading. Declared once (a picocli mixin) for the job's own command line and the commands that start
 * one ({@code demo}, {@code bench stream}, {@code job submit}); a command with other defaults gives them by a
 * {@code defaultValueProvider}, so that {@code --help} shows the defaults it uses.
 */
public final class JobTuningOptions {
    @Option(names = "--parallelism", defaultValue = "2", description = "job parallelism (default ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--max-parallelism", defaultValue = "4096",
            description = "key groups: the most scoring tasks the job's state can ever be spread over, fixed for the "
                    + "life of its savepoints (a savepoint restores only at its own; job migrate-savepoint rewrites "
                    + "one for another); 1 to 32768, at least --parallelism (default ${DEFAULT-VALUE})")
    int maxParallelism;

    @Option(names = "--checkpoint-interval", converter = StreamConfig.DurationConverter.class, defaultValue = "10s",
            description = "exactly-once outputs commit with each checkpoint, so this bounds their latency from below "
                    + "(default ${DEFAULT-VALUE})")
    Duration checkpointInterval;

    @Option(names = "--idle-flush", converter = StreamConfig.DurationConverter.class, defaultValue = "10s",
            description = "a pause this long (between two beats, or no beat for this long) ends a patient's segment: "
                    + "its pending beats are scored (default ${DEFAULT-VALUE})")
    Duration idleFlush;

    @Option(names = "--allowed-lateness", converter = StreamConfig.DurationConverter.class, defaultValue = "2s",
            description = "a beat waits until its patient's newest beat is this much later (event time), so beats out "
                    + "of order within it are reordered; later ones go to rr-dlq (default ${DEFAULT-VALUE})")
    Duration allowedLateness;

    @Option(names = "--state-retention", converter = StreamConfig.DurationConverter.class, defaultValue = "1h",
            description = "a silent patient's state is removed this long after the last beat (default ${DEFAULT-VALUE})")
    Duration stateRetention;

    @Option(names = "--alert-hold", converter = StreamConfig.DurationConverter.class, defaultValue = "0s",
            description = "an episode that opens within this long (event time) after the end of the patient's last "
                    + "alerted episode is still emitted, with \"suppressed\": true, and does not restart the hold; "
                    + "0s: off (default ${DEFAULT-VALUE})")
    Duration alertHold;

    @Option(names = "--transaction-timeout", converter = StreamConfig.DurationConverter.class, defaultValue = "10min",
            description = "producer transaction.timeout.ms; must stay below the broker's transaction.max.timeout.ms "
                    + "(default ${DEFAULT-VALUE})")
    Duration transactionTimeout;

    @Option(names = "--start-from", defaultValue = "EARLIEST",
            description = "where a job without a checkpoint starts reading: EARLIEST, LATEST or COMMITTED "
                    + "(default ${DEFAULT-VALUE})")
    StreamConfig.StartFrom startFrom;

    @Option(names = "--watermark-idleness", hidden = true,
            description = "ignored since event time is per patient; accepted so that jobs submitted with it can be "
                    + "upgraded")
    String watermarkIdleness;

    /** For a command whose default depends on its other options ({@code bench stream}: the patients' beat rate). */
    public void idleFlush(Duration gap) {
        idleFlush = gap;
    }

    /** For a command whose default depends on its other options ({@code bench stream}: the fleet's size). */
    public void stateRetention(Duration retention) {
        stateRetention = retention;
    }

    /** For a command that runs the job at another parallelism too ({@code bench stream}'s rescale). */
    public void parallelism(int tasks) {
        parallelism = tasks;
    }
}
