package io.cardiospike.stream;

import io.cardiospike.stream.records.DeadLetter.Reason;
import io.cardiospike.stream.wire.StreamJson;
import io.cardiospike.local.TopicReader;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.EmbeddedKafka;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.stream.records.AnomalyAlert;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job against a real (in-process KRaft) Kafka broker on a real Flink MiniCluster with RocksDB and
 * exactly-once Kafka sinks; results are read back with {@code read_committed}.
 */
class StreamJobIT {

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A job configuration with its own topics, transactional ids and checkpoints. */
    static StreamConfig config(String name) throws Exception {
        StreamConfig c = StreamConfig.fromArgs("--bootstrap-servers", kafka.bootstrapServers(),
                "--input-topic", name + "-events", "--scores-topic", name + "-scores",
                "--alerts-topic", name + "-alerts", "--dlq-topic", name + "-dlq",
                "--model-dir", TestBundle.DIR.toString(), "--parallelism", "2",
                "--checkpoint-dir", dir.resolve(name + "-checkpoints").toString(), "--checkpoint-interval", "1s",
                "--idle-flush", "8s", "--allowed-lateness", "2s",
                "--group-id", name, "--transactional-id-prefix", name, "--transaction-timeout", "1min",
                "--alerts-fhir-topic", name + "-alerts-fhir");
        // One input partition for two subtasks: the source must not run a subtask without one, whose watermark would
        // hold the input clock back for ever (every segment end below waits for it). BrokerOutageIT, DemoIT and
        // ClusterIT read several partitions.
        kafka.createTopics(1, c.inputTopic());
        kafka.createTopics(2, c.scoresTopic(), c.alertsTopic(), c.dlqTopic(), c.alertsFhirTopic());
        return c;
    }

    /** Everything committed to the output topics, as consumers see it. */
    static final class Outputs implements AutoCloseable {
        final Map<String, List<JsonNode>> scoresByPatient = new ConcurrentHashMap<>();
        final List<JsonNode> alerts = new CopyOnWriteArrayList<>();
        final List<JsonNode> deadLetters = new CopyOnWriteArrayList<>();
        final List<JsonNode> fhirAlerts = new CopyOnWriteArrayList<>();
        final TopicReader reader;
        final StreamConfig c;

        Outputs(StreamConfig c) {
            this.c = c;
            reader = new TopicReader(c.bootstrapServers(), List.of(c.scoresTopic(), c.alertsTopic(), c.dlqTopic(),
                    c.alertsFhirTopic()), r -> {
                        if (r.topic().equals(c.scoresTopic())) {
                            scoresByPatient.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(r.value());
                        } else if (r.topic().equals(c.alertsTopic())) {
                            alerts.add(r.value());
                        } else if (r.topic().equals(c.alertsFhirTopic())) {
                            fhirAlerts.add(r.value());
                        } else {
                            deadLetters.add(r.value());
                        }
                    });
        }

        int scoreCount() {
            return scoresByPatient.values().stream().mapToInt(List::size).sum();
        }

        @Override
        public void close() throws Exception {
            reader.close();
        }
    }

