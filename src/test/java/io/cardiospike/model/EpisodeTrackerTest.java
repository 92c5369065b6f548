package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EpisodeTrackerTest {
    /** The beats an episode was told, as {at, proba} pairs. */
    static final class Beats implements EpisodeTracker.Episode {
        final List<double[]> beats = new ArrayList<>();

        @Override
        public void add(long at, double proba) {
            beats.add(new double[] {at, proba});
        }

        List<Long> at() {
            return beats.stream().map(b -> (long) b[0]).toList();
        }
    }

    final List<Beats> opened = new ArrayList<>();
    final List<Beats> closed = new ArrayList<>();

    EpisodeTracker<Beats> tracker(Beats open) {
        return new EpisodeTracker<>(open, Beats::new, opened::add, closed::add);
    }

    @Test
    void anEpisodeIsARunOfAnomalousBeatsEndedByANormalBeatOrTheEnd() {
        EpisodeTracker<Beats> t = tracker(null);
        boolean[] anomalous = {false, true, true, false, false, true, false, true, true, true};
        List<Boolean> changed = new ArrayList<>();
        for (int i = 0; i < anomalous.length; i++) {
            changed.add(t.beat(i, i / 10.0, anomalous[i]));
            if (i == 1) {
                assertThat(opened).as("told at its first beat, before it closes").hasSize(1);
                assertThat(opened.get(0).at()).containsExactly(1L);
                assertThat(closed).isEmpty();
            }
        }
        assertThat(changed).containsExactly(false, true, true, true, false, true, true, true, true, true);
        assertThat(closed.stream().map(Beats::at)).containsExactly(List.of(1L, 2L), List.of(5L));
        assertThat(t.open().at()).as("still open at the last beat").containsExactly(7L, 8L, 9L);

        assertThat(t.end()).isTrue();
        assertThat(t.open()).isNull();
        assertThat(closed.get(2).at()).containsExactly(7L, 8L, 9L);
        assertThat(closed.get(2).beats.get(2)[1]).isEqualTo(0.9);
        assertThat(opened).hasSize(3).containsExactlyElementsOf(closed);
        assertThat(t.end()).as("nothing open: nothing to close").isFalse();
    }

    @Test
    void anEpisodeLeftOpenIsTakenUpNotOpenedAgain() {
        Beats earlier = new Beats();
        earlier.add(100, 0.8);
        EpisodeTracker<Beats> t = tracker(earlier);
        assertThat(t.beat(101, 0.9, true)).isTrue();
        assertThat(opened).isEmpty();
        assertThat(t.beat(102, 0.1, false)).isTrue();
        assertThat(closed).containsExactly(earlier);
        assertThat(earlier.at()).containsExactly(100L, 101L);
    }
}
