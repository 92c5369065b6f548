package io.cardiospike.stream.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.stream.wire.ClockTicks;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InputFlowTest {
    private static final long T = 1_700_000_000_000L, TICK = ClockTicks.INTERVAL_MS;

    private static void flow(InputFlow f, long from, long to) {
        for (long t = from; t <= to; t += TICK) {
            f.advance(t);
        }
    }

    @Test
    void tickByTickTheInputFlowsAllTheTime() {
        InputFlow f = new InputFlow(600_000);
        flow(f, T, T + 60_000);
        assertThat(f.flowed(T + 500, T + 40_500)).isEqualTo(40_000);
        assertThat(f.snapshot()).hasSize(1); // the clock, no stall
    }

    @Test
    void aLateTickOrTwoIsNoStallButAJumpIs() {
        InputFlow f = new InputFlow(600_000);
        f.advance(T);
        f.advance(T + InputFlow.STALL_MS); // three ticks missed: still flowing
        f.advance(T + InputFlow.STALL_MS + 30_000); // an outage: stalled but for its first tick
        assertThat(f.flowed(T, T + InputFlow.STALL_MS + 30_000)).isEqualTo(InputFlow.STALL_MS + TICK);
        // a beat taken by the broker during the stall (a job restart: producers went on) counts from there
        assertThat(f.flowed(T + InputFlow.STALL_MS + 10_000, T + InputFlow.STALL_MS + 40_000)).isEqualTo(10_000);
        assertThat(f.flowed(T + 10, T)).isEqualTo(-10);
    }

    @Test
    void theEndOfABoundedInputIsNoStall() {
        InputFlow f = new InputFlow(600_000);
        f.advance(T);
        f.advance(Long.MAX_VALUE);
        assertThat(f.flowed(T, T + 100_000)).isEqualTo(100_000);
    }

    @Test
    void aRestoreKeepsEveryStallAndComparesTheNextTickWithTheOldestClock() {
        InputFlow a = new InputFlow(600_000), b = new InputFlow(600_000);
        flow(a, T, T + 5_000);
        a.advance(T + 20_000);
        flow(b, T, T + 8_000);
        b.advance(T + 30_000);
        List<long[]> union = new ArrayList<>(a.snapshot());
        union.addAll(b.snapshot());
        InputFlow restored = new InputFlow(600_000);
        restored.restore(union);
        // stalls (T+6 s, T+20 s) and (T+9 s, T+30 s) merge into (T+6 s, T+30 s)
        assertThat(restored.flowed(T, T + 30_000)).isEqualTo(6_000);
        restored.advance(T + 60_000); // compared with the oldest clock, T+20 s: a stall until T+60 s
        assertThat(restored.flowed(T, T + 60_000)).isEqualTo(6_000);
    }

    @Test
    void stallsBeyondTheHorizonAreForgotten() {
        InputFlow f = new InputFlow(60_000);
        f.advance(T);
        f.advance(T + 30_000);
        assertThat(f.snapshot()).hasSize(2);
        flow(f, T + 30_000, T + 100_000);
        assertThat(f.snapshot()).hasSize(1);
    }
}
