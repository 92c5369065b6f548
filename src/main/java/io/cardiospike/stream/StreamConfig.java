package io.cardiospike.stream;

import io.cardiospike.kafka.KafkaConnection;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The streaming job's parameters, parsed once from the command line ({@link #fromArgs}); durations like
 * {@code 500ms}, {@code 10s}, {@code 5min}.
 */
public record StreamConfig(
        String bootstrapServers,
        String inputTopic,
        String scoresTopic,
        String alertsTopic,
        String dlqTopic,
        String modelDir,
        int parallelism,
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
        String alertsFhirTopic) implements Serializable {

    /** Where a job without a checkpoint to restore starts reading {@code rr-events}. */
    public enum StartFrom { EARLIEST, LATEST, COMMITTED }

    public StreamConfig {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1");
        }
        if (idleFlushGap.isZero() || idleFlushGap.isNegative() || allowedLateness.isNegative()) {
            throw new IllegalArgumentException("idle flush gap must be positive and allowed lateness non-negative");
        }
        if (transactionTimeout.compareTo(checkpointInterval) <= 0) {
            throw new IllegalArgumentException("transaction timeout must exceed the checkpoint interval");
        }
    }

    public static StreamConfig fromArgs(String... args) {
        Options o = new Options();
        new CommandLine(o).parseArgs(args);
        return o.toConfig();
    }

    /** Defaults for a local run against {@code bootstrapServers} (the demo and tests adjust from here). */
    public static StreamConfig defaults(String bootstrapServers) {
        return fromArgs("--bootstrap-servers", bootstrapServers);
    }

    public StreamConfig withCheckpointing(String dir, Duration interval) {
        return new StreamConfig(bootstrapServers, inputTopic, scoresTopic, alertsTopic, dlqTopic, modelDir, parallelism,
                dir, interval, idleFlushGap, allowedLateness, stateRetention, groupId,
                transactionalIdPrefix, transactionTimeout, startFrom, kafkaConfig, alertsFhirTopic);
    }

    public StreamConfig withTiming(Duration idleFlush, Duration lateness) {
        return new StreamConfig(bootstrapServers, inputTopic, scoresTopic, alertsTopic, dlqTopic, modelDir, parallelism,
                checkpointDir, checkpointInterval, idleFlush, lateness, stateRetention, groupId,
                transactionalIdPrefix, transactionTimeout, startFrom, kafkaConfig, alertsFhirTopic);
    }

    public StreamConfig withModel(String dir, int newParallelism) {
        return new StreamConfig(bootstrapServers, inputTopic, scoresTopic, alertsTopic, dlqTopic, dir, newParallelism,
                checkpointDir, checkpointInterval, idleFlushGap, allowedLateness, stateRetention,
                groupId, transactionalIdPrefix, transactionTimeout, startFrom, kafkaConfig, alertsFhirTopic);
    }

    /** Brokers and client properties ({@code --kafka-config}) for the job's source and sinks. */
    public KafkaConnection kafka() {
        try {
            return KafkaConnection.of(bootstrapServers, kafkaConfig);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The checkpoint directory as a URI Flink accepts (a plain path becomes {@code file://...}); null if unset. */
    public String checkpointUri() {
        return checkpointDir == null ? null : checkpointDir.contains("://") ? checkpointDir : Path.of(checkpointDir).toAbsolutePath().toUri().toString();
    }

    @Command(name = "scoring-job", mixinStandardHelpOptions = true,
            description = "CardioSpike streaming job: rr-events -> per-patient scoring -> rr-scores, rr-alerts, rr-dlq.")
    public static final class Options {
        @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092",
                description = "Kafka brokers, HOST:PORT[,...] (default ${DEFAULT-VALUE})")
        String bootstrapServers;
        @Option(names = "--input-topic", defaultValue = "rr-events", description = "beats in (default ${DEFAULT-VALUE})")
        String inputTopic;
        @Option(names = "--scores-topic", defaultValue = "rr-scores", description = "per-beat scores out (default ${DEFAULT-VALUE})")
        String scoresTopic;
        @Option(names = "--alerts-topic", defaultValue = "rr-alerts", description = "anomaly-episode alerts out (default ${DEFAULT-VALUE})")
        String alertsTopic;
        @Option(names = "--dlq-topic", defaultValue = "rr-dlq", description = "rejected input with its reason (default ${DEFAULT-VALUE})")
        String dlqTopic;
        @Option(names = "--model-dir", defaultValue = "models",
                description = "model bundle: a local directory or any Flink filesystem URI, s3://bucket/models/VERSION "
                        + "(default ${DEFAULT-VALUE})")
        String modelDir;
        @Option(names = "--parallelism", defaultValue = "2", description = "job parallelism (default ${DEFAULT-VALUE})")
        int parallelism;
        @Option(names = "--checkpoint-dir",
                description = "checkpoint URI (s3://..., file://...); default: the cluster's execution.checkpointing.dir")
        String checkpointDir;
        @Option(names = "--checkpoint-interval", defaultValue = "10s",
                description = "exactly-once outputs commit with each checkpoint (default ${DEFAULT-VALUE})")
        String checkpointInterval;
        @Option(names = "--idle-flush", defaultValue = "10s",
                description = "a pause this long (between two beats, or no beat for this long) ends a patient's segment: "
                        + "its pending beats are scored (default ${DEFAULT-VALUE})")
        String idleFlush;
        @Option(names = "--allowed-lateness", defaultValue = "2s",
                description = "a beat waits until its patient's newest beat is this much later (event time), so "
                        + "beats out of order within it are reordered; later ones go to the DLQ (default ${DEFAULT-VALUE})")
        String allowedLateness;
        @Option(names = "--watermark-idleness", hidden = true,
                description = "ignored since event time is per patient; accepted so that jobs submitted with it can "
                        + "be upgraded")
        String watermarkIdleness;
        @Option(names = "--state-retention", defaultValue = "1h",
                description = "a silent patient's state is removed this long after the last beat "
                        + "(default ${DEFAULT-VALUE})")
        String stateRetention;
        @Option(names = "--group-id", defaultValue = "cardiospike-scoring",
                description = "Kafka consumer group of the source (default ${DEFAULT-VALUE})")
        String groupId;
        @Option(names = "--transactional-id-prefix", defaultValue = "cardiospike-scoring",
                description = "prefix of the sinks' Kafka transactional ids, unique per job (default ${DEFAULT-VALUE})")
        String transactionalIdPrefix;
        @Option(names = "--transaction-timeout", defaultValue = "10min",
                description = "producer transaction.timeout.ms; must stay below the broker's transaction.max.timeout.ms "
                        + "(default ${DEFAULT-VALUE})")
        String transactionTimeout;
        @Option(names = "--start-from", defaultValue = "EARLIEST",
                description = "where a job without a checkpoint starts reading: EARLIEST, LATEST or COMMITTED "
                        + "(default ${DEFAULT-VALUE})")
        StartFrom startFrom;
        @Option(names = "--kafka-config",
                description = "Java properties passed to every Kafka client (security.protocol, sasl.*, ssl.*), as Kafka's "
                        + "tools' --command-config; default: none (PLAINTEXT)")
        String kafkaConfig;
        @Option(names = "--alerts-fhir-topic",
                description = "also write every closed alert to this topic as a FHIR R4 Observation (default: off)")
        String alertsFhirTopic;

        StreamConfig toConfig() {
            return new StreamConfig(bootstrapServers, inputTopic, scoresTopic, alertsTopic, dlqTopic, modelDir,
                    parallelism, checkpointDir, d(checkpointInterval), d(idleFlush), d(allowedLateness),
                    d(stateRetention), groupId, transactionalIdPrefix, d(transactionTimeout),
                    startFrom, kafkaConfig, alertsFhirTopic);
        }

        private static Duration d(String s) {
            return TimeUtils.parseDuration(s);
        }
    }

}
