package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FleetIndexTest {
    @Test
    void readsTheFleetsPatientNumberFromItsKeyAndNothingElse() {
        assertThat(FleetIndex.patient("patient-0042")).isEqualTo(41);
        assertThat(FleetIndex.patient("patient-1000000")).isEqualTo(999_999);
        assertThat(FleetIndex.patient("device-backlog")).isEqualTo(-1);
        assertThat(FleetIndex.patient("patient-x")).isEqualTo(-1);
        assertThat(FleetIndex.patient(null)).isEqualTo(-1);
    }

    @Test
    void aScoresLatencyRunsFromTheBeatThatReleasedTheLastBeatOfItsWindow() throws Exception {
        // lookahead 2, lateness 1,000 ms, beats 800 ms apart: beat 0's window needs beat 2, released by beat 4
        // (2 * 800 + 1,000 <= 4 * 800), so beat 4's send starts the clock.
        FleetIndex index = new FleetIndex(3, 2, 1000);
        long[] sentAt = new long[6];
        for (int k = 0; k < 6; k++) {
            index.sent(1, 1_700_000_000_000L + 800L * k);
            sentAt[k] = System.nanoTime();
            Thread.sleep(20);
        }
        long read = System.nanoTime();
        long latency = index.latencyMs(1, 1_700_000_000_000L, read);
        assertThat(latency).isBetween((read - sentAt[4]) / 1_000_000 - 2, (read - sentAt[4]) / 1_000_000 + 2);
        assertThat(latency).isLessThan((read - sentAt[3]) / 1_000_000 - 5); // not beat 3's, which released nothing
        // beat 3's window needs beat 5, which nothing sent yet released
        assertThat(index.latencyMs(1, 1_700_000_000_000L + 2400, read)).isEqualTo(-1);
        assertThat(index.latencyMs(1, 1_700_000_000_123L, read)).as("a time never sent").isEqualTo(-1);
        assertThat(index.latencyMs(0, 1_700_000_000_000L, read)).as("another patient").isEqualTo(-1);
    }

    @Test
    void beatsThatLeftTheRingAreNotMeasured() {
        FleetIndex index = new FleetIndex(600_000, 0, 0); // 16 beats a patient
        for (int k = 0; k < 40; k++) {
            index.sent(7, 1000L * k);
        }
        assertThat(index.latencyMs(7, 0, System.nanoTime())).isEqualTo(-1);
        assertThat(index.latencyMs(7, 39_000, System.nanoTime())).isGreaterThanOrEqualTo(0);
    }
}
