package io.cardiospike.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.shadow.ShadowComparison;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's models view, from the streaming job's topics: per live model version, its beats, flagged-beat rate,
 * mean probability and alerts ({@code rr-scores}, {@code rr-alerts}); the live model against its shadow
 * ({@code rr-scores-shadow}, through {@link ShadowComparison}, as {@code shadow report} computes it); and the latest
 * drift records ({@code rr-monitoring}). Not thread safe: {@link LiveFeed} calls it under its lock.
 */
final class ModelsView {
    /** Drift records kept, newest last. */
    static final int DRIFT_RECORDS = 20;
    /**
     * The comparison keeps every patient's episodes: after this many shadow beats it starts afresh, so that a server
     * following a job for months holds a bounded amount (the view says since when).
     */
    static final long COMPARISON_BEATS = 2_000_000;

    /** The job's default {@code --idle-flush}: the pause that ends a patient's segment, and so its episodes. */
    private static final Duration IDLE_FLUSH = Duration.ofSeconds(10);

    private final Map<String, LiveModel> live = new LinkedHashMap<>();
    private final ArrayDeque<JsonNode> drift = new ArrayDeque<>();
    private ShadowComparison comparison = newComparison();
    private long comparedBeats;
    private long comparisonsRestarted;

    /** A record of {@code rr-scores}. */
    void onScore(String modelVersion, double proba, boolean anomaly) {
        live.computeIfAbsent(modelVersion == null ? "unknown" : modelVersion, LiveModel::new).add(proba, anomaly);
    }

    /** A record of {@code rr-alerts}: an open one that paged counts (not a suppressed or closing one). */
    void onAlert(JsonNode alert) {
        if ("open".equals(alert.path("status").asText()) && !alert.path("suppressed").asBoolean(false)) {
            live.computeIfAbsent(alert.path("model_version").asText("unknown"), LiveModel::new).alerts++;
        }
    }

    /** A record of {@code rr-scores-shadow}; an invalid one throws {@link IllegalArgumentException}. */
    void onShadowScore(JsonNode record) {
        ShadowComparison.Beat beat = ShadowComparison.Beat.fromJson(record);
        if (comparedBeats >= COMPARISON_BEATS) {
            comparison = newComparison();
            comparedBeats = 0;
            comparisonsRestarted++;
        }
        comparison.add(beat);
        comparedBeats++;
    }

    /** A record of {@code rr-monitoring}. */
    void onMonitoring(JsonNode record) {
        drift.addLast(record);
        if (drift.size() > DRIFT_RECORDS) {
            drift.removeFirst();
        }
    }

    String json(ObjectMapper json) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> models = new ArrayList<>();
        for (LiveModel l : live.values()) {
            models.add(l.json());
        }
        m.put("live", models);
        try {
            m.put("shadow", json.readTree(comparison.report().toJson()).get("pairs"));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // our own JSON
        }
        m.put("shadow_restarts", comparisonsRestarted);
        m.put("drift", new ArrayList<>(drift));
        try {
            return json.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ShadowComparison newComparison() {
        return new ShadowComparison(IDLE_FLUSH, 5);
    }

    /** One model version's beats as {@code rr-scores} carries them. */
    private static final class LiveModel {
        final String modelVersion;
        long beats;
        long flagged;
        double probaSum;
        long alerts;

        LiveModel(String modelVersion) {
            this.modelVersion = modelVersion;
        }

        void add(double proba, boolean anomaly) {
            beats++;
            flagged += anomaly ? 1 : 0;
            probaSum += proba;
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model_version", modelVersion);
            m.put("beats", beats);
            m.put("flagged_beats", flagged);
            m.put("flagged_rate", beats == 0 ? 0.0 : flagged / (double) beats);
            m.put("mean_proba", beats == 0 ? 0.0 : probaSum / beats);
            m.put("alerts", alerts);
            return m;
        }
    }
}
