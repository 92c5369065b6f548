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
 * one timer are scored in one {@link EnsembleScorer#scoreWindows} call. When the patient sends nothing for the idle
 * flush gap (processing time), the remaining beats are scored with the segment's final length, exactly like the
 * batch scorer treats the end of a recording, and the segment ends. After a further retention period without beats
 * the patient's state is removed.
 *
 * <p>Main output: one {@link ScoredBeat} per beat. Side outputs: {@link #ALERTS} (one per anomaly episode, emitted
 * when it closes) and {@link #LATE_BEATS} (beats too late to be put in order).
 */
public class PatientScorer extends KeyedProcessFunction<String, Beat, ScoredBeat> {
    public static final OutputTag<AnomalyAlert> ALERTS = new OutputTag<>("alerts") {};
    public static final OutputTag<DeadLetter> LATE_BEATS = new OutputTag<>("late-beats") {};

    private final String modelDir;
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
    /** Processing time of this task's first callback: silence is never counted from before (job downtime). */
    private transient long activeSinceMs;

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
        activeSinceMs = Long.MIN_VALUE;
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
            // One event-time timer per patient, at the oldest waiting beat; it re-arms itself for the next one.
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
                if (s.releaseUpTo(ctx.timerService().currentWatermark()) > 0) {
                    scoreCompleted(s, ctx, out);
                }
                s.eventTimerAt = PatientState.NO_TIMER;
                if (s.pendingCount > 0) {
                    s.eventTimerAt = s.minPendingTs();
                    ctx.timerService().registerEventTimeTimer(s.eventTimerAt);
                }
                state.update(s);
            }
            case PROCESSING_TIME -> {
                if (timestamp != s.idleTimerAt) {
                    return; // superseded
                }
                s.idleTimerAt = PatientState.NO_TIMER;
                // After a restore the patient's backlog is still on its way: count silence from the restart.
                long silentSince = Math.max(s.lastArrivalMs, activeSinceMs);
                if (timestamp - silentSince < idleFlushMs) {
                    armIdleTimer(s, ctx, silentSince + idleFlushMs);
                    state.update(s);
                } else if (s.hasBeats()) {
                    flushSegment(s, ctx, out);
                    armIdleTimer(s, ctx, Math.max(timestamp + 1, s.lastArrivalMs + stateRetentionMs));
                    state.update(s);
                } else {
                    state.clear(); // silent for the retention period: forget the patient
                }
            }
            default -> throw new IllegalStateException("unknown time domain " + ctx.timeDomain());
        }
    }

    private void noteActive(Context ctx) {
        if (activeSinceMs == Long.MIN_VALUE) {
            activeSinceMs = ctx.timerService().currentProcessingTime();
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

    /** The pause ends the segment: score what is left with the segment's final length, like a recording's end. */
    private void flushSegment(PatientState s, Context ctx, Collector<ScoredBeat> out) {
        s.releaseUpTo(Long.MAX_VALUE);
        if (s.eventTimerAt != PatientState.NO_TIMER) {
            ctx.timerService().deleteEventTimeTimer(s.eventTimerAt); // nothing waits for the watermark any more
            s.eventTimerAt = PatientState.NO_TIMER;
        }
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
