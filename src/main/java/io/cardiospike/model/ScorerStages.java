package io.cardiospike.model;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * CPU time the scorers of this JVM spent in each stage, summed over all threads and calls since the JVM started
 * (five reads of the thread's CPU clock per call of up to 512 windows: a few microseconds, against ONNX Runtime's
 * tens per call). Benchmarks read it twice and report the difference per window: where a scored beat's time goes
 * (docs/performance.md). CPU time, not wall time, so that a thread waiting for a core (the stream benchmark runs
 * broker, job and producer on two) does not count as a slow stage.
 */
public final class ScorerStages {
    /** Every scorer's but the shadows'. */
    private static final Stages MAIN = new Stages();
    /** The streaming job's shadow scorers' ({@link EnsembleScorer#countAsShadow}), so a benchmark can tell them apart. */
    private static final Stages SHADOW = new Stages();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ScorerStages() {}

    /**
     * Totals at one moment: model calls (batches of at most 512 windows), windows scored, nanoseconds per stage; and
     * the explanations ({@link EnsembleScorer#explain}: one per alert or shown beat) with their nanoseconds (the
     * streaming job's writing them as JSON included: {@link #addExplanationWork}).
     */
    public record Totals(long calls, long windows, long encodeNanos, long lightGbmNanos, long cardioNetNanos,
                         long stackerNanos, long explanations, long explainNanos) {
        public Totals minus(Totals earlier) {
            return new Totals(calls - earlier.calls, windows - earlier.windows, encodeNanos - earlier.encodeNanos,
                    lightGbmNanos - earlier.lightGbmNanos, cardioNetNanos - earlier.cardioNetNanos,
                    stackerNanos - earlier.stackerNanos, explanations - earlier.explanations,
                    explainNanos - earlier.explainNanos);
        }

        /** Microseconds per window: encode, LightGBM, CardioNet, stacker, e.g. for a benchmark's report. */
        public String perWindow() {
            double n = Math.max(1, windows) * 1000.0;
            return String.format(Locale.ROOT, "encode %.1f, LightGBM %.1f, CardioNet %.1f, stacker %.2f "
                    + "(%.0f windows per model call)", encodeNanos / n, lightGbmNanos / n, cardioNetNanos / n,
                    stackerNanos / n, (double) windows / Math.max(1, calls))
                    + (explanations == 0 ? "" : String.format(Locale.ROOT, "; explanations %,d, %.0f us each, %.2f "
                    + "per window", explanations, explainNanos / 1000.0 / explanations, explainNanos / n));
        }
    }

    /** This thread's CPU time (ns), or wall time where the JVM cannot measure it. */
    public static long cpuNanos() {
        long cpu = THREADS.getCurrentThreadCpuTime();
        return cpu >= 0 ? cpu : System.nanoTime();
    }

    /** Every scorer's totals but the shadow scorers'. */
    public static Totals now() {
        return MAIN.totals();
    }

    /** The shadow scorers' totals (the streaming job's {@code --shadow-model-dir}). */
    public static Totals shadow() {
        return SHADOW.totals();
    }

    static void addExplanations(int count, long nanos) {
        MAIN.explanations.add(count);
        MAIN.explain.add(nanos);
    }

    /**
     * Adds a caller's own CPU time ({@link #cpuNanos}) on explanations already counted, such as the streaming job's
     * writing each alert's explanation as JSON, so that their reported cost is all that they cost.
     */
    public static void addExplanationWork(long nanos) {
        MAIN.explain.add(nanos);
    }

    static void add(boolean shadow, int windows, long encode, long lightGbm, long cardioNet, long stacker) {
        Stages s = shadow ? SHADOW : MAIN;
        s.calls.increment();
        s.windows.add(windows);
        s.encode.add(encode);
        s.lightGbm.add(lightGbm);
        s.cardioNet.add(cardioNet);
        s.stacker.add(stacker);
    }

    private static final class Stages {
        final LongAdder calls = new LongAdder(), windows = new LongAdder(), encode = new LongAdder(),
                lightGbm = new LongAdder(), cardioNet = new LongAdder(), stacker = new LongAdder(),
                explanations = new LongAdder(), explain = new LongAdder();

        Totals totals() {
            return new Totals(calls.sum(), windows.sum(), encode.sum(), lightGbm.sum(), cardioNet.sum(), stacker.sum(),
                    explanations.sum(), explain.sum());
        }
    }
}
