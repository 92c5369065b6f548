package io.cardiospike.features;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BeatWindowsTest {
    @Test
    void reflectsWithoutRepeatingTheEdge() {
        assertThat(BeatWindows.reflect(-1, 5)).isEqualTo(1);
        assertThat(BeatWindows.reflect(-4, 5)).isEqualTo(4);
        assertThat(BeatWindows.reflect(5, 5)).isEqualTo(3);
        assertThat(BeatWindows.reflect(-6, 5)).isEqualTo(2); // reflects again for very short segments
        assertThat(BeatWindows.reflect(-7, 1)).isEqualTo(0);
        for (int n = 1; n < 12; n++) {
            for (int j = -40; j < 40; j++) {
                assertThat(BeatWindows.reflect(j, n)).isBetween(0, n - 1);
            }
        }
    }

    @Test
    void cutsACentredWindowWithMirroredEdges() {
        double[] rr = {10, 11, 12, 13, 14};
        FeatureSpec spec = new FeatureSpec(2, 1);
        assertThat(BeatWindows.cut(rr, 0, spec)).containsExactly(12, 11, 10, 11);
        assertThat(BeatWindows.cut(rr, 4, spec)).containsExactly(12, 13, 14, 13);
        assertThat(BeatWindows.cut(new double[] {7}, 0, spec)).containsExactly(7, 7, 7, 7);
    }

    /** The streaming contract: once isComplete holds, the window no longer depends on beats still to come. */
    @Test
    void completeWindowsDoNotChangeAsTheSegmentGrows() {
        Random random = new Random(1);
        for (FeatureSpec spec : new FeatureSpec[] {new FeatureSpec(16, 8), new FeatureSpec(3, 9), new FeatureSpec(8, 8)}) {
            double[] rr = random.doubles(60, 300, 1500).toArray();
            for (int nSeen = 1; nSeen <= rr.length; nSeen++) {
                for (int i = 0; i < nSeen; i++) {
                    if (BeatWindows.isComplete(i, nSeen, spec)) {
                        int seen = nSeen, beat = i;
                        double[] partial = BeatWindows.cut(j -> {
                            assertThat(j).isLessThan(seen).isGreaterThanOrEqualTo(BeatWindows.oldestNeeded(beat, spec));
                            return rr[j];
                        }, nSeen, i, spec);
                        assertThat(partial).containsExactly(BeatWindows.cut(rr, i, spec));
                    }
                }
            }
            // A segment that ends early: every beat's window reads only from oldestNeeded on.
            for (int n = 1; n < 30; n++) {
                int len = n;
                for (int i = 0; i < n; i++) {
                    int beat = i;
                    BeatWindows.cut(j -> {
                        assertThat(j).isGreaterThanOrEqualTo(BeatWindows.oldestNeeded(beat, spec)).isLessThan(len);
                        return rr[j];
                    }, n, i, spec);
                }
            }
        }
    }
}