    static void await(String what, long timeoutMs, BooleanSupplier done) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!done.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as("timed out waiting for " + what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Synthetic recordings (sinus rhythm, anomaly motifs, artifacts) the project generates itself. */
    static List<Recording> testRecordings(int from, int to) {
        return SyntheticRr.recordings(to, 150, 700, 2026).subList(from, to);
    }

    /**
     * Stream == batch for {@code recordings}' patients: every beat scored once, probabilities within 1e-5, same
     * labels, alerts = batch episodes.
     */
    static void assertMatchesBatch(List<Recording> recordings, Outputs out) throws Exception {
        EnsembleScorer scorer = TestBundle.scorer();
        Set<String> ids = new java.util.HashSet<>(recordings.stream().map(Recording::id).toList());
        Set<String> expectedAlertIds = new TreeSet<>();
        Map<String, Integer> expectedAlertBeats = new HashMap<>();
        for (Recording rec : recordings) {
            double[] batch = scorer.scoreRecording(rec.rr()).proba();
            int[] y = scorer.decide(batch);
            List<JsonNode> stream = new ArrayList<>(out.scoresByPatient.getOrDefault(rec.id(), List.of()));
            assertThat(stream).as("scores of %s", rec.id()).hasSize(rec.size());
            stream.sort((a, b) -> Long.compare(a.path("ts").asLong(), b.path("ts").asLong()));
            for (int i = 0; i < rec.size(); i++) {
                JsonNode s = stream.get(i);
                assertThat(s.path("ts").asLong()).isEqualTo(ReplayProducer.replayTs(rec.time()[i],
                        ReplayProducer.REPLAY_BASE_EPOCH_MS));
                assertThat(s.path("proba").asDouble()).as("%s beat %d", rec.id(), i).isCloseTo(batch[i], within(1e-5));
                assertThat(s.path("anomaly").asBoolean()).isEqualTo(y[i] == 1);
                assertThat(s.path("model_version").asText()).isEqualTo(scorer.modelVersion());
            }
            for (int i = 0; i < rec.size(); i++) {
                if (y[i] == 1 && (i == 0 || y[i - 1] == 0)) {
                    int end = i;
                    while (end + 1 < rec.size() && y[end + 1] == 1) {
                        end++;
                    }
                    String id = AnomalyAlert.alertId(rec.id(), ReplayProducer.replayTs(rec.time()[i],
                            ReplayProducer.REPLAY_BASE_EPOCH_MS), scorer.modelVersion());
                    expectedAlertIds.add(id);
                    expectedAlertBeats.put(id, end - i + 1);
                }
            }
        }
        // Every episode: one "open" alert, then one "closed" with the same id and the episode's beat count.
        Map<String, List<String>> statuses = new HashMap<>();
        for (JsonNode a : out.alerts) {
            if (!ids.contains(a.path("patient_id").asText())) {
                continue;
            }
            String id = a.path("alert_id").asText();
            statuses.computeIfAbsent(id, k -> new ArrayList<>()).add(a.path("status").asText());
            if (a.path("status").asText().equals(AnomalyAlert.CLOSED)) {
                assertThat(a.path("beats").asInt()).isEqualTo(expectedAlertBeats.get(id));
            } else {
                assertThat(a.path("beats").asInt()).isEqualTo(1);
            }
        }
        assertThat(new TreeSet<>(statuses.keySet())).isEqualTo(expectedAlertIds);
        assertThat(statuses.values()).allSatisfy(s -> assertThat(s).containsExactly("open", "closed"));
        // --alerts-fhir-topic: each closed alert once more, as a FHIR Observation with the alert's id
        assertThat(out.fhirAlerts).filteredOn(o -> ids.contains(o.path("subject").path("identifier").path("value").asText()))
                .extracting(o -> o.path("id").asText()).containsExactlyInAnyOrderElementsOf(expectedAlertIds);
        assertThat(out.fhirAlerts).allSatisfy(o -> assertThat(o.path("resourceType").asText()).isEqualTo("Observation"));
    }

    @Test
    void replayedRecordingsScoreLikeTheBatchScorerAndBadInputEndsInTheDlq() throws Exception {
        StreamConfig c = config("parity");
        List<Recording> recordings = testRecordings(0, 12);
        int beats = recordings.stream().mapToInt(Recording::size).sum();
        JobClient job = LocalJob.start(c, null);
        try (Outputs out = new Outputs(c);
             ReplayProducer producer = new ReplayProducer(c.bootstrapServers(), c.inputTopic(), Double.POSITIVE_INFINITY);
             KafkaProducer<String, String> raw = new KafkaProducer<>(Map.of("bootstrap.servers", c.bootstrapServers()),
                     new StringSerializer(), new StringSerializer())) {
            // One patient's beats arrive out of order (neighbours swapped) and some twice, within the allowed lateness.
            Recording messyRec = testRecordings(12, 13).get(0);
            List<Recording> all = new ArrayList<>(recordings);
            all.add(messyRec);
            List<ReplayProducer.Event> ordered = ReplayProducer.interleave(all, ReplayProducer.REPLAY_BASE_EPOCH_MS);
            List<Integer> messyAt = new ArrayList<>();
            for (int k = 0; k < ordered.size(); k++) {
                if (ordered.get(k).patientId().equals(messyRec.id())) {
                    messyAt.add(k);
                }
            }
            ReplayProducer.Event[] slots = ordered.toArray(new ReplayProducer.Event[0]);
            for (int j = 0; j + 1 < messyAt.size(); j += 2) {
                ReplayProducer.Event a = slots[messyAt.get(j)];
                slots[messyAt.get(j)] = slots[messyAt.get(j + 1)];
                slots[messyAt.get(j + 1)] = a;
            }
            List<ReplayProducer.Event> events = new ArrayList<>();
            int duplicates = 0;
            for (ReplayProducer.Event e : slots) {
                events.add(e);
                if (e.patientId().equals(messyRec.id()) && duplicates++ % 7 == 0) {
                    events.add(e); // resent: a duplicate, dropped without a DLQ record
                }
            }
            producer.send(events, null);
            Map<String, String> bad = new java.util.LinkedHashMap<>();
            bad.put("{\"patient_id\": \"p1\", \"ts\": 1700000000000", "malformed_json");
            bad.put("{\"patient_id\": \"p1\", \"rr_ms\": 800}", "invalid_field");
            bad.put("{\"patient_id\": \"p1\", \"ts\": \"yesterday\", \"rr_ms\": 800}", "invalid_field");
            bad.put("{\"patient_id\": \"p1\", \"ts\": 1700000000000, \"rr_ms\": \"800\"}", "invalid_field");
            for (String v : bad.keySet()) {
                raw.send(new ProducerRecord<>(c.inputTopic(), "p1", v));
            }
            raw.flush();

            int expected = beats + messyRec.size();
            await("all scores", 90_000, () -> out.scoreCount() >= expected);

            // Beats between two already scored beats of a patient: too late to put in order. Just before its
            // newest beat: late; minutes before: behind the patient's clock.
            Recording first = recordings.get(0);
            long lateTs = ReplayProducer.replayTs(first.time()[first.size() - 1], ReplayProducer.REPLAY_BASE_EPOCH_MS) - 1;
            long behindTs = ReplayProducer.replayTs(first.time()[5], ReplayProducer.REPLAY_BASE_EPOCH_MS) + 1;
            String lateValue = new String(StreamJson.event(first.id(), lateTs, 640), StandardCharsets.UTF_8);
            String behindValue = new String(StreamJson.event(first.id(), behindTs, 640), StandardCharsets.UTF_8);
            raw.send(new ProducerRecord<>(c.inputTopic(), first.id(), lateValue));
            raw.send(new ProducerRecord<>(c.inputTopic(), first.id(), behindValue));
            raw.flush();
            await("dead letters", 30_000, () -> out.deadLetters.size() >= bad.size() + 2);
            Thread.sleep(2_500); // a few more checkpoints: nothing else may arrive

            assertThat(out.scoreCount()).isEqualTo(expected);
            assertMatchesBatch(all, out);
            Map<String, String> dead = new HashMap<>();
            for (JsonNode d : out.deadLetters) {
                dead.put(d.path("raw_value").asText(), d.path("reason").asText());
            }
            Map<String, String> expectedDead = new HashMap<>(bad);
            expectedDead.put(lateValue, "late");
            expectedDead.put(behindValue, "clock_behind");
            assertThat(out.deadLetters).hasSize(expectedDead.size());
            assertThat(dead).isEqualTo(expectedDead);
            assertThat(out.deadLetters).allSatisfy(d -> assertThat(d.path("detail").asText()).isNotBlank());
        } finally {
            job.cancel().get();
        }
    }

    /** One record of the hostile corpus: raw key and value bytes, and the DLQ reason it must get (null: scored). */
    private record Hostile(String what, byte[] key, byte[] value, String reason) {}

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A hostile corpus through the broker, between the halves of a 12-patient replay: broken JSON, JSON nested 5,000
     * deep, wrong types, NaN and 1e400, zero, negative and huge RR, an empty and a 100,000-beat burst, a 500 KB
     * patient id, invalid UTF-8, a tombstone, a null key, a key that differs from {@code patient_id}. Each record is
     * scored as data or lands in the DLQ with its reason (matched by its offset), the job never restarts (it runs
     * without a restart strategy here) and the replayed patients score exactly as the batch scorer scores them.
     */
    @Test
    void aHostileCorpusIsScoredOrDeadLetteredWithoutARestartAndOthersAreUnaffected() throws Exception {
        StreamConfig c = config("hostile");
        List<Recording> recordings = testRecordings(70, 82);
        long t = ReplayProducer.REPLAY_BASE_EPOCH_MS + 5_000;
        String nested = "[".repeat(5_000) + "]".repeat(5_000);
        StringBuilder bigBurst = new StringBuilder("{\"patient_id\":\"h-burst\",\"ts\":" + t + ",\"rr_ms\":[");
        for (int k = 0; k < 100_000; k++) {
            bigBurst.append(k == 0 ? "" : ",").append(800);
        }
        bigBurst.append("]}");
        String longId = "x".repeat(500_000);
        List<Hostile> corpus = new ArrayList<>(List.of(
                new Hostile("broken JSON", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": 17"), Reason.MALFORMED_JSON.code),
                new Hostile("nested 5,000 deep", utf8("h1"), utf8(nested), Reason.MALFORMED_JSON.code),
                new Hostile("nested object", utf8("h1"), utf8("{\"a\":".repeat(5_000) + "1" + "}".repeat(5_000)),
                        Reason.MALFORMED_JSON.code),
                new Hostile("id as array", utf8("h1"), utf8("{\"patient_id\": [\"h1\"], \"ts\": " + t + ", \"rr_ms\": 800}"),
                        Reason.INVALID_FIELD.code),
                new Hostile("rr as object", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": {}}"),
                        Reason.INVALID_FIELD.code),
                new Hostile("NaN", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": NaN}"),
                        Reason.MALFORMED_JSON.code),
                new Hostile("1e400", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": 1e400}"),
                        Reason.INVALID_FIELD.code),
                new Hostile("zero RR", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": 0}"),
                        Reason.INVALID_FIELD.code),
                new Hostile("negative RR", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": -800}"),
                        Reason.INVALID_FIELD.code),
                new Hostile("empty burst", utf8("h1"), utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": []}"),
                        Reason.INVALID_FIELD.code),
                new Hostile("100,000-beat burst", utf8("h-burst"), utf8(bigBurst.toString()), Reason.INVALID_FIELD.code),
                new Hostile("500 KB patient id", utf8(longId), utf8("{\"patient_id\": \"" + longId + "\", \"ts\": " + t
                        + ", \"rr_ms\": 800}"), Reason.INVALID_FIELD.code),
                new Hostile("invalid UTF-8", utf8("h1"), new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'},
                        Reason.MALFORMED_JSON.code),
                new Hostile("invalid UTF-8 key", new byte[] {(byte) 0xc3, (byte) 0x28},
                        utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": 800}"), Reason.KEY_MISMATCH.code),
                new Hostile("tombstone", utf8("h1"), null, Reason.MALFORMED_JSON.code),
                new Hostile("key differs", utf8("someone-else"),
                        utf8("{\"patient_id\": \"h1\", \"ts\": " + t + ", \"rr_ms\": 800}"), Reason.KEY_MISMATCH.code)));
        // Odd but valid: scored as data. A null key, and a huge RR (an artifact) between ordinary beats.
        List<Hostile> scoredAsData = new ArrayList<>();
        for (int k = 0; k < 12; k++) {
            double rr = k == 6 ? 1e300 : 800;
            scoredAsData.add(new Hostile("huge RR", utf8("h-huge"), StreamJson.event("h-huge", t + 800L * k, rr), null));
            scoredAsData.add(new Hostile("null key", null, StreamJson.event("h-nullkey", t + 800L * k, 810), null));
        }

        JobClient job = LocalJob.start(c, null, Map.of("restart-strategy.type", "none"));
        try (Outputs out = new Outputs(c);
             KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(Map.of("bootstrap.servers", c.bootstrapServers(),
                     "max.request.size", "2000000"), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<ReplayProducer.Event> events = ReplayProducer.interleave(recordings, ReplayProducer.REPLAY_BASE_EPOCH_MS);
            int half = events.size() / 2;
            try (ReplayProducer producer = new ReplayProducer(c.bootstrapServers(), c.inputTopic(), Double.POSITIVE_INFINITY)) {
                producer.send(events.subList(0, half), null);
            }
            Map<String, Hostile> byOrigin = new HashMap<>();
            for (Hostile h : corpus) {
                org.apache.kafka.clients.producer.RecordMetadata m = raw.send(new ProducerRecord<>(c.inputTopic(), h.key(),
                        h.value())).get();
                byOrigin.put(m.topic() + "-" + m.partition() + "@" + m.offset(), h);
            }
            for (Hostile h : scoredAsData) {
                raw.send(new ProducerRecord<>(c.inputTopic(), h.key(), h.value())).get();
            }
            try (ReplayProducer producer = new ReplayProducer(c.bootstrapServers(), c.inputTopic(), Double.POSITIVE_INFINITY)) {
                producer.send(events.subList(half, events.size()), null);
            }

            await("scores and dead letters", 120_000, () -> out.scoreCount() >= events.size() + scoredAsData.size()
                    && out.deadLetters.size() >= corpus.size());
            Thread.sleep(2_500); // a few more checkpoints: nothing else may arrive

            assertThat(job.getJobStatus().get()).as("no failure (a restart would have ended the job)")
                    .isEqualTo(org.apache.flink.api.common.JobStatus.RUNNING);
            assertMatchesBatch(recordings, out);
            Map<String, String> reasons = new HashMap<>(), expected = new HashMap<>();
            for (JsonNode d : out.deadLetters) {
                reasons.put(d.path("origin").asText(), d.path("reason").asText());
                assertThat(d.path("detail").asText()).isNotBlank();
                assertThat(d.toString().length()).as("a dead letter stays small").isLessThan(3 * StreamJson.MAX_RAW_CHARS);
            }
            byOrigin.forEach((origin, h) -> expected.put(origin, h.reason()));
            assertThat(reasons).isEqualTo(expected);
            assertThat(out.deadLetters).filteredOn(d -> d.path("raw_truncated").asBoolean()).hasSize(2);
            for (String id : List.of("h-huge", "h-nullkey")) {
                assertThat(out.scoresByPatient.get(id)).as(id).hasSize(12)
                        .allSatisfy(sc -> assertThat(sc.path("proba").isNumber()).isTrue());
            }
            assertThat(out.scoresByPatient.get("h-huge")).filteredOn(sc -> sc.path("artifact").asBoolean()).hasSize(1);
            assertThat(out.scoreCount()).isEqualTo(events.size() + scoredAsData.size());
        } finally {
            job.cancel().get();
        }
    }

    /**
     * Devices with wrong clocks, on the same partitions as twelve replayed patients: ten years ahead, 1970, seconds
     * for milliseconds, a clock that jumps an hour ahead and then a day back, one stray beat two hours ahead, and a
     * 10,000-beat offline backlog dated days ahead of everyone else in one record. Every replayed patient scores
     * exactly as the batch scorer scores it (as if the others were not there), and every hostile beat is scored or in
     * the DLQ with its reason.
     */
    @Test
    void wrongDeviceClocksChangeNoOtherPatientsResultsAndEveryHostileBeatIsAccountedFor() throws Exception {
        StreamConfig c = config("clocks");
        List<Recording> recordings = testRecordings(40, 52);
        long base = ReplayProducer.REPLAY_BASE_EPOCH_MS;
        EnsembleScorer scorer = TestBundle.scorer();
        List<ProducerRecord<String, String>> hostile = new ArrayList<>();
        java.util.function.BiConsumer<String, byte[]> send = (id, value) ->
                hostile.add(new ProducerRecord<>(c.inputTopic(), id, new String(value, StandardCharsets.UTF_8)));
        long tenYearsAhead = System.currentTimeMillis() + 10L * 365 * 86_400_000;
        for (int k = 0; k < 4; k++) {
            send.accept("future", StreamJson.event("future", tenYearsAhead + 800L * k, 800));
            send.accept("epoch-1970", StreamJson.event("epoch-1970", 5_000 + 800L * k, 800));
            send.accept("seconds", StreamJson.event("seconds", base / 1000 + k, 800));
        }
        Recording jumperRec = testRecordings(60, 61).get(0); // 150 beats at least
        for (int i = 0; i < 150; i++) {
            long shift = i < 50 ? 0 : i < 100 ? 3_600_000 : -86_400_000L;
            send.accept("jumper", StreamJson.event("jumper", base + (long) jumperRec.time()[i] + shift,
                    jumperRec.rr()[i]));
        }
        Recording strayRec = testRecordings(61, 62).get(0);
        for (int i = 0; i < strayRec.size(); i++) {
            send.accept("stray", StreamJson.event("stray", base + (long) strayRec.time()[i], strayRec.rr()[i]));
            if (i == 60) {
                send.accept("stray", StreamJson.event("stray", base + (long) strayRec.time()[i] + 7_200_000, 790));
            }
        }
        Recording backlogRec = SyntheticRr.recordings(1, 10_000, 10_000, 63).get(0);
        StringBuilder burst = new StringBuilder("{\"patient_id\":\"backlog\",\"ts\":" + (base + 3 * 86_400_000L)
                + ",\"rr_ms\":[");
        for (int i = 0; i < backlogRec.size(); i++) {
            burst.append(i == 0 ? "" : ",").append(backlogRec.rr()[i]);
        }
        send.accept("backlog", burst.append("]}").toString().getBytes(StandardCharsets.UTF_8));

        JobClient job = LocalJob.start(c, null);
        try (Outputs out = new Outputs(c);
             ReplayProducer producer = new ReplayProducer(c.bootstrapServers(), c.inputTopic(), Double.POSITIVE_INFINITY);
             KafkaProducer<String, String> raw = new KafkaProducer<>(Map.of("bootstrap.servers", c.bootstrapServers()),
                     new StringSerializer(), new StringSerializer())) {
            List<ReplayProducer.Event> events = ReplayProducer.interleave(recordings, base);
            int half = events.size() / 2;
            producer.send(events.subList(0, half), null);
            producer.close(); // flushed: the hostile records come in the middle of the replay
            for (ProducerRecord<String, String> r : hostile) {
                raw.send(r);
            }
            raw.flush();
            try (ReplayProducer rest = new ReplayProducer(c.bootstrapServers(), c.inputTopic(),
                    Double.POSITIVE_INFINITY)) {
                rest.send(events.subList(half, events.size()), null);
            }

            int legit = events.size();
            int hostileScored = 100 + strayRec.size() + backlogRec.size();
            int hostileDead = 12 + 50 + 1;
            await("all scores and dead letters", 120_000,
                    () -> out.scoreCount() >= legit + hostileScored && out.deadLetters.size() >= hostileDead);
            Thread.sleep(2_500); // a few more checkpoints: nothing else may arrive

            Map<String, List<JsonNode>> legitScores = new HashMap<>(out.scoresByPatient);
            for (String id : List.of("jumper", "stray", "backlog")) {
                legitScores.remove(id);
            }
            assertThat(legitScores.keySet()).containsExactlyInAnyOrderElementsOf(
                    recordings.stream().map(Recording::id).toList());
            assertMatchesBatch(recordings, out);

            Map<String, Map<String, Long>> deadByPatient = new HashMap<>();
            for (JsonNode d : out.deadLetters) {
                deadByPatient.computeIfAbsent(d.path("patient_id").asText(), k -> new HashMap<>())
                        .merge(d.path("reason").asText(), 1L, Long::sum);
            }
            assertThat(deadByPatient).isEqualTo(Map.of(
                    "future", Map.of(Reason.IMPLAUSIBLE_TS.code, 4L),
                    "epoch-1970", Map.of(Reason.IMPLAUSIBLE_TS.code, 4L),
                    "seconds", Map.of(Reason.IMPLAUSIBLE_TS.code, 4L),
                    "jumper", Map.of(Reason.CLOCK_BEHIND.code, 50L),
                    "stray", Map.of(Reason.CLOCK_AHEAD.code, 1L)));
            // The offending devices' own beats are scored as data where they can be: each clock's stretch a segment.
            assertThat(probas(out, "jumper")).containsExactly(concat(
                    scorer.scoreRecording(java.util.Arrays.copyOfRange(jumperRec.rr(), 0, 50)).proba(),
                    scorer.scoreRecording(java.util.Arrays.copyOfRange(jumperRec.rr(), 50, 100)).proba()));
            assertThat(probas(out, "stray")).containsExactly(scorer.scoreRecording(strayRec.rr()).proba());
            assertThat(probas(out, "backlog")).containsExactly(scorer.scoreRecording(backlogRec.rr()).proba());
            assertThat(out.scoreCount()).isEqualTo(legit + hostileScored);
        } finally {
            job.cancel().get();
        }
    }

    private static double[] probas(Outputs out, String id) {
        return out.scoresByPatient.getOrDefault(id, List.of()).stream()
                .sorted((a, b) -> Long.compare(a.path("ts").asLong(), b.path("ts").asLong()))
                .mapToDouble(s -> s.path("proba").asDouble()).toArray();
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aJobKilledMidStreamAndRestoredFromItsCheckpointLosesAndDuplicatesNothing() throws Exception {
        StreamConfig c = config("restore");
        List<Recording> recordings = testRecordings(20, 32);
        List<ReplayProducer.Event> events = ReplayProducer.interleave(recordings, ReplayProducer.REPLAY_BASE_EPOCH_MS);
        long spanMs = events.get(events.size() - 1).ts() - events.get(0).ts();
        double speed = spanMs / 8_000.0; // the replay takes about 8 s
        JobClient first = LocalJob.start(c, null);
        JobClient second = null;
        try (Outputs out = new Outputs(c);
             ReplayProducer producer = new ReplayProducer(c.bootstrapServers(), c.inputTopic(), speed)) {
            Thread feeder = new Thread(() -> {
                try {
                    producer.send(events, null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            feeder.start();
            await("a checkpoint with committed scores", 60_000, () -> out.scoreCount() > 200);
            Optional<Path> checkpoint = LocalJob.latestCheckpoint(c, first);
            assertThat(checkpoint).isPresent();
            first.cancel().get(); // killed mid-stream: uncommitted output is aborted, state survives in the checkpoint
            int committedBeforeKill = out.scoreCount();
            checkpoint = LocalJob.latestCheckpoint(c, first);
            second = LocalJob.start(c, checkpoint.orElseThrow());
            feeder.join();
            assertThat(committedBeforeKill).isLessThan(events.size());
            await("all scores", 90_000, () -> out.scoreCount() >= events.size());
            Thread.sleep(2_500);
            assertThat(out.scoreCount()).isEqualTo(events.size());
            assertMatchesBatch(recordings, out);
            assertThat(out.deadLetters).isEmpty();
        } finally {
            if (second != null) {
                second.cancel().get();
            }
            Collections.emptyList();
        }
    }
}
