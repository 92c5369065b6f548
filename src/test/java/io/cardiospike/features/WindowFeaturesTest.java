package io.cardiospike.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WindowFeaturesTest {
    private final FeatureSpec spec = new FeatureSpec(4, 2);

    @Test
    void cleanerInterpolatesArtifactsInsideTheWindowOnly() {
        assertThat(WindowCleaner.clean(new double[] {800, 12, 900, 40900, 40900, 1000}))
                .containsExactly(800, 850, 900, 933.3333333333334, 966.6666666666666, 1000);
        assertThat(WindowCleaner.clean(new double[] {0, 700, 12})).containsExactly(700, 700, 700);
        assertThat(WindowCleaner.clean(new double[] {0, 12})).containsExactly(800, 800);
    }

    @Test
    void namesMatchValuesAndAFlatWindowHasNoVariability() {
        WindowFeatures f = new WindowFeatures(spec);
        double[] flat = new double[spec.windowSize()];
        Arrays.fill(flat, 800);
        double[] out = new double[f.count()];
        f.extract(flat, flat, Stats.sortedCopy(flat), out, 0);
        assertThat(f.names()).doesNotHaveDuplicates().hasSize(out.length);
        assertThat(out[f.names().indexOf("rmssd")]).isZero();
        assertThat(out[f.names().indexOf("hr_mean")]).isCloseTo(75, within(1e-12));
        assertThat(out[f.names().indexOf("rel_0")]).isZero();
    }

    @Test
    void spikeShowsInDifferencesAndArtifactsAreFlagged() {
        WindowFeatures f = new WindowFeatures(spec);
        double[] raw = {800, 800, 800, 800, 900, 12, 800};
        double[] clean = WindowCleaner.clean(raw);
        double[] out = new double[f.count()];
        f.extract(raw, clean, Stats.sortedCopy(clean), out, 0);
        assertThat(out[f.names().indexOf("diff_prev_1")]).isCloseTo(0.125, within(1e-12));
        assertThat(out[f.names().indexOf("artifacts")]).isEqualTo(1);
        assertThat(out[f.names().indexOf("artifact_c")]).isZero();
        assertThat(out[f.names().indexOf("rr_raw_c")]).isEqualTo(900);
    }

    @Test
    void netInputIsRobustScaledPerChannel() {
        double[] w = {700, 800, 900, 800, 800, 800, 800};
        float[] out = new float[NetInput.CHANNELS * w.length];
        NetInput.fill(w, Stats.sortedCopy(w), out, 0);
        // median 800; IQR 0 -> floor of 10 ms
        assertThat(out[0]).isEqualTo(-10f);
        assertThat(out[2]).isEqualTo(10f);
        assertThat(out[w.length + 1]).isZero();
        // relative channel keeps the size: 700 ms is 12.5 % below the median, 900 ms 12.5 % above
        assertThat(out[2 * w.length]).isCloseTo(-1.25f, within(1e-6f));
        assertThat(out[2 * w.length + 2]).isCloseTo(1.25f, within(1e-6f));
        assertThat(out[2 * w.length + 1]).isZero();
    }
}
