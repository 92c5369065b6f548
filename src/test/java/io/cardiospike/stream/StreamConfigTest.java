package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The job's parameters: one parser (the job's command line), one builder, and the command line back. */
class StreamConfigTest {
    @Test
    void theBuilderStartsFromTheJobsOwnDefaults() {
        StreamConfig defaults = StreamConfig.fromArgs();
        assertThat(StreamConfig.builder().build()).isEqualTo(defaults);
        assertThat(defaults.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(defaults.checkpointInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.parallelism()).isEqualTo(2);
        assertThat(defaults.maxParallelism()).isEqualTo(4096);
        assertThat(ScoringPipeline.flinkConfiguration(defaults).get(
                org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM)).isEqualTo(4096);
    }

    @Test
    void aConfigurationSentAsArgumentsIsTheSameOnTheOtherSide() {
        StreamConfig config = StreamConfig.fromArgs("--bootstrap-servers", "kafka-1:9092,kafka-2:9092", "--kafka-config",
                "/etc/kafka/client.properties", "--input-topic", "in", "--scores-topic", "out", "--alerts-topic",
                "alerts", "--dlq-topic", "dead", "--alerts-fhir-topic", "fhir", "--model-dir",
                "s3://cardiospike/models/v1", "--parallelism", "3", "--max-parallelism", "512", "--checkpoint-dir", "s3://cardiospike/checkpoints",
                "--checkpoint-interval", "1500ms", "--idle-flush", "120s", "--allowed-lateness", "0s",
                "--state-retention", "360min", "--group-id", "group", "--transactional-id-prefix", "tx",
                "--transaction-timeout", "5min", "--start-from", "COMMITTED");
        assertThat(StreamConfig.fromArgs(config.toArgs().toArray(String[]::new))).isEqualTo(config);
        assertThat(config.maxParallelism()).isEqualTo(512);
        assertThat(config.toArgs()).containsSequence("--max-parallelism", "512")
                .containsSequence("--checkpoint-interval", "1500ms")
                .containsSequence("--idle-flush", "2min").containsSequence("--state-retention", "6h");
        assertThat(StreamConfig.fromArgs().toArgs()).doesNotContain("--checkpoint-dir", "--kafka-config");
    }

    @Test
    void aBuiltConfigurationIsTheOneTheSameOptionsGiveTheJob() {
        StreamConfig built = StreamConfig.builder().bootstrapServers("k:9092").topics("a", "b", "c", "d")
                .identity("g", "t").modelDir("m").checkpointDir("file:///tmp/c").build();
        assertThat(built).isEqualTo(StreamConfig.fromArgs("--bootstrap-servers", "k:9092", "--input-topic", "a",
                "--scores-topic", "b", "--alerts-topic", "c", "--dlq-topic", "d", "--group-id", "g",
                "--transactional-id-prefix", "t", "--model-dir", "m", "--checkpoint-dir", "file:///tmp/c"));
    }

    @Test
    void badValuesFailWhenParsedNotWhenTheJobRuns() {
        assertThatThrownBy(() -> StreamConfig.fromArgs("--idle-flush", "soon"))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--idle-flush");
        assertThatThrownBy(() -> StreamConfig.fromArgs("--parallelism", "0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parallelism");
        assertThatThrownBy(() -> StreamConfig.fromArgs("--checkpoint-interval", "20min"))
                .hasMessageContaining("transaction timeout");
        assertThatThrownBy(() -> StreamConfig.fromArgs("--max-parallelism", "0"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max parallelism must be between 1 and 32768, not 0");
        assertThatThrownBy(() -> StreamConfig.fromArgs("--max-parallelism", "32769"))
                .hasMessage("max parallelism must be between 1 and 32768, not 32769");
        assertThatThrownBy(() -> StreamConfig.fromArgs("--parallelism", "8", "--max-parallelism", "4"))
                .hasMessageStartingWith("max parallelism 4 is below the parallelism 8");
        assertThat(StreamConfig.fromArgs("--max-parallelism", "32768").maxParallelism()).isEqualTo(32768);
    }

    @Test
    void aShadowModelIsOffByDefaultAndTravelsWithTheArguments() {
        StreamConfig plain = StreamConfig.fromArgs();
        assertThat(plain.shadowModelDir()).isNull();
        assertThat(plain.shadowScoresTopic()).isEqualTo("rr-scores-shadow");
        assertThat(plain.toArgs()).doesNotContain("--shadow-model-dir");
        StreamConfig shadow = StreamConfig.fromArgs("--shadow-model-dir", "s3://cardiospike/models/v2",
                "--shadow-scores-topic", "compare");
        assertThat(StreamConfig.fromArgs(shadow.toArgs().toArray(String[]::new))).isEqualTo(shadow);
        assertThat(shadow.toArgs()).containsSequence("--shadow-model-dir", "s3://cardiospike/models/v2")
                .containsSequence("--shadow-scores-topic", "compare");
        assertThat(StreamConfig.builder().shadowModelDir("s3://cardiospike/models/v2").shadowScoresTopic("compare")
                .build()).isEqualTo(shadow);
    }
}
