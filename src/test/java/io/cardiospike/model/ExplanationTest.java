package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.features.WindowEncoder;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An explanation agrees with the scorer it explains: the same probability, its terms and contributions add up. */
class ExplanationTest {
    @Test
    void explainsAFlaggedBeatWithWhatScoredIt() throws Exception {
        try (EnsembleScorer scorer = EnsembleScorer.open(GoldenParityTest.BUNDLE)) {
            int explained = 0;
            for (Recording r : SyntheticRr.recordings(6, 800, 800, 5)) {
            double[] proba = scorer.scoreRecording(r.rr()).proba();
            for (int i = 0; i < r.size(); i++) {
                if (!scorer.isAnomalous(proba[i]) || explained++ > 40) {
                    continue;
                }
                double[] window = BeatWindows.cut(r.rr(), i, scorer.spec());
                Explanation e = scorer.explain(window);
                assertThat(e.proba()).isEqualTo(proba[i]); // the same double as the scored beat
                assertThat(e.window()).containsExactly(window);
                assertThat(e.beatIndex()).isEqualTo(scorer.spec().centre());
                assertThat(e.window()[e.beatIndex()]).isEqualTo(r.rr()[i]);

                assertThat(e.reasons()).hasSize(Explanation.REASONS);
                List<Double> sizes = e.reasons().stream().map(x -> Math.abs(x.contribution())).toList();
                assertThat(sizes).isSortedAccordingTo((a, b) -> Double.compare(b, a));
                double[] phi = contributions(scorer, window);
                List<String> names = new WindowEncoder(scorer.spec()).features().names();
                for (Explanation.Reason x : e.reasons()) {
                    assertThat(x.contribution()).isEqualTo(phi[names.indexOf(x.feature())]);
                    assertThat(x.text()).doesNotContain("_", " = ").isNotBlank();
                }
                double largestOther = 0;
                for (int k = 0; k < names.size(); k++) {
                    String name = names.get(k);
                    if (e.reasons().stream().noneMatch(x -> x.feature().equals(name))) {
                        largestOther = Math.max(largestOther, Math.abs(phi[k]));
                    }
                }
                assertThat(largestOther).isLessThanOrEqualTo(sizes.get(sizes.size() - 1));

                assertThat(e.shares()).extracting(Explanation.Share::input)
                        .containsExactly("lgbm_margin", "cnn_logit", "artifact_c", "intercept");
                assertThat(e.shares().get(0).value()).isEqualTo(e.lgbmMargin());
                assertThat(e.shares().stream().mapToDouble(s -> Math.abs(s.share())).sum()).isCloseTo(1, within(1e-12));
                assertThat(e.logOdds()).isCloseTo(Math.log(e.proba() / (1 - e.proba())), within(1e-9));
                assertThat(e.lgbmExpected() + java.util.Arrays.stream(phi, 0, names.size()).sum())
                        .isCloseTo(e.lgbmMargin(), within(1e-9));
            }
            }
            assertThat(explained).as("flagged beats in the recording").isGreaterThan(3);
        }
    }

    private static double[] contributions(EnsembleScorer scorer, double[] window) throws Exception {
        WindowEncoder encoder = new WindowEncoder(scorer.spec());
        double[] row = new double[encoder.features().count()];
        encoder.encode(window, row, 0, new float[encoder.netInputSize()], 0);
        LightGbm lgbm = new LightGbm(GoldenParityTest.BUNDLE.resolve(EnsembleScorer.LIGHTGBM_FILE), row.length);
        return lgbm.contributions(row, 0);
    }
}
