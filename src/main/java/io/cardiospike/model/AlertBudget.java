package io.cardiospike.model;

import java.util.Arrays;

/**
 * Turns a recording's probabilities into 0/1 decisions: a beat is flagged if its probability is at or above the
 * threshold and fewer than {@code maxFlagged} of the recording's previous {@code windowBeats - 1} beats were flagged.
 *
 * <p>Why: CardioSpike's annotators labelled a bounded number of beats per recording (18-81 in every training
 * recording, whatever its length), so a recording in which the models flag hundreds of beats is not labelled that
 * way. Both limits come from the training labels (manifest {@code alert_budget}). The rule is causal, so the stream
 * decides beat by beat exactly as the batch scorer does for a whole recording; {@code cardiotrain/budget.py} is the
 * training side (checked against this one through golden.json). Probabilities are never changed.
 */
public record AlertBudget(int maxFlagged, int windowBeats) {

    public AlertBudget {
        if (maxFlagged < 1 || windowBeats < 1) {
            throw new IllegalArgumentException("alert budget needs max_flagged >= 1 and window_beats >= 1");
        }
    }

    /**
     * One recording's (or streaming patient's) place in the budget: beats decided so far and the beat numbers of
     * its flags within the window, oldest first. A plain POJO so Flink keeps it in keyed state as it is.
     */
    public static final class Tracker {
        public long beats;
        public long[] flagged = new long[0];

        public Tracker() {}

        @Override
        public boolean equals(Object o) {
            return o instanceof Tracker t && beats == t.beats && Arrays.equals(flagged, t.flagged);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(beats) * 31 + Arrays.hashCode(flagged);
        }
    }

    /** Decides the tracker's next beat: true if it is flagged. Records the beat (and the flag) in the tracker. */
    public boolean decide(Tracker t, boolean atOrAboveThreshold) {
        long beat = t.beats++;
        int expired = 0;
        while (expired < t.flagged.length && t.flagged[expired] <= beat - windowBeats) {
            expired++;
        }
        boolean flag = atOrAboveThreshold && t.flagged.length - expired < maxFlagged;
        if (expired > 0 || flag) {
            long[] kept = Arrays.copyOfRange(t.flagged, expired, t.flagged.length + (flag ? 1 : 0));
            if (flag) {
                kept[kept.length - 1] = beat;
            }
            t.flagged = kept;
        }
        return flag;
    }

    /** The decisions for a whole recording, beats in time order. */
    public int[] decide(double[] proba, double threshold) {
        Tracker t = new Tracker();
        int[] out = new int[proba.length];
        for (int i = 0; i < proba.length; i++) {
            out[i] = decide(t, proba[i] >= threshold) ? 1 : 0;
        }
        return out;
    }
}
