package io.cardiospike.stream.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.RrInput;
import io.cardiospike.stream.records.ScoredBeat;
import io.cardiospike.stream.records.ShadowScore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StreamJsonTest {
    private static List<RrInput> parse(String key, String value) {
        return StreamJson.parseEvent(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8), "rr-events-0@7");
    }

    @Test
    void oneBeat() {
        List<RrInput> in = parse("p1", "{\"patient_id\": \"p1\", \"ts\": 1700000000000, \"rr_ms\": 812}");
        assertThat(in).singleElement().satisfies(b -> {
            assertThat(b.isValid()).isTrue();
            assertThat(b.patientId).isEqualTo("p1");
            assertThat(b.ts).isEqualTo(1700000000000L);
            assertThat(b.rrMs).isEqualTo(812.0);
        });
    }

    @Test
    void aBurstGivesOneBeatPerValueEachItsOwnRrAfterThePrevious() {
        List<RrInput> in = parse(null, "{\"patient_id\": \"p1\", \"ts\": 1700000000000, \"rr_ms\": [812, 790.4, 805]}");
        assertThat(in).extracting(b -> b.ts).containsExactly(1700000000000L, 1700000000790L, 1700000001595L);
        assertThat(in).extracting(b -> b.rrMs).containsExactly(812.0, 790.4, 805.0);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "p1| {not json                                            | malformed_json | not valid JSON",
        "p1| [1,2]                                                | malformed_json | value is not a JSON object",
        "  | {\"ts\": 1, \"rr_ms\": 800}                          | invalid_field  | patient_id missing",
        "  | {\"patient_id\": 7, \"ts\": 1, \"rr_ms\": 800}       | invalid_field  | patient_id must be a non-empty string",
        "p2| {\"patient_id\": \"p1\", \"ts\": 1, \"rr_ms\": 800}  | key_mismatch   | record key differs from patient_id",
        "p1| {\"patient_id\": \"p1\", \"rr_ms\": 800}             | invalid_field  | ts missing",
        "p1| {\"patient_id\": \"p1\", \"ts\": \"1\", \"rr_ms\": 8}| invalid_field  | ts must be a positive integer (epoch ms)",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1.5, \"rr_ms\": 800}| invalid_field  | ts must be a positive integer (epoch ms)",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1}                  | invalid_field  | rr_ms missing",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1, \"rr_ms\": \"8\"}| invalid_field  | rr_ms must be a positive number or an array of them",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1, \"rr_ms\": -5}   | invalid_field  | rr_ms must be a positive number or an array of them",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1, \"rr_ms\": []}   | invalid_field  | rr_ms burst is empty",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1, \"rr_ms\": [800, null]} | invalid_field | rr_ms burst values must be positive numbers",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1700000000, \"rr_ms\": 800} | implausible_ts | ts before 2000-01-01: a device clock never set, or seconds instead of milliseconds",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1700000000000000, \"rr_ms\": 800} | implausible_ts | ts after 2100-01-01: microseconds instead of milliseconds?",
        "p1| {\"patient_id\": \"p1\", \"ts\": 4102444799500, \"rr_ms\": [800, 900]} | implausible_ts | ts after 2100-01-01: microseconds instead of milliseconds? (within the burst)",
        "p1| {\"patient_id\": \"p1\", \"ts\": 1700000000000, \"rr_ms\": [800, 1e300]} | implausible_ts | ts after 2100-01-01: microseconds instead of milliseconds? (within the burst)",
    })
    void badRecordsBecomeRejectsWithAReason(String key, String value, String reason, String detail) {
        List<RrInput> in = parse(key, value.strip());
        assertThat(in).singleElement().satisfies(r -> {
            assertThat(r.isValid()).isFalse();
            assertThat(r.rejectReason.code).isEqualTo(reason);
            assertThat(r.rejectDetail).isEqualTo(detail);
            assertThat(r.rawValue).isEqualTo(value.strip());
            assertThat(r.rawKey).isEqualTo(key);
            assertThat(r.origin).isEqualTo("rr-events-0@7");
        });
    }

    @Test
    void aDeadLetterKeepsAtMost64KCharactersOfTheRawRecordAndSaysSo() {
        String huge = "x".repeat(StreamJson.MAX_RAW_CHARS + 10);
        JsonNode d = StreamJson.read(StreamJson.deadLetter(new DeadLetter(
                DeadLetter.Reason.INVALID_FIELD, "patient_id longer than 200 characters", null, huge, huge, "rr-events-0@7")));
        assertThat(d.path("raw_value").asText()).hasSize(StreamJson.MAX_RAW_CHARS);
        assertThat(d.path("raw_key").asText()).hasSize(StreamJson.MAX_RAW_CHARS);
        assertThat(d.path("raw_truncated").asBoolean()).isTrue();
        assertThat(d.path("origin").asText()).isEqualTo("rr-events-0@7");
        JsonNode small = StreamJson.read(StreamJson.deadLetter(new DeadLetter(
                DeadLetter.Reason.LATE, "x", "p1", "p1", "{}", null)));
        assertThat(small.has("raw_truncated")).isFalse();
    }

    @Test
    void emptyAndNullValuesAreRejected() {
        assertThat(parse("p1", null)).singleElement().satisfies(r -> assertThat(r.rejectReason.code).isEqualTo("malformed_json"));
        assertThat(parse("p1", "")).singleElement().satisfies(r -> assertThat(r.rejectReason.code).isEqualTo("malformed_json"));
    }

    @Test
    void outputRecordsCarryTheContractFields() {
        JsonNode s = StreamJson.read(StreamJson.score(new ScoredBeat("p1", 5, 812, 0.25, false, false, "v1")));
        assertThat(s.toString()).isEqualTo("{\"patient_id\":\"p1\",\"ts\":5,\"rr_ms\":812,\"proba\":0.25,"
                + "\"anomaly\":false,\"artifact\":false,\"model_version\":\"v1\"}");
        AnomalyAlert alert = new AnomalyAlert(AnomalyAlert.CLOSED, "p1", 10, 20, 3, 0.9, 0.8, "v1");
        JsonNode a = StreamJson.read(StreamJson.alert(alert));
        assertThat(a.path("alert_id").asText()).isEqualTo(AnomalyAlert.alertId("p1", 10, "v1"))
                .isNotEqualTo(AnomalyAlert.alertId("p1", 11, "v1"));
        assertThat(a.path("status").asText()).isEqualTo("closed");
        assertThat(a.fieldNames()).toIterable().containsExactly("alert_id", "status", "patient_id", "start_ts",
                "end_ts", "beats", "max_proba", "mean_proba", "model_version", "suppressed");
        assertThat(a.path("suppressed").asBoolean(true)).isFalse();
        alert.suppressed = true;
        assertThat(StreamJson.read(StreamJson.alert(alert)).path("suppressed").asBoolean()).isTrue();
        JsonNode open = StreamJson.read(StreamJson.alert(new AnomalyAlert(AnomalyAlert.OPEN, "p1", 10, 10, 1, 0.9, 0.9,
                "v1")));
        assertThat(open.path("status").asText()).isEqualTo("open");
        assertThat(open.path("alert_id").asText()).as("open and closed: one id").isEqualTo(a.path("alert_id").asText());
        AnomalyAlert explained = new AnomalyAlert(AnomalyAlert.OPEN, "p1", 10, 10, 1, 0.9, 0.9, "v1");
        explained.explanation = "{\"reasons\":[],\"beat_index\":16}"; // pre-rendered, written as JSON, not a string
        JsonNode withExplanation = StreamJson.read(StreamJson.alert(explained));
        assertThat(withExplanation.path("explanation").path("beat_index").asInt()).isEqualTo(16);
        assertThat(withExplanation.path("model_version").asText()).isEqualTo("v1");
    }

    @Test
    void aShadowScoreCarriesTheBeatAndBothModelsScores() {
        ShadowScore s = new ShadowScore(new ScoredBeat("p1", 1700000000000L, 812, 0.12, false, false, "cs-live"),
                "cs-shadow", 0.5, true);
        assertThat(StreamJson.read(StreamJson.shadowScore(s)).toString()).isEqualTo("{\"patient_id\":\"p1\","
                + "\"ts\":1700000000000,\"rr_ms\":812,\"artifact\":false,"
                + "\"live\":{\"model_version\":\"cs-live\",\"proba\":0.12,\"anomaly\":false},"
                + "\"shadow\":{\"model_version\":\"cs-shadow\",\"proba\":0.5,\"anomaly\":true}}");
        ShadowScore artifact = new ShadowScore(new ScoredBeat("p2", 5, 812.5, 0.9, true, true, "a"), "b", 0.1, false);
        JsonNode a = StreamJson.read(StreamJson.shadowScore(artifact));
        assertThat(a.path("rr_ms").asDouble()).isEqualTo(812.5);
        assertThat(a.path("artifact").asBoolean()).isTrue();
        assertThat(a.path("live").path("anomaly").asBoolean()).isTrue();
        assertThat(a.path("shadow").path("anomaly").asBoolean()).isFalse();
    }
}
