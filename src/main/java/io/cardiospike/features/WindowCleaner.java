package io.cardiospike.features;

import io.cardiospike.rr.Artifacts;

/**
 * Replaces artifact beats of a raw window by values the models can use. Only the window itself is read, so a beat's
 * model input depends on nothing but its window (which keeps stream and batch identical).
 *
 * <p>Rule: an artifact between two valid beats of the window is linearly interpolated between them (by position);
 * artifacts before the first or after the last valid beat take that beat's value; a window without any valid beat
 * becomes the constant {@link #FALLBACK_RR_MS}.
 */
public final class WindowCleaner {
    public static final double FALLBACK_RR_MS = 800.0;

    private WindowCleaner() {}

    public static double[] clean(double[] raw) {
        int n = raw.length;
        double[] out = new double[n];
        int prevValid = -1;
        for (int k = 0; k < n; k++) {
            if (!Artifacts.isArtifact(raw[k])) {
                out[k] = raw[k];
                if (prevValid < 0) {
                    for (int j = 0; j < k; j++) {
                        out[j] = raw[k];
                    }
                } else {
                    for (int j = prevValid + 1; j < k; j++) {
                        double f = (double) (j - prevValid) / (k - prevValid);
                        out[j] = raw[prevValid] + f * (raw[k] - raw[prevValid]);
                    }
                }
                prevValid = k;
            }
        }
        double tail = prevValid < 0 ? FALLBACK_RR_MS : raw[prevValid];
        for (int j = prevValid + 1; j < n; j++) {
            out[j] = tail;
        }
        return out;
    }

    public static int artifactCount(double[] raw) {
        int c = 0;
        for (double v : raw) {
            if (Artifacts.isArtifact(v)) {
                c++;
            }
        }
        return c;
    }
}
