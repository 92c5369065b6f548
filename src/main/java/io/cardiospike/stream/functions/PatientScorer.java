package io.cardiospike.stream.functions;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.stream.BundleStore;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.stream.StreamJson;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.PatientStateSerializer;
import io.cardiospike.stream.records.ScoredBeat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Per-patient scoring, keyed by patient id. Beats wait in keyed state until the watermark passes them (so beats that
 * arrive out of order within the allowed lateness are put back in order), then join the patient's current segment.
 * A beat's window is cut as soon as it is final ({@link BeatWindows#isComplete}).
 *
 * <p>Windows are scored across patients: every window cut while one watermark fires its timers (or one idle timer
 * fires) goes into one {@link EnsembleScorer#scoreWindows} call before the watermark moves on downstream. A patient
 * streaming at one beat per second completes about one window per watermark, and a call of one window costs about
 * 2.6 times as much per window as a call of hundreds (ONNX Runtime's per-call overhead). A window scores the same in
 * any call (BatchInvarianceTest), so batching changes no result. This is why the scorer is an operator rather than a
 * {@code KeyedProcessFunction}: it scores after all timers of a watermark have fired and then emits each patient's
 * results under that patient's key.
 *
 * <p>A pause longer than the idle-flush gap ends the patient's segment: its remaining beats are scored with the
 * segment's final length, exactly like the batch scorer treats the end of a recording, and the next beat starts a new
 * segment. A pause is seen in event time (two consecutive beats further apart than the gap, or the watermark passing
 * the patient's last beat by the gap while other patients go on) or, when the whole input has gone quiet, in
 * processing time (no beat from the patient and no watermark progress for the gap: the end of a replay). Job stalls
 * and restarts do not count as pauses while the watermark still moves. After a retention period without beats the
 * patient's state is removed.
 *
 * <p>A beat is anomalous when its probability reaches the bundle's threshold, as in the batch scorer.
 *
 * <p>Main output: one {@link ScoredBeat} per beat. Side outputs: {@link #ALERTS} (per anomaly episode an "open" alert
 * with its first anomalous beat and a "closed" one when it ends) and {@link #LATE_BEATS} (beats too late to be put in
 * order).
 */
public class PatientScorer extends AbstractStreamOperator<ScoredBeat>
        implements OneInputStreamOperator<Beat, ScoredBeat>, Triggerable<String, VoidNamespace> {
    public static final OutputTag<AnomalyAlert> ALERTS = new OutputTag<>("alerts") {};
    public static final OutputTag<DeadLetter> LATE_BEATS = new OutputTag<>("late-beats") {};
    static final long MAX_ARTIFACT_RR_MS = 60_000;
    /**
     * Windows scored at once at most: a watermark that jumps far (the end of a bounded input, a long-idle source)
     * fires every patient's timer in one go, and the pending windows must not grow with the number of patients.
     */
    static final int MAX_PENDING_WINDOWS = 4096;
    private static final VoidNamespace NS = VoidNamespace.INSTANCE;

    private final String modelDir;
    private final long idleFlushMs;
    private final long stateRetentionMs;

    private transient EnsembleScorer scorer;
    private transient FeatureSpec spec;
    private transient String modelVersion;
    private transient ValueState<PatientState> state;
    private transient ValueState<Episode> episodes;
    private transient InternalTimerService<VoidNamespace> timers;
    /** Cut but not yet scored, in the order they were cut: windows, and the ends of segments between them. */
    private transient List<Pending> pending;
    private transient int pendingWindows;
    /** Event time stamped on what the pending windows produce: the watermark that completed them, or none. */
    private transient long pendingTimestamp;
    private transient Counter beatsScored;
    private transient Counter alerts;
    private transient Counter duplicates;
    private transient Counter lateBeats;
    private transient Histogram scoringLatencyMicros;
    private transient Histogram windowsPerCall;
    /** The watermark last seen and the processing time it last moved (or this task started: restores). */
    private transient long lastWatermark;
    private transient long watermarkMovedAtMs;

    /** A beat whose window waits to be scored, or ({@code window == null}) the end of the patient's segment. */
    private record Pending(String patientId, long ts, double rrMs, double[] window) {}

    /** The keyed state holding each patient's {@link PatientState}. */
    public static ValueStateDescriptor<PatientState> patientState() {
        return new ValueStateDescriptor<>("patient", PatientStateSerializer.INSTANCE);
    }


    public PatientScorer(String modelDir, long idleFlushMs, long stateRetentionMs) {
        if (idleFlushMs <= 0 || stateRetentionMs < 0) {
            throw new IllegalArgumentException("idle flush gap must be positive, retention non-negative");
        }
        this.modelDir = modelDir;
        this.idleFlushMs = idleFlushMs;
        this.stateRetentionMs = stateRetentionMs;
    }

    @Override
    public void open() throws Exception {
        super.open();
        scorer = EnsembleScorer.open(BundleStore.localCopy(modelDir)); // fetched once per TaskManager
        spec = scorer.spec();
        modelVersion = scorer.modelVersion();
        state = getPartitionedState(patientState());
        episodes = getPartitionedState(new ValueStateDescriptor<>("episode", Episode.class));
        timers = getInternalTimerService("patient-timers", VoidNamespaceSerializer.INSTANCE, this);
        pending = new ArrayList<>();
        MetricGroup metrics = getMetricGroup();
        beatsScored = metrics.counter("beatsScored");
        alerts = metrics.counter("alerts");
        duplicates = metrics.counter("duplicates");
        lateBeats = metrics.counter("lateBeats");
        scoringLatencyMicros = metrics.histogram("scoringLatencyMicros", new DescriptiveStatisticsHistogram(1000));
        windowsPerCall = metrics.histogram("windowsPerCall", new DescriptiveStatisticsHistogram(1000));
        lastWatermark = Long.MIN_VALUE;
        watermarkMovedAtMs = Long.MIN_VALUE;
    }

    @Override
    public void close() throws Exception {
        try {
            if (scorer != null) {
                scorer.close();
                scorer = null;
            }
        } finally {
            super.close();
        }
    }

    @Override
    public void processElement(StreamRecord<Beat> record) throws Exception {
        Beat beat = record.getValue();
        noteActive();
        PatientState s = state.value();
        if (s == null) {
            s = new PatientState();
        }
        if (s.holds(beat.ts)) {
            duplicates.inc(); // dropped by design: a resent beat must not be scored twice
            return;
        }
        if (beat.ts <= Math.max(timers.currentWatermark(), s.lastReleasedTs)) {
            lateBeats.inc();
            output.collect(LATE_BEATS, new StreamRecord<>(new DeadLetter(StreamJson.LATE,
                    "beat at or before the watermark or the patient's last released beat (allowed lateness exceeded)",
                    beat.patientId, beat.patientId,
                    new String(StreamJson.event(beat.patientId, beat.ts, beat.rrMs), StandardCharsets.UTF_8), null)));
            return;
        }
        s.addPending(beat.ts, beat.rrMs);
        if (s.eventTimerAt == PatientState.NO_TIMER || beat.ts < s.eventTimerAt) {
            // The patient's event-time timer sits at the oldest waiting beat; it re-arms itself for the next one.
            timers.registerEventTimeTimer(NS, beat.ts);
            s.eventTimerAt = beat.ts;
        }
        long now = timers.currentProcessingTime();
        s.lastArrivalMs = now;
        if (s.idleTimerAt == PatientState.NO_TIMER || s.idleTimerAt > now + idleFlushMs) {
            // No idle check pending, or only the later state-cleanup one: check for a pause one gap from now.
            armIdleTimer(s, now + idleFlushMs);
        }
        state.update(s);
    }

    /** Fires the timers the watermark passed (their windows collect in {@link #pending}), scores, then forwards it. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // Replaces AbstractStreamOperator's "advance the timers, emit the watermark" to score in between, so results
        // precede the watermark downstream. (Flink's interruptible-timers option does not apply to this operator.)
        timeServiceManager.advanceWatermark(mark);
        noteActive(); // the watermark moved even if no timer of this task fired
        scorePending(mark.getTimestamp());
        output.emitWatermark(mark);
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        noteActive();
        PatientState s = state.value();
        if (s == null) {
            return; // a timer of a patient whose state was already cleaned up
        }
        long watermark = timers.currentWatermark();
        release(s, watermark);
        if (s.pendingCount == 0 && s.segSeen > 0 && watermark >= s.lastReleasedTs + silenceMs()) {
            endSegment(s); // silent in event time while the stream went on
        }
        // One event-time timer per patient: the oldest waiting beat, else the silence check.
        int oldest = s.oldestPending();
        long next = oldest >= 0 ? s.pendingTs[oldest]
                : s.segSeen > 0 ? s.lastReleasedTs + silenceMs() : PatientState.NO_TIMER;
        if (next != PatientState.NO_TIMER) {
            timers.registerEventTimeTimer(NS, next);
        }
        s.eventTimerAt = next;
        state.update(s);
        if (pendingWindows >= MAX_PENDING_WINDOWS) {
            scorePending(watermark); // still before the watermark goes downstream
        }
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        noteActive();
        PatientState s = state.value();
        if (s == null || timer.getTimestamp() != s.idleTimerAt) {
            return; // cleaned up already, or superseded
        }
        long now = timer.getTimestamp();
        s.idleTimerAt = PatientState.NO_TIMER;
        if (s.hasBeats()) {
            long quietSince = Math.max(s.lastArrivalMs, watermarkMovedAtMs);
            if (now - quietSince >= idleFlushMs) {
                flushSegment(s); // the whole input went quiet: the end of a replay
                armIdleTimer(s, Math.max(now + 1, s.lastArrivalMs + stateRetentionMs));
            } else {
                armIdleTimer(s, quietSince + idleFlushMs);
            }
            state.update(s);
            scorePending(Long.MIN_VALUE); // no watermark comes to carry these: score now
        } else if (now - s.lastArrivalMs >= stateRetentionMs) {
            if (s.eventTimerAt != PatientState.NO_TIMER) {
                timers.deleteEventTimeTimer(NS, s.eventTimerAt);
            }
            state.clear(); // silent for the retention period: forget the patient
            episodes.clear();
        } else {
            armIdleTimer(s, s.lastArrivalMs + stateRetentionMs);
            state.update(s);
        }
    }

    /** Nothing cut stays unscored across a checkpoint (the batch is not state); normally it is empty here. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        scorePending(Long.MIN_VALUE);
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        scorePending(Long.MIN_VALUE);
        super.finish();
    }

    /**
     * How far the watermark must pass a patient's last beat before the patient counts as silent: the idle gap plus
     * the longest RR artifact we still treat as data, since the next beat may carry one (seen: 40.9 s).
     */
    private long silenceMs() {
        return idleFlushMs + MAX_ARTIFACT_RR_MS;
    }

    private void noteActive() {
        long watermark = timers.currentWatermark();
        if (watermark != lastWatermark || watermarkMovedAtMs == Long.MIN_VALUE) {
            lastWatermark = watermark;
            watermarkMovedAtMs = timers.currentProcessingTime();
        }
    }

    private void armIdleTimer(PatientState s, long at) {
        if (s.idleTimerAt != PatientState.NO_TIMER) {
            timers.deleteProcessingTimeTimer(NS, s.idleTimerAt);
        }
        timers.registerProcessingTimeTimer(NS, at);
        s.idleTimerAt = at;
    }

    /** Cuts the windows that became final; they never reach the (still open) right edge. */
    private void cutCompleted(PatientState s) {
        int to = s.nextToScore;
        while (to < s.segSeen && BeatWindows.isComplete(to, s.segSeen, spec)) {
            to++;
        }
        cut(s, to);
    }

    /** Moves the waiting beats up to {@code bound} into the segment in time order and cuts what became final. */
    private void release(PatientState s, long bound) {
        boolean released = false;
        for (int k = s.oldestPending(); k >= 0 && s.pendingTs[k] <= bound; k = s.oldestPending()) {
            // A pause is time the beat's own RR does not explain: a 40 s RR artifact is data, not a pause.
            if (s.segSeen > 0 && s.pendingTs[k] - s.lastReleasedTs - s.pendingRr[k] > idleFlushMs) {
                endSegment(s); // a pause between two beats: they belong to different segments
            }
            s.release(k);
            released = true;
        }
        if (released) {
            cutCompleted(s);
        }
    }

    /** Releases every waiting beat regardless of the watermark and ends the segment. */
    private void flushSegment(PatientState s) {
        release(s, Long.MAX_VALUE);
        if (s.eventTimerAt != PatientState.NO_TIMER) {
            timers.deleteEventTimeTimer(NS, s.eventTimerAt); // nothing waits for the watermark any more
            s.eventTimerAt = PatientState.NO_TIMER;
        }
        endSegment(s);
    }

    /** The segment ends: its remaining beats are cut with its final length, like the end of a recording. */
    private void endSegment(PatientState s) {
        cut(s, s.segSeen);
        pending.add(new Pending(patientId(), 0, 0, null)); // closes the patient's open episode, if any
        s.endSegment();
    }

    private void cut(PatientState s, int to) {
        String patientId = patientId();
        for (int i = s.nextToScore; i < to; i++) {
            pending.add(new Pending(patientId, s.tsAt(i), s.rrAt(i), BeatWindows.cut(s::rrAt, s.segSeen, i, spec)));
            pendingWindows++;
        }
        s.nextToScore = Math.max(s.nextToScore, to);
        s.dropBefore(BeatWindows.oldestNeeded(s.nextToScore, spec));
    }

    private String patientId() {
        return (String) getCurrentKey();
    }

    /**
     * Scores every pending window in one call, then emits each beat's score and updates its patient's episode, in
     * the order the windows were cut (so per patient in time order). Stamps the outputs with {@code timestamp}
     * ({@code Long.MIN_VALUE}: none).
     */
    private void scorePending(long timestamp) throws Exception {
        if (pending.isEmpty()) {
            return;
        }
        pendingTimestamp = timestamp;
        List<double[]> windows = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            if (p.window != null) {
                windows.add(p.window);
            }
        }
        double[] proba = new double[0];
        if (!windows.isEmpty()) {
            long started = System.nanoTime();
            proba = scorer.scoreWindows(windows).proba();
            scoringLatencyMicros.update((System.nanoTime() - started) / 1000);
            windowsPerCall.update(windows.size());
        }
        int next = 0;
        String patientId = null;
        Episode episode = null;
        boolean changed = false;
        for (Pending p : pending) {
            if (!p.patientId.equals(patientId)) {
                if (changed) {
                    saveEpisode(episode);
                }
                patientId = p.patientId;
                setCurrentKey(patientId);
                episode = episodes.value();
                changed = false;
            }
            if (p.window == null) { // the segment ended
                changed |= closeEpisode(episode);
                episode = null;
                continue;
            }
            double pr = proba[next++];
            boolean anomaly = scorer.isAnomalous(pr); // the same rule as the batch scorer's decide
            emit(new ScoredBeat(patientId, p.ts, p.rrMs, pr, anomaly, Artifacts.isArtifact(p.rrMs), modelVersion));
            if (anomaly) {
                boolean opens = episode == null;
                if (opens) {
                    episode = new Episode();
                }
                episode.add(p.ts, pr);
                if (opens) {
                    emitAlert(AnomalyAlert.OPEN, episode); // at onset: the consumer need not wait for the end
                }
                changed = true;
            } else {
                changed |= closeEpisode(episode);
                episode = null;
            }
        }
        if (changed) {
            saveEpisode(episode);
        }
        beatsScored.inc(windows.size());
        pending.clear();
        pendingWindows = 0;
    }

    private void saveEpisode(Episode episode) throws Exception {
        if (episode == null) {
            episodes.clear();
        } else {
            episodes.update(episode);
        }
    }

    /** Emits the closing alert of an open episode; true if there was one. */
    private boolean closeEpisode(Episode e) {
        if (e == null) {
            return false;
        }
        emitAlert(AnomalyAlert.CLOSED, e);
        return true;
    }

    private void emitAlert(String status, Episode e) {
        output.collect(ALERTS, stamped(new AnomalyAlert(status, patientId(), e.startTs, e.endTs, e.beats, e.maxProba,
                e.sumProba / e.beats, modelVersion)));
        if (status.equals(AnomalyAlert.OPEN)) {
            alerts.inc();
        }
    }

    private void emit(ScoredBeat scored) {
        output.collect(stamped(scored));
    }

    private <T> StreamRecord<T> stamped(T value) {
        return pendingTimestamp == Long.MIN_VALUE ? new StreamRecord<>(value) : new StreamRecord<>(value, pendingTimestamp);
    }
}
