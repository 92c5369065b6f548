package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The streaming job scores windows in batches of whatever was cut within 50 ms across patients (often a few), the
 * batch scorer in large ones; both give bit-identical probabilities only if a window's score does not depend on its batch
 * (ONNX Runtime's kernels for a batch of one differ, and the tree walk goes in blocks of 64 rows).
 */
class BatchInvarianceTest {
    @Test
    void aWindowScoresTheSameInAnyBatchSize() throws Exception {
        EnsembleScorer scorer = TestBundle.scorer();
        Recording r = SyntheticRr.recordings(1, 300, 300, 3).get(0);
        List<double[]> windows = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
            windows.add(BeatWindows.cut(r.rr(), i, scorer.spec()));
        }
        double[] reference = scorer.scoreRecording(r.rr()).proba();
        for (int batch : new int[] {1, 2, 3, 7, 16, 100}) {
            for (int from = 0; from < windows.size(); from += batch) {
                int to = Math.min(windows.size(), from + batch);
                double[] p = scorer.scoreWindows(windows.subList(from, to)).proba();
                for (int k = 0; k < p.length; k++) {
                    assertThat(p[k]).as("beat %d in batches of %d", from + k, batch).isEqualTo(reference[from + k]);
                }
            }
        }
    }
}
