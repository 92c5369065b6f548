package io.cardiospike.model;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.features.FeatureWording;
import io.cardiospike.features.NetInput;
import io.cardiospike.features.WindowEncoder;
import io.cardiospike.rr.Artifacts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The one scorer behind the CLI, the streaming job and the REST API: raw RR windows in, per-beat anomaly
 * probabilities out (LightGBM on window features + CardioNet on the scaled window, blended by the stacker).
 *
 * <p>Thread safety: after {@link #open} an instance is immutable and safe for concurrent use (ONNX Runtime sessions
 * and the Java LightGBM walk may run concurrently; every call uses its own buffers). Each call runs single-threaded;
 * callers parallelise across calls. {@link #close} frees the native model and must come after all calls.
 */
public final class EnsembleScorer implements AutoCloseable {
    public static final String ONNX_FILE = "cardionet.onnx";
    public static final String LIGHTGBM_FILE = "lightgbm.txt";
    public static final String STACKER_FILE = "stacker.json";

    /** Windows per model call: large enough to amortise native-call overhead, small enough to stay in cache. */
    private static final int BATCH = 512;
    private static final int[] NO_COLUMNS = new int[0];

    private final ModelManifest manifest;
    private final WindowEncoder encoder;
    private final LightGbm lightGbm;
    private final CardioNet cardioNet;
    private final Stacker stacker;
    /** Where the window's median RR is among the features: the explanations' wording is in ms around it. */
    private final int medianFeature;
    /** Its scoring CPU counts in {@link ScorerStages#shadow()}, not {@link ScorerStages#now()}. */
    private volatile boolean countedAsShadow;

    private EnsembleScorer(ModelManifest manifest, LightGbm lightGbm, CardioNet cardioNet, Stacker stacker) {
        this.manifest = manifest;
        this.encoder = new WindowEncoder(manifest.spec());
        this.lightGbm = lightGbm;
        this.cardioNet = cardioNet;
        this.stacker = stacker;
        this.medianFeature = encoder.features().names().indexOf("median_rr");
    }

    /**
     * Loads and validates the bundle in {@code dir}. ONNX Runtime's session is created on a thread of its own while
     * this one checks the manifest and reads the trees, so start-up waits for the longer of the two, not their sum.
     */
    public static EnsembleScorer open(Path dir) throws ModelBundleException {
        CardioNet.Loading net = CardioNet.load(dir.resolve(ONNX_FILE));
        ModelManifest manifest;
        Stacker stacker;
        LightGbm lightGbm;
        try {
            manifest = ModelManifest.load(dir); // names a missing or mixed bundle before ORT's error can
            stacker = new Stacker(dir.resolve(STACKER_FILE));
            lightGbm = new LightGbm(dir.resolve(LIGHTGBM_FILE), new WindowEncoder(manifest.spec()).features().count());
        } catch (ModelBundleException | RuntimeException | Error e) {
            net.discard();
            throw e;
        }
        return new EnsembleScorer(manifest, lightGbm, net.finish(manifest.netInput()), stacker);
    }

    /** From now on its scoring time counts as a shadow model's ({@link ScorerStages#shadow()}). */
    public void countAsShadow() {
        countedAsShadow = true;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public FeatureSpec spec() {
        return manifest.spec();
    }

    public double threshold() {
        return manifest.threshold();
    }

    /**
     * The model's own 0/1 decisions: {@code proba >= threshold}, beat by beat. Nothing withholds a flag: in
     * monitoring a missed true flag is the costly error.
     */
    public int[] decide(double[] proba) {
        int[] y = new int[proba.length];
        for (int i = 0; i < proba.length; i++) {
            y[i] = isAnomalous(proba[i]) ? 1 : 0;
        }
        return y;
    }

    public boolean isAnomalous(double proba) {
        return proba >= manifest.threshold();
    }

    public String modelVersion() {
        return manifest.modelVersion();
    }

    /** Scores every beat of one recording (beats in time order, artifacts included). */
    public WindowScores scoreRecording(double[] rr) {
        return score(i -> BeatWindows.cut(rr, i, spec()), rr.length);
    }

    /** As {@link #scoreRecording(double[])}, with feature {@code columns} as {@link #scoreWindows(List, int[])}. */
    public WindowScores scoreRecording(double[] rr, int[] columns) {
        return score(i -> BeatWindows.cut(rr, i, spec()), rr.length, columns);
    }

    /** Scores windows already cut by {@link BeatWindows} (each of {@code spec().windowSize()} raw RR values). */
    public WindowScores scoreWindows(List<double[]> rawWindows) {
        return score(rawWindows::get, rawWindows.size());
    }

    /**
     * As {@link #scoreWindows(List)}, also returning the feature {@code columns} (indices into
     * {@code manifest().raw().feature_names}) of every window, copied from the row LightGBM scored: no second encode.
     */
    public WindowScores scoreWindows(List<double[]> rawWindows, int[] columns) {
        return score(rawWindows::get, rawWindows.size(), columns);
    }

    /** Where {@code name} is among the bundle's feature columns, -1 if it is not one. */
    public int featureColumn(String name) {
        return encoder.features().names().indexOf(name);
    }

    private WindowScores score(IntFunction<double[]> windowAt, int n) {
        return score(windowAt, n, NO_COLUMNS);
    }

    private WindowScores score(IntFunction<double[]> windowAt, int n, int[] columns) {
        double[] margin = new double[n], logit = new double[n], proba = new double[n];
        double[] kept = new double[n * columns.length];
        double[][] batch = new double[Math.min(BATCH, n)][];
        for (int from = 0; from < n; from += BATCH) {
            int size = Math.min(BATCH, n - from);
            for (int k = 0; k < size; k++) {
                batch[k] = windowAt.apply(from + k);
            }
            WindowScores part = scoreBatch(batch, size, columns);
            System.arraycopy(part.lgbmMargin(), 0, margin, from, size);
            System.arraycopy(part.cnnLogit(), 0, logit, from, size);
            System.arraycopy(part.proba(), 0, proba, from, size);
            System.arraycopy(part.features(), 0, kept, from * columns.length, size * columns.length);
        }
        return new WindowScores(margin, logit, proba, kept);
    }

    private WindowScores scoreBatch(double[][] windows, int size, int[] columns) {
        int f = encoder.features().count(), net = encoder.netInputSize(), c = spec().centre();
        long t0 = ScorerStages.cpuNanos();
        double[] features = new double[size * f];
        float[] tensor = new float[size * net];
        for (int k = 0; k < size; k++) {
            encoder.encode(windows[k], features, k * f, tensor, k * net);
        }
        long t1 = ScorerStages.cpuNanos();
        double[] margin = lightGbm.margins(features, size);
        long t2 = ScorerStages.cpuNanos();
        double[] logit = cardioNet.logits(tensor, size, NetInput.CHANNELS, spec().windowSize());
        long t3 = ScorerStages.cpuNanos();
        double[] proba = new double[size];
        for (int k = 0; k < size; k++) {
            proba[k] = stacker.proba(margin[k], logit[k], Artifacts.isArtifact(windows[k][c]));
        }
        ScorerStages.add(countedAsShadow, size, t1 - t0, t2 - t1, t3 - t2, ScorerStages.cpuNanos() - t3);
        double[] kept = new double[size * columns.length];
        for (int k = 0, o = 0; k < size; k++) {
            for (int column : columns) {
                kept[o++] = features[k * f + column];
            }
        }
        return new WindowScores(margin, logit, proba, kept);
    }

    /**
     * Why one window (of {@code spec().windowSize()} raw RR values, as {@link #scoreWindows} takes) scored as it did.
     * Its probability is the one {@link #scoreWindows} gives the same window.
     */
    public Explanation explain(double[] rawWindow) {
        WindowScores scored = scoreWindows(List.of(rawWindow));
        return explain(List.of(new ScoredWindow(rawWindow, scored.lgbmMargin()[0], scored.cnnLogit()[0]))).get(0);
    }

    /**
     * {@link #explain(double[])} of windows already scored: their margins and logits are reused, not computed again,
     * and their TreeSHAP walks share one pass over the trees (up to 64 windows), so that 64 together cost each about
     * a twentieth of what one alone costs. The same explanations as one at a time.
     */
    public List<Explanation> explain(List<ScoredWindow> scored) {
        long started = ScorerStages.cpuNanos();
        int f = encoder.features().count(), c = spec().centre(), count = scored.size();
        double[][] features = new double[count][f];
        float[] unused = new float[encoder.netInputSize()];
        for (int k = 0; k < count; k++) {
            encoder.encode(scored.get(k).window(), features[k], 0, unused, 0);
        }
        double[][] phi = lightGbm.contributions(features);
        List<String> names = encoder.features().names();
        List<Explanation> explained = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            ScoredWindow s = scored.get(k);
            double[] window = s.window();
            double margin = s.lgbmMargin();
            boolean artifact = Artifacts.isArtifact(window[c]);
            double median = features[k][medianFeature];
            List<Explanation.Reason> reasons = new ArrayList<>(Explanation.REASONS);
            for (int j : largest(phi[k], f, Explanation.REASONS)) {
                reasons.add(new Explanation.Reason(names.get(j), features[k][j], phi[k][j],
                        FeatureWording.describe(names.get(j), features[k][j], median)));
            }
            List<Explanation.Share> shares = stacker.shares(margin, s.cnnLogit(), artifact);
            double z = shares.stream().mapToDouble(Explanation.Share::logOdds).sum();
            explained.add(new Explanation(reasons, phi[k][f], margin, shares, z,
                    stacker.proba(margin, s.cnnLogit(), artifact), window.clone(), c));
        }
        ScorerStages.addExplanations(count, ScorerStages.cpuNanos() - started);
        return explained;
    }

    /** Indices of the {@code k} largest |values| among the first {@code n}, largest first, ties by index. */
    private static int[] largest(double[] values, int n, int k) {
        int[] top = new int[Math.min(k, n)];
        boolean[] taken = new boolean[n];
        for (int r = 0; r < top.length; r++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                if (!taken[i] && (best < 0 || Math.abs(values[i]) > Math.abs(values[best]))) {
                    best = i;
                }
            }
            taken[best] = true;
            top[r] = best;
        }
        return top;
    }

    @Override
    public void close() {
        cardioNet.close();
    }
}
