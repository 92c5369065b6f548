package io.cardiospike.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The LightGBM text model (numerical splits, one tree per iteration: our binary classifier) evaluated in Java. It
 * reproduces LightGBM's own predictor bit for bit (LightGbmParityTest checks it against the native library): a row's
 * raw score is the sum, in tree order and in double, of one leaf value per tree, and each split follows LightGBM's
 * {@code Tree::NumericalDecision}, missing-value rules included.
 *
 * <p>Why not the native library: through its JNI binding a row cost about 20 us, of which the walk of 250 trees
 * (about 1,500 nodes) is a small part; the rest was copying the matrix cell by cell through JNI, parsing prediction
 * parameters on every call, and, for the stream's small calls, a lock per booster. In Java the walk runs on the
 * caller's arrays, with no lock and no native library to unpack at start-up.
 *
 * <p>All trees are flattened into shared node arrays, splits first, then leaves. Immutable and thread-safe.
 */
final class LightGbm {
    /** LightGBM's {@code kZeroThreshold} (a float, 1e-35f): values this close to 0 count as 0. */
    private static final double ZERO_THRESHOLD = 1e-35f;
    private static final int MISSING_ZERO = 1, MISSING_NAN = 2; // 0: none
    private static final int DEFAULT_LEFT_MASK = 2, CATEGORICAL_MASK = 1;

    /** Rows walked side by side in the fast walk. */
    private static final int BLOCK = 64;

    private final int featureCount;
    /** True when no split has a missing-value rule (LightGBM's default for features seen without NaN). */
    private final boolean onlyPlainSplits;
    // All trees in one layout: nodes 0..splits-1 are the splits, splits + k the k-th leaf, whose children are itself.
    private final int splits;
    private final int[] roots; // per tree
    private final int[] depth; // per tree: the longest path from its root to a leaf
    private final int[] feature;
    private final double[] threshold;
    private final byte[] missingType;
    private final boolean[] defaultLeft;
    private final int[] children; // node n: left at 2n, right at 2n + 1
    private final double[] value; // of the leaves
    private final double[] count; // training rows that reached each node (internal_count, leaf_count): for TreeSHAP
    private final double[] expected; // per tree: the mean of its leaf values over the training rows
    private final int maxDepth;

