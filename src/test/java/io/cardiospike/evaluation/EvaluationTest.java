package io.cardiospike.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cardiospike.rr.Recording;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every figure of a hand-made case, computed by hand below. The flags are chosen, not scored: the matching is checked
 * apart from any model. Lookahead 2 beats.
 *
 * <pre>
 * recording a, beats 1 s apart (time = 1000 * index ms), 13 beats, 12 s:
 *   index  0 1 2 3 4 5 6 7 8 9 10 11 12
 *   label  0 1 1 1 1 0 0 1 1 0 0  0  0     labelled episodes L1 = [1,4], L2 = [7,8]
 *   flag   0 0 1 0 1 0 0 0 0 0 1  1  0     alert episodes [2,2], [4,4] (both in L1), [10,11] (no label: false)
 *   L1: first flag 2 = 1 beat, 1 s after its start; open alert at min(2+2, 12) = 4: 3 beats, 3 s; 2 alerts (split)
 *   L2: missed
 *   beats: tp {2,4} = 2, fp {10,11} = 2, fn {1,3,7,8} = 4: P 2/4, R 2/6, F1 2*2/(4+2+4) = 0.4
 *
 * recording b, 10 beats at 0, 500, 1000, 1600, 2200, 2800, 3300, 3800, 4400, 5000 ms (5 s):
 *   index  0 1 2 3 4 5 6 7 8 9
 *   label  0 0 1 1 1 0 0 1 1 1             L3 = [2,4], L4 = [7,9]
 *   flag   0 0 0 1 1 1 0 0 0 1             alert episodes [3,5] (in L3), [9,9] (in L4)
 *   L3: first flag 3 = 1 beat, 0.6 s; open alert at 5: 3 beats, 2800 - 1000 = 1.8 s; 1 alert
 *   L4: first flag 9 = 2 beats, 5000 - 3800 = 1.2 s; open alert at min(11, 9) = 9 (the recording's end): 2 beats,
 *       1.2 s; 1 alert
 *   beats: tp {3,4,9} = 3, fp {5} = 1, fn {2,7,8} = 3: F1 2*3/(6+1+3) = 0.6
 *
 * pooled: tp 5, fp 3, fn 7: P 5/8, R 5/12, F1 10/(10+3+7) = 0.5
 * episodes: 4 labelled, 3 detected (recall 0.75), 1 missed; 5 alert episodes, 1 false: precision 4/5;
 *   hours (12000 + 5000) ms = 17000 / 3.6e6 h, so 1 / hours = 3.6e6 / 17000 = 211.76 false alerts per hour
 * to first flag, beats [1, 1, 2]: median 1, p90 1 + (2-1)*0.8 = 1.8 (rank 0.9*2 = 1.8, linear), max 2
 *   seconds [0.6, 1.0, 1.2]: median 1.0, p90 1.0 + 0.2*0.8 = 1.16, max 1.2
 * to open alert, beats [2, 3, 3]: median 3, p90 3, max 3; seconds [1.2, 1.8, 3.0]: median 1.8,
 *   p90 1.8 + 1.2*0.8 = 2.76, max 3.0
 * alerts per detected episode (2 + 1 + 1) / 3 = 4/3; 1 split
 * patients, worst first: a (1 missed + 1 false = 2 errors, F1 0.4), then b (0 errors, F1 0.6)
 * probabilities 0.9 where flagged, 0.1 elsewhere: average precision = R(0.9) * P(0.9) + (1 - R(0.9)) * P(0.1)
 *   = 5/12 * 5/8 + 7/12 * 12/23 = 25/96 + 7/23
 * </pre>
 */
class EvaluationTest {
    private static final int[] A_LABEL = {0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0};
    private static final int[] A_FLAG = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0};
    private static final int[] B_LABEL = {0, 0, 1, 1, 1, 0, 0, 1, 1, 1};
    private static final int[] B_FLAG = {0, 0, 0, 1, 1, 1, 0, 0, 0, 1};
    private static final double[] B_TIME = {0, 500, 1000, 1600, 2200, 2800, 3300, 3800, 4400, 5000};

    private static Recording recording(String id, double[] time, int[] label) {
        double[] rr = new double[time.length];
        java.util.Arrays.fill(rr, 800);
        return new Recording(id, time, rr, label, new int[time.length]);
    }

    private static double[] proba(int[] flag) {
        double[] p = new double[flag.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = flag[i] == 1 ? 0.9 : 0.1;
        }
        return p;
    }

    private static Evaluation handMade() {
        double[] aTime = new double[A_LABEL.length];
        for (int i = 0; i < aTime.length; i++) {
            aTime[i] = 1000.0 * i;
        }
        return Evaluation.of("test", 0.5, 2, List.of(recording("a", aTime, A_LABEL), recording("b", B_TIME, B_LABEL)),
                List.of(proba(A_FLAG), proba(B_FLAG)), List.of(A_FLAG, B_FLAG));
    }

    @Test
    void beatFigures() {
        Evaluation.BeatFigures b = handMade().beat();
        assertThat(List.of(b.tp(), b.fp(), b.fn())).containsExactly(5L, 3L, 7L);
        assertThat(b.precision()).isCloseTo(5.0 / 8, within(1e-12));
        assertThat(b.recall()).isCloseTo(5.0 / 12, within(1e-12));
        assertThat(b.f1()).isCloseTo(0.5, within(1e-12));
        assertThat(b.averagePrecision()).isCloseTo(25.0 / 96 + 7.0 / 23, within(1e-12));
    }

    @Test
    void episodeFigures() {
        Evaluation ev = handMade();
        Evaluation.EpisodeFigures e = ev.episodes();
        assertThat(List.of(e.labelled(), e.detected(), e.missed())).containsExactly(4L, 3L, 1L);
        assertThat(e.recall()).isEqualTo(0.75);
        assertThat(List.of(e.alerts(), e.labelledAlerts(), e.falseAlerts())).containsExactly(5L, 4L, 1L);
        assertThat(e.precision()).isCloseTo(0.8, within(1e-12));
        assertThat(ev.hours()).isCloseTo(17000 / 3.6e6, within(1e-15));
        assertThat(e.falseAlertsPerHour()).isCloseTo(3.6e6 / 17000, within(1e-9));
        assertThat(e.alertsPerDetected()).isCloseTo(4.0 / 3, within(1e-12));
        assertThat(e.split()).isEqualTo(1);
    }

    @Test
    void onsetDelays() {
        Evaluation.EpisodeFigures e = handMade().episodes();
        assertSpread(e.toFirstFlag().beats(), 1, 1.8, 2);
        assertSpread(e.toFirstFlag().seconds(), 1.0, 1.16, 1.2);
        assertSpread(e.toOpenAlert().beats(), 3, 3, 3);
        assertSpread(e.toOpenAlert().seconds(), 1.8, 2.76, 3.0);
    }

    @Test
    void patientsWorstFirst() {
        List<Evaluation.Patient> p = handMade().patients();
        assertThat(p).extracting(Evaluation.Patient::id).containsExactly("a", "b");
        Evaluation.Patient a = p.get(0), b = p.get(1);
        assertThat(List.of(a.labelled(), a.detected(), a.alerts(), a.falseAlerts())).containsExactly(2L, 1L, 3L, 1L);
        assertThat(a.f1()).isCloseTo(0.4, within(1e-12));
        assertThat(List.of(b.labelled(), b.detected(), b.alerts(), b.falseAlerts())).containsExactly(2L, 2L, 2L, 0L);
        assertThat(b.f1()).isCloseTo(0.6, within(1e-12));
    }

    @Test
    void matchingPerEpisode() {
        EpisodeMatching.Matched a = EpisodeMatching.match(A_LABEL, A_FLAG, 2);
        assertThat(a.labelled()).containsExactly(
                new EpisodeMatching.LabelledEpisode(new EpisodeMatching.Span(1, 4), 2, 4, 2),
                new EpisodeMatching.LabelledEpisode(new EpisodeMatching.Span(7, 8), -1, -1, 0));
        assertThat(a.alerts()).containsExactly(
                new EpisodeMatching.AlertEpisode(new EpisodeMatching.Span(2, 2), true),
                new EpisodeMatching.AlertEpisode(new EpisodeMatching.Span(4, 4), true),
                new EpisodeMatching.AlertEpisode(new EpisodeMatching.Span(10, 11), false));
        // an alert that runs across two labelled episodes (and the gap between) counts for both, and is not false
        EpisodeMatching.Matched across = EpisodeMatching.match(new int[] {1, 1, 0, 1}, new int[] {0, 1, 1, 1}, 8);
        assertThat(across.labelled()).extracting(EpisodeMatching.LabelledEpisode::alerts).containsExactly(1, 1);
        assertThat(across.labelled()).extracting(EpisodeMatching.LabelledEpisode::openAlert).containsExactly(3, 3);
        assertThat(across.falseAlerts()).isZero();
    }

    /** A patient with nothing labelled and nothing flagged has no F1 (null in JSON) and sorts as perfect. */
    @Test
    void nothingToFindNothingFlagged() {
        Evaluation ev = Evaluation.of("test", 0.5, 2,
                List.of(recording("quiet", new double[] {0, 1000}, new int[] {0, 0}),
                        recording("a", new double[] {0, 1000}, new int[] {1, 0})),
                List.of(new double[] {0.1, 0.1}, new double[] {0.1, 0.1}), List.of(new int[2], new int[2]));
        assertThat(ev.patients()).extracting(Evaluation.Patient::id).containsExactly("a", "quiet");
        assertThat(ev.patients().get(1).f1()).isNaN();
        @SuppressWarnings("unchecked")
        Object f1 = ((List<java.util.Map<String, Object>>) ev.json().get("per_patient")).get(1).get("beat_f1");
        assertThat(f1).isNull();
        assertThat(ev.episodes().toFirstFlag().beats().median()).isNaN(); // nothing detected
        assertThat(String.join("\n", ev.summary(5))).contains("onset to first flagged beat: n/a");
    }

    /** scikit-learn's documented example: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333. */
    @Test
    void averagePrecisionAsScikitLearn() {
        PrCurve c = PrCurve.of(new int[] {0, 0, 1, 1}, new double[] {0.1, 0.4, 0.35, 0.8});
        assertThat(c.averagePrecision()).isCloseTo(0.5 * 1 + 0.5 * 2.0 / 3, within(1e-12));
        assertThat(c.recall()).containsExactly(0.5, 0.5, 1.0, 1.0);
    }

    @Test
    void summaryLinesAreStable() {
        List<String> lines = handMade().summary(10);
        assertThat(lines.get(1)).isEqualTo("beat: precision 0.625 recall 0.417 F1 0.500 (tp 5, fp 3, fn 7; "
                + "average precision 0.565)");
        assertThat(lines.get(2)).isEqualTo("episodes: 4 labelled, 3 detected (recall 0.750), 1 missed");
        assertThat(lines.get(3)).isEqualTo("alerts: 5, 1 with no labelled beat (211.76 per patient-hour), "
                + "precision 0.800");
        assertThat(lines.get(4)).isEqualTo("onset to first flagged beat: median 1.0 beats (1.0 s), p90 1.8 beats "
                + "(1.2 s), max 2 beats (1.2 s)");
        assertThat(lines.get(6)).isEqualTo("alerts per detected episode: mean 1.33, 1 of 3 split into several");
    }

    private static void assertSpread(Evaluation.Spread s, double median, double p90, double max) {
        assertThat(s.median()).as("median").isCloseTo(median, within(1e-9));
        assertThat(s.p90()).as("p90").isCloseTo(p90, within(1e-9));
        assertThat(s.max()).as("max").isCloseTo(max, within(1e-9));
    }
}
