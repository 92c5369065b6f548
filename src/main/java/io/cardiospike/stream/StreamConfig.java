package io.cardiospike.stream;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.kafka.KafkaOptions;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The streaming job's parameters. The job parses them once from its command line ({@link #fromArgs}); commands that
 * start a job build them with a {@link Builder} from their own options ({@link JobTuningOptions} among them) and, for
 * a cluster, send them as {@link #toArgs()}. Durations are written like {@code 500ms}, {@code 10s}, {@code 5min}.
 */
public record StreamConfig(
        String bootstrapServers,
        String inputTopic,
        String scoresTopic,
        String alertsTopic,
        String dlqTopic,
        String modelDir,
        int parallelism,
        int maxParallelism,
        String checkpointDir,
        Duration checkpointInterval,
        Duration idleFlushGap,
        Duration allowedLateness,
        Duration stateRetention,
        String groupId,
        String transactionalIdPrefix,
        Duration transactionTimeout,
        StartFrom startFrom,
        String kafkaConfig,
        String alertsFhirTopic,
        Duration alertHold,
        String shadowModelDir,
        String shadowScoresTopic) implements Serializable {

    /** The most key groups Flink allows (its {@code KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM}). */
    public static final int UPPER_MAX_PARALLELISM = 1 << 15;

    /** Where a job without a checkpoint to restore starts reading {@code rr-events}. */
    public enum StartFrom { EARLIEST, LATEST, COMMITTED }

    public StreamConfig {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1");
        }
        if (maxParallelism < 1 || maxParallelism > UPPER_MAX_PARALLELISM) {
            throw new IllegalArgumentException("max parallelism must be between 1 and " + UPPER_MAX_PARALLELISM
                    + ", not " + maxParallelism);
        }
        if (maxParallelism < parallelism) {
            throw new IllegalArgumentException("max parallelism " + maxParallelism + " is below the parallelism "
                    + parallelism + ": a task needs a key group of its own");
        }
        if (idleFlushGap.isZero() || idleFlushGap.isNegative() || allowedLateness.isNegative()) {
            throw new IllegalArgumentException("idle flush gap must be positive and allowed lateness non-negative");
        }
        if (alertHold.isNegative()) {
            throw new IllegalArgumentException("alert hold must not be negative");
        }
        if (transactionTimeout.compareTo(checkpointInterval) <= 0) {
            throw new IllegalArgumentException("transaction timeout must exceed the checkpoint interval");
        }
    }

    /** The job's command line; a picocli error or an {@link IllegalArgumentException} names what is wrong. */
    public static StreamConfig fromArgs(String... args) {
        Options o = new Options();
        new CommandLine(o).parseArgs(args);
        return o.toConfig();
    }

    /** A builder holding the job's defaults (those of its command line). */
    public static Builder builder() {
        return builder(List.of());
    }

    /**
     * A builder holding {@code jobOptions} (the job's own options, as a user gave them to a command that passes them
     * on) over the job's defaults; a picocli error names a bad one.
     */
    public static Builder builder(List<String> jobOptions) {
        Options options = new Options();
        new CommandLine(options).parseArgs(jobOptions.toArray(String[]::new));
        return new Builder(options);
    }

    /** The job's command line for this configuration: {@code fromArgs(toArgs())} equals it. */
    public List<String> toArgs() {
        List<String> a = new ArrayList<>();
        add(a, "--bootstrap-servers", bootstrapServers);
        add(a, "--input-topic", inputTopic);
        add(a, "--scores-topic", scoresTopic);
        add(a, "--alerts-topic", alertsTopic);
        add(a, "--dlq-topic", dlqTopic);
        add(a, "--model-dir", modelDir);
        add(a, "--parallelism", Integer.toString(parallelism));
        add(a, "--max-parallelism", Integer.toString(maxParallelism));
        add(a, "--checkpoint-dir", checkpointDir);
        add(a, "--checkpoint-interval", format(checkpointInterval));
        add(a, "--idle-flush", format(idleFlushGap));
        add(a, "--allowed-lateness", format(allowedLateness));
        add(a, "--state-retention", format(stateRetention));
        add(a, "--group-id", groupId);
        add(a, "--transactional-id-prefix", transactionalIdPrefix);
        add(a, "--transaction-timeout", format(transactionTimeout));
        add(a, "--start-from", startFrom.name());
        add(a, "--kafka-config", kafkaConfig);
        add(a, "--alerts-fhir-topic", alertsFhirTopic);
        add(a, "--alert-hold", alertHold.isZero() ? null : format(alertHold));
        add(a, "--shadow-model-dir", shadowModelDir);
        add(a, "--shadow-scores-topic", shadowScoresTopic);
        return a;
    }

    private static void add(List<String> args, String name, String value) {
        if (value != null) {
            args.add(name);
            args.add(value);
        }
    }

    /** A duration in its largest whole unit: {@code 10s}, not {@code 10000ms}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 3_600_000 == 0 && ms > 0 ? ms / 3_600_000 + "h" : ms % 60_000 == 0 && ms > 0 ? ms / 60_000 + "min"
                : ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    /** Brokers and client properties ({@code --kafka-config}) for the job's source and sinks. */
    public KafkaConnection kafka() {
        try {
            return KafkaConnection.of(bootstrapServers, kafkaConfig);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The checkpoint directory as a URI Flink accepts (a plain path becomes {@code file://...}); null if unset. */
    public String checkpointUri() {
        return checkpointDir == null ? null : checkpointDir.contains("://") ? checkpointDir
                : Path.of(checkpointDir).toAbsolutePath().toUri().toString();
    }

    /** {@code 500ms}, {@code 10s}, {@code 5min}, ... as the job's options take them. */
    public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return TimeUtils.parseDuration(value);
        }
    }

    /** A job's parameters set in code, over the job's defaults; {@link #build()} checks them. */
    public static final class Builder {
        private final Options options;

        private Builder(Options options) {
            this.options = options;
        }

        public Builder bootstrapServers(String servers) {
            options.kafka = KafkaOptions.of(servers, options.kafka.configFile());
            return this;
        }

        /** The {@code --kafka-config} file (null: none). */
        public Builder kafkaConfig(String file) {
            options.kafka = KafkaOptions.of(options.kafka.bootstrapServers(), file);
            return this;
        }

        public Builder topics(String input, String scores, String alerts, String dlq) {
            options.inputTopic = input;
            options.scoresTopic = scores;
            options.alertsTopic = alerts;
            options.dlqTopic = dlq;
            return this;
        }

        /** The source's consumer group and the sinks' transactional id prefix: unique per job. */
        public Builder identity(String groupId, String transactionalIdPrefix) {
            options.groupId = groupId;
            options.transactionalIdPrefix = transactionalIdPrefix;
            return this;
        }

        public Builder modelDir(String dir) {
            options.modelDir = dir;
            return this;
        }

        /** A second bundle scored beside the live one into the shadow scores topic; null: none. */
        public Builder shadowModelDir(String dir) {
            options.shadowModelDir = dir;
            return this;
        }

        public Builder shadowScoresTopic(String topic) {
            options.shadowScoresTopic = topic;
            return this;
        }

        public Builder checkpointDir(String dir) {
            options.checkpointDir = dir;
            return this;
        }

        /** Parallelism, checkpoints, timing, retention, transactions, start: as a command's options give them. */
        public Builder tuning(JobTuningOptions tuning) {
            options.tuning = tuning;
            return this;
        }

        public StreamConfig build() {
            return options.toConfig();
        }
    }

    /** The job's command line ({@code ScoringJob --help}). */
    @Command(name = "scoring-job", mixinStandardHelpOptions = true,
            description = "CardioSpike streaming job: rr-events -> per-patient scoring -> rr-scores, rr-alerts, rr-dlq.")
    public static final class Options {
        @Mixin KafkaOptions kafka;
        @Mixin JobTuningOptions tuning;

        @Option(names = "--input-topic", defaultValue = "rr-events", description = "beats in (default ${DEFAULT-VALUE})")
        String inputTopic;
        @Option(names = "--scores-topic", defaultValue = "rr-scores",
                description = "per-beat scores out (default ${DEFAULT-VALUE})")
        String scoresTopic;
        @Option(names = "--alerts-topic", defaultValue = "rr-alerts",
                description = "anomaly-episode alerts out (default ${DEFAULT-VALUE})")
        String alertsTopic;
        @Option(names = "--dlq-topic", defaultValue = "rr-dlq",
                description = "rejected input with its reason (default ${DEFAULT-VALUE})")
        String dlqTopic;
        @Option(names = "--alerts-fhir-topic",
                description = "also write every closed alert to this topic as a FHIR R4 Observation (default: off)")
        String alertsFhirTopic;
        @Option(names = "--model-dir", defaultValue = "models",
                description = "model bundle: a local directory or any Flink filesystem URI, s3://bucket/models/VERSION "
                        + "(default ${DEFAULT-VALUE})")
        String modelDir;
        @Option(names = "--shadow-model-dir",
                description = "a second bundle (directory or URI, like --model-dir) that scores every beat from the "
                        + "same windows; its scores go to --shadow-scores-topic only, never to the scores or alerts "
                        + "(default: none)")
        String shadowModelDir;
        @Option(names = "--shadow-scores-topic", defaultValue = "rr-scores-shadow",
                description = "both models' score of every beat while a shadow model is set (default ${DEFAULT-VALUE})")
        String shadowScoresTopic;
        @Option(names = "--checkpoint-dir",
                description = "checkpoint URI (s3://..., file://...); default: the cluster's execution.checkpointing.dir")
        String checkpointDir;
        @Option(names = "--group-id", defaultValue = "cardiospike-scoring",
                description = "Kafka consumer group of the source (default ${DEFAULT-VALUE})")
        String groupId;
        @Option(names = "--transactional-id-prefix", defaultValue = "cardiospike-scoring",
                description = "prefix of the sinks' Kafka transactional ids, unique per job (default ${DEFAULT-VALUE})")
        String transactionalIdPrefix;

        StreamConfig toConfig() {
            return new StreamConfig(kafka.bootstrapServers(), inputTopic, scoresTopic, alertsTopic, dlqTopic, modelDir,
                    tuning.parallelism, tuning.maxParallelism, checkpointDir, tuning.checkpointInterval, tuning.idleFlush,
                    tuning.allowedLateness, tuning.stateRetention, groupId, transactionalIdPrefix,
                    tuning.transactionTimeout, tuning.startFrom, kafka.configFile(), alertsFhirTopic,
                    tuning.alertHold, shadowModelDir, shadowScoresTopic);
        }
    }
}
