package io.cardiospike.evaluation;

import io.cardiospike.model.EpisodeTracker;
import java.util.ArrayList;
import java.util.List;

/**
 * Matches one recording's labelled episodes with its alert episodes. Both are runs of consecutive beats as
 * {@link EpisodeTracker} defines them: a labelled episode is a run of {@code y = 1} beats, an alert episode a run of
 * flagged beats (what the API shows as an episode and the stream sends as one alert). The flags are given, so the
 * matching can be checked on flags chosen by hand, apart from any model.
 */
public final class EpisodeMatching {
    private EpisodeMatching() {}

    /** A run of beats, {@code start} and {@code end} inclusive beat indices. */
    public record Span(int start, int end) {
        boolean touches(Span other) {
            return start <= other.end && end >= other.start;
        }
    }

    /**
     * A labelled episode and how the alerts met it.
     *
     * @param firstFlag        index of its first flagged beat, -1 when missed (none of its beats flagged)
     * @param openAlert        index of the beat at which the stream emits the {@code open} alert for that first
     *                         flagged beat: {@code lookahead} beats later, at most the recording's last beat; -1 when
     *                         missed
     * @param alerts           alert episodes with at least one beat in it
     */
    public record LabelledEpisode(Span span, int firstFlag, int openAlert, int alerts) {
        public boolean detected() {
            return firstFlag >= 0;
        }
    }

    /** An alert episode; {@code labelled}: at least one of its beats is labelled. */
    public record AlertEpisode(Span span, boolean labelled) {}

    /** One recording matched: its episodes of both kinds and its per-beat counts. */
    public record Matched(List<LabelledEpisode> labelled, List<AlertEpisode> alerts, long tp, long fp, long fn) {
        public long detected() {
            return labelled.stream().filter(LabelledEpisode::detected).count();
        }

        public long falseAlerts() {
            return alerts.stream().filter(a -> !a.labelled()).count();
        }
    }

    /**
     * @param label     0/1 per beat in time order
     * @param flag      the model's 0/1 decisions, index-aligned
     * @param lookahead beats the stream waits for before it scores a beat
     */
    public static Matched match(int[] label, int[] flag, int lookahead) {
        int n = label.length;
        if (flag.length != n) {
            throw new IllegalArgumentException("labels and flags differ in length: " + n + " and " + flag.length);
        }
        List<Span> labelled = runs(label), alerts = runs(flag);
        long tp = 0, fp = 0, fn = 0;
        int[] labelledBefore = new int[n + 1]; // prefix sums: labelled beats in an alert episode in O(1)
        for (int i = 0; i < n; i++) {
            tp += label[i] == 1 && flag[i] == 1 ? 1 : 0;
            fp += label[i] == 0 && flag[i] == 1 ? 1 : 0;
            fn += label[i] == 1 && flag[i] == 0 ? 1 : 0;
            labelledBefore[i + 1] = labelledBefore[i] + label[i];
        }
        List<AlertEpisode> alertEpisodes = new ArrayList<>(alerts.size());
        for (Span a : alerts) {
            alertEpisodes.add(new AlertEpisode(a, labelledBefore[a.end() + 1] - labelledBefore[a.start()] > 0));
        }
        List<LabelledEpisode> labelledEpisodes = new ArrayList<>(labelled.size());
        int first = 0; // both lists are in time order and disjoint within themselves
        for (Span l : labelled) {
            while (first < alerts.size() && alerts.get(first).end() < l.start()) {
                first++;
            }
            int touching = 0;
            for (int k = first; k < alerts.size() && alerts.get(k).start() <= l.end(); k++) {
                touching++;
            }
            int firstFlag = -1;
            for (int i = l.start(); i <= l.end(); i++) {
                if (flag[i] == 1) {
                    firstFlag = i;
                    break;
                }
            }
            int openAlert = firstFlag < 0 ? -1 : (int) Math.min((long) firstFlag + lookahead, n - 1);
            labelledEpisodes.add(new LabelledEpisode(l, firstFlag, openAlert, touching));
        }
        return new Matched(labelledEpisodes, alertEpisodes, tp, fp, fn);
    }

    /** The runs of 1s, each an {@link EpisodeTracker} episode over the beats in order. */
    static List<Span> runs(int[] on) {
        List<Span> runs = new ArrayList<>();
        EpisodeTracker<Run> tracker = new EpisodeTracker<>(null, Run::new, opened -> {},
                closed -> runs.add(new Span(closed.start, closed.end)));
        for (int i = 0; i < on.length; i++) {
            tracker.beat(i, 0, on[i] == 1);
        }
        tracker.end(); // the end of the recording closes the last run
        return runs;
    }

    private static final class Run implements EpisodeTracker.Episode {
        int start = -1, end;

        @Override
        public void add(long at, double proba) {
            if (start < 0) {
                start = (int) at;
            }
            end = (int) at;
        }
    }
}
