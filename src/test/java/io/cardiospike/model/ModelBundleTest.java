package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBundleTest {
    @Test
    void committedBundleLoadsWithItsManifest() throws Exception {
        try (EnsembleScorer scorer = EnsembleScorer.open(GoldenParityTest.BUNDLE)) {
            assertThat(scorer.threshold()).isBetween(0.0, 1.0);
            assertThat(scorer.modelVersion()).startsWith("cs-");
            assertThat(scorer.scoreRecording(new double[] {800}).proba()).hasSize(1);
        }
    }

    /** Decisions are the threshold alone: bundles trained since issue 26 carry no alert budget (older ones do, unused). */
    @Test
    void loadsABundleWithoutAnAlertBudget(@TempDir Path dir) throws Exception {
        BundleCopies.copy(dir);
        Path manifest = dir.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"alert_budget\"", "\"no_budget\""));
        try (EnsembleScorer scorer = EnsembleScorer.open(dir)) {
            assertThat(scorer.decide(new double[] {scorer.threshold(), Math.nextDown(scorer.threshold())}))
                    .containsExactly(1, 0);
        }
    }

    @Test
    void refusesABundleTrainedOnOtherFeatures(@TempDir Path dir) throws Exception {
        BundleCopies.copy(dir);
        Path manifest = dir.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"feature_spec_version\"\\s*:\\s*\"[^\"]*\"",
                "\"feature_spec_version\": \"fs-0\""));
        assertThatThrownBy(() -> EnsembleScorer.open(dir)).isInstanceOf(ModelBundleException.class)
                .hasMessageContaining("trained on feature spec 'fs-0'");
    }

    @Test
    void refusesAModelFileThatIsNotTheOneInTheManifest(@TempDir Path dir) throws Exception {
        BundleCopies.copy(dir);
        Files.writeString(dir.resolve(EnsembleScorer.STACKER_FILE), " ", StandardOpenOption.APPEND);
        assertThatThrownBy(() -> EnsembleScorer.open(dir)).isInstanceOf(ModelBundleException.class)
                .hasMessageContaining("SHA-256 does not match");
    }

    @Test
    void refusesAMissingBundle(@TempDir Path dir) {
        assertThatThrownBy(() -> EnsembleScorer.open(dir)).hasMessageContaining("no model bundle at");
    }
}
