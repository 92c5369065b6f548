package io.cardiospike.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplayProducerTest {
    /** A fleet like live wearables: time-ordered, each patient's beats a patient's RR apart (no false pauses). */
    @Test
    void theSyntheticFleetIsInEventTimeOrderAndEachBeatComesItsRrAfterThePrevious() {
        Iterator<ReplayProducer.Event> fleet = ReplayProducer.syntheticFleet(50, 3, 1_700_000_000_000L);
        Map<String, Long> lastTs = new HashMap<>();
        long previous = Long.MIN_VALUE;
        boolean sawHugeRr = false;
        for (int i = 0; i < 200_000; i++) {
            ReplayProducer.Event e = fleet.next();
            assertThat(e.ts()).as("event %d", i).isGreaterThanOrEqualTo(previous);
            previous = e.ts();
            Long last = lastTs.put(e.patientId(), e.ts());
            if (last != null) {
                assertThat(e.ts() - last).isEqualTo(Math.max(1, Math.round(e.rrMs())));
            }
            sawHugeRr |= e.rrMs() > 10_000;
        }
        assertThat(sawHugeRr).as("the generator's absurd-RR artifacts are part of the stream").isTrue();
    }

    /** --start-ts: the file's earliest beat gets that ts, every other beat keeps its distance to it. */
    @Test
    void aReplayShiftedToAStartKeepsItsSpacing() {
        java.util.List<io.cardiospike.rr.Recording> recordings = java.util.List.of(
                new io.cardiospike.rr.Recording("a", new double[] {1200, 2000}, new double[] {800, 800},
                        new int[] {-1, -1}, new int[] {0, 1}),
                new io.cardiospike.rr.Recording("b", new double[] {700.4, 1500}, new double[] {800, 800},
                        new int[] {-1, -1}, new int[] {2, 3}));
        java.util.List<ReplayProducer.Event> plain = ReplayProducer.interleave(recordings,
                ReplayProducer.REPLAY_BASE_EPOCH_MS);
        assertThat(plain.get(0).ts()).isEqualTo(1_700_000_000_700L); // the default, unchanged: 1700000000000 + time
        java.util.List<ReplayProducer.Event> shifted = ReplayProducer.interleave(recordings,
                ReplayProducer.baseEpochForStart(recordings, 1_800_000_000_000L));
        assertThat(shifted.get(0)).isEqualTo(new ReplayProducer.Event("b", 1_800_000_000_000L, 800));
        for (int i = 0; i < plain.size(); i++) {
            assertThat(shifted.get(i).ts() - plain.get(i).ts()).isEqualTo(1_800_000_000_000L - 1_700_000_000_700L);
            assertThat(shifted.get(i).patientId()).isEqualTo(plain.get(i).patientId());
        }
    }
}
