package io.cardiospike.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.shadow.ShadowComparison.Beat;
import io.cardiospike.shadow.ShadowComparison.Example;
import io.cardiospike.shadow.ShadowComparison.Pair;
import io.cardiospike.shadow.ShadowComparison.Score;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link ShadowComparison} on ten hand-made beats of two patients; every figure worked out by hand below.
 *
 * <pre>
 *  #  patient ts     rr     live       shadow
 *  1  p1      1000   1000   0.90 T     0.80 T
 *  2  p1      2000   1000   0.70 T     0.30 F
 *  3  p1      3000   1000   0.20 F     0.10 F
 *  4  p1      4000   1000   0.10 F     0.60 T
 *  5  p1      5000   1000   0.95 T     0.20 F
 *  6  p1      30000  1000   0.80 T     0.70 T   a pause before it (24 s not explained by its RR): a new segment
 *  7  p2      1000   800    0.10 F     0.10 F
 *  8  p2      1800   800    0.30 F     0.55 T
 *  9  p2      2600   800    0.40 F     0.65 T
 * 10  p2      22600  20000  0.20 F     0.75 T   a 20 s RR artifact: its gap is its own RR, no pause
 * </pre>
 *
 * Live episodes: p1 [1000,2000] (2 beats), [5000] and [30000] (the pause splits them): 3. Shadow episodes: p1 [1000],
 * [4000], [30000]; p2 [1800,22600] (3 beats): 4. Live [1000,2000] overlaps shadow [1000], live [30000] shadow [30000]:
 * shared. Only live raises p1 [5000]; only the shadow p1 [4000] and p2 [1800,22600].
 */
class ShadowComparisonTest {
    private static final String LIVE = "cs-live", SHADOW = "cs-shadow";

    private static Beat beat(String patient, long ts, double rr, double live, boolean liveFlag, double shadow,
                             boolean shadowFlag) {
        return new Beat(patient, ts, rr, rr > 2000, new Score(LIVE, live, liveFlag), new Score(SHADOW, shadow,
                shadowFlag));
    }

    private static ShadowComparison tenBeats(int examples) {
        return tenBeats(new ShadowComparison(Duration.ofSeconds(10), examples));
    }

    private static ShadowComparison tenBeats(ShadowComparison c) {
        c.add(beat("p1", 1000, 1000, 0.90, true, 0.80, true));
        c.add(beat("p1", 2000, 1000, 0.70, true, 0.30, false));
        c.add(beat("p2", 1000, 800, 0.10, false, 0.10, false)); // patients interleave, as partitions do
        c.add(beat("p1", 3000, 1000, 0.20, false, 0.10, false));
        c.add(beat("p1", 4000, 1000, 0.10, false, 0.60, true));
        c.add(beat("p2", 1800, 800, 0.30, false, 0.55, true));
        c.add(beat("p1", 5000, 1000, 0.95, true, 0.20, false));
        c.add(beat("p2", 2600, 800, 0.40, false, 0.65, true));
        c.add(beat("p1", 30000, 1000, 0.80, true, 0.70, true));
        c.add(beat("p2", 22600, 20000, 0.20, false, 0.75, true));
        return c;
    }

    @Test
    void everyFigureOfAPairAsWorkedOutByHand() {
        ShadowComparison.Report report = tenBeats(2).report();
        assertThat(report.pairs()).hasSize(1);
        Pair p = report.pairs().get(0);
        assertThat(p.beats()).isEqualTo(10);
        assertThat(p.patients()).isEqualTo(2);
        assertThat(p.fromTs()).isEqualTo(1000);
        assertThat(p.toTs()).isEqualTo(30000);
        // live flags beats 1, 2, 5, 6; the shadow 1, 4, 6, 8, 9, 10
        assertThat(p.live().modelVersion()).isEqualTo(LIVE);
        assertThat(p.live().flaggedBeats()).isEqualTo(4);
        assertThat(p.live().flaggedRate()).isCloseTo(0.4, within(1e-12));
        assertThat(p.shadow().modelVersion()).isEqualTo(SHADOW);
        assertThat(p.shadow().flaggedBeats()).isEqualTo(6);
        assertThat(p.shadow().flaggedRate()).isCloseTo(0.6, within(1e-12));
        // sums 4.65 and 4.75 over 10 beats
        assertThat(p.live().meanProba()).isCloseTo(0.465, within(1e-12));
        assertThat(p.shadow().meanProba()).isCloseTo(0.475, within(1e-12));
        // same label on beats 1, 3, 6, 7; live only 2, 5; shadow only 4, 8, 9, 10
        assertThat(p.agreement()).isCloseTo(0.4, within(1e-12));
        assertThat(p.flaggedByLiveOnly()).isEqualTo(2);
        assertThat(p.flaggedByShadowOnly()).isEqualTo(4);
        // |Δp|: .1 .4 .1 .5 .75 .1 0 .25 .25 .55 = 3.0
        assertThat(p.meanAbsDelta()).isCloseTo(0.3, within(1e-12));
        assertThat(p.live().episodes()).isEqualTo(3);
        assertThat(p.shadow().episodes()).isEqualTo(4);
        assertThat(p.live().episodesOnlyItRaises()).isEqualTo(1);
        assertThat(p.shadow().episodesOnlyItRaises()).isEqualTo(2);
        // the raising model's highest probability first: live .95, shadow .75, (shadow .60 left out)
        assertThat(p.examples()).containsExactly(
                new Example("live", "p1", 5000, 5000, 1, 0.95, 0.20),
                new Example("shadow", "p2", 1800, 22600, 3, 0.40, 0.75));
        assertThat(tenBeats(5).report().pairs().get(0).examples()).hasSize(3)
                .last().isEqualTo(new Example("shadow", "p1", 4000, 4000, 1, 0.10, 0.60));
        assertThat(tenBeats(0).report().pairs().get(0).examples()).isEmpty();
    }

