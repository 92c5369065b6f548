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
    /**
     * Rows explained in one TreeSHAP walk at most: its innermost loops run over the rows, in vector instructions, and
     * 64 rows cost each about 0.08 ms (16: 0.15 ms, 128: 0.09 ms; one alone, walked as {@link #LANES}, 1.7 ms),
     * while a walk's working arrays stay within a core's cache.
     */
    private static final int SHAP_BLOCK = 64;
    /** Rows walked at least: one explanation alone runs as this many (see contributionsTogether). */
    private static final int LANES = 8;

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
    // TreeSHAP's input-independent part, per tree and per edge (2 * split + side, as in children): see contributions
    private final int[] points; // per tree: Gauss-Legendre points enough for its deepest leaf
    private final double[][] gaussU, gaussW; // by number of points: nodes and weights on [0, 1]
    private final int[] edgeAt; // per edge: offset of its per-point values in the four tables
    private final double[] ratioHot, ratioCold, psiHot, psiCold; // per edge and point
    private final double[] ratioColdAfterCold; // per edge: z / z of the feature's split above
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
        points = new int[roots.length];
        int most = 1;
        for (int t = 0; t < roots.length; t++) {
            points[t] = Math.max(1, (mostDistinct(roots[t], new ArrayList<>()) + 1) / 2);
            most = Math.max(most, points[t]);
        }
        gaussU = new double[most + 1][];
        gaussW = new double[most + 1][];
        for (int n = 1; n <= most; n++) {
            double[][] g = gaussLegendre(n);
            gaussU[n] = g[0];
            gaussW[n] = g[1];
        }
        edgeAt = new int[2 * splits];
        ratioColdAfterCold = new double[2 * splits];
        int size = 0;
        for (int t = 0; t < roots.length; t++) {
            size = layEdges(roots[t], points[t], size);
        }
        ratioHot = new double[size];
        ratioCold = new double[size];
        psiHot = new double[size];
        psiCold = new double[size];
        double[] zero = new double[featureCount];
        java.util.Arrays.fill(zero, 1.0);
        for (int t = 0; t < roots.length; t++) {
            edges(roots[t], zero, gaussU[points[t]], gaussW[points[t]]);
        }
        if (featureCount != expectedFeatures) {
            throw new ModelBundleException(modelFile + ": model expects " + featureCount
                    + " features, the bundle's spec has " + expectedFeatures);
        }
    }

    /** The most distinct features on one root-to-leaf path below {@code node} ({@code above}: those over it). */
    private int mostDistinct(int node, List<Integer> above) {
        if (node >= splits) {
            return (int) above.stream().distinct().count();
        }
        above.add(feature[node]);
        int most = Math.max(mostDistinct(children[2 * node], above), mostDistinct(children[2 * node + 1], above));
        above.remove(above.size() - 1);
        return most;
    }

    /**
     * Fills the tables of the edges below {@code node}. {@code zero[f]}: feature f's zero fraction so far on the path
     * (1 where it has no split yet), the product of child over parent count at its splits, as TreeSHAP multiplies.
     */
    private void edges(int node, double[] zero, double[] u, double[] w) {
        if (node >= splits) {
            return;
        }
        int f = feature[node];
        double above = zero[f];
        for (int side = 0; side < 2; side++) {
            int e = 2 * node + side, child = children[e];
            double z = count[child] / count[node] * above;
            ratioColdAfterCold[e] = z / above;
            for (int i = 0; i < u.length; i++) {
                // the feature's factor g(u) = z + (o - z) u and its term psi(u) = (o - z) / g(u), for o = 1 and o = 0,
                // against those of its split above (none: z = o = 1, g = 1, psi = 0), which the row took (o = 1)
                double gAbove = above + (1 - above) * u[i], psiAbove = (1 - above) / gAbove;
                double gHot = z + (1 - z) * u[i], gCold = z * (1 - u[i]);
                ratioHot[edgeAt[e] + i] = gHot / gAbove;
                ratioCold[edgeAt[e] + i] = gCold / gAbove;
                psiHot[edgeAt[e] + i] = w[i] * ((1 - z) / gHot - psiAbove);
                psiCold[edgeAt[e] + i] = w[i] * (-1 / (1 - u[i]) - psiAbove);
            }
            zero[f] = z;
            edges(child, zero, u, w);
        }
        zero[f] = above;
    }

    /** Places the per-point values of the edges below {@code node} from {@code at}; returns where the next go. */
    private int layEdges(int node, int n, int at) {
        if (node >= splits) {
            return at;
        }
        edgeAt[2 * node] = at;
        edgeAt[2 * node + 1] = at + n;
        return layEdges(children[2 * node + 1], n, layEdges(children[2 * node], n, at + 2 * n));
    }

    /** Gauss-Legendre quadrature of {@code n} points on [0, 1] (exact for polynomials of degree 2n - 1): {u, w}. */
    static double[][] gaussLegendre(int n) {
        double[] u = new double[n], w = new double[n];
        for (int k = 0; k < n; k++) {
            double x = Math.cos(Math.PI * (k + 0.75) / (n + 0.5)), dp = 0;
            for (int iteration = 0; iteration < 100; iteration++) { // Newton on the Legendre polynomial P_n
                double p0 = 1, p1 = x;
                for (int j = 2; j <= n; j++) {
                    double p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n * (x * p1 - p0) / (x * x - 1);
                double dx = p1 / dp;
                x -= dx;
                if (Math.abs(dx) < 1e-16) {
                    break;
                }
            }
            u[k] = (1 - x) / 2;
            w[k] = 1 / ((1 - x * x) * dp * dp); // 2 / ((1 - x^2) P_n'(x)^2) on [-1, 1], halved on [0, 1]
        }
        return new double[][] {u, w};
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
     * <p>Not LightGBM's recursion over growing paths (its inner loops are chains of dependent divisions) but the same
     * values, to rounding, in the form of Linear TreeSHAP (Yu et al. 2022): for a leaf of value {@code v} whose path
     * has distinct features {@code k}, each with zero fraction {@code z_k} and one fraction {@code o_k} (1 when the row
     * takes the way of every split on it, else 0), the Shapley weights are Beta integrals, so feature {@code j} gets
     * {@code v * integral over [0, 1] of (o_j - z_j) prod_(k != j) (z_k + (o_k - z_k) u) du}: a polynomial of degree
     * below the path's length, which Gauss-Legendre quadrature integrates exactly. One walk over the tree carries each
     * path's product at the quadrature points down and the sums of the leaves below each edge up; an edge on feature
     * {@code j} adds its leaves' sum times the change it makes to j's term (a later split on j changes it again).
     */
    double[] contributions(double[] row, int offset) {
        return contributions(new double[][] {java.util.Arrays.copyOfRange(row, offset, offset + featureCount)})[0];
    }

    /**
     * {@link #contributions(double[], int)} of several rows in one walk of the trees: each row's values are the same
     * doubles as alone (the same operations in the same order), but the node and table reads are shared by the rows,
     * and the innermost loops run over them without a branch on a row's values, which lets the JIT compile them to
     * vector instructions (see {@link Walk}): 64 rows together cost each a twentieth of one alone. The stream
     * explains its alerts together, up to 64 at a time.
     */
    double[][] contributions(double[][] rows) {
        double[][] out = new double[rows.length][];
        for (int from = 0; from < rows.length; from += SHAP_BLOCK) {
            double[][] block = contributionsTogether(java.util.Arrays.copyOfRange(rows, from,
                    Math.min(rows.length, from + SHAP_BLOCK)));
            System.arraycopy(block, 0, out, from, block.length);
        }
        return out;
    }

    private double[][] contributionsTogether(double[][] explained) {
        // at least LANES rows, the first repeated: lanes are independent, and the JIT vectorizes a loop only if its
        // profile shows enough trips (compiled while the walks had one row, 64 rows took each twice as long)
        double[][] rows = explained.length >= LANES ? explained : java.util.Arrays.copyOf(explained, LANES);
        java.util.Arrays.fill(rows, explained.length, rows.length, explained[0]);
        int count = rows.length, f = featureCount, levels = maxDepth + 2;
        Walk w = new Walk(count, new double[f][count], new double[f][count], new double[levels][gaussU.length][count],
                new double[levels][gaussU.length][count], new double[f + 1][count], new double[levels][count],
                new double[levels][count], new double[levels][count]);
        for (int r = 0; r < count; r++) {
            for (int k = 0; k < f; k++) {
                double v = rows[r][k];
                // as the margins read a row; NaN is 0 to a split without a missing-value rule
                w.x[k][r] = Math.abs(v) > ZERO_THRESHOLD || (Double.isNaN(v) && !onlyPlainSplits) ? v : 0.0;
                w.hot[k][r] = 1.0;
            }
        }
        for (int t = 0; t < roots.length; t++) {
            for (int r = 0; r < count; r++) {
                w.phi[f][r] += expected[t];
            }
            if (roots[t] < splits) {
                for (int i = 0; i < points[t]; i++) {
                    java.util.Arrays.fill(w.product[0][i], 1.0);
                }
                walk(roots[t], 0, points[t], w);
            }
        }
        double[][] out = new double[explained.length][f + 1];
        for (int k = 0; k <= f; k++) {
            for (int r = 0; r < explained.length; r++) {
                out[r][k] = w.phi[k][r];
            }
        }
        return out;
    }

    /**
     * One walk's working arrays, each a row of {@code rows} values, so that every innermost loop reads and writes
     * them at the same index and the JIT compiles it to vector instructions (an offset into a longer array keeps
     * C2 from vectorizing: such loops took twice as long). {@code x}, {@code hot} and {@code phi} by feature;
     * {@code product} and {@code below} by level and quadrature point. {@code hot}: 1.0 where every split on the
     * feature so far was taken, else 0.0. Per level, masks of 1.0 or 0.0 say how each row passes the node's left
     * side: hot (its first split on the feature, the side it takes), cold (the side it does not take) or cold after
     * cold (below a split on the same feature it did not take: only z changes, by the same factor at every point,
     * and the feature's term stays); the right side swaps hot and cold. They select the edge's factor and term by
     * arithmetic, exactly (the other terms are 0.0 times a finite value).
     */
    private record Walk(int rows, double[][] x, double[][] hot, double[][][] product, double[][][] below,
                        double[][] phi, double[][] leftHot, double[][] leftCold, double[][] coldAfterCold) {}

    /**
     * Below {@code node} at {@code level}: {@code product} holds each row's path product at each quadrature point;
     * leaves {@code below} (at the same level) holding the sum over the leaves under the node of value times product.
     * A leaf child is done in place (half the edges end in one). An edge adds its change of its feature's term to
     * {@code phi} point by point.
     */
    private void walk(int node, int level, int n, Walk w) {
        int rows = w.rows, f = feature[node];
        double[] hot = w.hot[f], xs = w.x[f], phi = w.phi[f];
        double[] leftHot = w.leftHot[level], leftCold = w.leftCold[level], cc = w.coldAfterCold[level];
        double[][] product = w.product[level], below = w.below[level];
        double cut = threshold[node];
        int left = children[2 * node];
        for (int r = 0; r < rows; r++) { // x <= threshold goes left, without a branch where no rule is for NaN
            double right = (onlyPlainSplits ? xs[r] <= cut : next(node, xs[r]) == left) ? 0.0 : 1.0;
            leftHot[r] = hot[r] * (1.0 - right);
            leftCold[r] = hot[r] * right;
            cc[r] = 1.0 - hot[r];
        }
        for (int side = 0; side < 2; side++) {
            boolean first = side == 0;
            // the first side sets the node's sums, the second adds to them: 0.0 or 1.0 times the sums so far (finite),
            // exactly, and without a branch in the loops
            double kept = first ? 0.0 : 1.0;
            double[] hm = first ? leftHot : leftCold, cm = first ? leftCold : leftHot;
            int e = 2 * node + side, child = children[e], table = edgeAt[e];
            double ccRatio = ratioColdAfterCold[e];
            if (child >= splits) { // a leaf: its value times the path's product, straight into the sums
                double v = value[child];
                for (int i = 0; i < n; i++) {
                    double hotRatio = ratioHot[table + i], coldRatio = ratioCold[table + i];
                    double hotPsi = psiHot[table + i], coldPsi = psiCold[table + i];
                    double[] p = product[i], b = below[i];
                    for (int r = 0; r < rows; r++) {
                        double h = v * p[r] * (hm[r] * hotRatio + cm[r] * coldRatio + cc[r] * ccRatio);
                        phi[r] += h * (hm[r] * hotPsi + cm[r] * coldPsi);
                        b[r] = kept * b[r] + h;
                    }
                }
            } else {
                double[][] childProduct = w.product[level + 1], childBelow = w.below[level + 1];
                for (int i = 0; i < n; i++) {
                    double hotRatio = ratioHot[table + i], coldRatio = ratioCold[table + i];
                    double[] p = product[i], q = childProduct[i];
                    for (int r = 0; r < rows; r++) {
                        q[r] = p[r] * (hm[r] * hotRatio + cm[r] * coldRatio + cc[r] * ccRatio);
                    }
                }
                System.arraycopy(hm, 0, hot, 0, rows); // below this side the feature stays hot where it was taken
                walk(child, level + 1, n, w);
                for (int r = 0; r < rows; r++) {
                    hot[r] = 1.0 - cc[r];
                }
                for (int i = 0; i < n; i++) { // the child's sums times the change of the feature's term
                    double hotPsi = psiHot[table + i], coldPsi = psiCold[table + i];
                    double[] q = childBelow[i], b = below[i];
                    for (int r = 0; r < rows; r++) {
                        phi[r] += q[r] * (hm[r] * hotPsi + cm[r] * coldPsi);
                        b[r] = kept * b[r] + q[r];
                    }
                }
            }
        }
    }
}
