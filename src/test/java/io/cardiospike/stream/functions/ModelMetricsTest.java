package io.cardiospike.stream.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.testutils.MetricListener;
import org.junit.jupiter.api.Test;

/** The per-model metrics: counters to take rates of, gauges over the recent beats, the shadow's comparison. */
class ModelMetricsTest {
    private final MetricListener metrics = new MetricListener();

    private long counter(String model, String name) {
        return metrics.getCounter("model", model, name).map(Counter::getCount).orElseThrow();
    }

    private double gauge(String model, String name) {
        return metrics.<Double>getGauge("model", model, name).map(Gauge::getValue).orElseThrow();
    }

    @Test
    void eachModelCountsItsBeatsFlagsEpisodesAndProbabilities() {
        ModelMetrics live = new ModelMetrics(metrics.getMetricGroup(), "live");
        ModelMetrics shadow = new ModelMetrics(metrics.getMetricGroup(), "shadow");
        live.beat(0.2, false);
        live.beat(0.8, true);
        live.episodeOpened();
        shadow.beat(0.5, true);
        assertThat(counter("live", "beats")).isEqualTo(2);
        assertThat(counter("live", "flaggedBeats")).isEqualTo(1);
        assertThat(counter("live", "episodesOpened")).isEqualTo(1);
        assertThat(counter("live", "probaSumMicros")).isEqualTo(1_000_000);
        assertThat(gauge("live", "meanProba")).isCloseTo(0.5, within(1e-12));
        assertThat(gauge("live", "flaggedRate")).isCloseTo(0.5, within(1e-12));
        assertThat(counter("shadow", "beats")).isEqualTo(1);
        assertThat(counter("shadow", "episodesOpened")).isZero();
        assertThat(gauge("shadow", "flaggedRate")).isEqualTo(1.0);
    }

    @Test
    void theComparisonCountsAgreementFlipsEachWayAndTheProbabilityGap() {
        ModelMetrics.Comparison c = new ModelMetrics.Comparison(metrics.getMetricGroup());
        c.beat(0.1, false, 0.2, false); // agree
        c.beat(0.4, false, 0.7, true); // the shadow flags what the live model does not
        c.beat(0.9, true, 0.3, false); // and the other way
        c.beat(0.8, true, 0.8, true); // agree
        assertThat(counter("shadow", "agreedBeats")).isEqualTo(2);
        assertThat(counter("shadow", "flipsToFlagged")).isEqualTo(1);
        assertThat(counter("shadow", "flipsToUnflagged")).isEqualTo(1);
        assertThat(counter("shadow", "absDeltaSumMicros")).isEqualTo(1_000_000);
        assertThat(gauge("shadow", "agreement")).isCloseTo(0.5, within(1e-12));
        assertThat(gauge("shadow", "meanAbsDelta")).isCloseTo(0.25, within(1e-12));
    }

    @Test
    void theGaugesForgetOldBeatsTheCountersKeepThem() {
        ModelMetrics live = new ModelMetrics(metrics.getMetricGroup(), "live");
        for (int i = 0; i < ModelMetrics.RECENT_BEATS; i++) {
            live.beat(0.9, true);
        }
        for (int i = 0; i < 5 * ModelMetrics.RECENT_BEATS; i++) {
            live.beat(0.1, false);
        }
        assertThat(gauge("live", "flaggedRate")).as("the flags of long ago weigh e^-5 now").isLessThan(0.01);
        assertThat(gauge("live", "meanProba")).isCloseTo(0.1, within(0.01));
        assertThat(counter("live", "flaggedBeats")).isEqualTo(ModelMetrics.RECENT_BEATS);
    }
}
