package io.cardiospike.drift;

import java.util.Arrays;

/**
 * One statistic's reference distribution: bin edges (strictly ascending) and the fraction of the training beats in
 * each of the {@code edges.length + 1} bins. A value {@code v} lies in bin {@code i} when {@code i} edges are
 * {@code <= v}; the fractions were counted with the same rule, so ties at an edge cannot skew the comparison.
 */
public record Bins(double[] edges, double[] fractions) {
    public Bins {
        if (fractions.length != edges.length + 1) {
            throw new IllegalArgumentException(edges.length + " edges need " + (edges.length + 1) + " fractions, not "
                    + fractions.length);
        }
        for (int i = 1; i < edges.length; i++) {
            if (!(edges[i] > edges[i - 1])) {
                throw new IllegalArgumentException("edges must ascend strictly: " + Arrays.toString(edges));
            }
        }
        double sum = 0;
        for (double f : fractions) {
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException("fractions must lie in [0, 1]: " + Arrays.toString(fractions));
            }
            sum += f;
        }
        if (Math.abs(sum - 1) > 1e-3) {
            throw new IllegalArgumentException("fractions must add up to 1, not " + sum);
        }
    }

    /** A rate as two bins: {@code 1 - rate} of the beats at 0, {@code rate} at 1 (values are 0 or 1). */
    public static Bins rate(double rate) {
        return new Bins(new double[] {0.5}, new double[] {1 - rate, rate});
    }

    public int count() {
        return fractions.length;
    }

    /** The bin of {@code v}; at most nine edges, so a scan beats a binary search. NaN: -1 (not counted). */
    public int bin(double v) {
        if (Double.isNaN(v)) {
            return -1;
        }
        int i = 0;
        while (i < edges.length && v >= edges[i]) {
            i++;
        }
        return i;
    }

    /**
     * Deciles of {@code values} (NaN left out) as edges, each kept only when above the last one kept and above the
     * smallest value, so that no bin is empty in the reference itself; then the fraction in each bin.
     */
    public static Bins deciles(double[] values) {
        double[] sorted = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no values to take deciles of");
        }
        double[] edges = new double[9];
        int n = 0;
        double last = sorted[0];
        for (int k = 1; k <= 9; k++) {
            double q = round(sorted[(int) ((long) k * sorted.length / 10)]);
            if (q > last) {
                edges[n++] = q;
                last = q;
            }
        }
        edges = Arrays.copyOf(edges, n);
        long[] counts = new long[n + 1];
        Bins shape = new Bins(edges, uniform(n + 1));
        for (double v : sorted) {
            counts[shape.bin(v)]++;
        }
        double[] fractions = new double[n + 1];
        for (int i = 0; i <= n; i++) {
            fractions[i] = (double) counts[i] / sorted.length;
        }
        return new Bins(edges, fractions);
    }

    private static double[] uniform(int bins) {
        double[] f = new double[bins];
        Arrays.fill(f, 1.0 / bins);
        return f;
    }

    /** Six significant digits: the manifest stays readable, and the fractions are counted with the rounded edges. */
    static double round(double v) {
        return v == 0 || Double.isInfinite(v) ? v
                : new java.math.BigDecimal(v).round(new java.math.MathContext(6)).doubleValue();
    }
}
