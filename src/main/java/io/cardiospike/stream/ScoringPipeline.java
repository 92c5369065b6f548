package io.cardiospike.stream;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.stream.wire.KafkaJson;
import io.cardiospike.stream.migration.KeyGroups;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.functions.DriftWatch;
import io.cardiospike.stream.functions.InputClock;
import io.cardiospike.stream.functions.PatientScorer;
import io.cardiospike.stream.functions.RejectRouter;
import io.cardiospike.stream.wire.RrEventDeserializer;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.DriftEvent;
import io.cardiospike.stream.records.RrInput;
import io.cardiospike.stream.records.ScoredBeat;
import io.cardiospike.stream.records.ShadowScore;
import io.cardiospike.drift.DriftReference;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.ParameterTool;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.rocksdb.CompressionType;
import org.slf4j.LoggerFactory;

/**
 * The streaming job's pipeline: {@code rr-events} -> validate -> key by patient -> {@link PatientScorer} ->
 * {@code rr-scores}, {@code rr-alerts}, and every rejected input to {@code rr-dlq}; with a shadow model, both models'
 * scores of every beat to {@code rr-scores-shadow}. The source and sinks come in
 * through the constructor so tests, the demo and {@link ScoringJob} (the job jar's entry point) share one pipeline.
 */
public final class ScoringPipeline {
    /**
     * Key groups of every job submitted before {@code --max-parallelism} existed: their savepoints hold 128 key
     * groups and restore only into a job of 128 ({@code job upgrade} keeps it for them; {@code job migrate-savepoint}
     * rewrites such a savepoint for more). The default is now {@code JobTuningOptions}' 4096.
     */
    public static final int LEGACY_MAX_PARALLELISM = 128;
    /** The scorer's uid: its keyed state (the patients) and the input clock's stalls live under it in savepoints. */
    public static final String SCORER_UID = "score-patients";

    private final StreamConfig config;
    private final Source<RrInput, ?, ?> source;
    private final InputClock clock;
    private final int sourceParallelism;
    private final Sink<ScoredBeat> scoresSink;
    private final Sink<AnomalyAlert> alertsSink;
    private final Sink<DeadLetter> deadLetterSink;
    private final Sink<AnomalyAlert> fhirAlertsSink;
    private final Sink<ShadowScore> shadowScoresSink;
    private final Sink<DriftEvent> monitoringSink;

    /**
     * {@code clock} writes the ticks that {@code source} reads back ({@link InputClock}); the source runs
     * {@code sourceParallelism} subtasks; {@code fhirAlertsSink}: closed alerts as FHIR Observations, or null for none;
     * {@code shadowScoresSink}: both models' scores when {@code config} names a shadow model (else null);
     * {@code monitoringSink}: drift records ({@link DriftWatch}), or null for none.
     */
    public ScoringPipeline(StreamConfig config, Source<RrInput, ?, ?> source, int sourceParallelism, InputClock clock,
                           Sink<ScoredBeat> scoresSink, Sink<AnomalyAlert> alertsSink, Sink<DeadLetter> deadLetterSink,
                           Sink<AnomalyAlert> fhirAlertsSink, Sink<ShadowScore> shadowScoresSink,
                           Sink<DriftEvent> monitoringSink) {
        if ((config.shadowModelDir() == null) != (shadowScoresSink == null)) {
            throw new IllegalArgumentException("a shadow model needs a sink for its scores, and only a shadow model");
        }
        this.config = config;
        this.source = source;
        this.clock = clock;
        this.sourceParallelism = sourceParallelism;
        this.scoresSink = scoresSink;
        this.alertsSink = alertsSink;
        this.deadLetterSink = deadLetterSink;
        this.fhirAlertsSink = fhirAlertsSink;
        this.shadowScoresSink = shadowScoresSink;
        this.monitoringSink = monitoringSink;
    }

    /** The job reading from and writing to Kafka as {@code config} says, with exactly-once sinks. */
    public static ScoringPipeline kafka(StreamConfig config) throws IOException {
        // A source subtask without a partition would hold the watermark (the input clock) back for ever.
        int partitions = config.kafka().partitions(config.inputTopic(), Duration.ofSeconds(30));
        return new ScoringPipeline(config, kafkaSource(config), Math.min(config.parallelism(), partitions),
                new InputClock(config.kafka(), config.inputTopic()),
                kafkaSink(config, KafkaJson.scores(config.scoresTopic()), "scores"),
                kafkaSink(config, KafkaJson.alerts(config.alertsTopic()), "alerts"),
                kafkaSink(config, KafkaJson.deadLetters(config.dlqTopic()), "dlq"),
                config.alertsFhirTopic() == null ? null
                        : kafkaSink(config, KafkaJson.fhirAlerts(config.alertsFhirTopic()), "fhir"),
                config.shadowModelDir() == null ? null
                        : kafkaSink(config, KafkaJson.shadowScores(config.shadowScoresTopic()), "shadow"),
                kafkaSink(config, KafkaJson.monitoring(config.monitoringTopic(), hasTopic(config,
                        config.monitoringTopic())), "monitoring"));
    }

