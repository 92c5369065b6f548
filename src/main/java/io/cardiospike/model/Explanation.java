package io.cardiospike.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Why the ensemble scored one beat as it did: the features that pushed LightGBM's log-odds most (exact TreeSHAP
 * contributions, as LightGBM's {@code pred_contrib}), each model's term in the stacker's log-odds, and the raw window
 * the beat was scored on, so that a reader can draw the onset. Built by {@link EnsembleScorer#explain} for the beats
 * that are alerted or shown only: one costs about 0.1 ms of CPU when 64 are explained together (the stream's
 * waiting alerts, a recording's flagged beats), about 1.7 ms alone; nearly all of it is TreeSHAP over 250 trees of
 * 31 leaves, as much as 7 scored beats. {@code bench stream} reports their count and cost ({@link ScorerStages}).
 *
 * @param reasons     the {@link #REASONS} features with the largest |contribution|, largest first
 * @param lgbmExpected LightGBM's expected raw score (the contributions' base): margin = expected + all contributions
 * @param lgbmMargin  LightGBM's raw score of the beat
 * @param shares      the stacker's terms: one per input, then the intercept
 * @param logOdds     the stacker's log-odds: the sum of the shares' terms
 * @param proba       the beat's anomaly probability, {@code sigmoid(logOdds)}
 * @param window      the raw RR window (ms): past beats, the beat, lookahead beats
 * @param beatIndex   the explained beat's index in {@code window}
 */
public record Explanation(List<Reason> reasons, double lgbmExpected, double lgbmMargin, List<Share> shares,
                          double logOdds, double proba, double[] window, int beatIndex) {
    /** Features reported per explanation. */
    public static final int REASONS = 5;

    /**
     * One feature's push on LightGBM's log-odds.
     *
     * @param feature      the feature's key ({@code rel_0})
     * @param value        its value in this window
     * @param contribution its TreeSHAP contribution to the LightGBM margin (log-odds; above 0 towards an anomaly)
     * @param text         what it says, for a clinician ("RR 14 % above the window median")
     */
    public record Reason(String feature, double value, double contribution, String text) {}

    /**
     * One term of the stacker's log-odds.
     *
     * @param input   {@code lgbm_margin}, {@code cnn_logit}, {@code artifact_c} or {@code intercept}
     * @param value   the input (1 for the intercept)
     * @param coef    its coefficient (the intercept itself for the intercept)
     * @param logOdds {@code coef * value}
     * @param share   {@code logOdds} over the sum of all terms' absolute values: signed, |shares| sum to 1
     */
    public record Share(String input, double value, double coef, double logOdds, double share) {}

    /** The wire form (snake_case), shared by the API and the {@code rr-alerts} records. */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reasons", reasons.stream().map(r -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("feature", r.feature());
            e.put("value", finite(r.value()));
            e.put("contribution", r.contribution());
            e.put("text", r.text());
            return e;
        }).toList());
        m.put("lightgbm_expected", lgbmExpected);
        m.put("lightgbm_margin", lgbmMargin);
        m.put("stacker", shares.stream().map(s -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("input", s.input());
            e.put("value", s.value());
            e.put("coef", s.coef());
            e.put("log_odds", s.logOdds());
            e.put("share", s.share());
            return e;
        }).toList());
        m.put("log_odds", logOdds);
        m.put("proba", proba);
        m.put("window_rr", window);
        m.put("beat_index", beatIndex);
        return m;
    }

    /** JSON has no NaN or infinity (a ratio over a 0 ms beat cannot occur after cleaning, but never write one). */
    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
