package io.cardiospike.drift;

/**
 * The population stability index of observed bin counts against a reference's fractions:
 * {@code sum (a - e) ln(a / e)} over the bins, with both fractions floored at {@link #EPSILON} so that an empty bin
 * adds a large but finite term. 0 for the same distribution; by convention below 0.1 is stable, above 0.2 a shift.
 */
public final class Psi {
    /** The floor of an empty bin's fraction: a bin empty on one side adds about {@code f ln(f / 1e-4)}. */
    public static final double EPSILON = 1e-4;

    private Psi() {}

    /** PSI of {@code counts[from .. from + e.length)} (adding up to {@code total}) against {@code expected}. */
    public static double of(long[] counts, int from, long total, double[] expected) {
        double psi = 0;
        for (int i = 0; i < expected.length; i++) {
            double a = Math.max((double) counts[from + i] / total, EPSILON);
            double e = Math.max(expected[i], EPSILON);
            psi += (a - e) * Math.log(a / e);
        }
        return psi;
    }

    /** PSI of two distributions given as fractions. */
    public static double of(double[] actual, double[] expected) {
        double psi = 0;
        for (int i = 0; i < expected.length; i++) {
            double a = Math.max(actual[i], EPSILON), e = Math.max(expected[i], EPSILON);
            psi += (a - e) * Math.log(a / e);
        }
        return psi;
    }
}
