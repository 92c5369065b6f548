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
    // TreeSHAP's input-independent part, per leaf (index leaf - splits): its root-to-leaf path (each split, the way
    // it goes, the slot of its feature among the path's distinct features) and those features' zero fractions
    private final int[] splitFrom, leafFrom; // per tree, with one past the end
    private final int[] pathFrom, pathTo, pathNode, pathSlot;
    private final boolean[] pathRight;
    private final int[] uniqueFrom, uniqueTo, uniqueFeature;
    private final double[] uniqueZero;
    private final double[][] shapleyWeight; // [d][s]: s! (d - 1 - s)! / d!

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
            splitFrom = new int[trees.size() + 1];
            leafFrom = new int[trees.size() + 1];
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
                splitFrom[ti + 1] = nodeBase;
                leafFrom[ti + 1] = leafBase;
            }
            leafFrom[0] = nodes;
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
        // every leaf's path, its distinct features and their zero fractions
        int leaves = value.length - splits;
        pathFrom = new int[leaves];
        pathTo = new int[leaves];
        uniqueFrom = new int[leaves];
        uniqueTo = new int[leaves];
        List<int[]> steps = new ArrayList<>(); // {node, right, slot}
        List<double[]> unique = new ArrayList<>(); // {feature, zero fraction}
        for (int t = 0; t < roots.length; t++) {
            paths(roots[t], new ArrayList<>(), steps, unique);
        }
        pathNode = steps.stream().mapToInt(x -> x[0]).toArray();
        pathSlot = steps.stream().mapToInt(x -> x[2]).toArray();
        pathRight = new boolean[steps.size()];
        for (int i = 0; i < pathRight.length; i++) {
            pathRight[i] = steps.get(i)[1] == 1;
        }
        uniqueFeature = unique.stream().mapToInt(x -> (int) x[0]).toArray();
        uniqueZero = unique.stream().mapToDouble(x -> x[1]).toArray();
        shapleyWeight = new double[deepest + 1][];
        for (int d = 1; d <= deepest; d++) {
            shapleyWeight[d] = new double[d];
            for (int k = 0; k < d; k++) {
                shapleyWeight[d][k] = factorial(k) * factorial(d - 1 - k) / factorial(d);
            }
        }
        if (featureCount != expectedFeatures) {
            throw new ModelBundleException(modelFile + ": model expects " + featureCount
                    + " features, the bundle's spec has " + expectedFeatures);
        }
    }

    private static double factorial(int n) {
        double f = 1;
        for (int i = 2; i <= n; i++) {
            f *= i;
        }
        return f;
    }

    /**
     * Walks a tree depth-first, leaves in order, and records each leaf's path: its splits with the way taken, and
     * the distinct features on it, each with its zero fraction (the share of training rows that a walk ignoring the
     * feature sends this way: the product of child count over parent count at its splits, as TreeSHAP multiplies).
     */
    private void paths(int node, List<int[]> path, List<int[]> steps, List<double[]> unique) {
        if (node >= splits) {
            int leaf = node - splits;
            pathFrom[leaf] = steps.size();
            uniqueFrom[leaf] = unique.size();
            List<Integer> features = new ArrayList<>();
            List<Double> zero = new ArrayList<>();
            for (int[] step : path) { // {node, right}
                int f = feature[step[0]];
                int slot = features.indexOf(f);
                if (slot < 0) {
                    slot = features.size();
                    features.add(f);
                    zero.add(1.0);
                }
                double ratio = count[children[2 * step[0] + step[1]]] / count[step[0]];
                zero.set(slot, ratio * zero.get(slot));
                steps.add(new int[] {step[0], step[1], slot});
            }
            for (int k = 0; k < features.size(); k++) {
                unique.add(new double[] {features.get(k), zero.get(k)});
            }
            pathTo[leaf] = steps.size();
            uniqueTo[leaf] = unique.size();
            return;
        }
        for (int side = 0; side < 2; side++) {
            path.add(new int[] {node, side});
            paths(children[2 * node + side], path, steps, unique);
            path.remove(path.size() - 1);
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
     * Exact TreeSHAP contributions of one row, as LightGBM's {@code predict(..., pred_contrib=True)} gives them: one
     * per feature, then the model's expected raw score at index {@link #featureCount()}; they sum to the row's
     * margin. Path-dependent SHAP (Lundberg et al. 2018): a feature left out of a coalition follows both ways at its
     * splits, weighted by the training rows that went each way (the node counts of the model file).
     *
     * <p>Computed leaf by leaf in closed form rather than by LightGBM's recursion over growing paths (the same
     * values, to rounding, at a fraction of the cost): for a leaf of value {@code v} whose path has {@code d}
     * distinct features, each with zero fraction {@code z_k} and one fraction {@code o_k} (1 when the row takes the
     * way of every split on the feature, else 0), feature {@code j} gets
     * {@code v (o_j - z_j) sum over S in (distinct features but j) of s!(d-1-s)!/d! prod_(k in S) o_k
     * prod_(k not in S, k != j) z_k} with {@code s = |S|}. Only subsets of the "hot" features ({@code o_k = 1}) count,
     * so the sum is read off the polynomial {@code prod_(k hot) (t + z_k)}: shared by every cold feature, divided by
     * {@code (t + z_j)} for a hot one.
     */
    double[] contributions(double[] row, int offset) {
        double[] x = new double[featureCount];
        for (int k = 0; k < featureCount; k++) {
            double v = row[offset + k];
            x[k] = Math.abs(v) > ZERO_THRESHOLD || Double.isNaN(v) ? v : 0.0; // as the margins read a row
        }
        double[] phi = new double[featureCount + 1];
        boolean[] right = new boolean[splits];
        int most = shapleyWeight.length + 1;
        boolean[] hot = new boolean[most];
        double[] poly = new double[most + 1], quotient = new double[most + 1];
        for (int t = 0; t < roots.length; t++) {
            phi[featureCount] += expected[t];
            for (int n = splitFrom[t]; n < splitFrom[t + 1]; n++) {
                right[n] = next(n, x[feature[n]]) == children[2 * n + 1];
            }
            for (int leaf = leafFrom[t] - splits; leaf < leafFrom[t + 1] - splits; leaf++) {
                addLeaf(leaf, right, phi, hot, poly, quotient);
            }
        }
        return phi;
    }

    private void addLeaf(int leaf, boolean[] right, double[] phi, boolean[] hot, double[] poly, double[] quotient) {
        int u0 = uniqueFrom[leaf], d = uniqueTo[leaf] - u0;
        if (d == 0) {
            return;
        }
        java.util.Arrays.fill(hot, 0, d, true);
        for (int p = pathFrom[leaf]; p < pathTo[leaf]; p++) {
            if (right[pathNode[p]] != pathRight[p]) {
                hot[pathSlot[p]] = false;
            }
        }
        // poly: coefficients of prod over hot features of (t + z_k); coldZero: the product of the cold ones' z
        int h = 0;
        double coldZero = 1;
        poly[0] = 1;
        for (int k = 0; k < d; k++) {
            double z = uniqueZero[u0 + k];
            if (hot[k]) {
                poly[h + 1] = poly[h];
                for (int m = h; m > 0; m--) {
                    poly[m] = poly[m - 1] + z * poly[m];
                }
                poly[0] = z * poly[0];
                h++;
            } else {
                coldZero *= z;
            }
        }
        double v = value[splits + leaf];
        double[] w = shapleyWeight[d];
        if (h < d) {
            double sum = 0;
            for (int s = 0; s <= h; s++) {
                sum += w[s] * poly[s];
            }
            double each = -v * coldZero * sum; // (0 - z_j) times the other cold features' z: all cold z
            for (int k = 0; k < d; k++) {
                if (!hot[k]) {
                    phi[uniqueFeature[u0 + k]] += each;
                }
            }
        }
        for (int k = 0; k < d; k++) {
            if (hot[k]) {
                double z = uniqueZero[u0 + k];
                quotient[h - 1] = poly[h]; // poly / (t + z), from the top
                for (int m = h - 1; m > 0; m--) {
                    quotient[m - 1] = poly[m] - z * quotient[m];
                }
                double sum = 0;
                for (int s = 0; s < h; s++) {
                    sum += w[s] * quotient[s];
                }
                phi[uniqueFeature[u0 + k]] += v * (1 - z) * coldZero * sum;
            }
        }
    }
}
