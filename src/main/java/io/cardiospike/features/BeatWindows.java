package io.cardiospike.features;

import java.util.function.IntToDoubleFunction;

/**
 * Cuts the window of a beat out of a segment of consecutive beats. Beyond the segment's edges the window is
 * mirror-padded: index -k reads beat k and index n-1+k reads beat n-1-k (reflection without repeating the edge
 * beat, repeated as often as needed for very short segments).
 *
 * <p>The batch scorer and the streaming job both cut windows here. A stream that has seen {@code nSeen} beats of a
 * segment can cut beat {@code i}'s final window as soon as {@link #isComplete} holds: the window then never reflects
 * at the right edge, and reflection at the left edge does not depend on the segment's length.
 */
public final class BeatWindows {
    private BeatWindows() {}

    /** Maps a (possibly out-of-range) index into [0, n). */
    public static int reflect(int j, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int k = Math.floorMod(j, period);
        return k < n ? k : period - k;
    }

    /** The raw window of beat {@code i} in a segment of {@code n} beats read through {@code beatAt}. */
    public static double[] cut(IntToDoubleFunction beatAt, int n, int i, FeatureSpec spec) {
        double[] w = new double[spec.windowSize()];
        for (int k = 0; k < w.length; k++) {
            w[k] = beatAt.applyAsDouble(reflect(i - spec.pastBeats() + k, n));
        }
        return w;
    }

    public static double[] cut(double[] rr, int i, FeatureSpec spec) {
        return cut(j -> rr[j], rr.length, i, spec);
    }

    /** True when beat {@code i}'s window is final although the segment may still grow beyond {@code nSeen}. */
    public static boolean isComplete(int i, int nSeen, FeatureSpec spec) {
        return i + spec.lookaheadBeats() <= nSeen - 1 && spec.pastBeats() - i <= nSeen - 1;
    }

    /**
     * The lowest segment index the window of any beat {@code >= i} can read (for trimming a stream's buffer),
     * whether the segment goes on or ends.
     */
    public static int oldestNeeded(int i, FeatureSpec spec) {
        return Math.max(0, i - Math.max(spec.pastBeats(), spec.lookaheadBeats()));
    }
}
