package io.cardiospike.stream.functions;

import io.cardiospike.stream.wire.ClockTicks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * How long the input flowed between two times of the input clock ({@link InputClock}). While the input flows the
 * clock moves a tick ({@link ClockTicks#INTERVAL_MS}) at a time; a step of more than {@link #STALL_MS} is a stall: a
 * broker outage, a job restart or restore, during which no tick was written. A stall is not time in which a patient
 * could have sent: when the broker comes back, the job's first tick and the beats that producers held through the
 * outage race to it, and the tick may win. So a patient's silence is measured in {@link #flowed} time, and the beats
 * held through any outage, however long, still arrive in time as long as they come within the idle-flush gap of the
 * input flowing again.
 *
 * <p>The stalls are operator state of the scorer (its watermarks are the same on every subtask up to timing; after a
 * rescale the union is kept, which can only count more time as stalled: a pause is then ended later, never early).
 */
final class InputFlow {
    /** A step of the input clock longer than this is a stall (three missed ticks). */
    static final long STALL_MS = 3 * ClockTicks.INTERVAL_MS;
    /** Stalls kept at most; older ones are forgotten first. */
    static final int MAX_STALLS = 4096;

    /** Stalls, start → end, disjoint and in order; a stall's first tick interval counts as flowing. */
    private final NavigableMap<Long, Long> stalls = new TreeMap<>();
    private final long horizonMs;
    private long clock = Long.MIN_VALUE;

    /** {@code horizonMs}: how far back {@link #flowed} is asked about; stalls that ended before are forgotten. */
    InputFlow(long horizonMs) {
        this.horizonMs = horizonMs;
    }

    /** The input clock moved to {@code watermark}. */
    void advance(long watermark) {
        if (watermark == Long.MAX_VALUE) {
            return; // the end of a bounded input, not a time
        }
        if (clock != Long.MIN_VALUE && watermark - clock > STALL_MS) {
            add(clock + ClockTicks.INTERVAL_MS, watermark);
        }
        clock = Math.max(clock, watermark);
        while (!stalls.isEmpty() && (stalls.size() > MAX_STALLS || stalls.firstEntry().getValue() < clock - horizonMs)) {
            stalls.pollFirstEntry();
        }
    }

    /** How long the input flowed from {@code from} to {@code to}: the time between them less the stalls in it. */
    long flowed(long from, long to) {
        long flowed = to - from;
        if (flowed <= 0) {
            return flowed;
        }
        Long first = stalls.floorKey(from);
        for (Map.Entry<Long, Long> s : stalls.tailMap(first == null ? from : first, true).entrySet()) {
            if (s.getKey() >= to) {
                break;
            }
            flowed -= Math.max(0, Math.min(s.getValue(), to) - Math.max(s.getKey(), from));
        }
        return flowed;
    }

    /** The state: the clock as {@code {clock}}, then each stall as {@code {start, end}}. */
    List<long[]> snapshot() {
        List<long[]> out = new ArrayList<>(stalls.size() + 1);
        out.add(new long[] {clock});
        stalls.forEach((start, end) -> out.add(new long[] {start, end}));
        return out;
    }

    /**
     * Restores from the snapshots of one or more subtasks: every stall any of them saw, from the oldest clock (the
     * first watermark after the restore is then compared with it).
     */
    void restore(Iterable<long[]> snapshots) {
        long oldest = Long.MAX_VALUE;
        for (long[] entry : snapshots) {
            if (entry.length == 1) {
                if (entry[0] != Long.MIN_VALUE) {
                    oldest = Math.min(oldest, entry[0]);
                }
            } else {
                add(entry[0], entry[1]);
            }
        }
        clock = oldest == Long.MAX_VALUE ? Long.MIN_VALUE : oldest;
    }

    private void add(long start, long end) {
        // merged with any stall it overlaps, so that none is counted twice
        Map.Entry<Long, Long> before = stalls.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Long, Long> s = stalls.ceilingEntry(start); s != null && s.getKey() <= end;
             s = stalls.ceilingEntry(start)) {
            end = Math.max(end, s.getValue());
            stalls.remove(s.getKey());
        }
        stalls.put(start, end);
    }
}
