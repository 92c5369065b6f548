package io.cardiospike.local;

import io.cardiospike.stream.StreamConfig;
import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.stream.records.AnomalyAlert;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a run sent to {@code rr-events} and what the job committed, checked against a batch re-score of exactly what
 * was sent: every beat scored once with the batch scorer's probability, every batch episode one {@code open} and one
 * {@code closed} alert. Thread-safe: the producer records sends, a {@link TopicReader} records outputs.
 */
public final class ReplayAudit {
    /** Probabilities within this count as equal (ONNX Runtime's float arithmetic in batches of different sizes). */
    public static final double TOLERANCE = 1e-5;

    private record Sent(long ts, double rrMs, long sentAtMs) {}

    private record Scored(double proba, boolean anomaly, long readAtMs) {}

    private final Map<String, List<Sent>> sent = new ConcurrentHashMap<>();
    private final Map<String, Map<Long, List<Scored>>> scores = new ConcurrentHashMap<>();
    private final Map<String, List<String>> alertStatuses = new ConcurrentHashMap<>();
    private final AtomicLong sentCount = new AtomicLong();
    private final AtomicLong scoreCount = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();

    /** The result of {@link #check}. Alerts: by {@code alert_id}, each expected once {@code open}, once {@code closed}. */
    public record Report(long sent, long committed, long missing, long duplicated, long mismatched,
                         long alertsExpected, long alertsMissing, long alertsDuplicated, long alertsUnexpected,
                         long deadLetters) {
        public boolean clean() {
            return missing == 0 && duplicated == 0 && mismatched == 0 && alertsMissing == 0 && alertsDuplicated == 0
                    && alertsUnexpected == 0;
        }
    }

    /** One beat handed to the producer at {@code atMs} (wall clock); per patient in time order. */
    public void sent(ReplayProducer.Event e, long atMs) {
        sent.computeIfAbsent(e.patientId(), k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                .add(new Sent(e.ts(), e.rrMs(), atMs));
        sentCount.incrementAndGet();
    }

    /** One committed output record, from a reader of the scores, alerts and dead-letter topics. */
    public void received(String topic, JsonNode value, StreamConfig config, long atMs) {
        if (topic.equals(config.scoresTopic())) {
            scores.computeIfAbsent(value.path("patient_id").asText(), k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(value.path("ts").asLong(), k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                    .add(new Scored(value.path("proba").asDouble(), value.path("anomaly").asBoolean(), atMs));
            scoreCount.incrementAndGet();
        } else if (topic.equals(config.alertsTopic())) {
            alertStatuses.computeIfAbsent(value.path("alert_id").asText(),
                    k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(value.path("status").asText());
        } else if (topic.equals(config.dlqTopic())) {
            deadLetters.incrementAndGet();
        }
    }

    public long sentCount() {
        return sentCount.get();
    }

    /** Distinct beats with a committed score so far. */
    public long scoredBeats() {
        long n = 0;
        for (Map<Long, List<Scored>> patient : scores.values()) {
            n += patient.size();
        }
        return n;
    }

    /** Score records committed so far (duplicates included). */
    public long scoreCount() {
        return scoreCount.get();
    }

    /**
     * When the first committed score of a beat sent after {@code faultMs} was read, or -1 if none was: the end of the
     * recovery from a fault at {@code faultMs}.
     */
    public long firstScoreOfBeatSentAfter(long faultMs) {
        long first = Long.MAX_VALUE;
        for (Map.Entry<String, List<Sent>> patient : sent.entrySet()) {
            Map<Long, List<Scored>> got = scores.getOrDefault(patient.getKey(), Map.of());
            List<Sent> beats;
            synchronized (patient.getValue()) {
                beats = new ArrayList<>(patient.getValue());
            }
            for (int i = beats.size() - 1; i >= 0 && beats.get(i).sentAtMs() > faultMs; i--) {
                List<Scored> s = got.get(beats.get(i).ts());
                if (s != null && !s.isEmpty()) {
                    first = Math.min(first, s.get(0).readAtMs());
                }
            }
        }
        return first == Long.MAX_VALUE ? -1 : first;
    }

    /** Re-scores every patient's sent beats as one recording and compares. */
    public Report check(EnsembleScorer scorer) throws Exception {
        long missing = 0, duplicated = 0, mismatched = 0;
        Map<String, Integer> expectedAlerts = new HashMap<>();
        for (Map.Entry<String, List<Sent>> patient : sent.entrySet()) {
            List<Sent> beats = patient.getValue();
            double[] rr = beats.stream().mapToDouble(Sent::rrMs).toArray();
            double[] proba = scorer.scoreRecording(rr).proba();
            int[] y = scorer.decide(proba);
            Map<Long, List<Scored>> got = scores.getOrDefault(patient.getKey(), Map.of());
            for (int i = 0; i < beats.size(); i++) {
                List<Scored> s = got.get(beats.get(i).ts());
                if (s == null || s.isEmpty()) {
                    missing++;
                    continue;
                }
                duplicated += s.size() - 1;
                if (Math.abs(s.get(0).proba() - proba[i]) > TOLERANCE || s.get(0).anomaly() != (y[i] == 1)) {
                    mismatched++;
                }
                if (y[i] == 1 && (i == 0 || y[i - 1] == 0)) {
                    expectedAlerts.put(AnomalyAlert.alertId(patient.getKey(), beats.get(i).ts(), scorer.modelVersion()), i);
                }
            }
        }
        long alertsMissing = 0, alertsDuplicated = 0, alertsUnexpected = 0;
        for (String id : expectedAlerts.keySet()) {
            List<String> statuses = alertStatuses.getOrDefault(id, List.of());
            long open = statuses.stream().filter(AnomalyAlert.OPEN::equals).count();
            long closed = statuses.stream().filter(AnomalyAlert.CLOSED::equals).count();
            alertsMissing += (open == 0 || closed == 0) ? 1 : 0;
            alertsDuplicated += (open > 1 || closed > 1) ? 1 : 0;
        }
        for (String id : alertStatuses.keySet()) {
            alertsUnexpected += expectedAlerts.containsKey(id) ? 0 : 1;
        }
        return new Report(sentCount.get(), scoreCount.get(), missing, duplicated, mismatched, expectedAlerts.size(),
                alertsMissing, alertsDuplicated, alertsUnexpected, deadLetters.get());
    }
}
