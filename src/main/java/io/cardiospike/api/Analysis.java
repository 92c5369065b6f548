package io.cardiospike.api;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One recording scored by the ensemble, with the per-beat flags and episodes that the API and the page show. */
record Analysis(double[] proba, int[] anomaly, int[] artifact, List<Episode> episodes) {

    /** Consecutive flagged beats; {@code start} and {@code end} are inclusive beat indices. */
    record Episode(int start, int end, double maxProba) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", start);
            m.put("end", end);
            m.put("max_proba", maxProba);
            return m;
        }
    }

    static Analysis of(EnsembleScorer scorer, double[] rr) {
        double[] proba = scorer.scoreRecording(rr).proba();
        int n = rr.length;
        int[] anomaly = scorer.decide(proba); // the same decisions as the CLI's y column
        int[] artifact = new int[n];
        List<Episode> episodes = new ArrayList<>();
        int start = -1;
        double max = 0;
        for (int i = 0; i < n; i++) {
            artifact[i] = Artifacts.isArtifact(rr[i]) ? 1 : 0;
            if (anomaly[i] == 1) {
                if (start < 0) {
                    start = i;
                    max = proba[i];
                } else {
                    max = Math.max(max, proba[i]);
                }
            } else if (start >= 0) {
                episodes.add(new Episode(start, i - 1, max));
                start = -1;
            }
        }
        if (start >= 0) {
            episodes.add(new Episode(start, n - 1, max));
        }
        return new Analysis(proba, anomaly, artifact, episodes);
    }

    List<Map<String, Object>> episodesJson() {
        return episodes.stream().map(Episode::json).toList();
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
        return m;
    }
}
