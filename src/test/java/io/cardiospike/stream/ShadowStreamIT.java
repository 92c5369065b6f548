package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.TopicReader;
import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shadow model in the whole job (real Kafka, MiniCluster, RocksDB, exactly-once sinks): the same replay read by a
 * job with a shadow bundle and by one without. Every beat reaches {@code rr-scores-shadow} once, with each bundle's
 * batch score; {@code rr-scores} and {@code rr-alerts} are those of the job without a shadow.
 */
class ShadowStreamIT {
    @TempDir
    Path dir;

    private StreamConfig config(EmbeddedKafka kafka, String name, Path shadow, int parallelism) throws Exception {
        StreamConfig.Builder b = StreamConfig.builder(List.of("--parallelism", Integer.toString(parallelism),
                        "--checkpoint-interval", "1s", "--idle-flush", "8s", "--allowed-lateness", "2s",
                        "--transaction-timeout", "1min"))
                .bootstrapServers(kafka.bootstrapServers())
                .topics("rr-events", name + "-scores", name + "-alerts", name + "-dlq")
                .identity(name, name).modelDir(TestBundle.DIR.toString())
                .checkpointDir(dir.resolve(name + "-checkpoints").toString());
        if (shadow != null) {
            b.shadowModelDir(shadow.toString()).shadowScoresTopic(name + "-scores-shadow");
        }
        StreamConfig c = b.build();
        kafka.createTopics(2, c.scoresTopic(), c.alertsTopic(), c.dlqTopic(), c.shadowScoresTopic());
        return c;
    }

    @Test
    void theShadowScoresEveryBeatOnceBesideTheLiveModelAndChangesNothingElse() throws Exception {
        Path shadowDir = BundleCopies.reweighted(dir.resolve("shadow-bundle"), "cs-shadow-it");
        List<Recording> recordings = StreamJobIT.testRecordings(0, 8);
        int beats = recordings.stream().mapToInt(Recording::size).sum();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            kafka.createTopics(1, "rr-events"); // one partition: no source subtask without one (StreamJobIT)
            StreamConfig withShadow = config(kafka, "shadow", shadowDir, 2);
            StreamConfig without = config(kafka, "plain", null, 1);
            Map<String, List<JsonNode>> byTopic = new ConcurrentHashMap<>();
            List<String> topics = List.of(withShadow.scoresTopic(), withShadow.alertsTopic(),
                    withShadow.shadowScoresTopic(), without.scoresTopic(), without.alertsTopic(),
                    without.shadowScoresTopic());
            JobClient shadowJob = LocalJob.start(withShadow, null);
            JobClient plainJob = LocalJob.start(without, null);
            try (TopicReader reader = new TopicReader(kafka.bootstrapServers(), topics, r -> byTopic.computeIfAbsent(
                    r.topic(), t -> new CopyOnWriteArrayList<>()).add(r.value()));
                 ReplayProducer producer = new ReplayProducer(kafka.bootstrapServers(), "rr-events",
                         Double.POSITIVE_INFINITY)) {
                producer.send(ReplayProducer.interleave(recordings, ReplayProducer.REPLAY_BASE_EPOCH_MS), null);
                for (String t : List.of(withShadow.scoresTopic(), withShadow.shadowScoresTopic(), without.scoresTopic())) {
                    StreamJobIT.await(t, 180_000, () -> byTopic.getOrDefault(t, List.of()).size() >= beats);
                }
                Thread.sleep(2_500); // a few more checkpoints: nothing else may arrive
            } finally {
                LocalJob.stop(shadowJob, java.time.Duration.ofSeconds(30));
                LocalJob.stop(plainJob, java.time.Duration.ofSeconds(30));
            }

            EnsembleScorer live = TestBundle.scorer();
            List<JsonNode> shadowScores = byTopic.get(withShadow.shadowScoresTopic());
            assertThat(shadowScores).hasSize(beats);
            int flips = 0;
            try (EnsembleScorer shadow = EnsembleScorer.open(shadowDir)) {
                for (Recording rec : recordings) {
                    double[] liveBatch = live.scoreRecording(rec.rr()).proba();
                    double[] shadowBatch = shadow.scoreRecording(rec.rr()).proba();
                    List<JsonNode> mine = ofPatient(shadowScores, rec.id());
                    assertThat(mine).as("%s: every beat once", rec.id()).hasSize(rec.size());
                    List<JsonNode> liveScores = ofPatient(byTopic.get(withShadow.scoresTopic()), rec.id());
                    assertThat(liveScores).hasSize(rec.size());
                    for (int i = 0; i < rec.size(); i++) {
                        JsonNode s = mine.get(i);
                        assertThat(s.path("ts").asLong()).isEqualTo(ReplayProducer.replayTs(rec.time()[i],
                                ReplayProducer.REPLAY_BASE_EPOCH_MS));
                        assertThat(s.path("shadow").path("proba").asDouble()).as("%s beat %d", rec.id(), i)
                                .isCloseTo(shadowBatch[i], within(1e-5));
                        assertThat(s.path("live").path("proba").asDouble()).isCloseTo(liveBatch[i], within(1e-5));
                        assertThat(liveScores.get(i).path("proba").asDouble()).isCloseTo(liveBatch[i], within(1e-5));
                        assertThat(s.path("shadow").path("anomaly").asBoolean())
                                .isEqualTo(shadow.isAnomalous(shadowBatch[i]));
                        assertThat(s.path("live").path("anomaly").asBoolean()).isEqualTo(live.isAnomalous(liveBatch[i]));
                        assertThat(s.path("shadow").path("model_version").asText()).isEqualTo("cs-shadow-it");
                        assertThat(s.path("live").path("model_version").asText()).isEqualTo(live.modelVersion());
                        flips += s.path("live").path("anomaly").asBoolean() != s.path("shadow").path("anomaly")
                                .asBoolean() ? 1 : 0;
                    }
                }
            }
            assertThat(flips).as("the shadow flags some beats otherwise: the models can be told apart").isPositive();
            // the job's own outputs are those of the job without a shadow, and no alert is the shadow's
            assertThat(texts(byTopic.get(withShadow.scoresTopic())))
                    .isEqualTo(texts(byTopic.get(without.scoresTopic())));
            assertThat(texts(byTopic.get(withShadow.alertsTopic())))
                    .isNotEmpty().isEqualTo(texts(byTopic.get(without.alertsTopic())));
            assertThat(byTopic.get(withShadow.alertsTopic()))
                    .allSatisfy(a -> assertThat(a.path("model_version").asText()).isEqualTo(live.modelVersion()));
            assertThat(byTopic.get(without.shadowScoresTopic())).as("no shadow, no shadow scores").isNull();
        }
    }

    private static List<JsonNode> ofPatient(List<JsonNode> records, String id) {
        List<JsonNode> mine = new ArrayList<>(records.stream().filter(r -> r.path("patient_id").asText().equals(id))
                .toList());
        mine.sort(Comparator.comparingLong(r -> r.path("ts").asLong()));
        return mine;
    }

    /** The records as JSON text, as a set: the same records whatever order two jobs' transactions committed them in. */
    private static Set<String> texts(List<JsonNode> records) {
        return records == null ? Set.of() : records.stream().map(JsonNode::toString).collect(Collectors.toSet());
    }
}
