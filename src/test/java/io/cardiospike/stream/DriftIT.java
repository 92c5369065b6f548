package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.drift.DriftMonitor;
import io.cardiospike.drift.DriftReference;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.TopicReader;
import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.ops.FlinkRest;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift monitoring end to end (MiniCluster, EmbeddedKafka): a bundle whose drift reference was taken from synthetic
 * patients; a replay of those same patients keeps every PSI below 0.1 and writes nothing to the monitoring topic; the
 * same patients with every RR scaled by 0.7 pass 0.2 and write a drift record.
 */
class DriftIT {
    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static Path bundle;
    static List<Recording> patients;
    static String modelVersion;

    @BeforeAll
    static void setUp() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        patients = SyntheticRr.recordings(10, 300, 600, 2031);
        bundle = BundleCopies.copy(Files.createDirectories(dir.resolve("bundle")));
        try (EnsembleScorer scorer = EnsembleScorer.open(bundle)) {
            DriftReference.build(patients, scorer, null).writeInto(bundle);
            modelVersion = scorer.modelVersion();
        }
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** The result of one replay: every PSI gauge of the live model (largest over subtasks) and the drift records. */
    record Run(Map<String, Double> psi, List<JsonNode> records) {}

    static Run replay(String name, List<Recording> recordings, int restPort) throws Exception {
        StreamConfig c = StreamConfig.fromArgs("--bootstrap-servers", kafka.bootstrapServers(),
                "--input-topic", name + "-events", "--scores-topic", name + "-scores",
                "--alerts-topic", name + "-alerts", "--dlq-topic", name + "-dlq",
                "--monitoring-topic", name + "-monitoring",
                "--model-dir", bundle.toString(), "--parallelism", "1",
                "--checkpoint-dir", dir.resolve(name + "-checkpoints").toString(), "--checkpoint-interval", "1s",
                "--idle-flush", "8s", "--allowed-lateness", "2s",
                "--group-id", name, "--transactional-id-prefix", name, "--transaction-timeout", "1min");
        kafka.createTopics(1, c.inputTopic(), c.scoresTopic(), c.alertsTopic(), c.dlqTopic(), c.monitoringTopic());
        int beats = recordings.stream().mapToInt(Recording::size).sum();
        AtomicLong scored = new AtomicLong();
        List<JsonNode> records = new CopyOnWriteArrayList<>();
        JobClient job = LocalJob.start(c, null, Map.of("rest.bind-port", Integer.toString(restPort),
                "metrics.fetcher.update-interval", "500"));
        try (TopicReader reader = new TopicReader(c.bootstrapServers(), List.of(c.scoresTopic(), c.monitoringTopic()),
                r -> {
                    if (r.topic().equals(c.scoresTopic())) {
                        scored.incrementAndGet();
                    } else {
                        assertThat(r.key()).isEqualTo(modelVersion);
                        records.add(r.value());
                    }
                });
             ReplayProducer producer = new ReplayProducer(c.bootstrapServers(), c.inputTopic(), Double.POSITIVE_INFINITY)) {
            producer.send(ReplayProducer.interleave(recordings, ReplayProducer.REPLAY_BASE_EPOCH_MS), (e, t) -> {});
            StreamJobIT.await("every beat scored", 90_000, () -> scored.get() >= beats);
            // the last batch's PSIs, once the REST API's metric store has fetched them
            FlinkRest rest = new FlinkRest("http://127.0.0.1:" + restPort);
            Map<String, Double> psi = new TreeMap<>();
            StreamJobIT.await("the PSI gauges", 30_000, () -> {
                try {
                    psi.clear();
                    psi.putAll(psiGauges(rest, job.getJobID().toHexString()));
                    return psi.size() == 9 && psi.values().stream().noneMatch(v -> v.isNaN());
                } catch (Exception e) {
                    return false;
                }
            });
            System.out.println(name + ": PSI " + psi + ", " + records.size() + " drift records");
            return new Run(psi, new ArrayList<>(records));
        } finally {
            LocalJob.stop(job, Duration.ofSeconds(30));
        }
    }

