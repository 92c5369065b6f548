package io.cardiospike.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriftReferenceTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theCommittedBundleCarriesAReferenceOfEveryStatistic() throws Exception {
        Path dir = BundleCopies.COMMITTED;
        DriftReference r = DriftReference.of(ModelManifest.load(dir), dir).orElseThrow();
        assertThat(r.names()).containsExactly("rr_ms", "median_rr", "iqr_rr", "rmssd", "rel_0", "step_0", "proba",
                "flagged_rate", "artifact_rate");
        assertThat(r.statistics().get("rr_ms").count()).isEqualTo(10);
        assertThat(r.beats()).isPositive();
    }

    @Test
    void aReferenceWrittenIntoABundleReadsBackAndItsOwnDataHasNoDrift(@TempDir Path dir) throws Exception {
        Path bundle = BundleCopies.copy(dir);
        List<Recording> recordings = SyntheticRr.recordings(7, 320, 400, 5);
        try (EnsembleScorer scorer = EnsembleScorer.open(bundle)) {
            DriftReference built = DriftReference.build(recordings, scorer, "abc");
            built.writeInto(bundle);
            DriftReference read = DriftReference.of(ModelManifest.load(bundle), bundle).orElseThrow();
            assertThat(read.names()).isEqualTo(built.names());
            assertThat(read.beats()).isEqualTo(recordings.stream().mapToInt(Recording::size).sum());
            assertThat(read.dataSha256()).isEqualTo("abc");
            // the same beats against their own reference: PSI 0 for every statistic
            assertThat(read.beats()).isGreaterThanOrEqualTo(DriftMonitor.MIN_BEATS);
            DriftMonitor m = DriftMonitor.over(read, scorer, recordings);
            for (int i = 0; i < m.statistics().size(); i++) {
                assertThat(m.psi(i)).as(m.statistics().get(i)).isBetween(0.0, 1e-4);
            }
        }
        // the model files and version are untouched: only the manifest gained the reference
        assertThat(ModelManifest.load(bundle).modelVersion()).isEqualTo(ModelManifest.load(BundleCopies.COMMITTED)
                .modelVersion());
    }

    @Test
    void aBundleWithoutAReferenceLoadsWithDriftOff(@TempDir Path dir) throws Exception {
        Path bundle = BundleCopies.copy(dir);
        ObjectNode m = (ObjectNode) JSON.readTree(bundle.resolve(ModelManifest.FILE).toFile());
        m.remove(DriftReference.KEY);
        JSON.writeValue(bundle.resolve(ModelManifest.FILE).toFile(), m);
        try (EnsembleScorer scorer = EnsembleScorer.open(bundle)) {
            assertThat(DriftReference.of(scorer.manifest(), bundle)).isEmpty();
        }
    }

    @Test
    void aMalformedReferenceIsRefusedNamingWhatIsWrong(@TempDir Path dir) throws Exception {
        Path bundle = BundleCopies.copy(dir);
        Path file = bundle.resolve(ModelManifest.FILE);
        ObjectNode m = (ObjectNode) JSON.readTree(file.toFile());
        ((ObjectNode) m.path(DriftReference.KEY).path("rr_ms")).putArray("edges").add(900).add(500);
        JSON.writeValue(file.toFile(), m);
        assertThatThrownBy(() -> DriftReference.of(ModelManifest.load(bundle), bundle))
                .isInstanceOf(ModelBundleException.class).hasMessageContaining("drift_reference");
        m.with(DriftReference.KEY).with("features").set("no_such_feature", m.path(DriftReference.KEY).path("proba"));
        ((ObjectNode) m.path(DriftReference.KEY)).set("rr_ms", JSON.readTree(Files.readString(
                BundleCopies.COMMITTED.resolve(ModelManifest.FILE))).path(DriftReference.KEY).path("rr_ms"));
        JSON.writeValue(file.toFile(), m);
        assertThatThrownBy(() -> DriftReference.of(ModelManifest.load(bundle), bundle))
                .hasMessageContaining("feature no_such_feature is not one of the bundle's");
    }
}
