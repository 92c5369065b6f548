package io.cardiospike.stream.functions;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * One model's figures in the scorer's metrics, under the group {@code model="live"} or {@code model="shadow"}.
 * Counters since the task started, for Prometheus to take rates of (flagged-beat rate = {@code rate(flaggedBeats)
 * / rate(beats)}, mean probability = {@code rate(probaSumMicros) / rate(beats) / 1e6}), and the same as gauges over
 * about this subtask's last {@link #RECENT_BEATS} beats, for a glance without a query.
 */
final class ModelMetrics {
    /** The gauges' memory, in beats. */
    static final int RECENT_BEATS = 10_000;

    private final Counter beats;
    private final Counter flaggedBeats;
    private final Counter episodesOpened;
    private final Counter probaSumMicros;
    private final Recent meanProba = new Recent();
    private final Recent flaggedRate = new Recent();

    /** {@code model}: "live" or "shadow". */
    ModelMetrics(MetricGroup scorer, String model) {
        MetricGroup g = scorer.addGroup("model", model);
        beats = g.counter("beats");
        flaggedBeats = g.counter("flaggedBeats");
        episodesOpened = g.counter("episodesOpened");
        probaSumMicros = g.counter("probaSumMicros");
        g.gauge("meanProba", (Gauge<Double>) meanProba::value);
        g.gauge("flaggedRate", (Gauge<Double>) flaggedRate::value);
    }

    void beat(double proba, boolean flagged) {
        beats.inc();
        probaSumMicros.inc(Math.round(proba * 1e6));
        meanProba.add(proba);
        if (flagged) {
            flaggedBeats.inc();
        }
        flaggedRate.add(flagged ? 1 : 0);
    }

    /** An episode opened (as EpisodeTracker defines one; for the live model whether or not an alert hold muted it). */
    void episodeOpened() {
        episodesOpened.inc();
    }

    /**
     * The shadow against the live model, beat by beat, in the shadow's group: beats with the same flag
     * ({@code agreedBeats}, gauge {@code agreement}), the flag flipped either way, and |shadow - live| probability
     * ({@code absDeltaSumMicros}, gauge {@code meanAbsDelta}).
     */
    static final class Comparison {
        private final Counter agreedBeats;
        private final Counter flipsToFlagged;
        private final Counter flipsToUnflagged;
        private final Counter absDeltaSumMicros;
        private final Recent agreement = new Recent();
        private final Recent meanAbsDelta = new Recent();

        Comparison(MetricGroup scorer) {
            MetricGroup g = scorer.addGroup("model", "shadow");
            agreedBeats = g.counter("agreedBeats");
            flipsToFlagged = g.counter("flipsToFlagged");
            flipsToUnflagged = g.counter("flipsToUnflagged");
            absDeltaSumMicros = g.counter("absDeltaSumMicros");
            g.gauge("agreement", (Gauge<Double>) agreement::value);
            g.gauge("meanAbsDelta", (Gauge<Double>) meanAbsDelta::value);
        }

        void beat(double liveProba, boolean liveFlagged, double shadowProba, boolean shadowFlagged) {
            double delta = Math.abs(shadowProba - liveProba);
            absDeltaSumMicros.inc(Math.round(delta * 1e6));
            meanAbsDelta.add(delta);
            if (liveFlagged == shadowFlagged) {
                agreedBeats.inc();
            } else if (shadowFlagged) {
                flipsToFlagged.inc();
            } else {
                flipsToUnflagged.inc();
            }
            agreement.add(liveFlagged == shadowFlagged ? 1 : 0);
        }
    }

    /** A mean over about the last {@link #RECENT_BEATS} values, exponentially weighted (a plain mean until then). */
    static final class Recent {
        private long n;
        private volatile double value = Double.NaN; // read by the metric reporter's thread

        void add(double x) {
            n++;
            double v = n == 1 ? x : value;
            value = v + (x - v) / Math.min(n, RECENT_BEATS);
        }

        double value() {
            return value;
        }
    }
}