    /** {@code psi_<statistic>} of the scorer's {@code model=live} group, the largest over its subtasks. */
    static Map<String, Double> psiGauges(FlinkRest rest, String jobId) throws Exception {
        Map<String, Double> psi = new TreeMap<>();
        for (JsonNode v : rest.job(jobId).path("vertices")) {
            if (!v.path("name").asText().contains("score-patients")) {
                continue;
            }
            String base = "/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/subtasks/metrics";
            List<String> ids = new ArrayList<>();
            for (JsonNode m : rest.get(base)) {
                if (m.path("id").asText().contains("live.psi_")) {
                    ids.add(m.path("id").asText());
                }
            }
            if (!ids.isEmpty()) {
                for (JsonNode m : rest.get(base + "?agg=max&get=" + String.join(",", ids))) {
                    String id = m.path("id").asText();
                    psi.put(id.substring(id.lastIndexOf("psi_") + 4), m.path("max").asDouble(Double.NaN));
                }
            }
        }
        return psi;
    }

    @Test
    void aReplayOfTheReferencePatientsStaysStableAndTheSameWithRrScaledBySevenTenthsDrifts() throws Exception {
        int beats = patients.stream().mapToInt(Recording::size).sum();
        assertThat(beats).as("enough beats for a PSI").isGreaterThan(DriftMonitor.MIN_BEATS);

        Run same = replay("drift-same", patients, 19231);
        assertThat(same.psi()).as("every statistic").containsKeys("rr_ms", "median_rr", "iqr_rr", "rmssd", "rel_0",
                "step_0", "proba", "flagged_rate", "artifact_rate");
        assertThat(same.psi().values()).allSatisfy(p -> assertThat(p).isBetween(0.0, 0.1));
        assertThat(same.records()).as("nothing in rr-monitoring").isEmpty();

        List<Recording> shifted = patients.stream().map(DriftIT::scaled).toList();
        Run drifted = replay("drift-scaled", shifted, 19232);
        assertThat(drifted.psi().get("rr_ms")).isGreaterThan(DriftMonitor.ALARM);
        assertThat(drifted.psi().get("rel_0")).as("scale-free").isLessThan(0.1);
        List<String> crossed = drifted.psi().entrySet().stream().filter(e -> e.getValue() > DriftMonitor.ALARM)
                .map(Map.Entry::getKey).sorted().toList();
        assertThat(drifted.records()).extracting(r -> r.path("statistic").asText()).contains("rr_ms")
                .doesNotHaveDuplicates() // once per crossing, not per beat
                .allSatisfy(s -> assertThat(crossed).contains(s));
        JsonNode rr = drifted.records().stream().filter(r -> r.path("statistic").asText().equals("rr_ms")).findFirst()
                .orElseThrow();
        assertThat(rr.path("kind").asText()).isEqualTo("drift");
        assertThat(rr.path("model").asText()).isEqualTo("live");
        assertThat(rr.path("model_version").asText()).isEqualTo(modelVersion);
        assertThat(rr.path("psi").asDouble()).isGreaterThan(0.2);
        assertThat(rr.path("threshold").asDouble()).isEqualTo(0.2);
        assertThat(rr.path("beats").asLong()).isBetween((long) DriftMonitor.MIN_BEATS, (long) beats);
        assertThat(rr.path("window").asText()).isEqualTo("1h");
        assertThat(rr.path("at").asLong()).isCloseTo(System.currentTimeMillis(),
                org.assertj.core.api.Assertions.within(300_000L));
    }

    /** The recording with every RR (and so every beat's time) scaled by 0.7: a device that reads 30 % short. */
    static Recording scaled(Recording r) {
        double[] rr = new double[r.size()], time = new double[r.size()];
        for (int i = 0; i < r.size(); i++) {
            rr[i] = r.rr()[i] * 0.7;
            time[i] = r.time()[i] * 0.7;
        }
        return new Recording(r.id(), time, rr, r.label(), r.inputRows());
    }
}
