package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.wire.StreamJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DemoStatusTest {
    private static final long SECOND = 1_000_000_000L;

    private static JsonNode json(String s) {
        return StreamJson.read(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aSendingPatientsLastBeatsWaitForTheirLookaheadTheRestForTheCommit() {
        DemoStatus status = new DemoStatus(8, Duration.ofSeconds(10));
        for (int i = 0; i < 20; i++) {
            status.input("a", json("{\"patient_id\":\"a\",\"ts\":" + i + ",\"rr_ms\":800}"), i * SECOND / 10);
        }
        for (int i = 0; i < 5; i++) {
            status.scored("a");
        }
        DemoStatus.Waiting w = status.waiting(2 * SECOND); // the last beat came 0.1 s ago
        assertThat(w).isEqualTo(new DemoStatus.Waiting(8, 7, 0, Duration.ZERO));
        assertThat(status.line(10, 2 * SECOND))
                .isEqualTo("in 20 (10/s) | scored 5 | 0 alerts | dlq 0 | waiting 15: 8 for lookahead, 7 to commit");
    }

    @Test
    void aQuietPatientsBeatsWaitForTheIdleFlushAndBurstsAndDeadLettersCountTheirBeats() {
        DemoStatus status = new DemoStatus(8, Duration.ofSeconds(10));
        status.input("b", json("{\"patient_id\":\"b\",\"ts\":1,\"rr_ms\":[800,810,790]}"), 0);
        status.input("b", com.fasterxml.jackson.databind.node.MissingNode.getInstance(), 0); // not JSON, as TopicReader gives it
        status.deadLetter("b", json("{\"reason\":\"malformed\",\"raw_value\":\"not json\"}"));
        status.input("c", json("{\"patient_id\":\"c\",\"ts\":1,\"rr_ms\":[800,810]}"), 0);
        status.deadLetter("c", json("{\"reason\":\"late\",\"raw_value\":\"{\\\"patient_id\\\":\\\"c\\\",\\\"ts\\\":1,"
                + "\\\"rr_ms\\\":[800,810]}\"}"));
        status.alert();
        assertThat(status.in()).isEqualTo(6);
        assertThat(status.waiting(3 * SECOND)).isEqualTo(new DemoStatus.Waiting(0, 0, 3, Duration.ofSeconds(7)));
        assertThat(status.line(0, 3 * SECOND)).isEqualTo(
                "in 6 (0/s) | scored 0 | 1 alert | dlq 2 | waiting 3: 3 for the idle flush (within 7 s)");
    }
}