    /**
     * Whether {@code topic} exists. A drift record to a missing topic would fail the job at every restart; without
     * the topic the sink writes nothing (the gauges still say it all) and the log says so once.
     */
    private static boolean hasTopic(StreamConfig config, String topic) {
        try {
            if (config.kafka().hasTopic(topic, Duration.ofSeconds(30))) {
                return true;
            }
            LoggerFactory.getLogger(ScoringPipeline.class).warn("the job writes no drift records to topic {} (its "
                    + "drift gauges stay on): it does not exist; create it and restart the job", topic);
        } catch (IOException e) {
            LoggerFactory.getLogger(ScoringPipeline.class).warn("the job writes no drift records to topic {} (its "
                    + "drift gauges stay on): {}; create it and restart the job", topic, firstLine(e.getMessage()));
        }
        return false;
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }

    /** Adds the pipeline to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        // Watermarks are the input clock (InputClock: the broker's time of the newest tick read), never a device's:
        // each patient's beats are ordered on that patient's own clock (PatientScorer), so that one device's wrong
        // clock cannot make other patients' beats late.
        SingleOutputStreamOperator<Beat> beats = env.fromSource(source, InputClock.watermarks(), "rr-events")
                .setParallelism(sourceParallelism).uid("rr-events-source")
                .transform("input-clock", TypeInformation.of(RrInput.class), clock).setParallelism(sourceParallelism)
                .uid("input-clock")
                .process(new RejectRouter()).setParallelism(sourceParallelism).name("validate").uid("validate");
        SingleOutputStreamOperator<ScoredBeat> scores = beats
                .keyBy(b -> b.patientId)
                .transform("score-patients", TypeInformation.of(ScoredBeat.class),
                        new PatientScorer(config.modelDir(), config.idleFlushGap().toMillis(),
                                config.allowedLateness().toMillis(), config.stateRetention().toMillis(),
                                config.alertHold().toMillis(), config.shadowModelDir()))
                .uid(SCORER_UID);
        scores.sinkTo(scoresSink).name("rr-scores").uid("rr-scores-sink");
        DataStream<AnomalyAlert> alerts = scores.getSideOutput(PatientScorer.ALERTS);
        alerts.sinkTo(alertsSink).name("rr-alerts").uid("rr-alerts-sink");
        if (fhirAlertsSink != null) {
            alerts.filter(a -> AnomalyAlert.CLOSED.equals(a.status)).name("closed alerts").uid("closed-alerts")
                    .sinkTo(fhirAlertsSink).name("alerts-fhir").uid("alerts-fhir-sink");
        }
        if (shadowScoresSink != null) {
            scores.getSideOutput(PatientScorer.SHADOW_SCORES).sinkTo(shadowScoresSink).name("rr-scores-shadow")
                    .uid("rr-scores-shadow-sink");
        }
        DataStream<DeadLetter> deadLetters = beats.getSideOutput(RejectRouter.DEAD_LETTERS)
                .union(scores.getSideOutput(PatientScorer.REJECTED_BEATS));
        deadLetters.sinkTo(deadLetterSink).name("rr-dlq").uid("rr-dlq-sink");
        if (monitoringSink != null) {
            scores.getSideOutput(DriftWatch.MONITORING).sinkTo(monitoringSink).name("rr-monitoring")
                    .uid("rr-monitoring-sink");
        }
    }

    /**
     * Job configuration: RocksDB state with incremental checkpoints, exactly-once checkpointing (the Kafka sinks
     * commit their transactions on checkpoint completion), checkpoints retained on cancellation for restarts.
     */
    public static Configuration flinkConfiguration(StreamConfig config) {
        Configuration c = new Configuration();
        c.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        c.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        // RocksDB's own info log grew 1.7 MB a minute per task in the soak (the state itself stayed under 0.5 MB);
        // Flink's default keeps 4 files of 25 MB each. Two of 4 MB are plenty to read after an incident.
        c.set(RocksDBConfigurableOptions.LOG_MAX_FILE_SIZE, MemorySize.ofMebiBytes(4));
        c.set(RocksDBConfigurableOptions.LOG_FILE_NUM, 2);
        // Most patients have no open episode, so most reads of that state find nothing: without a bloom filter such
        // a read searched every file of every level. With one, bench stream at 10^5 patients went from 90 to 64 us
        // of CPU per event (21,500 -> 30,300 events/s; docs/scaling.md). Its cost: 10 bits a key in the block cache.
        c.set(RocksDBConfigurableOptions.USE_BLOOM_FILTER, true);
        // Uncompressed files: a patient's state is a few hundred bytes of RR values that Snappy halves, and compressing
        // every flush and compaction, then decompressing every read, cost more than the state itself: at 10^5
        // patients 53.5 -> 46.6 us of CPU per event, the checkpoints' asynchronous part 8.7 -> 2.4 us (32,000 ->
        // 41,400 events/s; docs/scaling.md). The price: local files and incremental checkpoints about 2.2x larger.
        c.set(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL, List.of(CompressionType.NO_COMPRESSION));
        if (config.checkpointDir() != null) { // else the cluster's execution.checkpointing.dir
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointUri());
        }
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, config.checkpointInterval());
        c.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        c.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        c.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 3);
        // Under backpressure aligned barriers queue behind buffered beats and commits (= result visibility) lag;
        // after 1 s of alignment the checkpoint goes unaligned instead.
        c.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        c.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, Duration.ofSeconds(1));
        c.set(CoreOptions.DEFAULT_PARALLELISM, config.parallelism());
        // Key groups: a savepoint restores at any parallelism up to this, and only into a job of the same number
        // (job migrate-savepoint rewrites one for another). The default 4096 is sized for 10^7 patients: about 2,000
        // scoring tasks at 1 beat/s each (docs/scaling.md), within 4096; Flink's limit is 32768;
        // more key groups mean a second byte of RocksDB key prefix and more, smaller ranges to rescale (cost unmeasured).
        c.set(PipelineOptions.MAX_PARALLELISM, config.maxParallelism());
        // A job that runs for months restarts after every crash: backoff from 1 s to 1 min, reset after 10 stable
        // minutes, never giving up (a fixed number of attempts would end it after that many faults in its life).
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, Duration.ofSeconds(1));
        c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, Duration.ofMinutes(1));
        c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD, Duration.ofMinutes(10));
        // An object store outage fails checkpoints, not the job: outputs wait for the next checkpoint that completes.
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMinutes(2));
        c.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 20);
        return c;
    }

    public static KafkaSource<RrInput> kafkaSource(StreamConfig config) {
        OffsetsInitializer start = switch (config.startFrom()) {
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
            case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        };
        KafkaConnection kafka = config.kafka();
        return KafkaSource.<RrInput>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setProperties(kafka.properties())
                .setTopics(config.inputTopic())
                .setGroupId(config.groupId())
                .setStartingOffsets(start)
                .setDeserializer(new RrEventDeserializer())
                // Only read what producers committed, in case they write transactionally too.
                .setProperty("isolation.level", "read_committed")
                .setProperty("partition.discovery.interval.ms", "60000")
                .build();
    }

    static <T> KafkaSink<T> kafkaSink(StreamConfig config, KafkaRecordSerializationSchema<T> serializer,
                                      String name) {
        KafkaConnection kafka = config.kafka();
        Properties producer = kafka.properties();
        producer.setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(config.transactionTimeout().toMillis()));
        // Output becomes visible only when its checkpoint commits (exactly once), and the checkpoint flushes the
        // producer, so lingering adds no visible latency; it makes batches larger and requests fewer, which took the
        // broker's and the producers' CPU per event from 10 us to 3 (bench stream, docs/performance.md).
        producer.setProperty(ProducerConfig.LINGER_MS_CONFIG, "100");
        producer.setProperty(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        return KafkaSink.<T>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                // Unique per sink and job: Flink aborts lingering transactions of this prefix on restore.
                .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-" + name)
                .setKafkaProducerConfig(producer)
                .build();
    }

    /**
     * Builds and submits the Kafka job from the job jar's arguments ({@link ScoringJob#main}): the bundle is fetched
     * and checked here, once, so a bad {@code --model-dir} fails the submission rather than every task.
     */
    static void submit(String[] args) throws Exception {
        StreamConfig config = StreamConfig.fromArgs(args);
        Path bundle = BundleStore.localCopy(config.modelDir());
        ModelManifest manifest = ModelManifest.load(bundle);
        DriftReference.of(manifest, bundle); // a malformed drift reference fails here, not in every task
        ModelManifest shadow = ShadowModel.check(config); // a shadow that cannot share the windows: refused here
        config.kafka().check(Duration.ofSeconds(30)); // wrong credentials: one clear failure, not a restart loop
        String stamps = config.kafka().topicConfig(config.inputTopic(), "message.timestamp.type", Duration.ofSeconds(30));
        if (!"LogAppendTime".equals(stamps)) {
            LoggerFactory.getLogger(ScoringPipeline.class).warn("topic {} has message.timestamp.type={}: a patient's "
                    + "pause is then judged on the producers' clocks, and a producer clock behind the job's by more "
                    + "than --idle-flush ends segments early; set it to LogAppendTime (docs/streaming.md)",
                    config.inputTopic(), stamps);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flinkConfiguration(config));
        if (env.getConfiguration().getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty()) {
            throw new IllegalArgumentException("no checkpoint directory: pass --checkpoint-dir or set "
                    + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + " in the cluster's config.yaml");
        }
        Optional<String> savepoint = env.getConfiguration().getOptional(StateRecoveryOptions.SAVEPOINT_PATH);
        if (savepoint.isPresent()) { // a restore of other key groups fails here, in one line, before it is submitted
            KeyGroups.requireRestorable(savepoint.get(), config.maxParallelism());
        }
        env.getConfig().setGlobalJobParameters(ParameterTool.fromMap(JobParameters.of(config, manifest, shadow, args)));
        kafka(config).build(env);
        env.execute(ScoringJob.JOB_NAME);
    }
}
