package io.cardiospike.model;

/** Per-window outputs of both models and the blend, index-aligned with the windows scored. */
public record WindowScores(double[] lgbmMargin, double[] cnnLogit, double[] proba) {
    public int size() {
        return proba.length;
    }
}
