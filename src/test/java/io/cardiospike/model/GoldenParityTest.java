package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Train/serve parity: the training run wrote golden vectors (raw RR -> LightGBM margin, CardioNet logit, stacked
 * probability) with the Python libraries; the Java scorer must reproduce every value to 1e-5.
 */
class GoldenParityTest {
    static final Path BUNDLE = Path.of("models");

    @Test
    void javaScorerReproducesTheTrainingGoldenVectors() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(BUNDLE.resolve("golden.json").toFile());
        try (EnsembleScorer scorer = EnsembleScorer.open(BUNDLE)) {
            assertThat(golden.path("model_version").asText()).isEqualTo(scorer.modelVersion());
            int beats = 0;
            for (JsonNode rec : golden.path("recordings")) {
                double[] rr = doubles(rec.path("rr"));
                WindowScores s = scorer.scoreRecording(rr);
                double[] margin = doubles(rec.path("lgbm_margin")), logit = doubles(rec.path("cnn_logit"));
                double[] proba = doubles(rec.path("proba"));
                for (int i = 0; i < rr.length; i++, beats++) {
                    assertThat(s.lgbmMargin()[i]).as("lgbm margin, beat %d", i).isCloseTo(margin[i], within(1e-5));
                    assertThat(s.cnnLogit()[i]).as("cnn logit, beat %d", i).isCloseTo(logit[i], within(1e-5));
                    assertThat(s.proba()[i]).as("proba, beat %d", i).isCloseTo(proba[i], within(1e-5));
                }
            }
            assertThat(beats).isGreaterThanOrEqualTo(200);
        }
    }

    private static double[] doubles(JsonNode array) {
        double[] v = new double[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).asDouble();
        }
        return v;
    }
}
