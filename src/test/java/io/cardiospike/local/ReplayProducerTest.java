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
}