    @Test
    void aLongerIdleFlushMakesTheGapNoPauseAndTheEpisodesDiffer() {
        // a 30 s idle flush: p1's 24 s gap is no pause, so live [5000] runs on to [30000] and overlaps the shadow's
        Pair p = tenBeats(new ShadowComparison(Duration.ofSeconds(30), 5)).report().pairs().get(0);
        assertThat(p.live().episodes()).isEqualTo(2);
        assertThat(p.live().episodesOnlyItRaises()).isZero();
        assertThat(p.shadow().episodesOnlyItRaises()).isEqualTo(2);
    }

    @Test
    void eachPairOfModelVersionsIsComparedOnItsOwn() {
        ShadowComparison c = tenBeats(2);
        // after a promotion the shadow is live, and a new shadow scores beside it
        c.add(new Beat("p1", 31000, 1000, false, new Score(SHADOW, 0.2, false), new Score("cs-next", 0.9, true)));
        ShadowComparison.Report report = c.report();
        assertThat(report.pairs()).hasSize(2);
        assertThat(report.pairs().get(0).beats()).isEqualTo(10);
        Pair next = report.pairs().get(1);
        assertThat(next.live().modelVersion()).isEqualTo(SHADOW);
        assertThat(next.shadow().modelVersion()).isEqualTo("cs-next");
        assertThat(next.beats()).isEqualTo(1);
        assertThat(next.shadow().episodes()).isEqualTo(1);
        assertThat(next.shadow().episodesOnlyItRaises()).isEqualTo(1);
        assertThat(next.agreement()).isZero();
        assertThat(next.meanAbsDelta()).isCloseTo(0.7, within(1e-12));
    }

    @Test
    void theJsonFormHasEveryFigureInSnakeCase() throws Exception {
        JsonNode json = new ObjectMapper().readTree(tenBeats(1).report().toJson());
        JsonNode p = json.path("pairs").path(0);
        assertThat(p.path("live").path("model_version").asText()).isEqualTo(LIVE);
        assertThat(p.path("live").path("flagged_rate").asDouble()).isCloseTo(0.4, within(1e-12));
        assertThat(p.path("shadow").path("episodes_only_it_raises").asInt()).isEqualTo(2);
        assertThat(p.path("beats").asLong()).isEqualTo(10);
        assertThat(p.path("mean_abs_delta").asDouble()).isCloseTo(0.3, within(1e-12));
        assertThat(p.path("flagged_by_shadow_only").asLong()).isEqualTo(4);
        assertThat(p.path("examples").path(0).path("raised_by").asText()).isEqualTo("live");
        assertThat(p.path("examples").path(0).path("patient_id").asText()).isEqualTo("p1");
        assertThat(p.path("examples").path(0).path("start_ts").asLong()).isEqualTo(5000);
    }

    @Test
    void theTextFormNamesBothModelsAndTheFigures() {
        String text = tenBeats(1).report().text();
        assertThat(text).startsWith("live cs-live vs shadow cs-shadow: 10 beats of 2 patients\n")
                .contains("  flagged beats                 40.000%      60.000%\n")
                .contains("  episodes only it raises             1            2\n")
                .contains("  agreement 40.000%, mean |Δp| 0.3000; label flips: 2 beats flagged by live only, 4 by "
                        + "shadow only\n")
                .contains("  only live   p1 5000..5000, 1 beats, max proba live 0.950 shadow 0.200\n");
        assertThat(new ShadowComparison(Duration.ofSeconds(10), 3).report().text()).isEqualTo("no shadow scores\n");
    }

    @Test
    void aRecordOfTheTopicIsReadAndAnythingElseRefused() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Beat b = Beat.fromJson(json.readTree("{\"patient_id\":\"p1\",\"ts\":1700000000000,\"rr_ms\":812,"
                + "\"artifact\":false,\"live\":{\"model_version\":\"cs-a\",\"proba\":0.12,\"anomaly\":false},"
                + "\"shadow\":{\"model_version\":\"cs-b\",\"proba\":0.10,\"anomaly\":true}}"));
        assertThat(b).isEqualTo(new Beat("p1", 1700000000000L, 812, false, new Score("cs-a", 0.12, false),
                new Score("cs-b", 0.10, true)));
        assertThatThrownBy(() -> Beat.fromJson(json.readTree("{\"patient_id\":\"p1\",\"ts\":1,\"proba\":0.5}")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("not an rr-scores-shadow record: {\"patient_id\":\"p1\",\"ts\":1,\"proba\":0.5}");
        assertThatThrownBy(() -> Beat.fromJson(json.readTree("{\"patient_id\":\"p1\",\"ts\":1,\"live\":{},"
                + "\"shadow\":{}}"))).isInstanceOf(IllegalArgumentException.class);
    }
}
