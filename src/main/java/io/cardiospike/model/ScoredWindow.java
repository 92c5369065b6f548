package io.cardiospike.model;

/**
 * A raw window as {@link EnsembleScorer#scoreWindows} scored it: what {@link EnsembleScorer#explain(java.util.List)}
 * reuses instead of running the models again (a window's scores are the same doubles in any call).
 *
 * @param window     the raw RR window (ms), as {@link io.cardiospike.features.BeatWindows} cuts it
 * @param lgbmMargin its LightGBM raw score ({@link WindowScores#lgbmMargin})
 * @param cnnLogit   its CardioNet logit ({@link WindowScores#cnnLogit})
 */
public record ScoredWindow(double[] window, double lgbmMargin, double cnnLogit) {}
