package io.cardiospike.features;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FeatureWordingTest {
    @Test
    void wordsAFeatureWithItsValueInMilliseconds() {
        assertThat(FeatureWording.describe("rel_0", 0.14, 800)).isEqualTo("RR 14 % above the window median");
        assertThat(FeatureWording.describe("rel_-1", -0.2, 800)).isEqualTo("RR of the beat before 20 % below the window median");
        assertThat(FeatureWording.describe("rel_3", 0.001, 800)).isEqualTo("RR 3 beats after at the window median");
        assertThat(FeatureWording.describe("diff_prev_1", 0.15, 800)).isEqualTo("RR 120 ms longer than the beat before");
        assertThat(FeatureWording.describe("diff_next_2", -0.1, 800)).isEqualTo("RR 80 ms shorter than 2 beats after");
        assertThat(FeatureWording.describe("step_-1", 0.25, 800))
                .isEqualTo("RR rises 200 ms from the beat before to the beat");
        assertThat(FeatureWording.describe("near2_max", 1.3, 800))
                .isEqualTo("longest RR of the beat and 2 either side 30 % above the window median");
        assertThat(FeatureWording.describe("z_past", -2.34, 800)).isEqualTo("RR 2.3 SD below the past beats' mean");
        assertThat(FeatureWording.describe("hr_max", 91.6, 800)).isEqualTo("highest heart rate 92 bpm in the window");
        assertThat(FeatureWording.describe("artifacts", 1, 800)).isEqualTo("1 sensor artifact in the window");
    }

    /** The wording's own decimals are String.format's, half-up ties and long expansions included. */
    @Test
    void decimalsAreThoseOfStringFormat() {
        java.util.Random random = new java.util.Random(7);
        double[] ties = {0.125, 0.375, 1.005, 2.675, 0.05, 0.95, 9.995, 0, 1e-9, 123456.785};
        for (int i = 0; i < 20_000; i++) {
            double v = i < ties.length ? ties[i]
                    : random.nextInt(4) == 0 ? Math.round(random.nextDouble() * 4000) / 1000.0 // ties at 2 places
                    : random.nextDouble() * Math.pow(10, random.nextInt(7) - 2);
            for (int places = 1; places <= 2; places++) {
                assertThat(FeatureWording.decimals(v, places)).as("%s to %d places", v, places)
                        .isEqualTo(String.format(java.util.Locale.ROOT, "%." + places + "f", v));
            }
        }
    }

    /** Every feature the model sees has words of its own, not the fallback "name = value". */
    @Test
    void everyFeatureOfTheWindowHasAWording() {
        for (String name : new WindowFeatures(new FeatureSpec(16, 8)).names()) {
            assertThat(FeatureWording.describe(name, 0.5, 800)).as(name).doesNotContain(" = ", "_");
        }
    }
}
