package io.cardiospike.stream.functions;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.EpisodeTracker;
import io.cardiospike.model.Explanation;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.model.ScoredWindow;
import io.cardiospike.model.ScorerStages;
import io.cardiospike.model.WindowScores;
import io.cardiospike.stream.BundleStore;
import io.cardiospike.stream.ShadowModel;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.stream.wire.StreamJson;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.PatientStateSerializer;
import io.cardiospike.stream.records.ScoredBeat;
import io.cardiospike.stream.records.ShadowScore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
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
 * Per-patient scoring, keyed by patient id, on each patient's own event-time clock. Nothing here reads a watermark:
 * a partition's watermark is the newest time of every patient on it, so one device's wrong clock would make other
 * patients' beats late. A patient's clock is its own newest beat in order; beats wait in keyed state until that
 * clock passes them by the allowed lateness (so beats that arrive out of order within it are put back in order),
 * then join the patient's current segment. A beat's window is cut as soon as it is final
 * ({@link BeatWindows#isComplete}).
 *
 * <p>Beats that cannot be put in order go to {@link #REJECTED_BEATS} with a reason of their own:
 * {@code late} (at or before the patient's newest scored beat, by at most the idle-flush gap: reordered beyond the
 * lateness, or resent after it was scored), {@code clock_behind} (further back: a device clock set back, or an old
 * upload sent again) and {@code clock_ahead} (a beat more than the gap ahead of the patient's clock that the next
 * beat did not follow: a glitch of the device clock). Such a jump ahead is held, not trusted: the patient's next beat
 * confirms it when it follows (a device back after a pause, a backlog upload) and rejects it when it is back on the
 * old clock. A patient's first beat waits the same way for the second.
 *
 * <p>Windows are scored across patients: windows cut within {@link #SCORING_DELAY_MS} go into one
 * {@link EnsembleScorer#scoreWindows} call (at most {@link #MAX_PENDING_WINDOWS}), since a call of one window costs
 * about 2.6 times as much per window as a call of hundreds (ONNX Runtime's per-call overhead). A window scores the
 * same in any call (BatchInvarianceTest), so batching changes no result. This is why the scorer is an operator rather
 * than a {@code KeyedProcessFunction}: it scores once for many patients and then emits each patient's results under
 * that patient's key.
 *
 * <p>A pause longer than the idle-flush gap ends the patient's segment: its remaining beats are scored with the
 * segment's final length, exactly like the batch scorer treats the end of a recording, and the next beat starts a new
 * segment. A pause is seen in the patient's time (two consecutive beats further apart than the gap, beyond what the
 * second beat's RR explains) or on the input clock ({@link InputClock}: no beat from the patient while the job read
 * the gap's worth of input). The input clock is the watermark, in the broker's time: a broker outage, a restart, a
 * restore or lag stops it, so no fault is a pause; a record's timestamp is when the broker took it. Silence is counted
 * only while the input flowed ({@link InputFlow}): when the clock jumps after an outage, the beats held through it may
 * still be on their way. After a retention period of flowing input without beats the patient's state is removed.
 *
 * <p>A beat is anomalous when its probability reaches the bundle's threshold, as in the batch scorer.
 *
 * <p>Main output: one {@link ScoredBeat} per beat. Side outputs: {@link #ALERTS} (per anomaly episode, as
 * {@link EpisodeTracker} defines it for the API too, an "open" alert with its first anomalous beat and a "closed" one
 * when it ends) and {@link #REJECTED_BEATS}.
 *
 * <p>With a shadow bundle ({@code --shadow-model-dir}) every batch of windows is scored a second time, by the shadow
 * model, in one more call: the same windows, since the shadow must share the live model's geometry
 * ({@link ShadowModel}). Each beat's two scores go to {@link #SHADOW_SCORES} only; the shadow's episodes, tracked by the
 * same rules in a state of their own, are counted in the metrics and raise no alert. The metric group
 * {@code model="live"|"shadow"} ({@link ModelMetrics}) holds each model's figures and the comparison.
 */
public class PatientScorer extends AbstractStreamOperator<ScoredBeat>
        implements OneInputStreamOperator<Beat, ScoredBeat>, Triggerable<String, VoidNamespace> {
    public static final OutputTag<AnomalyAlert> ALERTS = new OutputTag<>("alerts") {};
    public static final OutputTag<DeadLetter> REJECTED_BEATS = new OutputTag<>("rejected-beats") {};
    /** Each beat's live and shadow score, while a shadow bundle is set. */
    public static final OutputTag<ShadowScore> SHADOW_SCORES = new OutputTag<>("shadow-scores") {};
    /**
     * Gauges of when this subtask's keyed state was ready (restored) and when its model was loaded, epoch ms: a
     * recovery's phases ({@code chaos}).
     */
    public static final String STATE_READY_AT = "stateReadyAtMs", MODEL_READY_AT = "modelReadyAtMs";
    /** How long a cut window may wait for others to be scored with: the latency one batch adds. */
    public static final long SCORING_DELAY_MS = 50;
    /** Windows scored at once at most, so that the pending windows do not grow with the number of patients. */
    static final int MAX_PENDING_WINDOWS = 4096;
    /**
     * Opening alerts explained together at most. They wait for each other, or for the next checkpoint's barrier:
     * alerts reach consumers only when a checkpoint commits them (exactly-once sinks), so the wait delays no reader,
     * and 64 explanations together cost each about 0.1 ms of CPU, fewer more (one alone about 1.7 ms).
     */
    static final int EXPLAIN_TOGETHER = 64;
    private static final VoidNamespace NS = VoidNamespace.INSTANCE;

    private final String modelDir;
    private final long idleFlushMs;
    private final long latenessMs;
    private final long stateRetentionMs;
    private final long alertHoldMs;
    /** The shadow bundle, or null for none. */
    private final String shadowModelDir;

    private transient EnsembleScorer scorer;
    private transient EnsembleScorer shadow;
    private transient String shadowVersion;
    private transient ValueState<Episode> shadowEpisodes;
    private transient ModelMetrics liveMetrics;
    private transient ModelMetrics shadowMetrics;
    private transient ModelMetrics.Comparison comparison;
    private transient FeatureSpec spec;
    private transient String modelVersion;
    private transient ValueState<PatientState> state;
    private transient ValueState<Episode> episodes;
    private transient ValueState<Long> lastAlertedEnd;
    private transient InternalTimerService<VoidNamespace> timers;
    /** The input clock's stalls, so that a patient's silence counts only while the input flowed. */
    private transient InputFlow flow;
    private transient ListState<long[]> flowState;
    private transient long stateReadyAtMs;
    /** Windows cut but not scored yet, across patients, in cut order; segment ends between them. */
    private transient List<Pending> pending;
    private transient int pendingWindows;
    private transient boolean scoringScheduled;
    /** The beat the episode tracker is told of, its window and scores: an episode it opens explains it. */
    private transient double[] trackedWindow;
    private transient double trackedMargin, trackedLogit;
    /**
     * Alerts not sent yet, in order, and the opening ones among them, which wait to be explained together (up to
     * {@link #EXPLAIN_TOGETHER}, or until the next checkpoint's barrier).
     */
    private transient List<AnomalyAlert> unsentAlerts;
    private transient List<ToExplain> toExplain;
    private transient Counter beatsScored;
    private transient Counter alerts;
    private transient Counter duplicates;
    private transient Counter rejectedBeats;
    private transient Histogram scoringLatencyMicros;
    private transient Histogram windowsPerCall;
    /** The live model's drift monitor (PSI gauges, rr-monitoring records); off for a bundle without a reference. */
    private transient DriftWatch liveDrift;
    /** The shadow model's drift against its own bundle's reference, while a shadow is set. */
    private transient DriftWatch shadowDrift;

    /** A beat whose window waits to be scored, or ({@code window == null}) the end of the patient's segment. */
    private record Pending(String patientId, long ts, double rrMs, double[] window) {}

    /** An opening alert waiting for its explanation, and its opening beat's window as scored. */
    private record ToExplain(AnomalyAlert alert, ScoredWindow beat) {}

    /** The internal timer service of the patients' idle checks (keyed by patient, in {@link VoidNamespace}). */
    public static final String TIMERS = "patient-timers";

    /** The keyed state holding each patient's {@link PatientState}. */
    public static ValueStateDescriptor<PatientState> patientState() {
        return new ValueStateDescriptor<>("patient", PatientStateSerializer.INSTANCE);
    }

    /** The keyed state holding a patient's open {@link Episode}, if any. */
    public static ValueStateDescriptor<Episode> episodeState() {
        return new ValueStateDescriptor<>("episode", Episode.class);
    }

    /**
     * The keyed state holding the shadow model's open {@link Episode}, if any; written only while a shadow is set.
     */
    public static ValueStateDescriptor<Episode> shadowEpisodeState() {
        return new ValueStateDescriptor<>("shadow-episode", Episode.class);
    }

    /**
     * The keyed state holding the time of the last beat of the patient's last episode that was not suppressed, for
     * {@code --alert-hold}; written only when the hold is on.
     */
    public static ValueStateDescriptor<Long> alertHoldState() {
        return new ValueStateDescriptor<>("alert-hold", Long.class);
    }

    /** The union operator state of the input clock's stalls ({@link InputFlow#snapshot}). */
    public static ListStateDescriptor<long[]> inputFlowState() {
        return new ListStateDescriptor<>("input-flow", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    public PatientScorer(String modelDir, long idleFlushMs, long latenessMs, long stateRetentionMs) {
        this(modelDir, idleFlushMs, latenessMs, stateRetentionMs, 0);
    }

    /** @param alertHoldMs {@code --alert-hold}: 0 for none */
    public PatientScorer(String modelDir, long idleFlushMs, long latenessMs, long stateRetentionMs, long alertHoldMs) {
        this(modelDir, idleFlushMs, latenessMs, stateRetentionMs, alertHoldMs, null);
    }

    /** @param shadowModelDir {@code --shadow-model-dir}: a bundle scored beside the live one, or null for none */
    public PatientScorer(String modelDir, long idleFlushMs, long latenessMs, long stateRetentionMs, long alertHoldMs,
                         String shadowModelDir) {
        if (idleFlushMs <= 0 || latenessMs < 0 || stateRetentionMs < 0 || alertHoldMs < 0) {
            throw new IllegalArgumentException("idle flush gap must be positive, lateness, retention and alert hold "
                    + "non-negative");
        }
        this.alertHoldMs = alertHoldMs;
        this.modelDir = modelDir;
        this.idleFlushMs = idleFlushMs;
        this.latenessMs = latenessMs;
        this.stateRetentionMs = stateRetentionMs;
        this.shadowModelDir = shadowModelDir;
    }

    @Override
    public void open() throws Exception {
        super.open();
        scorer = EnsembleScorer.open(BundleStore.localCopy(modelDir)); // fetched once per TaskManager
        spec = scorer.spec();
        modelVersion = scorer.modelVersion();
        if (shadowModelDir != null) {
            Path shadowDir = BundleStore.localCopy(shadowModelDir);
            // before opening it: a bundle of other windows may not even load with this spec's features
            ShadowModel.requireSameWindows(scorer.manifest(), ModelManifest.load(shadowDir));
            shadow = EnsembleScorer.open(shadowDir);
            shadow.countAsShadow();
            shadowVersion = shadow.modelVersion();
        }
        shadowEpisodes = getPartitionedState(shadowEpisodeState()); // cleared with the patient even without a shadow
        state = getPartitionedState(patientState());
        episodes = getPartitionedState(episodeState());
        lastAlertedEnd = getPartitionedState(alertHoldState());
        timers = getInternalTimerService(TIMERS, VoidNamespaceSerializer.INSTANCE, this);
        pending = new ArrayList<>();
        unsentAlerts = new ArrayList<>();
        toExplain = new ArrayList<>();
        MetricGroup metrics = getMetricGroup();
        beatsScored = metrics.counter("beatsScored");
        alerts = metrics.counter("alerts");
        duplicates = metrics.counter("duplicates");
        rejectedBeats = metrics.counter("rejectedBeats");
        scoringLatencyMicros = metrics.histogram("scoringLatencyMicros", new DescriptiveStatisticsHistogram(1000));
        windowsPerCall = metrics.histogram("windowsPerCall", new DescriptiveStatisticsHistogram(1000));
        liveMetrics = new ModelMetrics(metrics, "live");
        liveDrift = DriftWatch.open(scorer, "live", metrics,
                e -> output.collect(DriftWatch.MONITORING, new StreamRecord<>(e)));
        if (shadow != null) {
            shadowMetrics = new ModelMetrics(metrics, "shadow");
            comparison = new ModelMetrics.Comparison(metrics);
            shadowDrift = DriftWatch.open(shadow, "shadow", metrics,
                    e -> output.collect(DriftWatch.MONITORING, new StreamRecord<>(e)));
        }
        long stateReadyAt = stateReadyAtMs, modelReadyAt = System.currentTimeMillis();
        metrics.gauge(STATE_READY_AT, (Gauge<Long>) () -> stateReadyAt);
        metrics.gauge(MODEL_READY_AT, (Gauge<Long>) () -> modelReadyAt);
    }

    @Override
    public void close() throws Exception {
        try {
            if (scorer != null) {
                scorer.close();
                scorer = null;
            }
            if (shadow != null) {
                shadow.close();
                shadow = null;
            }
        } finally {
            super.close();
        }
    }

    @Override
    public void processElement(StreamRecord<Beat> record) throws Exception {
        Beat beat = record.getValue();
        PatientState s = state.value();
        if (s == null) {
            s = new PatientState();
        }
        if (s.eventTimerAt != PatientState.NO_TIMER) { // state from a version that ordered beats by watermarks
            timers.deleteEventTimeTimer(NS, s.eventTimerAt);
            s.eventTimerAt = PatientState.NO_TIMER;
        }
        if (s.holds(beat.ts)) {
            duplicates.inc(); // dropped by design: a resent beat must not be scored twice
            return;
        }
        if (accept(s, beat)) {
            // When the broker took it, on the input clock; never earlier than the patient's last (producers' clocks).
            s.lastArrivalMs = Math.max(s.lastArrivalMs, record.getTimestamp());
            long check = s.lastArrivalMs + idleFlushMs;
            if (s.idleTimerAt == PatientState.NO_TIMER || s.idleTimerAt > check) {
                // No idle check pending, or only the later state-cleanup one: check for a pause one gap from here.
                armIdleTimer(s, check);
            }
        }
        state.update(s);
        scheduleScoring(timers.currentProcessingTime()); // last: scoring switches the current key
    }

    /**
     * Puts the beat in order on the patient's clock, holds it if it jumps ahead, or rejects it (false). Releases
     * whatever the patient's clock now passes by the lateness.
     */
    private boolean accept(PatientState s, Beat beat) {
        long ts = beat.ts;
        if (ts <= s.lastReleasedTs) {
            boolean farBehind = s.lastReleasedTs - ts > idleFlushMs;
            reject(farBehind ? DeadLetter.Reason.CLOCK_BEHIND : DeadLetter.Reason.LATE, farBehind
                    ? "beat more than the idle-flush gap before the patient's newest scored beat (device clock set back?)"
                    : "beat at or before the patient's newest scored beat (allowed lateness exceeded)", ts, beat.rrMs);
            return false;
        }
        if (s.hasAhead()) {
            if (ts > s.aheadTs - idleFlushMs && ts - s.aheadTs - beat.rrMs <= idleFlushMs) {
                releaseAll(s); // the clock did move: the old beats end their segment (a gap follows)
                s.takeAhead();
            } else if (ts < s.aheadTs) {
                reject(DeadLetter.Reason.CLOCK_AHEAD, "beat more than the idle-flush gap ahead of the patient's clock, and "
                        + "the patient's next beat was back on the old clock", s.aheadTs, s.aheadRr);
                s.aheadTs = PatientState.NONE;
            } else { // further ahead again: the held beat stands alone, a segment of its own
                releaseAll(s);
                s.takeAhead();
                releaseAll(s);
            }
        }
        long clock = s.clock();
        if (!s.hasAhead() && (clock == PatientState.NONE || ts - clock - beat.rrMs > idleFlushMs)) {
            s.aheadTs = ts; // a first beat, or a jump ahead: wait for the next beat to say whether the clock moved
            s.aheadRr = beat.rrMs;
            return true;
        }
        s.addPending(ts, beat.rrMs);
        release(s, Math.max(clock, ts) - latenessMs); // the clock with this beat, without scanning again
        return true;
    }

    private void reject(DeadLetter.Reason reason, String detail, long ts, double rrMs) {
        rejectedBeats.inc();
        String patientId = patientId();
        output.collect(REJECTED_BEATS, new StreamRecord<>(new DeadLetter(reason, detail, patientId, patientId,
                new String(StreamJson.event(patientId, ts, rrMs), StandardCharsets.UTF_8), null)));
    }

    /** The input clock passed a patient's idle check ({@link PatientState#idleTimerAt}). */
    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        PatientState s = state.value();
        if (s == null) {
            return; // cleaned up already
        }
        if (s.eventTimerAt == timer.getTimestamp()) { // left by a version that ordered beats by watermarks
            s.eventTimerAt = PatientState.NO_TIMER;
            state.update(s);
        }
        if (timer.getTimestamp() != s.idleTimerAt) {
            return; // superseded
        }
        long now = timer.getTimestamp();
        s.idleTimerAt = PatientState.NO_TIMER;
        long silent = flow.flowed(s.lastArrivalMs, now); // the input's stalls are not the patient's silence
        if (s.hasBeats()) {
            if (silent >= idleFlushMs) {
                flushSegment(s); // the patient went quiet while the input flowed: the end of a recording, or a pause
                armIdleTimer(s, now + Math.max(1, stateRetentionMs - silent));
            } else {
                armIdleTimer(s, now + idleFlushMs - silent);
            }
            state.update(s);
            scheduleScoring(timers.currentProcessingTime());
        } else if (silent >= stateRetentionMs) {
            if (s.eventTimerAt != PatientState.NO_TIMER) {
                timers.deleteEventTimeTimer(NS, s.eventTimerAt);
            }
            state.clear(); // silent for the retention period: forget the patient
            episodes.clear();
            lastAlertedEnd.clear();
            shadowEpisodes.clear(); // also what an earlier shadow left
        } else {
            armIdleTimer(s, now + stateRetentionMs - silent);
            state.update(s);
        }
    }

    /** The input clock moved: a stall in it is recorded before the timers it passes fire. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flow.advance(mark.getTimestamp());
        super.processWatermark(mark);
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        flowState = context.getOperatorStateStore().getUnionListState(inputFlowState());
        flow = new InputFlow(2 * (stateRetentionMs + idleFlushMs));
        if (context.isRestored()) {
            flow.restore(flowState.get());
        }
        stateReadyAtMs = System.currentTimeMillis(); // the keyed state is restored before this method
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        flowState.update(flow.snapshot());
    }

    /**
     * Only idle checks left by a version that counted pauses in processing time: moved onto the input clock.
     * (Scoring batches use processing-time callbacks of their own, not these timers.)
     */
    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        PatientState s = state.value();
        if (s != null && timer.getTimestamp() == s.idleTimerAt) {
            s.idleTimerAt = PatientState.NO_TIMER;
            armIdleTimer(s, s.lastArrivalMs + (s.hasBeats() ? idleFlushMs : stateRetentionMs));
            state.update(s);
        }
    }

    /**
     * Nothing cut stays unscored across a checkpoint (the batch is not state), and no alert stays unsent (the waiting
     * ones are not state either): they go out in the transactions this checkpoint commits.
     */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        scorePending();
        explainAndEmitAlerts();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        scorePending();
        explainAndEmitAlerts();
        super.finish();
    }

    /**
     * Scores now if a batch is full, else {@link #SCORING_DELAY_MS} after {@code now} (the time of the beat or timer
     * that cut the windows). Switches the current key.
     */
    private void scheduleScoring(long now) throws Exception {
        if (pendingWindows >= MAX_PENDING_WINDOWS) {
            scorePending();
        } else if (!pending.isEmpty() && !scoringScheduled) {
            scoringScheduled = true;
            getProcessingTimeService().registerTimer(now + SCORING_DELAY_MS, time -> scorePending());
        }
    }

    /** The patient's one idle check, on the input clock (an event-time timer). */
    private void armIdleTimer(PatientState s, long at) {
        if (s.idleTimerAt != PatientState.NO_TIMER) {
            timers.deleteEventTimeTimer(NS, s.idleTimerAt);
        }
        timers.registerEventTimeTimer(NS, at);
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

    private void releaseAll(PatientState s) {
        release(s, Long.MAX_VALUE);
    }

    /** Releases every waiting beat, and one held ahead (after a gap: a segment of its own), and ends the segment. */
    private void flushSegment(PatientState s) {
        releaseAll(s);
        if (s.hasAhead()) {
            s.takeAhead();
            releaseAll(s);
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
     * the order the windows were cut (so per patient in time order).
     */
    private void scorePending() throws Exception {
        scoringScheduled = false; // a timer still due finds nothing, or the next batch
        if (pending.isEmpty()) {
            return;
        }
        List<double[]> windows = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            if (p.window != null) {
                windows.add(p.window);
            }
        }
        double[] proba = new double[0], margin = proba, logit = proba, shadowProba = proba;
        if (!windows.isEmpty()) {
            long started = System.nanoTime();
            WindowScores scores = scorer.scoreWindows(windows, liveDrift.featureColumns());
            proba = scores.proba();
            margin = scores.lgbmMargin();
            logit = scores.cnnLogit();
            scoringLatencyMicros.update((System.nanoTime() - started) / 1000);
            windowsPerCall.update(windows.size());
            liveDrift.observe(windows, scores);
            if (shadow != null) { // the same windows: no state of its own
                WindowScores shadowScores = shadow.scoreWindows(windows, shadowDrift.featureColumns());
                shadowProba = shadowScores.proba();
                shadowDrift.observe(windows, shadowScores);
            }
        }
        int next = 0;
        String patientId = null;
        EpisodeTracker<Episode> tracker = null, shadowTracker = null;
        boolean changed = false, shadowChanged = false;
        for (Pending p : pending) {
            if (!p.patientId.equals(patientId)) {
                if (changed) {
                    saveEpisode(episodes, tracker.open());
                }
                if (shadowChanged) {
                    saveEpisode(shadowEpisodes, shadowTracker.open());
                }
                patientId = p.patientId;
                setCurrentKey(patientId);
                // an open alert at onset, so that the consumer need not wait for the end; a closed one at the end
                tracker = new EpisodeTracker<>(episodes.value(), Episode::new, e -> emitAlert(AnomalyAlert.OPEN, e),
                        e -> emitAlert(AnomalyAlert.CLOSED, e));
                if (shadow != null) { // the episodes the shadow would have opened: counted, never alerted
                    shadowTracker = new EpisodeTracker<>(shadowEpisodes.value(), Episode::new,
                            e -> shadowMetrics.episodeOpened(), e -> {});
                }
                changed = false;
                shadowChanged = false;
            }
            if (p.window == null) { // the segment ended
                changed |= tracker.end();
                if (shadowTracker != null) {
                    shadowChanged |= shadowTracker.end();
                }
                continue;
            }
            int k = next++;
            trackedMargin = margin[k];
            trackedLogit = logit[k];
            double pr = proba[k];
            boolean anomaly = scorer.isAnomalous(pr); // the same rule as the batch scorer's decide
            ScoredBeat scored = new ScoredBeat(patientId, p.ts, p.rrMs, pr, anomaly, Artifacts.isArtifact(p.rrMs),
                    modelVersion);
            emit(scored);
            liveMetrics.beat(pr, anomaly);
            trackedWindow = p.window;
            changed |= tracker.beat(p.ts, pr, anomaly);
            if (shadow != null) {
                double sp = shadowProba[k];
                boolean shadowAnomaly = shadow.isAnomalous(sp); // the shadow bundle's own threshold
                output.collect(SHADOW_SCORES, new StreamRecord<>(new ShadowScore(scored, shadowVersion, sp,
                        shadowAnomaly)));
                shadowMetrics.beat(sp, shadowAnomaly);
                comparison.beat(pr, anomaly, sp, shadowAnomaly);
                shadowChanged |= shadowTracker.beat(p.ts, sp, shadowAnomaly);
            }
        }
        if (changed) {
            saveEpisode(episodes, tracker.open());
        }
        if (shadowChanged) {
            saveEpisode(shadowEpisodes, shadowTracker.open());
        }
        if (toExplain.size() >= EXPLAIN_TOGETHER || toExplain.isEmpty()) {
            explainAndEmitAlerts();
        }
        beatsScored.inc(windows.size());
        pending.clear();
        pendingWindows = 0;
    }

    private static void saveEpisode(ValueState<Episode> state, Episode episode) throws Exception {
        if (episode == null) {
            state.clear();
        } else {
            state.update(episode);
        }
    }

    private void emitAlert(String status, Episode e) {
        try {
            holdOrCount(status, e);
        } catch (IOException ex) { // the tracker's callbacks take no checked exception; the state backend's own
            throw new UncheckedIOException(ex);
        }
        AnomalyAlert alert = new AnomalyAlert(status, patientId(), e.startTs, e.endTs, e.beats, e.maxProba,
                e.sumProba / e.beats, modelVersion);
        alert.suppressed = e.suppressed;
        unsentAlerts.add(alert);
        if (status.equals(AnomalyAlert.OPEN)) { // the opening beat only: an explanation costs about 7 scored beats
            toExplain.add(new ToExplain(alert, new ScoredWindow(trackedWindow, trackedMargin, trackedLogit)));
        }
    }

    /**
     * Explains the waiting opening alerts in one call (their TreeSHAP walks share a pass over the trees), then emits
     * the waiting alerts in the order their episodes opened and closed.
     */
    private void explainAndEmitAlerts() {
        if (!toExplain.isEmpty()) {
            List<Explanation> explained = scorer.explain(toExplain.stream().map(ToExplain::beat).toList());
            long writing = ScorerStages.cpuNanos();
            for (int k = 0; k < explained.size(); k++) {
                toExplain.get(k).alert().explanation = StreamJson.explanation(explained.get(k));
            }
            ScorerStages.addExplanationWork(ScorerStages.cpuNanos() - writing); // JSON: about a tenth of the cost
            toExplain.clear();
        }
        for (AnomalyAlert alert : unsentAlerts) {
            output.collect(ALERTS, new StreamRecord<>(alert));
        }
        unsentAlerts.clear();
    }

    private void holdOrCount(String status, Episode e) throws IOException {
        if (status.equals(AnomalyAlert.OPEN)) {
            liveMetrics.episodeOpened();
            e.suppressed = isHeld(e.startTs);
            if (!e.suppressed) {
                alerts.inc();
            }
        } else if (alertHoldMs > 0 && !e.suppressed) {
            lastAlertedEnd.update(e.endTs); // the hold runs from the end of the last episode that was not held
        }
    }

    /** {@code --alert-hold}: an episode opening this soon after the patient's last alerted one is suppressed. */
    private boolean isHeld(long startTs) throws IOException {
        if (alertHoldMs == 0) {
            return false;
        }
        Long end = lastAlertedEnd.value();
        return end != null && startTs - end < alertHoldMs;
    }

    private void emit(ScoredBeat scored) {
        output.collect(new StreamRecord<>(scored));
    }
}
