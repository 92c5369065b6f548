package io.cardiospike.stream.records;

import java.util.Arrays;
import java.util.Objects;

/**
 * Everything the scorer keeps for one patient, stored as one RocksDB value so a beat costs one read and one write.
 * Bounded: the out-of-order buffer holds at most the allowed lateness worth of beats, the segment buffer only the
 * beats a not-yet-scored window can still read ({@code BeatWindows.oldestNeeded}), plus at most one beat that jumped
 * ahead of the patient's clock. Stored with {@link PatientStateSerializer}; equality is by content (the beats held,
 * not the arrays' spare capacity).
 */
public class PatientState {
    public static final long NO_TIMER = Long.MIN_VALUE;
    /** No beat: {@link #aheadTs} empty, {@link #clock()} of a patient without beats. */
    public static final long NONE = Long.MIN_VALUE;

    /** Beats waiting for the patient's own clock to pass them by the allowed lateness, in arrival order (unsorted). */
    public long[] pendingTs = new long[8];
    public double[] pendingRr = new double[8];
    public int pendingCount;

    /** The current segment's retained beats: segment indices {@code segBase .. segBase + segLen - 1}, in time order. */
    public long[] segTs = new long[32];
    public double[] segRr = new double[32];
    public int segBase;
    public int segLen;
    /** Beats released into the segment so far (the segment's length n). */
    public int segSeen;
    /** Segment index of the first beat not scored yet. */
    public int nextToScore;

    /** Time of the newest beat released in order; anything at or before it is a duplicate or too late. */
    public long lastReleasedTs = Long.MIN_VALUE;
    /**
     * When the broker took the last accepted beat (its record's timestamp, on the input clock), for the idle flush
     * and the retention; processing time in state written before the input clock.
     */
    public long lastArrivalMs;
    /** The patient's idle check: an event-time timer on the input clock (a processing-time one in older state). */
    public long idleTimerAt = NO_TIMER;
    /** An event-time timer left by a version that ordered beats by watermarks; deleted on the patient's next beat. */
    public long eventTimerAt = NO_TIMER;
    /**
     * A beat far ahead of the patient's clock (the first after a pause, or a wrong clock), held until the patient's
     * next beat says which: {@link #NONE} if there is none.
     */
    public long aheadTs = NONE;
    public double aheadRr;

    public PatientState() {}

    /** True if a beat with this time is waiting or still retained in the segment (a duplicate). */
    public boolean holds(long ts) {
        if (ts == aheadTs) {
            return true;
        }
        for (int k = 0; k < pendingCount; k++) {
            if (pendingTs[k] == ts) {
                return true;
            }
        }
        for (int k = segLen - 1; k >= 0; k--) {
            if (segTs[k] == ts) {
                return true;
            }
            if (segTs[k] < ts) {
                return false;
            }
        }
        return false;
    }

    public void addPending(long ts, double rr) {
        if (pendingCount == pendingTs.length) {
            pendingTs = Arrays.copyOf(pendingTs, pendingCount * 2);
            pendingRr = Arrays.copyOf(pendingRr, pendingCount * 2);
        }
        pendingTs[pendingCount] = ts;
        pendingRr[pendingCount] = rr;
        pendingCount++;
    }

    /**
     * The patient's own event-time clock: its newest beat in order (released or waiting), not counting a beat held
     * ahead; {@link #NONE} before the first.
     */
    public long clock() {
        long clock = lastReleasedTs;
        for (int k = 0; k < pendingCount; k++) {
            clock = Math.max(clock, pendingTs[k]);
        }
        return clock;
    }

    public boolean hasAhead() {
        return aheadTs != NONE;
    }

    /** Moves the beat held ahead to the waiting beats: the patient's clock did move there. */
    public void takeAhead() {
        addPending(aheadTs, aheadRr);
        aheadTs = NONE;
        aheadRr = 0;
    }

    /** Index in the pending arrays of the oldest waiting beat, or -1. */
    public int oldestPending() {
        int min = -1;
        for (int k = 0; k < pendingCount; k++) {
            if (min < 0 || pendingTs[k] < pendingTs[min]) {
                min = k;
            }
        }
        return min;
    }

    /** Moves waiting beat {@code k} to the end of the segment. */
    public void release(int k) {
        appendToSegment(pendingTs[k], pendingRr[k]);
        pendingCount--;
        pendingTs[k] = pendingTs[pendingCount];
        pendingRr[k] = pendingRr[pendingCount];
    }

    private void appendToSegment(long ts, double rr) {
        if (segLen == segTs.length) {
            segTs = Arrays.copyOf(segTs, segLen * 2);
            segRr = Arrays.copyOf(segRr, segLen * 2);
        }
        segTs[segLen] = ts;
        segRr[segLen] = rr;
        segLen++;
        segSeen++;
        lastReleasedTs = ts;
    }

    /** RR of segment beat {@code i} (must still be retained). */
    public double rrAt(int i) {
        return segRr[i - segBase];
    }

    public long tsAt(int i) {
        return segTs[i - segBase];
    }

    /** Forgets the segment's beats before index {@code keepFrom}. */
    public void dropBefore(int keepFrom) {
        int drop = keepFrom - segBase;
        if (drop <= 0) {
            return;
        }
        System.arraycopy(segTs, drop, segTs, 0, segLen - drop);
        System.arraycopy(segRr, drop, segRr, 0, segLen - drop);
        segLen -= drop;
        segBase = keepFrom;
    }

    /** Ends the segment: the next beat starts a new one. Keeps {@link #lastReleasedTs} for late/duplicate checks. */
    public void endSegment() {
        segBase = 0;
        segLen = 0;
        segSeen = 0;
        nextToScore = 0;
    }

    public boolean hasBeats() {
        return pendingCount > 0 || segLen > 0 || hasAhead();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PatientState other)) {
            return false;
        }
        return pendingCount == other.pendingCount && segLen == other.segLen && segBase == other.segBase
                && segSeen == other.segSeen && nextToScore == other.nextToScore
                && lastReleasedTs == other.lastReleasedTs && lastArrivalMs == other.lastArrivalMs
                && idleTimerAt == other.idleTimerAt && eventTimerAt == other.eventTimerAt
                && aheadTs == other.aheadTs && Double.compare(aheadRr, other.aheadRr) == 0
                && Arrays.equals(pendingTs, 0, pendingCount, other.pendingTs, 0, pendingCount)
                && Arrays.equals(pendingRr, 0, pendingCount, other.pendingRr, 0, pendingCount)
                && Arrays.equals(segTs, 0, segLen, other.segTs, 0, segLen)
                && Arrays.equals(segRr, 0, segLen, other.segRr, 0, segLen);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pendingCount, segLen, segBase, segSeen, nextToScore, lastReleasedTs);
    }
}
