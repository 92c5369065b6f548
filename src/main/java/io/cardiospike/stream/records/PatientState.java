package io.cardiospike.stream.records;

import java.util.Arrays;

/**
 * Everything the scorer keeps for one patient, stored as one RocksDB value so a beat costs one read and one write.
 * Bounded: the out-of-order buffer holds at most the allowed lateness worth of beats, the segment buffer only the
 * beats a not-yet-scored window can still read ({@code BeatWindows.oldestNeeded}). Flink POJO.
 */
public class PatientState {
    public static final long NO_TIMER = Long.MIN_VALUE;

    /** Beats waiting for the watermark to pass them, in arrival order (unsorted). */
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

    /** The open anomaly episode; {@code episodeBeats == 0} when none is open. */
    public int episodeBeats;
    public long episodeStartTs;
    public long episodeEndTs;
    public double episodeMaxProba;
    public double episodeSumProba;

    /** Time of the newest beat released in order; anything at or before it is a duplicate or too late. */
    public long lastReleasedTs = Long.MIN_VALUE;
    /** Processing time of the last accepted beat, for the idle flush. */
    public long lastArrivalMs;
    public long idleTimerAt = NO_TIMER;
    public long eventTimerAt = NO_TIMER;

    public PatientState() {}

    /** True if a beat with this time is waiting or still retained in the segment (a duplicate). */
    public boolean holds(long ts) {
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

    public long minPendingTs() {
        long min = Long.MAX_VALUE;
        for (int k = 0; k < pendingCount; k++) {
            min = Math.min(min, pendingTs[k]);
        }
        return min;
    }

    /** Moves the waiting beats with {@code ts <= bound} into the segment in time order; returns how many. */
    public int releaseUpTo(long bound) {
        int released = 0;
        while (pendingCount > 0) {
            int min = 0;
            for (int k = 1; k < pendingCount; k++) {
                if (pendingTs[k] < pendingTs[min]) {
                    min = k;
                }
            }
            if (pendingTs[min] > bound) {
                break;
            }
            appendToSegment(pendingTs[min], pendingRr[min]);
            pendingCount--;
            pendingTs[min] = pendingTs[pendingCount];
            pendingRr[min] = pendingRr[pendingCount];
            released++;
        }
        return released;
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
        episodeBeats = 0;
    }

    public boolean hasBeats() {
        return pendingCount > 0 || segLen > 0;
    }
}
