package io.cardiospike.stream.functions;

import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.Clock;

/**
 * Watermark idleness that waits for a split's first event. Flink's {@code withIdleness} also marks a split idle that
 * simply has not been fetched yet; at start-up with a backlog the other split's watermark then runs ahead and the
 * whole backlog of the slow split arrives "late". Here a split that has never had an event waits {@code startupMs}
 * (long) before it stops holding back event time, one that went quiet waits {@code idleMs} (short).
 */
public final class IdleAfterFirstEvent<T> implements WatermarkGenerator<T> {
    private final WatermarkGenerator<T> watermarks;
    private final Clock clock;
    private final long idleMs;
    private final long startupMs;
    private final long createdAt;
    private long lastEventAt = Long.MIN_VALUE;
    private boolean idle;

    public IdleAfterFirstEvent(WatermarkGenerator<T> watermarks, Clock clock, long idleMs, long startupMs) {
        this.watermarks = watermarks;
        this.clock = clock;
        this.idleMs = idleMs;
        this.startupMs = startupMs;
        this.createdAt = clock.relativeTimeMillis();
    }

    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
        lastEventAt = clock.relativeTimeMillis();
        if (idle) {
            idle = false;
            output.markActive();
        }
        watermarks.onEvent(event, eventTimestamp, output);
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        long now = clock.relativeTimeMillis();
        boolean quiet = lastEventAt == Long.MIN_VALUE ? now - createdAt >= startupMs : now - lastEventAt >= idleMs;
        if (quiet) {
            if (!idle) {
                idle = true;
                output.markIdle();
            }
        } else {
            watermarks.onPeriodicEmit(output);
        }
    }
}
