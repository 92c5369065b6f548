package io.cardiospike.features;

import java.util.Arrays;

/** Small statistics over arrays, with the exact definitions the features document. */
final class Stats {
    private Stats() {}

    static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }

    /** Population standard deviation (divides by n). */
    static double std(double[] v, int from, int to) {
        double m = mean(v, from, to), s = 0;
        for (int i = from; i < to; i++) {
            s += (v[i] - m) * (v[i] - m);
        }
        return Math.sqrt(s / (to - from));
    }

    static double min(double[] v, int from, int to) {
        double m = Double.POSITIVE_INFINITY;
        for (int i = from; i < to; i++) {
            m = Math.min(m, v[i]);
        }
        return m;
    }

    static double max(double[] v, int from, int to) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            m = Math.max(m, v[i]);
        }
        return m;
    }

    /** Quantile with linear interpolation between order statistics (numpy's default, "linear"). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    static double[] sortedCopy(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s;
    }
}
