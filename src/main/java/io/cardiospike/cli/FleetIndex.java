package io.cardiospike.cli;

/**
 * The beats {@code bench stream} sent lately, per synthetic patient, so that a committed score or alert, which names
 * (patient, ts), finds the beat whose arrival completed that beat's window: the one {@code lookahead} beats later, or
 * the first after it by the allowed lateness (the job releases a beat only when the patient's clock has passed it by
 * that much). Latency runs from that beat's send to the record's read.
 *
 * <p>Sized for a million patients: a ring of the last {@code capacity} beats per patient, times as ints (ms from the
 * patient's first beat, ms from the run's start), 8 bytes a beat. A score whose beats have left the ring is not
 * measured (the ring is sized to hold more than a patient sends while its score is on the way).
 */
final class FleetIndex {
    private final int capacity;
    private final int lookahead;
    private final long latenessMs;
    private final long startNanos = System.nanoTime();
    private final long[] firstTs;
    private final int[] count;
    private final int[] tsOffset;
    private final int[] sentMs;

    FleetIndex(int patients, int lookahead, long latenessMs) {
        // A patient sends (events/s / patients) beats a second: hold about 8 M beats in all, 16..1024 per patient.
        this.capacity = (int) Math.max(16, Math.min(1024, 8_000_000L / patients));
        this.lookahead = lookahead;
        this.latenessMs = latenessMs;
        this.firstTs = new long[patients];
        this.count = new int[patients];
        this.tsOffset = new int[patients * capacity];
        this.sentMs = new int[patients * capacity];
    }

    /** The fleet's patient number of {@code patient-0042} (41); -1 for any other key. */
    static int patient(String key) {
        if (key == null || !key.startsWith("patient-")) {
            return -1;
        }
        try {
            return Integer.parseInt(key, 8, key.length(), 10) - 1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Beat {@code ts} of patient {@code p} was handed to the producer now; a patient's beats come in time order. */
    synchronized void sent(int p, long ts) {
        if (p < 0 || p >= count.length) {
            return;
        }
        if (count[p] == 0) {
            firstTs[p] = ts;
        }
        int slot = p * capacity + count[p] % capacity;
        tsOffset[slot] = (int) (ts - firstTs[p]);
        sentMs[slot] = (int) ((System.nanoTime() - startNanos) / 1_000_000);
        count[p]++;
    }

    /**
     * Milliseconds from the send of the beat that completed the window of patient {@code p}'s beat {@code ts} to
     * {@code readNanos}; -1 if that is not known (not sent by this index, left the ring, or a segment's end scored it).
     */
    synchronized long latencyMs(int p, long ts, long readNanos) {
        if (p < 0 || p >= count.length || count[p] == 0) {
            return -1;
        }
        int n = count[p], oldest = Math.max(0, n - capacity);
        long target = ts - firstTs[p];
        int lo = oldest, hi = n - 1, k = -1;
        while (lo <= hi) { // the patient's beats are in time order
            int mid = (lo + hi) >>> 1;
            long at = tsOffset[p * capacity + mid % capacity];
            if (at < target) {
                lo = mid + 1;
            } else if (at > target) {
                hi = mid - 1;
            } else {
                k = mid;
                break;
            }
        }
        if (k < 0 || k + lookahead >= n) {
            return -1;
        }
        long lastOfWindow = tsOffset[p * capacity + (k + lookahead) % capacity];
        for (int c = k + lookahead; c < n; c++) {
            int slot = p * capacity + c % capacity;
            if (tsOffset[slot] >= lastOfWindow + latenessMs) { // the patient's clock passed it: released
                return (readNanos - startNanos) / 1_000_000 - sentMs[slot];
            }
        }
        return -1;
    }
}
