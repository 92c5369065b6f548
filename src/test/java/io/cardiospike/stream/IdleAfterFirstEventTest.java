package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.stream.functions.IdleAfterFirstEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.ManualClock;
import org.junit.jupiter.api.Test;

class IdleAfterFirstEventTest {
    private final List<String> out = new ArrayList<>();
    private final WatermarkOutput output = new WatermarkOutput() {
        @Override
        public void emitWatermark(Watermark watermark) {
            out.add("wm " + watermark.getTimestamp());
        }

        @Override
        public void markIdle() {
            out.add("idle");
        }

        @Override
        public void markActive() {
            out.add("active");
        }
    };

    @Test
    void aSplitWithoutEventsStaysActiveThroughTheStartupPeriodThenGoesIdle() {
        ManualClock clock = new ManualClock();
        var gen = new IdleAfterFirstEvent<String>(new BoundedOutOfOrdernessWatermarks<>(Duration.ofSeconds(2)), clock,
                1_000, 15_000);
        clock.advanceTime(5, TimeUnit.SECONDS);
        gen.onPeriodicEmit(output);
        assertThat(out).doesNotContain("idle"); // not fetched yet is not idle: it must hold event time back
        clock.advanceTime(11, TimeUnit.SECONDS);
        gen.onPeriodicEmit(output);
        assertThat(out).endsWith("idle");
    }

    @Test
    void aSplitThatWentQuietIsIdleAfterTheShortTimeoutAndActiveAgainOnItsNextEvent() {
        ManualClock clock = new ManualClock();
        var gen = new IdleAfterFirstEvent<String>(new BoundedOutOfOrdernessWatermarks<>(Duration.ofSeconds(2)), clock,
                1_000, 15_000);
        gen.onEvent("a", 10_000, output);
        gen.onPeriodicEmit(output);
        assertThat(out).containsExactly("wm 7999");
        clock.advanceTime(1, TimeUnit.SECONDS);
        gen.onPeriodicEmit(output);
        assertThat(out).endsWith("idle");
        gen.onEvent("b", 11_000, output);
        gen.onPeriodicEmit(output);
        assertThat(out).containsExactly("wm 7999", "idle", "active", "wm 8999");
    }
}
