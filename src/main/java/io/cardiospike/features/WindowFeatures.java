package io.cardiospike.features;

import io.cardiospike.rr.Artifacts;
import java.util.ArrayList;
import java.util.List;

/**
 * LightGBM's input for one window: a fixed, named vector computed from the raw window (artifact flags) and the
 * cleaned window {@code v} (values). With {@code c} the scored beat and {@code m} the window's median RR:
 * <ul>
 *   <li>{@code rr_c}, {@code rr_raw_c}: cleaned and raw RR of the beat (ms); {@code artifact_c}: 1 if the raw beat is an
 *       artifact; {@code artifacts}: artifact count in the window; {@code median_rr} {@code m}; {@code iqr_rr};</li>
 *   <li>{@code rel_k}: {@code v[c+k]/m - 1} for every window position {@code k};</li>
 *   <li>{@code step_j}: {@code (v[j+1]-v[j])/m}, successive differences across the window;</li>
 *   <li>{@code diff_prev_k}, {@code diff_next_k}: {@code (v[c]-v[c-k])/m} and {@code (v[c]-v[c+k])/m}, k = 1..4;</li>
 *   <li>{@code ratio_prev} {@code v[c]/v[c-1]}, {@code ratio_next} {@code v[c+1]/v[c]};</li>
 *   <li>rolling statistics (mean, std, min, max of {@code v/m}) over the past part, the future part, the beat +-2 and
 *       the beat +-4; {@code z_past}, {@code z_future}: {@code (v[c] - mean)/(std + 1 ms)} against past and future;</li>
 *   <li>HRV over the cleaned window: mean RR, SDNN (population std of RR), RMSSD (root mean square of successive
 *       differences), pNN50 (share of successive differences over 50 ms), heart rate {@code 60000/RR}: mean, std,
 *       min, max; and RMSSD of the past and of the future part alone.</li>
 * </ul>
 */
public final class WindowFeatures {
    private static final int NEIGHBOURS = 4;

    private final FeatureSpec spec;
    private final List<String> names;

    public WindowFeatures(FeatureSpec spec) {
        this.spec = spec;
        this.names = List.copyOf(buildNames());
    }

    public List<String> names() {
        return names;
    }

    public int count() {
        return names.size();
    }

    /**
     * Computes the features of a window into {@code out[offset .. offset + count())}: {@code raw} the raw window,
     * {@code v} the cleaned one and {@code sorted} the cleaned one in ascending order.
     */
    public void extract(double[] raw, double[] v, double[] sorted, double[] out, int offset) {
        int w = v.length, c = spec.centre();
        int kMax = Math.min(NEIGHBOURS, Math.min(spec.pastBeats(), spec.lookaheadBeats()));
        double m = Stats.quantile(sorted, 0.5);
        int o = offset;
        out[o++] = v[c];
        out[o++] = raw[c];
        out[o++] = Artifacts.isArtifact(raw[c]) ? 1 : 0;
        out[o++] = WindowCleaner.artifactCount(raw);
        out[o++] = m;
        out[o++] = Stats.quantile(sorted, 0.75) - Stats.quantile(sorted, 0.25);
        double[] rel = new double[w];
        for (int k = 0; k < w; k++) {
            rel[k] = v[k] / m;
            out[o++] = rel[k] - 1;
        }
        for (int j = 0; j + 1 < w; j++) {
            out[o++] = (v[j + 1] - v[j]) / m;
        }
        for (int k = 1; k <= kMax; k++) {
            out[o++] = (v[c] - v[c - k]) / m;
            out[o++] = (v[c] - v[c + k]) / m;
        }
        out[o++] = v[c] / v[c - 1];
        out[o++] = v[c + 1] / v[c];
        int[][] segments = segments(w, c);
        for (int[] s : segments) {
            out[o++] = Stats.mean(rel, s[0], s[1]);
            out[o++] = Stats.std(rel, s[0], s[1]);
            out[o++] = Stats.min(rel, s[0], s[1]);
            out[o++] = Stats.max(rel, s[0], s[1]);
        }
        out[o++] = (v[c] - Stats.mean(v, 0, c)) / (Stats.std(v, 0, c) + 1);
        out[o++] = (v[c] - Stats.mean(v, c + 1, w)) / (Stats.std(v, c + 1, w) + 1);
        double[] hr = new double[w];
        for (int k = 0; k < w; k++) {
            hr[k] = 60000.0 / v[k];
        }
        out[o++] = Stats.mean(v, 0, w);
        out[o++] = Stats.std(v, 0, w);
        out[o++] = rmssd(v, 0, w);
        out[o++] = pnn50(v);
        out[o++] = Stats.mean(hr, 0, w);
        out[o++] = Stats.std(hr, 0, w);
        out[o++] = Stats.min(hr, 0, w);
        out[o++] = Stats.max(hr, 0, w);
        out[o++] = rmssd(v, 0, c + 1);
        out[o++] = rmssd(v, c, w);
        if (o - offset != names.size()) {
            throw new IllegalStateException("feature count mismatch: " + (o - offset) + " vs " + names.size());
        }
    }

    private static int[][] segments(int w, int c) {
        return new int[][] {
            {0, c}, {c + 1, w}, {Math.max(0, c - 2), Math.min(w, c + 3)}, {Math.max(0, c - 4), Math.min(w, c + 5)}
        };
    }

    private static double rmssd(double[] v, int from, int to) {
        double s = 0;
        for (int i = from + 1; i < to; i++) {
            s += (v[i] - v[i - 1]) * (v[i] - v[i - 1]);
        }
        return Math.sqrt(s / (to - from - 1));
    }

    private static double pnn50(double[] v) {
        int c = 0;
        for (int i = 1; i < v.length; i++) {
            if (Math.abs(v[i] - v[i - 1]) > 50) {
                c++;
            }
        }
        return (double) c / (v.length - 1);
    }

    private List<String> buildNames() {
        int w = spec.windowSize(), p = spec.pastBeats();
        int kMax = Math.min(NEIGHBOURS, Math.min(spec.pastBeats(), spec.lookaheadBeats()));
        List<String> n = new ArrayList<>(List.of("rr_c", "rr_raw_c", "artifact_c", "artifacts", "median_rr", "iqr_rr"));
        for (int k = 0; k < w; k++) {
            n.add("rel_" + (k - p));
        }
        for (int j = 0; j + 1 < w; j++) {
            n.add("step_" + (j - p));
        }
        for (int k = 1; k <= kMax; k++) {
            n.add("diff_prev_" + k);
            n.add("diff_next_" + k);
        }
        n.add("ratio_prev");
        n.add("ratio_next");
        for (String s : new String[] {"past", "future", "near2", "near4"}) {
            for (String stat : new String[] {"mean", "std", "min", "max"}) {
                n.add(s + "_" + stat);
            }
        }
        n.addAll(List.of("z_past", "z_future", "mean_rr", "sdnn", "rmssd", "pnn50", "hr_mean", "hr_std", "hr_min",
                "hr_max", "rmssd_past", "rmssd_future"));
        return n;
    }
}
