package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.ml.lightgbm.PredictionType;
import io.cardiospike.features.BeatWindows;
import io.cardiospike.features.WindowEncoder;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import io.github.metarank.lightgbm4j.LGBMBooster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java tree walk against LightGBM's own native predictor (the library the model was trained with, through
 * lightgbm4j, a test dependency only): every margin must be the same double, on real feature rows and on rows
 * salted with the values where split rules differ (NaN, zeros, values just around 0 and on the thresholds).
 */
class LightGbmParityTest {
    private static final Path MODEL = Path.of("models").resolve(EnsembleScorer.LIGHTGBM_FILE);

    @Test
    void theCommittedModelScoresAsLightGbmDoes() throws Exception {
        assertSameMargins(MODEL);
    }

    /**
     * The committed model's splits have no missing-value rule; this variant gives them every rule LightGBM knows
     * (missing type none, zero or NaN, default left or right), which takes the general walk.
     */
    @Test
    void everyMissingValueRuleScoresAsLightGbmDoes(@TempDir Path dir) throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        assertSameMargins(variant(dir, "decision_type", t -> {
            int missing = random.nextInt(3), defaultLeft = random.nextInt(2);
            return String.valueOf((missing << 2) | (defaultLeft << 1));
        }));
    }

    /** Thresholds of 0 and -0.0 (the same split), which the fast walk's sign-bit comparison must treat alike. */
    @Test
    void zeroThresholdsScoreAsLightGbmDoes(@TempDir Path dir) throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        assertSameMargins(variant(dir, "threshold", t -> switch (random.nextInt(4)) {
            case 0 -> "-0";
            case 1 -> "0";
            default -> t;
        }));
    }

    /**
     * TreeSHAP against LightGBM's own {@code pred_contrib} (to 1e-6), real rows and salted ones, and each row's
     * contributions sum to its margin: the committed model and the one with every missing-value rule.
     */
    @Test
    void contributionsAreLightGbmsPredContrib() throws Exception {
        assertSameContributions(MODEL);
    }

    @Test
    void contributionsUnderEveryMissingValueRuleAreLightGbms(@TempDir Path dir) throws Exception {
        SplittableRandom random = new SplittableRandom(5);
        assertSameContributions(variant(dir, "decision_type", t -> {
            int missing = random.nextInt(3), defaultLeft = random.nextInt(2);
            return String.valueOf((missing << 2) | (defaultLeft << 1));
        }));
    }

    private static void assertSameContributions(Path file) throws Exception {
        String text = Files.readString(file);
        LightGbm walk = new LightGbm(file, new WindowEncoder(spec()).features().count());
        int f = walk.featureCount();
        double[] all = rows(f, splits(text));
        // every 7th row, real and salted (about 1,300): TreeSHAP costs about a hundred times a margin, natively too
        int n = (all.length / f + 6) / 7;
        double[] rows = new double[n * f];
        for (int r = 0; r < n; r++) {
            System.arraycopy(all, 7 * r * f, rows, r * f, f);
        }
        double[] margins = walk.margins(rows, n);
        LGBMBooster.loadNative();
        try (LGBMBooster nativeBooster = LGBMBooster.loadModelFromString(text)) {
            double[] expected = nativeBooster.predictForMat(rows, n, f, true, PredictionType.C_API_PREDICT_CONTRIB);
            assertThat(expected).hasSize(n * (f + 1));
            int nonZero = 0;
            double[][] alone = new double[n][];
            for (int r = 0; r < n; r++) {
                double[] phi = walk.contributions(rows, r * f);
                alone[r] = phi;
                double sum = 0;
                for (int k = 0; k <= f; k++) {
                    if (Math.abs(phi[k] - expected[r * (f + 1) + k]) > 1e-6) {
                        assertThat(phi[k]).as("row %d feature %d", r, k).isCloseTo(expected[r * (f + 1) + k],
                                org.assertj.core.data.Offset.offset(1e-6));
                    }
                    sum += phi[k];
                    nonZero += k < f && phi[k] != 0 ? 1 : 0;
                }
                if (Math.abs(sum - margins[r]) > 1e-9) {
                    assertThat(sum).as("row %d: contributions sum to the margin", r)
                            .isCloseTo(margins[r], org.assertj.core.data.Offset.offset(1e-9));
                }
            }
            assertThat(nonZero).as("contributions that are not 0").isGreaterThan(n * 10);
            // rows explained together (the stream's alerts of one batch; more than one walk's block) as alone
            for (int size : new int[] {3, 70}) {
                for (int from = 0; from < n; from += size) {
                    double[][] together = new double[Math.min(size, n - from)][];
                    for (int k = 0; k < together.length; k++) {
                        together[k] = java.util.Arrays.copyOfRange(rows, (from + k) * f, (from + k + 1) * f);
                    }
                    double[][] phi = walk.contributions(together);
                    for (int k = 0; k < together.length; k++) {
                        if (!java.util.Arrays.equals(phi[k], alone[from + k])) {
                            assertThat(phi[k]).as("row %d explained with %d others", from + k, size - 1)
                                    .isEqualTo(alone[from + k]);
                        }
                    }
                }
            }
        }
    }

    /** The committed model with each value of one per-tree field rewritten. */
    private static Path variant(Path dir, String field, java.util.function.UnaryOperator<String> rewrite)
            throws Exception {
        Matcher m = Pattern.compile("(?m)^" + field + "=(.*)$").matcher(Files.readString(MODEL));
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            StringBuilder values = new StringBuilder();
            for (String v : m.group(1).trim().split(" ")) {
                values.append(values.length() == 0 ? "" : " ").append(rewrite.apply(v));
            }
            m.appendReplacement(out, field + "=" + values);
        }
        m.appendTail(out);
        // tree_sizes gives each tree's length in bytes, which the rewrite changes; without it LightGBM reads on
        Path variant = dir.resolve("variant.txt");
        Files.writeString(variant, out.toString().replaceFirst("(?m)^tree_sizes=.*\n", ""));
        return variant;
    }

    private static void assertSameMargins(Path file) throws Exception {
        String text = Files.readString(file);
        LightGbm walk = new LightGbm(file, new WindowEncoder(spec()).features().count());
        double[] rows = rows(walk.featureCount(), splits(text));
        int n = rows.length / walk.featureCount();
        LGBMBooster.loadNative();
        try (LGBMBooster nativeBooster = LGBMBooster.loadModelFromString(text)) {
            double[] expected = nativeBooster.predictForMat(rows, n, walk.featureCount(), true,
                    PredictionType.C_API_PREDICT_RAW_SCORE);
            for (int size : new int[] {n, 1, 3, 64, 65}) { // one call, and the small calls of the stream
                for (int from = 0; from < n; from += size) {
                    int rowsInCall = Math.min(size, n - from);
                    double[] call = java.util.Arrays.copyOfRange(rows, from * walk.featureCount(),
                            (from + rowsInCall) * walk.featureCount());
                    double[] margins = walk.margins(call, rowsInCall);
                    for (int r = 0; r < rowsInCall; r++) {
                        if (margins[r] != expected[from + r]) { // assertThat per row is slow at this count
                            assertThat(margins[r]).as("row %d in calls of %d", from + r, size)
                                    .isEqualTo(expected[from + r]);
                        }
                    }
                }
            }
        }
    }

    /** Real rows of the encoder, then copies salted with special values in random cells. */
    private static double[] rows(int features, long[][] splits) throws ModelBundleException {
        WindowEncoder encoder = new WindowEncoder(spec());
        List<double[]> rows = new ArrayList<>();
        for (Recording r : SyntheticRr.recordings(3, 600, 900, 5)) {
            for (int i = 0; i < r.size(); i++) {
                double[] row = new double[features];
                encoder.encode(BeatWindows.cut(r.rr(), i, encoder.spec()), row, 0, new float[encoder.netInputSize()], 0);
                rows.add(row);
            }
        }
        SplittableRandom random = new SplittableRandom(11);
        double[] special = {Double.NaN, 0.0, -0.0, 1e-36, -1e-36, 1e-35, 2e-35, -2e-35, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.MIN_VALUE};
        int real = rows.size();
        for (int i = 0; i < real; i++) {
            double[] row = rows.get(i).clone();
            for (int k = 0; k < 12; k++) {
                int split = random.nextInt(splits.length); // a split of the model, and the feature it tests
                int f = (int) splits[split][0];
                double t = Double.longBitsToDouble(splits[split][1]);
                row[f] = switch (random.nextInt(3)) {
                    case 0 -> special[random.nextInt(special.length)];
                    case 1 -> t;
                    default -> random.nextBoolean() ? Math.nextUp(t) : Math.nextDown(t);
                };
            }
            rows.add(row);
        }
        double[] flat = new double[rows.size() * features];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * features, features);
        }
        return flat;
    }

    private static io.cardiospike.features.FeatureSpec spec() throws ModelBundleException {
        return ModelManifest.load(MODEL.getParent()).spec();
    }

    /** Every split of the model as {feature, threshold's bits}. */
    private static long[][] splits(String text) {
        Matcher features = Pattern.compile("(?m)^split_feature=(.*)$").matcher(text);
        Matcher thresholds = Pattern.compile("(?m)^threshold=(.*)$").matcher(text);
        List<long[]> all = new ArrayList<>();
        while (features.find() && thresholds.find()) {
            String[] f = features.group(1).trim().split(" "), t = thresholds.group(1).trim().split(" ");
            for (int i = 0; i < f.length; i++) {
                all.add(new long[] {Long.parseLong(f[i]), Double.doubleToRawLongBits(Double.parseDouble(t[i]))});
            }
        }
        return all.toArray(long[][]::new);
    }
}
