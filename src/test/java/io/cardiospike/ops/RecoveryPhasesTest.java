package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.ops.RecoveryProbe.Recovery;
import org.junit.jupiter.api.Test;

class RecoveryPhasesTest {
    private static final long T = 1_700_000_000_000L;

    @Test
    void aRestartIsSplitIntoItsPhasesInOrder() {
        Recovery r = new Recovery(T, T + 300, 1, T + 1_400, T + 2_000, T + 2_600, T + 3_900, T + 4_500, T + 4_700,
                T + 12_000);
        assertThat(r.restarted()).isTrue();
        assertThat(r.runningAgainMs()).isEqualTo(4_700);
        assertThat(r.phases(T + 12_400)).isEqualTo("detection 0.3 s, restart delay 1.1 s, slots 0.6 s, deploy 0.6 s, "
                + "state restore and sinks' Kafka transactions 1.3 s, model load 0.6 s, tasks running 0.2 s, "
                + "= running again 4.7 s, next checkpoint 7.3 s, first commit 0.4 s");
    }

    @Test
    void repeatedFailuresAndMissingGaugesAreSaidSo() {
        Recovery r = new Recovery(T, T + 100, 3, T + 20_000, T + 20_100, T + 20_200, -1, -1, T + 22_000, -1);
        assertThat(r.phases(-1)).isEqualTo("detection 0.1 s, restart delay (3 attempts) 19.9 s, slots 0.1 s, "
                + "deploy 0.1 s, tasks running 1.8 s, = running again 22.0 s");
    }

    @Test
    void aFaultTheJobRodeOutHasOnlyTheCheckpointAndTheCommit() {
        Recovery r = new Recovery(T, -1, 0, -1, -1, -1, -1, -1, -1, T + 35_000);
        assertThat(r.restarted()).isFalse();
        assertThat(r.runningAgainMs()).isEqualTo(-1);
        assertThat(r.phases(T + 35_500)).isEqualTo("the job kept running, next checkpoint 35.0 s, first commit 0.5 s");
    }
}
