package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBundleTest {
    private static Path copyBundle(Path to) throws Exception {
        try (Stream<Path> files = Files.list(GoldenParityTest.BUNDLE)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    @Test
    void committedBundleLoadsWithItsManifest() throws Exception {
        try (EnsembleScorer scorer = EnsembleScorer.open(GoldenParityTest.BUNDLE)) {
            assertThat(scorer.threshold()).isBetween(0.0, 1.0);
            assertThat(scorer.modelVersion()).startsWith("cs-");
            assertThat(scorer.scoreRecording(new double[] {800}).proba()).hasSize(1);
        }
    }

    @Test
    void refusesABundleTrainedOnOtherFeatures(@TempDir Path dir) throws Exception {
        copyBundle(dir);
        Path manifest = dir.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"feature_spec_version\"\\s*:\\s*\"[^\"]*\"",
                "\"feature_spec_version\": \"fs-0\""));
        assertThatThrownBy(() -> EnsembleScorer.open(dir)).isInstanceOf(ModelBundleException.class)
                .hasMessageContaining("trained on feature spec 'fs-0'");
    }

    @Test
    void refusesAModelFileThatIsNotTheOneInTheManifest(@TempDir Path dir) throws Exception {
        copyBundle(dir);
        Files.writeString(dir.resolve(EnsembleScorer.STACKER_FILE), " ", StandardOpenOption.APPEND);
        assertThatThrownBy(() -> EnsembleScorer.open(dir)).isInstanceOf(ModelBundleException.class)
                .hasMessageContaining("SHA-256 does not match");
    }

    @Test
    void refusesAMissingBundle(@TempDir Path dir) {
        assertThatThrownBy(() -> EnsembleScorer.open(dir)).hasMessageContaining("no model bundle at");
    }
}