    LightGbm(Path modelFile, int expectedFeatures) throws ModelBundleException {
        List<String> lines;
        try {
            lines = Files.readAllLines(modelFile);
        } catch (IOException e) {
            throw new ModelBundleException(modelFile + ": cannot read it: " + e.getMessage(), e);
        }
        try {
            Map<String, String> header = new HashMap<>();
            List<Map<String, String>> trees = new ArrayList<>();
            Map<String, String> current = header;
            for (String line : lines) {
                if (line.equals("end of trees")) {
                    break;
                }
                int eq = line.indexOf('=');
                if (eq <= 0) {
                    continue;
                }
                if (line.startsWith("Tree=")) {
                    current = new HashMap<>();
                    trees.add(current);
                }
                current.put(line.substring(0, eq), line.substring(eq + 1));
            }
            featureCount = Integer.parseInt(require(header, "max_feature_idx")) + 1;
            if (!header.getOrDefault("num_tree_per_iteration", "1").equals("1")) {
                throw new ModelBundleException(modelFile + ": a multi-class model; the scorer takes one tree per "
                        + "iteration");
            }
            if (trees.isEmpty()) {
                throw new ModelBundleException(modelFile + ": the model has no trees");
            }
            int nodes = 0, leaves = 0;
            for (Map<String, String> t : trees) {
                int n = Integer.parseInt(require(t, "num_leaves"));
                leaves += n;
                nodes += n - 1;
            }
            splits = nodes;
            roots = new int[trees.size()];
            depth = new int[trees.size()];
            feature = new int[nodes + leaves];
            threshold = new double[nodes + leaves];
            missingType = new byte[nodes];
            defaultLeft = new boolean[nodes];
            children = new int[2 * (nodes + leaves)];
            value = new double[nodes + leaves];
            count = new double[nodes + leaves];
            expected = new double[trees.size()];
            int nodeBase = 0, leafBase = nodes;
            for (int ti = 0; ti < trees.size(); ti++) {
                Map<String, String> t = trees.get(ti);
                int n = Integer.parseInt(require(t, "num_leaves"));
                if (!t.getOrDefault("num_cat", "0").equals("0") || !t.getOrDefault("is_linear", "0").equals("0")) {
                    throw new ModelBundleException(modelFile + ": tree " + ti + " has categorical splits or linear "
                            + "leaves, which the scorer does not evaluate");
                }
                double[] values = doubles(require(t, "leaf_value"), n);
                for (int k = 0; k < n; k++) {
                    value[leafBase + k] = values[k];
                    children[2 * (leafBase + k)] = leafBase + k;
                    children[2 * (leafBase + k) + 1] = leafBase + k;
                }
                if (n == 1) {
                    roots[ti] = leafBase;
                    expected[ti] = values[0];
                } else {
                    int[] leafCount = ints(require(t, "leaf_count"), n);
                    int[] splitCount = ints(require(t, "internal_count"), n - 1);
                    double total = splitCount[0];
                    for (int k = 0; k < n; k++) { // LightGBM's Tree::ExpectedValue, in its order
                        count[leafBase + k] = leafCount[k];
                        expected[ti] += (leafCount[k] / total) * values[k];
                    }
                    int[] splitFeature = ints(require(t, "split_feature"), n - 1);
                    double[] thresholds = doubles(require(t, "threshold"), n - 1);
                    int[] decision = ints(require(t, "decision_type"), n - 1);
                    int[] l = ints(require(t, "left_child"), n - 1);
                    int[] r = ints(require(t, "right_child"), n - 1);
                    for (int k = 0; k < n - 1; k++) {
                        if ((decision[k] & CATEGORICAL_MASK) != 0) {
                            throw new ModelBundleException(modelFile + ": tree " + ti + " has a categorical split");
                        }
                        if (splitFeature[k] < 0 || splitFeature[k] >= featureCount) {
                            throw new ModelBundleException(modelFile + ": tree " + ti + " splits on feature "
                                    + splitFeature[k] + " of " + featureCount);
                        }
                        int g = nodeBase + k;
                        count[g] = splitCount[k];
                        feature[g] = splitFeature[k];
                        threshold[g] = thresholds[k] + 0.0; // -0.0 becomes 0.0: the same split, and a sign bit of 0
                        missingType[g] = (byte) ((decision[k] >> 2) & 3);
                        defaultLeft[g] = (decision[k] & DEFAULT_LEFT_MASK) != 0;
                        children[2 * g] = global(l[k], nodeBase, leafBase, n);
                        children[2 * g + 1] = global(r[k], nodeBase, leafBase, n);
                    }
                    roots[ti] = nodeBase;
                }
                nodeBase += n - 1;
                leafBase += n;
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new ModelBundleException(modelFile + ": not a LightGBM text model: " + e.getMessage(), e);
        }
        boolean plain = true;
        for (byte m : missingType) {
            plain &= m == 0;
        }
        onlyPlainSplits = plain;
        int deepest = 0;
        for (int t = 0; t < roots.length; t++) {
            depth[t] = depth(roots[t]);
            deepest = Math.max(deepest, depth[t]);
        }
        maxDepth = deepest;
        if (featureCount != expectedFeatures) {
            throw new ModelBundleException(modelFile + ": model expects " + featureCount
                    + " features, the bundle's spec has " + expectedFeatures);
        }
    }

    private int depth(int node) {
        return node >= splits ? 0 : 1 + Math.max(depth(children[2 * node]), depth(children[2 * node + 1]));
    }

    /** A tree's child in the model file (a split {@code >= 0}, leaf {@code ~child} below 0) in the one layout. */
    private static int global(int child, int nodeBase, int leafBase, int leaves) {
        if (child >= 0 ? child >= leaves - 1 : ~child >= leaves) {
            throw new ArrayIndexOutOfBoundsException("child " + child + " outside a tree of " + leaves + " leaves");
        }
        return child >= 0 ? nodeBase + child : leafBase + ~child;
    }

    private static String require(Map<String, String> section, String key) {
        String v = section.get(key);
        if (v == null) {
            throw new NumberFormatException("missing " + key);
        }
        return v;
    }

    private static int[] ints(String line, int n) {
        return java.util.Arrays.stream(values(line, n)).mapToInt(Integer::parseInt).toArray();
    }

    private static double[] doubles(String line, int n) {
        return java.util.Arrays.stream(values(line, n)).mapToDouble(Double::parseDouble).toArray();
    }

    /** The {@code n} space-separated values of a model line. */
    private static String[] values(String line, int n) {
        String[] parts = line.trim().split(" ");
        if (parts.length != n) {
            throw new NumberFormatException(n + " values expected, got " + parts.length);
        }
        return parts;
    }

    int featureCount() {
        return featureCount;
    }

    /** Raw scores (margins, before the sigmoid) of {@code rows} row-major feature rows. */
    double[] margins(double[] rowMajor, int rows) {
        double[] margins = new double[rows];
        double[] block = new double[BLOCK * featureCount];
        int[] at = new int[BLOCK];
        for (int from = 0; from < rows; from += BLOCK) {
            int size = Math.min(BLOCK, rows - from);
            for (int k = 0; k < size * featureCount; k++) {
                double x = rowMajor[from * featureCount + k];
                // LightGBM's dense-row reader keeps only |x| > kZeroThreshold (and NaN); the rest reads as 0.
                block[k] = Math.abs(x) > ZERO_THRESHOLD || Double.isNaN(x) ? x : 0.0;
            }
            if (onlyPlainSplits) {
                for (int k = 0; k < size * featureCount; k++) {
                    if (Double.isNaN(block[k])) {
                        block[k] = 0.0; // what every split without a missing-value rule does with NaN
                    }
                }
                walkBlock(block, size, at, margins, from);
            } else {
                for (int r = 0; r < size; r++) {
                    margins[from + r] = walkRow(block, r * featureCount);
                }
            }
        }
        return margins;
    }

    /**
     * The fast walk for trees whose splits have no missing-value rule: every tree takes a fixed number of steps
     * (its depth; a leaf leads to itself), so the loop has no data-dependent branch to mispredict, and the rows of a
     * block walk side by side, which overlaps their chains of dependent loads.
     */
    private void walkBlock(double[] block, int size, int[] at, double[] margins, int offset) {
        for (int t = 0; t < roots.length; t++) {
            int root = roots[t];
            for (int r = 0; r < size; r++) {
                at[r] = root;
            }
            for (int step = depth[t]; step > 0; step--) {
                for (int r = 0; r < size; r++) {
                    int node = at[r];
                    double x = block[r * featureCount + feature[node]];
                    // x <= threshold goes left (0), else right (1): the sign bit of threshold - x, without a branch
                    // (exact: the difference is 0 only when they are equal, and no threshold is -0.0 or NaN)
                    at[r] = children[2 * node + (int) (Double.doubleToRawLongBits(threshold[node] - x) >>> 63)];
                }
            }
            for (int r = 0; r < size; r++) {
                margins[offset + r] += value[at[r]];
            }
        }
    }

    private double walkRow(double[] block, int base) {
        double sum = 0;
        for (int root : roots) {
            int node = root;
            while (node < splits) {
                node = next(node, block[base + feature[node]]);
            }
            sum += value[node];
        }
        return sum;
    }

    /** LightGBM's {@code Tree::NumericalDecision}. */
    private int next(int node, double x) {
        int missing = missingType[node];
        if (missing != MISSING_NAN && Double.isNaN(x)) {
            x = 0.0;
        }
        if ((missing == MISSING_ZERO && x >= -ZERO_THRESHOLD && x <= ZERO_THRESHOLD)
                || (missing == MISSING_NAN && Double.isNaN(x))) {
            return children[2 * node + (defaultLeft[node] ? 0 : 1)];
        }
        return children[2 * node + (x <= threshold[node] ? 0 : 1)];
    }

    /**
     * Exact TreeSHAP contributions of one row, as LightGBM's {@code predict(..., pred_contrib=True)} computes them:
     * one per feature, then the model's expected raw score at index {@link #featureCount()}; they sum to the row's
     * margin. Path-dependent SHAP (Lundberg et al., "Consistent individualized feature attribution for tree
     * ensembles", Algorithm 2): a feature left out of a coalition follows both children of its splits, weighted by
     * the training rows that went each way (the node counts of the model file). About a tree's leaves times its
     * depth squared per tree: for the few rows that are explained, not for every scored one.
     */
    double[] contributions(double[] row, int offset) {
        double[] x = new double[featureCount];
        for (int k = 0; k < featureCount; k++) {
            double v = row[offset + k];
            x[k] = Math.abs(v) > ZERO_THRESHOLD || Double.isNaN(v) ? v : 0.0; // as the margins read a row
        }
        double[] phi = new double[featureCount + 1];
        ShapPath path = new ShapPath((maxDepth + 2) * (maxDepth + 3) / 2);
        for (int t = 0; t < roots.length; t++) {
            phi[featureCount] += expected[t];
            if (roots[t] < splits) {
                shap(x, phi, path, 0, roots[t], 0, 1, 1, -1);
            }
        }
        return phi;
    }

    /**
     * One step of the recursion: the path of the parent (at {@code parentStart}, {@code depth} elements) is copied
     * after itself and extended by the split that led here, so that siblings each start from their parent's path.
     */
    private void shap(double[] x, double[] phi, ShapPath p, int parentStart, int node, int depth, double zeroFraction,
                      double oneFraction, int splitFeature) {
        int start = parentStart + depth;
        p.copy(parentStart, start, depth);
        p.extend(start, depth, zeroFraction, oneFraction, splitFeature);
        if (node >= splits) {
            for (int i = 1; i <= depth; i++) {
                double w = p.unwoundSum(start, depth, i);
                phi[p.feature[start + i]] += w * (p.one[start + i] - p.zero[start + i]) * value[node];
            }
            return;
        }
        int hot = next(node, x[feature[node]]);
        int cold = hot == children[2 * node] ? children[2 * node + 1] : children[2 * node];
        double rows = count[node];
        double inZero = 1, inOne = 1;
        int f = feature[node];
        int seen = 0;
        while (seen <= depth && p.feature[start + seen] != f) {
            seen++;
        }
        if (seen <= depth) { // the feature split higher up already: undo that step, this split redoes it
            inZero = p.zero[start + seen];
            inOne = p.one[start + seen];
            p.unwind(start, depth, seen);
            depth--;
        }
        shap(x, phi, p, start, hot, depth + 1, count[hot] / rows * inZero, inOne, f);
        shap(x, phi, p, start, cold, depth + 1, count[cold] / rows * inZero, 0, f);
    }

    /**
     * The unique features on a root-to-node path, each with the fraction of coalitions without it ({@code zero}:
     * the share of training rows that go this way) and with it ({@code one}: 1 if the row goes this way, else 0),
     * and the permutation weights; every level of the recursion keeps its own path, one after the other.
     */
    private static final class ShapPath {
        final int[] feature;
        final double[] zero, one, weight;

        ShapPath(int capacity) {
            feature = new int[capacity];
            zero = new double[capacity];
            one = new double[capacity];
            weight = new double[capacity];
        }

        void copy(int from, int to, int length) {
            System.arraycopy(feature, from, feature, to, length);
            System.arraycopy(zero, from, zero, to, length);
            System.arraycopy(one, from, one, to, length);
            System.arraycopy(weight, from, weight, to, length);
        }

        /** Appends element {@code depth} to the path at {@code s} and updates the weights of the ones before it. */
        void extend(int s, int depth, double zeroFraction, double oneFraction, int f) {
            feature[s + depth] = f;
            zero[s + depth] = zeroFraction;
            one[s + depth] = oneFraction;
            weight[s + depth] = depth == 0 ? 1 : 0;
            for (int i = depth - 1; i >= 0; i--) {
                weight[s + i + 1] += oneFraction * weight[s + i] * (i + 1) / (double) (depth + 1);
                weight[s + i] = zeroFraction * weight[s + i] * (depth - i) / (double) (depth + 1);
            }
        }

        /** Removes element {@code at}: the inverse of {@link #extend}. */
        void unwind(int s, int depth, int at) {
            double o = one[s + at], z = zero[s + at];
            double carry = weight[s + depth];
            for (int i = depth - 1; i >= 0; i--) {
                if (o != 0) {
                    double before = weight[s + i];
                    weight[s + i] = carry * (depth + 1) / ((i + 1) * o);
                    carry = before - weight[s + i] * z * (depth - i) / (double) (depth + 1);
                } else {
                    weight[s + i] = (weight[s + i] * (depth + 1)) / (z * (depth - i));
                }
            }
            for (int i = at; i < depth; i++) {
                feature[s + i] = feature[s + i + 1];
                zero[s + i] = zero[s + i + 1];
                one[s + i] = one[s + i + 1];
            }
        }

        /** The total weight the path would have without element {@code at}, without changing it. */
        double unwoundSum(int s, int depth, int at) {
            double o = one[s + at], z = zero[s + at];
            double carry = weight[s + depth], total = 0;
            for (int i = depth - 1; i >= 0; i--) {
                if (o != 0) {
                    double w = carry * (depth + 1) / ((i + 1) * o);
                    total += w;
                    carry = weight[s + i] - w * z * ((depth - i) / (double) (depth + 1));
                } else {
                    total += (weight[s + i] / z) / ((depth - i) / (double) (depth + 1));
                }
            }
            return total;
        }
    }
}
