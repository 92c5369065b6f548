package io.cardiospike.api;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.EpisodeTracker;
import io.cardiospike.model.Explanation;
import io.cardiospike.model.ScoredWindow;
import io.cardiospike.model.WindowScores;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** One recording scored by the ensemble, with the per-beat flags and episodes that the API and the page show. */
record Analysis(double[] proba, int[] anomaly, int[] artifact, List<Episode> episodes, WindowScores scores) {

    /** An {@link EpisodeTracker} episode of a recording: {@code start} and {@code end} are inclusive beat indices. */
    static final class Episode implements EpisodeTracker.Episode {
        private int start = -1;
        private int end;
        private double maxProba;

        @Override
        public void add(long index, double proba) {
            if (start < 0) {
                start = (int) index;
            }
            end = (int) index;
            maxProba = Math.max(maxProba, proba);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", start);
            m.put("end", end);
            m.put("max_proba", maxProba);
            return m;
        }
    }

    static Analysis of(EnsembleScorer scorer, double[] rr) {
        WindowScores scores = scorer.scoreRecording(rr);
        double[] proba = scores.proba();
        int n = rr.length;
        int[] anomaly = scorer.decide(proba); // the same decisions as the CLI's y column
        int[] artifact = new int[n];
        List<Episode> episodes = new ArrayList<>();
        EpisodeTracker<Episode> tracker = new EpisodeTracker<>(null, Episode::new, opened -> {}, episodes::add);
        for (int i = 0; i < n; i++) {
            artifact[i] = Artifacts.isArtifact(rr[i]) ? 1 : 0;
            tracker.beat(i, proba[i], anomaly[i] == 1);
        }
        tracker.end(); // the end of the recording closes the last episode
        return new Analysis(proba, anomaly, artifact, episodes, scores);
    }

    /**
     * Why each flagged beat was flagged, in beat order: {@code beat} (its index), then the {@link Explanation}'s
     * fields. Flagged beats only, explained together (their TreeSHAP walks share one pass over the trees): an
     * explanation costs about as much as 7 scored beats (one alone, 115).
     */
    List<Map<String, Object>> explanationsJson(EnsembleScorer scorer, double[] rr) {
        int[] flagged = IntStream.range(0, rr.length).filter(i -> anomaly[i] == 1).toArray();
        List<Explanation> explained = scorer.explain(Arrays.stream(flagged).mapToObj(i -> new ScoredWindow(
                BeatWindows.cut(rr, i, scorer.spec()), scores.lgbmMargin()[i], scores.cnnLogit()[i])).toList());
        List<Map<String, Object>> list = new ArrayList<>();
        for (int k = 0; k < flagged.length; k++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("beat", flagged[k]);
            m.putAll(explained.get(k).json());
            list.add(m);
        }
        return list;
    }

    List<Map<String, Object>> episodesJson() {
        return episodes.stream().map(Episode::json).toList();
    }

    /** A recording's entry in the list: what the page needs to pick one to open (the most episodes) and to label it. */
    static Map<String, Object> counts(EnsembleScorer scorer, Recording r) {
        Analysis a = of(scorer, r.rr());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("beats", r.size());
        m.put("episodes", a.episodes().size());
        m.put("anomalies", Arrays.stream(a.anomaly()).sum());
        m.put("artifacts", Arrays.stream(a.artifact()).sum());
        return m;
    }

    /** The page's view of a recording: inputs, scores, flags and episodes, index-aligned. */
    static Map<String, Object> recordingJson(EnsembleScorer scorer, Recording r) {
        Analysis a = of(scorer, r.rr());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("beats", r.size());
        m.put("model_version", scorer.modelVersion());
        m.put("threshold", scorer.threshold());
        m.put("time", r.time());
        m.put("rr", r.rr());
        m.put("proba", a.proba());
        m.put("anomaly", a.anomaly());
        m.put("artifact", a.artifact());
        m.put("episodes", a.episodesJson());
        m.put("explanations", a.explanationsJson(scorer, r.rr()));
        return m;
    }
}
