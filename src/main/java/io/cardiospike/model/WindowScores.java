package io.cardiospike.model;

/**
 * Per-window outputs of both models and the blend, index-aligned with the windows scored; {@code features}: the
 * feature columns the caller asked for ({@link EnsembleScorer#scoreWindows(java.util.List, int[])}), row by row
 * ({@code size() x columns}), else empty.
 */
public record WindowScores(double[] lgbmMargin, double[] cnnLogit, double[] proba, double[] features) {
    private static final double[] NONE = new double[0];

    public WindowScores(double[] lgbmMargin, double[] cnnLogit, double[] proba) {
        this(lgbmMargin, cnnLogit, proba, NONE);
    }

    public int size() {
        return proba.length;
    }
}
