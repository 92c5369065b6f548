package io.cardiospike.stream.functions;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.WindowScores;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.stream.StreamJson;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.ScoredBeat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Per-patient scoring, keyed by patient id. Beats wait in keyed state until the watermark passes them (so beats that
 * arrive out of order within the allowed lateness are put back in order), then join the patient's current segment.
 * A beat is scored as soon as its window is final ({@link BeatWindows#isComplete}); all beats that become final on
 * one timer are scored in one {@link EnsembleScorer#scoreWindows} call.
 *
 * <p>A pause longer than the idle-flush gap ends the patient's segment: its remaining beats are scored with the
 * segment's final length, exactly like the batch scorer treats the end of a recording, and the next beat starts a new
 * segment. A pause is seen in event time (two consecutive beats further apart than the gap, or the watermark passing
 * the patient's last beat by the gap while other patients go on) or, when the whole input has gone quiet, in
 * processing time (no beat from the patient and no watermark progress for the gap: the end of a replay). Job stalls
 * and restarts do not count as pauses while the watermark still moves. After a retention period without beats the
 * patient's state is removed.
 *
 * <p>Main output: one {@link ScoredBeat} per beat. Side outputs: {@link #ALERTS} (one per anomaly episode, emitted
 * when it closes) and {@link #LATE_BEATS} (beats too late to be put in order).
 */
public class PatientScorer extends KeyedProcessFunction<String, Beat, ScoredBeat> {
    public static final OutputTag<AnomalyAlert> ALERTS = new OutputTag<>("alerts") {};
    public static final OutputTag<DeadLetter> LATE_BEATS = new OutputTag<>("late-beats") {};

    private final String modelDir;
    static final long MAX_ARTIFACT_RR_MS = 60_000;

    private final long idleFlushMs;
    private final long stateRetentionMs;

    private transient EnsembleScorer scorer;
    private transient FeatureSpec spec;
    private transient double threshold;
    private transient String modelVersion;
    private transient ValueState<PatientState> state;
    private transient Counter beatsScored;
    private transient Counter alerts;
    private transient Counter duplicates;
    private transient Counter lateBeats;
    private transient Histogram scoringLatencyMicros;
    /** The watermark last seen and the processing time it last moved (or this task started: restores). */
    private transient long lastWatermark;
    private transient long watermarkMovedAtMs;

    public PatientScorer(String modelDir, long idleFlushMs, long stateRetentionMs) {
        if (idleFlushMs <= 0 || stateRetentionMs < 0) {
            throw new IllegalArgumentException("idle flush gap must be positive, retention non-negative");
        }
        this.modelDir = modelDir;
        this.idleFlushMs = idleFlushMs;
        this.stateRetentionMs = stateRetentionMs;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        scorer = EnsembleScorer.open(Path.of(modelDir));
        spec = scorer.spec();
        threshold = scorer.threshold();
        modelVersion = scorer.modelVersion();
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("patient", PatientState.class));
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        beatsScored = metrics.counter("beatsScored");
        alerts = metrics.counter("alerts");
        duplicates = metrics.counter("duplicates");
        lateBeats = metrics.counter("lateBeats");
        scoringLatencyMicros = metrics.histogram("scoringLatencyMicros", new DescriptiveStatisticsHistogram(1000));
        lastWatermark = Long.MIN_VALUE;
        watermarkMovedAtMs = Long.MIN_VALUE;
    }

    @Override
    public void close() throws Exception {
        if (scorer != null) {
            scorer.close();
            scorer = null;
        }
    }

    @Override
    public void processElement(Beat beat, Context ctx, Collector<ScoredBeat> out) throws Exception {
        noteActive(ctx);
        PatientState s = state.value();
        if (s == null) {
            s = new PatientState();
        }
        if (s.holds(beat.ts)) {
            duplicates.inc(); // dropped by design: a resent beat must not be scored twice
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        if (beat.ts <= Math.max(watermark, s.lastReleasedTs)) {
            lateBeats.inc();
            ctx.output(LATE_BEATS, new DeadLetter(StreamJson.LATE,
                    "beat at or before the watermark or the patient's last released beat (allowed lateness exceeded)",
                    beat.patientId, beat.patientId,
                    new String(StreamJson.event(beat.patientId, beat.ts, beat.rrMs), StandardCharsets.UTF_8), null));
            return;
        }
        s.addPending(beat.ts, beat.rrMs);
        if (s.eventTimerAt == PatientState.NO_TIMER || beat.ts < s.eventTimerAt) {
            // The patient's event-time timer sits at the oldest waiting beat; it re-arms itself for the next one.
            ctx.timerService().registerEventTimeTimer(beat.ts);
            s.eventTimerAt = beat.ts;
        }
        long now = ctx.timerService().currentProcessingTime();
        s.lastArrivalMs = now;
        if (s.idleTimerAt == PatientState.NO_TIMER || s.idleTimerAt > now + idleFlushMs) {
            // No idle check pending, or only the later state-cleanup one: check for a pause one gap from now.
            armIdleTimer(s, ctx, now + idleFlushMs);
        }
        state.update(s);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ScoredBeat> out) throws Exception {
        noteActive(ctx);
        PatientState s = state.value();
        if (s == null) {
            return; // a timer of a patient whose state was already cleaned up
        }
        switch (ctx.timeDomain()) {
            case EVENT_TIME -> {
                long watermark = ctx.timerService().currentWatermark();
                release(s, watermark, ctx, out);
                if (s.pendingCount == 0 && s.segSeen > 0 && watermark >= s.lastReleasedTs + silenceMs()) {
                    endSegment(s, ctx, out); // silent in event time while the stream went on
                }
                // One event-time timer per patient: the oldest waiting beat, else the silence check.
                int oldest = s.oldestPending();
                long next = oldest >= 0 ? s.pendingTs[oldest]
                        : s.segSeen > 0 ? s.lastReleasedTs + silenceMs() : PatientState.NO_TIMER;
                if (next != PatientState.NO_TIMER) {
                    ctx.timerService().registerEventTimeTimer(next);
                }
                s.eventTimerAt = next;
                state.update(s);
            }
            case PROCESSING_TIME -> {
                if (timestamp != s.idleTimerAt) {
                    return; // superseded
                }
                s.idleTimerAt = PatientState.NO_TIMER;
                if (s.hasBeats()) {
                    long quietSince = Math.max(s.lastArrivalMs, watermarkMovedAtMs);
                    if (timestamp - quietSince >= idleFlushMs) {
                        flushSegment(s, ctx, out); // the whole input went quiet: the end of a replay
                        armIdleTimer(s, ctx, Math.max(timestamp + 1, s.lastArrivalMs + stateRetentionMs));
                    } else {
                        armIdleTimer(s, ctx, quietSince + idleFlushMs);
                    }
                } else if (timestamp - s.lastArrivalMs >= stateRetentionMs) {
                    if (s.eventTimerAt != PatientState.NO_TIMER) {
                        ctx.timerService().deleteEventTimeTimer(s.eventTimerAt);
                    }
                    state.clear(); // silent for the retention period: forget the patient
                    return;
                } else {
                    armIdleTimer(s, ctx, s.lastArrivalMs + stateRetentionMs);
                }
                state.update(s);
            }
            default -> throw new IllegalStateException("unknown time domain " + ctx.timeDomain());
        }
    }

    /**
     * How far the watermark must pass a patient's last beat before the patient counts as silent: the idle gap plus
     * the longest RR artifact we still treat as data, since the next beat may carry one (seen: 40.9 s).
     */
    private long silenceMs() {
        return idleFlushMs + MAX_ARTIFACT_RR_MS;
    }

    private void noteActive(Context ctx) {
        long watermark = ctx.timerService().currentWatermark();
        if (watermark != lastWatermark || watermarkMovedAtMs == Long.MIN_VALUE) {
            lastWatermark = watermark;
            watermarkMovedAtMs = ctx.timerService().currentProcessingTime();
        }
    }

    private void armIdleTimer(PatientState s, Context ctx, long at) {
        if (s.idleTimerAt != PatientState.NO_TIMER) {
            ctx.timerService().deleteProcessingTimeTimer(s.idleTimerAt);
        }
        ctx.timerService().registerProcessingTimeTimer(at);
        s.idleTimerAt = at;
    }

    /** Scores the beats whose windows became final; their windows never reach the (still open) right edge. */
    private void scoreCompleted(PatientState s, Context ctx, Collector<ScoredBeat> out) {
        int to = s.nextToScore;
        while (to < s.segSeen && BeatWindows.isComplete(to, s.segSeen, spec)) {
            to++;
        }
        score(s, to, ctx, out);
    }

    /** Moves the waiting beats up to {@code bound} into the segment in time order and scores what became final. */
    private void release(PatientState s, long bound, Context ctx, Collector<ScoredBeat> out) {
        boolean released = false;
        for (int k = s.oldestPending(); k >= 0 && s.pendingTs[k] <= bound; k = s.oldestPending()) {
            // A pause is time the beat's own RR does not explain: a 40 s RR artifact is data, not a pause.
            if (s.segSeen > 0 && s.pendingTs[k] - s.lastReleasedTs - s.pendingRr[k] > idleFlushMs) {
                endSegment(s, ctx, out); // a pause between two beats: they belong to different segments
            }
            s.release(k);
            released = true;
        }
        if (released) {
            scoreCompleted(s, ctx, out);
        }
    }

    /** Releases every waiting beat regardless of the watermark and ends the segment. */
    private void flushSegment(PatientState s, Context ctx, Collector<ScoredBeat> out) {
        release(s, Long.MAX_VALUE, ctx, out);
        if (s.eventTimerAt != PatientState.NO_TIMER) {
            ctx.timerService().deleteEventTimeTimer(s.eventTimerAt); // nothing waits for the watermark any more
            s.eventTimerAt = PatientState.NO_TIMER;
        }
        endSegment(s, ctx, out);
    }

    /** The segment ends: score what is left with the segment's final length, like the end of a recording. */
    private void endSegment(PatientState s, Context ctx, Collector<ScoredBeat> out) {
        score(s, s.segSeen, ctx, out);
        closeEpisode(s, ctx);
        s.endSegment();
    }

    private void score(PatientState s, int to, Context ctx, Collector<ScoredBeat> out) {
        int from = s.nextToScore, n = s.segSeen;
        if (to <= from) {
            return;
        }
        List<double[]> windows = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            windows.add(BeatWindows.cut(s::rrAt, n, i, spec));
        }
        long started = System.nanoTime();
        WindowScores scores = scorer.scoreWindows(windows);
        scoringLatencyMicros.update((System.nanoTime() - started) / 1000);
        String patientId = ctx.getCurrentKey();
        for (int i = from; i < to; i++) {
            double p = scores.proba()[i - from], rr = s.rrAt(i);
            long ts = s.tsAt(i);
            boolean anomaly = p >= threshold;
            out.collect(new ScoredBeat(patientId, ts, rr, p, anomaly, Artifacts.isArtifact(rr), modelVersion));
            if (anomaly) {
                if (s.episodeBeats == 0) {
                    s.episodeStartTs = ts;
                    s.episodeMaxProba = 0;
                    s.episodeSumProba = 0;
                }
                s.episodeBeats++;
                s.episodeEndTs = ts;
                s.episodeMaxProba = Math.max(s.episodeMaxProba, p);
                s.episodeSumProba += p;
            } else {
                closeEpisode(s, ctx);
            }
        }
        beatsScored.inc(to - from);
        s.nextToScore = to;
        s.dropBefore(BeatWindows.oldestNeeded(to, spec));
    }

    private void closeEpisode(PatientState s, Context ctx) {
        if (s.episodeBeats == 0) {
            return;
        }
        ctx.output(ALERTS, new AnomalyAlert(ctx.getCurrentKey(), s.episodeStartTs, s.episodeEndTs, s.episodeBeats,
                s.episodeMaxProba, s.episodeSumProba / s.episodeBeats, modelVersion));
        alerts.inc();
        s.episodeBeats = 0;
    }
}
