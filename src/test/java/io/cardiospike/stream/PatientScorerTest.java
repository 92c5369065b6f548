package io.cardiospike.stream;

import io.cardiospike.stream.records.DeadLetter.Reason;
import io.cardiospike.stream.wire.StreamJson;
import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.features.BeatWindows;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.Explanation;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.stream.functions.PatientScorer;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.wire.ClockTicks;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.ScoredBeat;
import io.cardiospike.stream.records.ShadowScore;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.ModelBundleException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keyed scorer alone, driven by Flink's operator test harness: ordering on each patient's own clock, wrong
 * clocks, timers, state contents, cleanup, and restores (including state written by an earlier version).
 */
class PatientScorerTest {
    static final long BASE = 1_700_000_000_000L;
    // The gap exceeds the synthetic data's longest RR (a 40.9 s sensor dropout), so recordings stay one segment.
    static final long IDLE_MS = 60_000, RETENTION_MS = 120_000, LATENESS_MS = 3_000;

    private final List<KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat>> harnesses = new ArrayList<>();
    /** Per harness, the newest time a beat was fed at (the broker's time of the newest record). */
    private final Map<Object, Long> newestFed = new HashMap<>();
    /** Where each harness's input clock stands. */
    private final Map<Object, Long> clockAt = new HashMap<>();

    @AfterEach
    void closeHarnesses() throws Exception {
        for (var h : harnesses) {
            h.close();
        }
    }

    private KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> harness(OperatorSubtaskState restore)
            throws Exception {
        return harness(TestBundle.DIR, restore);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> harness(Path bundle,
            OperatorSubtaskState restore) throws Exception {
        return harness(bundle, restore, 0);
    }

    /** A harness whose processing time starts at {@code startMs} (a restore long after the snapshot). */
    private KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> harness(Path bundle,
            OperatorSubtaskState restore, long startMs) throws Exception {
        return harness(bundle, restore, startMs, 0);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> harness(Path bundle,
            OperatorSubtaskState restore, long startMs, long alertHoldMs) throws Exception {
        return harness(new PatientScorer(bundle.toString(), IDLE_MS, LATENESS_MS, RETENTION_MS, alertHoldMs), restore,
                startMs);
    }

    /** A harness of the committed bundle with {@code shadow} scored beside it. */
    private KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> shadowHarness(Path shadow,
            OperatorSubtaskState restore) throws Exception {
        return harness(new PatientScorer(TestBundle.DIR.toString(), IDLE_MS, LATENESS_MS, RETENTION_MS, 0,
                shadow.toString()), restore, 0);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> harness(PatientScorer scorer,
            OperatorSubtaskState restore, long startMs) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat>(scorer, b -> b.patientId,
                Types.STRING);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        harnesses.add(h);
        h.setProcessingTime(startMs);
        if (restore != null) {
            h.initializeState(restore);
        }
        try {
            h.open();
        } catch (Exception refused) { // as Flink does when open fails: close, without finishing
            harnesses.remove(h);
            scorer.close();
            throw refused;
        }
        return h;
    }

    private static Recording recording(int beats, long seed) {
        return SyntheticRr.recordings(1, beats, beats, seed).get(0);
    }

    private static List<Beat> beats(String id, Recording r, long offset) {
        List<Beat> out = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
            out.add(new Beat(id, offset + (long) r.time()[i], r.rr()[i]));
        }
        return out;
    }

    /**
     * Feeds beats as the broker took them (here: at the beats' own times), without moving the input clock, then lets
     * the scoring delay pass so cut windows are scored.
     */
    private void feed(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, List<Beat> beats)
            throws Exception {
        for (Beat b : beats) {
            h.processElement(b, b.ts);
            newestFed.merge(h, b.ts, Math::max);
        }
        h.setProcessingTime(h.getProcessingTime() + PatientScorer.SCORING_DELAY_MS);
    }

    /**
     * The input flows up to {@code t}: the input clock (the watermark) moves there tick by tick, from where it was
     * (the first time: at once), and the scoring delay passes.
     */
    private void inputClock(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, long t)
            throws Exception {
        Long at = clockAt.get(h);
        for (long tick = at == null ? t : Math.min(at + ClockTicks.INTERVAL_MS, t); ; tick = Math.min(tick
                + ClockTicks.INTERVAL_MS, t)) {
            h.processWatermark(tick);
            if (tick == t) {
                break;
            }
        }
        clockAt.put(h, t);
        h.setProcessingTime(h.getProcessingTime() + PatientScorer.SCORING_DELAY_MS);
    }

    /** The input stalls (an outage, a restart) until {@code t}: the input clock jumps there with its first tick. */
    private void outageUntil(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, long t)
            throws Exception {
        h.processWatermark(t);
        clockAt.put(h, t);
        h.setProcessingTime(h.getProcessingTime() + PatientScorer.SCORING_DELAY_MS);
    }

    /**
     * The idle-flush gap passes, on the wall clock and then on the input clock beyond the newest beat fed: every
     * patient's segment ends.
     */
    private void flushAll(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h) throws Exception {
        h.setProcessingTime(h.getProcessingTime() + IDLE_MS);
        inputClock(h, newestFed.getOrDefault(h, BASE) + IDLE_MS);
    }

    private static List<DeadLetter> rejected(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h) {
        return h.getSideOutput(PatientScorer.REJECTED_BEATS) == null ? List.of()
                : h.getSideOutput(PatientScorer.REJECTED_BEATS).stream().map(StreamRecord::getValue).toList();
    }

    private static PatientState state(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, String id)
            throws Exception {
        h.getOperator().setCurrentKey(id);
        return h.getOperator().getKeyedStateStore().getState(PatientScorer.patientState()).value();
    }

    private static Episode episode(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, String id)
            throws Exception {
        h.getOperator().setCurrentKey(id);
        return h.getOperator().getKeyedStateStore()
                .getState(new ValueStateDescriptor<>("episode", Episode.class)).value();
    }

    private static double[] probas(List<ScoredBeat> scores, String id) {
        return scores.stream().filter(s -> s.patientId.equals(id)).mapToDouble(s -> s.proba).toArray();
    }

    @Test
    void inOrderBeatsAreScoredLikeTheBatchScorerOnceTheFlushEndsTheSegment() throws Exception {
        Recording r = recording(200, 3);
        var h = harness(null);
        feed(h, beats("p1", r, BASE));

        EnsembleScorer scorer = TestBundle.scorer();
        int lookahead = scorer.spec().lookaheadBeats();
        List<ScoredBeat> scored = h.extractOutputValues();
        // Everything but the last beats (waiting for lookahead or for the lateness) is already scored.
        assertThat(scored.size()).isBetween(150, r.size() - lookahead);
        PatientState s = state(h, "p1");
        assertThat(s.segLen).as("retained beats stay bounded").isLessThanOrEqualTo(
                scorer.spec().windowSize() + s.pendingCount + lookahead);

        flushAll(h); // the patient went silent: flush
        scored = h.extractOutputValues();
        assertThat(scored).hasSize(r.size());
        assertThat(scored).extracting(b -> b.ts).isSorted().doesNotHaveDuplicates();
        assertThat(probas(scored, "p1")).containsExactly(scorer.scoreRecording(r.rr()).proba());
        assertThat(scored).extracting(b -> b.anomaly ? 1 : 0)
                .containsExactly(Arrays.stream(scorer.decide(scorer.scoreRecording(r.rr()).proba())).boxed()
                        .toArray(Integer[]::new));

        PatientState afterFlush = state(h, "p1");
        assertThat(episode(h, "p1")).as("no episode stays open after the segment").isNull();
        assertThat(afterFlush.segLen).isZero();
        assertThat(afterFlush.pendingCount).isZero();
        assertThat(afterFlush.lastReleasedTs).isEqualTo(BASE + (long) r.time()[r.size() - 1]);
        assertThat(h.numProcessingTimeTimers()).isZero();
        assertThat(h.numEventTimeTimers()).as("only the cleanup check, on the input clock").isEqualTo(1);

        long last = BASE + (long) r.time()[r.size() - 1];
        inputClock(h, last + RETENTION_MS + 1_000); // silent for the retention period: state and timers gone
        assertThat(state(h, "p1")).isNull();
        assertThat(h.numEventTimeTimers()).isZero();
    }

    @Test
    void outOfOrderBeatsWithinTheLatenessAreReorderedAndDuplicatesDropped() throws Exception {
        Recording r = recording(150, 5);
        List<Beat> shuffled = beats("p1", r, BASE);
        Random random = new Random(1);
        for (int i = 0; i + 1 < shuffled.size(); i += 2) { // swap neighbours: about one RR out of order
            if (random.nextBoolean()) {
                Beat a = shuffled.get(i);
                shuffled.set(i, shuffled.get(i + 1));
                shuffled.set(i + 1, a);
            }
        }
        List<Beat> withDuplicates = new ArrayList<>();
        for (int i = 0; i < shuffled.size(); i++) {
            withDuplicates.add(shuffled.get(i));
            if (i % 10 == 0) {
                Beat b = shuffled.get(i);
                withDuplicates.add(new Beat(b.patientId, b.ts, b.rrMs)); // resent
            }
        }
        var h = harness(null);
        feed(h, withDuplicates);
        flushAll(h);

        List<ScoredBeat> scored = h.extractOutputValues();
        assertThat(scored).hasSize(r.size());
        assertThat(scored).extracting(b -> b.ts).isSorted().doesNotHaveDuplicates();
        assertThat(probas(scored, "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr()).proba());
        assertThat(rejected(h)).isEmpty();
    }

    @Test
    void beatsBeforeThePatientsScoredOnesGoToTheDlqAsLateOrClockBehind() throws Exception {
        Recording r = recording(60, 7);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats);
        long released = state(h, "p1").lastReleasedTs;
        Beat late = new Beat("p1", released - 1, 800); // not a beat we saw: too late to put in order
        Beat repeatOfReleased = beats.get(0); // no longer held: also too late
        Beat setBack = new Beat("p1", BASE - 3_600_000, 800); // the device clock went back an hour
        for (Beat b : List.of(late, repeatOfReleased, setBack)) {
            h.processElement(b, b.ts);
        }

        List<DeadLetter> dead = rejected(h);
        assertThat(dead).extracting(d -> d.reason).containsExactly(Reason.LATE, Reason.LATE,
                Reason.CLOCK_BEHIND);
        assertThat(dead).allSatisfy(d -> {
            assertThat(d.patientId).isEqualTo("p1");
            assertThat(d.detail).isNotBlank();
        });
        assertThat(dead).extracting(d -> StreamJson.read(d.rawValue.getBytes()).path("ts").asLong())
                .containsExactly(late.ts, repeatOfReleased.ts, setBack.ts);
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(
                TestBundle.scorer().scoreRecording(r.rr()).proba());
    }

    @Test
    void beatsWaitUntilThePatientsOwnClockPassesThemByTheLateness() throws Exception {
        Recording r = recording(40, 9);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats);
        PatientState s = state(h, "p1");
        long newest = beats.get(beats.size() - 1).ts;
        long waiting = beats.stream().filter(b -> b.ts > newest - LATENESS_MS).count();
        assertThat(waiting).isGreaterThan(1);
        assertThat(s.pendingCount).isEqualTo(waiting);
        assertThat(s.segSeen).isEqualTo(40 - waiting);
        assertThat(s.clock()).isEqualTo(newest);
        assertThat(h.numEventTimeTimers()).as("one idle check, on the input clock").isEqualTo(1);
        assertThat(h.numProcessingTimeTimers()).isZero();
        int lookahead = TestBundle.scorer().spec().lookaheadBeats();
        assertThat(h.extractOutputValues()).hasSize((int) (40 - waiting) - lookahead);
    }

    @Test
    void aPatientsFirstBeatWaitsForTheSecondAndALoneBeatIsScoredAtTheFlush() throws Exception {
        var h = harness(null);
        h.processElement(new Beat("p1", BASE, 812), BASE);
        PatientState s = state(h, "p1");
        assertThat(s.aheadTs).isEqualTo(BASE);
        assertThat(s.pendingCount).isZero();
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(
                TestBundle.scorer().scoreRecording(new double[] {812}).proba());
        assertThat(rejected(h)).isEmpty();
    }

    @Test
    void aPauseEndsTheSegmentAndTheNextBeatStartsANewOne() throws Exception {
        Recording first = recording(80, 11), second = recording(70, 12);
        long secondStart = BASE + (long) first.time()[first.size() - 1] + 600_000;
        EnsembleScorer scorer = TestBundle.scorer();
        double[] expected = concat(scorer.scoreRecording(first.rr()).proba(), scorer.scoreRecording(second.rr()).proba());

        var h = harness(null); // a pause on the input clock: the patient is flushed before the next beat comes
        feed(h, beats("p1", first, BASE));
        inputClock(h, BASE + (long) first.time()[first.size() - 1] + IDLE_MS + 1);
        assertThat(probas(h.extractOutputValues(), "p1")).as("the first segment, flushed")
                .containsExactly(scorer.scoreRecording(first.rr()).proba());
        feed(h, beats("p1", second, secondStart));
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(expected);

        var replayed = harness(null); // the same pause replayed fast: seen in event time, same result
        feed(replayed, beats("p1", first, BASE));
        feed(replayed, beats("p1", second, secondStart));
        flushAll(replayed);
        assertThat(probas(replayed.extractOutputValues(), "p1")).containsExactly(expected);
        assertThat(rejected(replayed)).isEmpty();
    }

    @Test
    void aHugeRrArtifactIsDataNotAPause() throws Exception {
        Recording base = recording(120, 71);
        double[] rr = base.rr().clone();
        rr[60] = 40_900; // a sensor artifact: the beat comes 40.9 s after the previous one, as its RR says
        double[] time = new double[rr.length];
        for (int i = 1; i < rr.length; i++) {
            time[i] = time[i - 1] + rr[i];
        }
        Recording r = new Recording("p1", time, rr, base.label(), base.inputRows());
        var h = harness(null);
        feed(h, beats("p1", r, BASE));
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(TestBundle.scorer().scoreRecording(rr).proba());
    }

    @Test
    void aStrayBeatAheadOfThePatientsClockGoesToTheDlqAndTheRestScoresAsWithoutIt() throws Exception {
        Recording r = recording(200, 13);
        List<Beat> beats = new ArrayList<>(beats("p1", r, BASE));
        Beat stray = new Beat("p1", beats.get(100).ts + 7_200_000, 790); // one beat dated two hours ahead
        beats.add(101, stray);
        var h = harness(null);
        feed(h, beats);
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(
                TestBundle.scorer().scoreRecording(r.rr()).proba());
        assertThat(rejected(h)).singleElement().satisfies(d -> {
            assertThat(d.reason).isEqualTo(Reason.CLOCK_AHEAD);
            assertThat(StreamJson.read(d.rawValue.getBytes()).path("ts").asLong()).isEqualTo(stray.ts);
        });
    }

    @Test
    void aClockSetBackRejectsItsBeatsUntilItPassesThePatientsClock() throws Exception {
        Recording first = recording(100, 14), after = recording(50, 15);
        long firstEnd = BASE + (long) first.time()[first.size() - 1];
        List<Beat> behind = beats("p1", after, firstEnd - 3_600_000); // an hour back, within the hour
        var h = harness(null);
        feed(h, beats("p1", first, BASE));
        feed(h, behind);
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(
                TestBundle.scorer().scoreRecording(first.rr()).proba());
        assertThat(rejected(h)).hasSize(after.size())
                .allSatisfy(d -> assertThat(d.reason).isEqualTo(Reason.CLOCK_BEHIND));
    }

    /**
     * Every wrong clock a device can have, on one patient, while another streams on: the other one scores exactly as
     * alone, and every beat of the wrong one is scored or rejected.
     */
    @Test
    void oneDevicesWrongClockChangesNothingForAnotherPatient() throws Exception {
        Recording normal = recording(300, 16), odd = recording(300, 17);
        List<Beat> good = beats("good", normal, BASE);
        List<Beat> bad = new ArrayList<>();
        List<Beat> oddBeats = beats("odd", odd, BASE + 40_000);
        for (int i = 0; i < oddBeats.size(); i++) {
            Beat b = oddBeats.get(i);
            long shift = i < 100 ? 0 : i < 200 ? 3_600_000 : -86_400_000L; // jumps an hour ahead, then a day back
            bad.add(new Beat("odd", b.ts + shift, b.rrMs));
            if (i == 50) {
                bad.add(new Beat("odd", b.ts + 10L * 365 * 86_400_000, 800)); // ten years ahead
            }
        }
        List<Beat> burst = beats("odd", recording(2_000, 18), BASE + 400_000_000L); // an offline backlog, in one go
        List<Beat> mixed = new ArrayList<>();
        int j = 0;
        for (int i = 0; i < good.size(); i++) {
            mixed.add(good.get(i));
            if (j < bad.size()) {
                mixed.add(bad.get(j++));
            }
            if (i == 150) {
                mixed.addAll(burst);
            }
        }
        mixed.addAll(bad.subList(j, bad.size()));
        var h = harness(null);
        feed(h, mixed);
        flushAll(h);

        List<ScoredBeat> scored = h.extractOutputValues();
        assertThat(probas(scored, "good")).containsExactly(TestBundle.scorer().scoreRecording(normal.rr()).proba());
        long oddScored = scored.stream().filter(b -> b.patientId.equals("odd")).count();
        assertThat(oddScored + rejected(h).size()).as("every odd beat scored or rejected").isEqualTo(bad.size() + burst.size());
        assertThat(rejected(h)).extracting(d -> d.reason).containsOnly(Reason.CLOCK_AHEAD, Reason.CLOCK_BEHIND);
        // Scored: the first 100, the 50 beats an hour ahead that came before the backlog, and the backlog; the
        // rest is behind the backlog's clock.
        assertThat(oddScored).isEqualTo(100 + 50 + burst.size());
    }

    /** A broker outage, a restart or lag: the input clock stands still, however long, and no patient pauses. */
    @Test
    void silenceWhileTheInputClockStandsStillIsNoPause() throws Exception {
        Recording r = recording(120, 17);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats.subList(0, 60));
        inputClock(h, beats.get(59).ts); // the input flowed up to the outage
        h.setProcessingTime(h.getProcessingTime() + 50 * IDLE_MS); // fifty idle gaps on the wall clock
        assertThat(state(h, "p1").segSeen).as("segment still open").isGreaterThan(0);
        // the outage ends: the beats sent meanwhile come, taken by the broker only now
        for (Beat b : beats.subList(60, beats.size())) {
            h.processElement(b, beats.get(59).ts + 50 * IDLE_MS);
        }
        h.setProcessingTime(h.getProcessingTime() + PatientScorer.SCORING_DELAY_MS);
        inputClock(h, beats.get(59).ts + 51 * IDLE_MS + 1);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr())
                .proba());
    }

    /**
     * When the broker comes back, the job's first tick can reach it before the beats producers held through the
     * outage: the clock jumps, and the held beats come a few seconds of flowing input later. No pause.
     */
    @Test
    void beatsHeldThroughAnOutageThatComeAfterTheFirstTickAreNoPause() throws Exception {
        Recording r = recording(120, 19);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats.subList(0, 60));
        long outageStart = beats.get(59).ts;
        inputClock(h, outageStart);
        outageUntil(h, outageStart + 50 * IDLE_MS); // the first tick after the outage, past the idle check
        inputClock(h, outageStart + 50 * IDLE_MS + 5_000); // the input flows again
        assertThat(state(h, "p1").segSeen).as("segment still open").isGreaterThan(0);
        for (Beat b : beats.subList(60, beats.size())) {
            h.processElement(b, outageStart + 50 * IDLE_MS + 5_000);
        }
        newestFed.put(h, outageStart + 50 * IDLE_MS + 5_000);
        flushAll(h);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr())
                .proba());
    }

    /** A patient quiet after an outage pauses once the input has flowed for the idle-flush gap, stall not counted. */
    @Test
    void aPauseAfterAnOutageEndsTheSegmentOnceTheInputFlowedTheGap() throws Exception {
        Recording r = recording(60, 23);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats);
        long last = beats.get(59).ts;
        inputClock(h, last);
        outageUntil(h, last + 50 * IDLE_MS);
        inputClock(h, last + 50 * IDLE_MS + IDLE_MS / 2);
        assertThat(h.extractOutputValues()).as("half the gap flowed: no pause yet").hasSizeLessThan(60);
        inputClock(h, last + 50 * IDLE_MS + IDLE_MS);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr())
                .proba());
    }

    /** The stalls are state: one seen before a checkpoint still is not silence after a restore from it. */
    @Test
    void aStallBeforeASnapshotIsNoPauseAfterTheRestore() throws Exception {
        Recording r = recording(120, 29);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats.subList(0, 60));
        long outageStart = beats.get(59).ts;
        inputClock(h, outageStart);
        outageUntil(h, outageStart + IDLE_MS / 2); // a stall shorter than the gap: the idle check not due yet
        OperatorSubtaskState snapshot = h.snapshot(1, 1);
        List<ScoredBeat> before = new ArrayList<>(h.extractOutputValues());

        var restored = harness(TestBundle.DIR, snapshot, h.getProcessingTime());
        clockAt.put(restored, outageStart + IDLE_MS / 2);
        inputClock(restored, outageStart + IDLE_MS + 10_000); // past the idle check; flowed 41 s of the 60
        long back = outageStart + IDLE_MS + 10_000;
        for (Beat b : beats.subList(60, beats.size())) {
            restored.processElement(b, back);
        }
        newestFed.put(restored, back);
        flushAll(restored);
        List<ScoredBeat> all = new ArrayList<>(before);
        all.addAll(restored.extractOutputValues());
        assertThat(probas(all, "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr()).proba());
    }

    @Test
    void aRestoreLongAfterTheSnapshotIsNoPause() throws Exception {
        Recording r = recording(100, 61);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats.subList(0, 50));
        OperatorSubtaskState snapshot = h.snapshot(1, 1);
        List<ScoredBeat> before = new ArrayList<>(h.extractOutputValues());

        var restored = harness(TestBundle.DIR, snapshot, 10 * IDLE_MS); // the job was down for ten idle gaps
        restored.setProcessingTime(10 * IDLE_MS + 10); // the wall clock moved on; the input clock starts again
        assertThat(state(restored, "p1").segSeen).as("segment still open").isGreaterThan(0);
        feed(restored, beats.subList(50, beats.size()));
        flushAll(restored);
        List<ScoredBeat> all = new ArrayList<>(before);
        all.addAll(restored.extractOutputValues());
        assertThat(probas(all, "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr()).proba());
    }

    /** State written by the version that ordered beats by watermarks (format 3) continues here as if never stopped. */
    @Test
    void stateWrittenByTheWatermarkVersionIsMigratedAndScoringContinues() throws Exception {
        Recording r = recording(600, 31); // the fixture's input: see src/test/resources/state/README.md
        List<Beat> beats = beats("p1", r, BASE);
        int fed = 45, scoredBefore = 32;
        var h = harness(TestBundle.DIR, OperatorSnapshotUtil.readStateHandle(
                Path.of("src/test/resources/state/patient-scorer-1.0.snapshot").toString()), 0);
        PatientState s = state(h, "p1");
        assertThat(s.segSeen - s.nextToScore + s.pendingCount).as("beats waiting in the old state").isEqualTo(
                fed - scoredBefore);
        assertThat(s.hasAhead()).isFalse();
        assertThat(episode(h, "p1")).as("the open episode").isNotNull();

        feed(h, beats.subList(fed, beats.size()));
        flushAll(h);
        assertThat(state(h, "p1").eventTimerAt).as("the old version's event-time timer is gone")
                .isEqualTo(PatientState.NO_TIMER);
        assertThat(h.numEventTimeTimers()).as("only the cleanup check, on the input clock").isEqualTo(1);
        double[] batch = TestBundle.scorer().scoreRecording(r.rr()).proba();
        assertThat(probas(h.extractOutputValues(), "p1"))
                .containsExactly(Arrays.copyOfRange(batch, scoredBefore, batch.length));
        // The episode open at the snapshot closes once, over its whole length.
        List<AnomalyAlert> closed = alerts(h).stream().filter(a -> a.status.equals(AnomalyAlert.CLOSED)).toList();
        assertThat(closed).isNotEmpty();
        assertThat(alerts(h).get(0).status).as("no second open for the episode in progress")
                .isEqualTo(AnomalyAlert.CLOSED);
    }

    @Test
    void patientsAreScoredIndependently() throws Exception {
        Recording a = recording(90, 21), b = recording(120, 22);
        List<Beat> interleaved = new ArrayList<>();
        List<Beat> ba = beats("a", a, BASE), bb = beats("b", b, BASE + 250);
        int i = 0, j = 0;
        while (i < ba.size() || j < bb.size()) {
            if (j >= bb.size() || (i < ba.size() && ba.get(i).ts <= bb.get(j).ts)) {
                interleaved.add(ba.get(i++));
            } else {
                interleaved.add(bb.get(j++));
            }
        }
        var h = harness(null);
        feed(h, interleaved);
        flushAll(h);
        List<ScoredBeat> scored = h.extractOutputValues();
        EnsembleScorer scorer = TestBundle.scorer();
        assertThat(probas(scored, "a")).containsExactly(scorer.scoreRecording(a.rr()).proba());
        assertThat(probas(scored, "b")).containsExactly(scorer.scoreRecording(b.rr()).proba());
    }

    @Test
    void windowsCutWithinTheScoringDelayAreScoredTogether() throws Exception {
        Recording a = recording(40, 81), b = recording(50, 82);
        var h = harness(null);
        for (Beat beat : beats("a", a, BASE)) {
            h.processElement(beat, beat.ts);
        }
        for (Beat beat : beats("b", b, BASE + 100)) {
            h.processElement(beat, beat.ts);
        }
        assertThat(h.getOutput()).as("nothing is scored before the scoring delay").isEmpty();
        h.setProcessingTime(PatientScorer.SCORING_DELAY_MS);
        int scoredA = state(h, "a").nextToScore, scoredB = state(h, "b").nextToScore;
        assertThat(scoredA).isPositive();
        assertThat(scoredB).isPositive();
        List<ScoredBeat> scored = h.extractOutputValues();
        assertThat(scored).hasSize(scoredA + scoredB);
        EnsembleScorer scorer = TestBundle.scorer();
        assertThat(probas(scored, "a")).containsExactly(Arrays.copyOf(scorer.scoreRecording(a.rr()).proba(), scoredA));
        assertThat(probas(scored, "b")).containsExactly(Arrays.copyOf(scorer.scoreRecording(b.rr()).proba(), scoredB));
    }

    @Test
    void moreWindowsThanOneBatchHoldsAreScoredInBatchesInOrder() throws Exception {
        int patients = 60, beatsEach = 90; // 60 x 82 complete windows > MAX_PENDING_WINDOWS (4096)
        List<Recording> recordings = SyntheticRr.recordings(patients, beatsEach, beatsEach, 91);
        var h = harness(null);
        for (int p = 0; p < patients; p++) {
            for (Beat beat : beats("p" + p, recordings.get(p), BASE + p)) {
                h.processElement(beat, beat.ts);
                newestFed.merge(h, beat.ts, Math::max);
            }
        }
        assertThat(h.extractOutputValues()).as("a full batch is scored at once").isNotEmpty();
        flushAll(h);
        List<ScoredBeat> scored = h.extractOutputValues();
        assertThat(scored).hasSize(patients * beatsEach);
        for (int p = 0; p < patients; p++) {
            assertThat(probas(scored, "p" + p)).as("patient p%d", p).containsExactly(
                    TestBundle.scorer().scoreRecording(recordings.get(p).rr()).proba());
        }
    }

    @Test
    void alertsMergeConsecutiveAnomalousBeatsIntoEpisodes() throws Exception {
        Recording r = recording(600, 31);
        var h = harness(null);
        feed(h, beats("p1", r, BASE));
        flushAll(h);

        EnsembleScorer scorer = TestBundle.scorer();
        double[] proba = scorer.scoreRecording(r.rr()).proba();
        int[] y = scorer.decide(proba);
        List<int[]> expected = runsOfFlags(y); // {start index, end index}
        List<AnomalyAlert> all = alerts(h);
        List<AnomalyAlert> alerts = all.stream().filter(a -> a.status.equals(AnomalyAlert.CLOSED)).toList();
        List<AnomalyAlert> opened = all.stream().filter(a -> a.status.equals(AnomalyAlert.OPEN)).toList();
        assertThat(alerts).hasSameSizeAs(expected);
        assertThat(opened).hasSameSizeAs(expected);
        assertThat(expected).as("the recording has episodes").isNotEmpty();
        for (int k = 0; k < expected.size(); k++) {
            int start = expected.get(k)[0], end = expected.get(k)[1];
            AnomalyAlert a = alerts.get(k), o = opened.get(k);
            // The open alert: its first beat's figures, before the closing one, under the same id.
            assertThat(o.alertId).isEqualTo(a.alertId);
            assertThat(all.indexOf(o)).isLessThan(all.indexOf(a));
            assertThat(o.startTs).isEqualTo(o.endTs).isEqualTo(BASE + (long) r.time()[start]);
            assertThat(o.beats).isEqualTo(1);
            assertThat(o.maxProba).isEqualTo(proba[start]);
            assertThat(a.startTs).isEqualTo(BASE + (long) r.time()[start]);
            assertThat(a.endTs).isEqualTo(BASE + (long) r.time()[end]);
            assertThat(a.beats).isEqualTo(end - start + 1);
            double[] ep = Arrays.copyOfRange(proba, start, end + 1);
            assertThat(a.maxProba).isEqualTo(Arrays.stream(ep).max().orElseThrow());
            assertThat(a.meanProba).isCloseTo(Arrays.stream(ep).average().orElseThrow(),
                    org.assertj.core.api.Assertions.within(1e-12));
            assertThat(a.alertId).isEqualTo(AnomalyAlert.alertId("p1", a.startTs, scorer.modelVersion()));
            assertThat(o.suppressed || a.suppressed).as("no alert hold by default").isFalse();
        }
    }

    /**
     * {@code --alert-hold}: every episode is still emitted, open and closed alike; one that opens within the hold after
     * the end of the patient's last alerted episode says {@code suppressed} and does not restart the hold. The hold
     * crosses a snapshot and restore.
     */
    @Test
    void theAlertHoldMarksEpisodesOpeningSoonAfterAnAlertedOneAndDropsNone() throws Exception {
        Recording r = recording(600, 31);
        EnsembleScorer scorer = TestBundle.scorer();
        int[] y = scorer.decide(scorer.scoreRecording(r.rr()).proba());
        List<long[]> episodes = runsOfFlags(y).stream() // {start ts, end ts}
                .map(e -> new long[] {BASE + (long) r.time()[e[0]], BASE + (long) r.time()[e[1]]}).toList();
        assertThat(episodes).as("episodes to hold").hasSizeGreaterThan(3);
        long[] gaps = new long[episodes.size() - 1];
        for (int k = 1; k < episodes.size(); k++) {
            gaps[k - 1] = episodes.get(k)[0] - episodes.get(k - 1)[1];
        }
        Arrays.sort(gaps);
        long hold = gaps[gaps.length / 2] + 1; // about half of the episodes open within it of the one before
        List<Boolean> expected = new ArrayList<>();
        Long lastAlertedEnd = null;
        for (long[] e : episodes) {
            boolean held = lastAlertedEnd != null && e[0] - lastAlertedEnd < hold;
            expected.add(held);
            if (!held) {
                lastAlertedEnd = e[1];
            }
        }
        assertThat(expected).as("some held, some not").contains(true).contains(false, false);

        List<Beat> beats = beats("p1", r, BASE);
        int half = beats.size() / 2;
        var h = harness(TestBundle.DIR, null, 0, hold);
        feed(h, beats.subList(0, half));
        List<AnomalyAlert> all = new ArrayList<>(alerts(h));
        var restored = harness(TestBundle.DIR, h.snapshot(1, 1), h.getProcessingTime(), hold);
        feed(restored, beats.subList(half, beats.size()));
        flushAll(restored);
        all.addAll(alerts(restored));

        for (String status : List.of(AnomalyAlert.OPEN, AnomalyAlert.CLOSED)) {
            List<AnomalyAlert> some = all.stream().filter(a -> a.status.equals(status))
                    .collect(java.util.stream.Collectors.toMap(a -> a.alertId, a -> a, (a, b) -> b,
                            java.util.LinkedHashMap::new)).values().stream().toList();
            assertThat(some).as(status + " alerts: none dropped").hasSameSizeAs(episodes);
            assertThat(some.stream().map(a -> a.startTs).toList())
                    .isEqualTo(episodes.stream().map(e -> e[0]).toList());
            assertThat(some.stream().map(a -> a.suppressed).toList()).as(status + " alerts held").isEqualTo(expected);
        }
    }

    /**
     * An open alert explains its first beat from the window that beat was scored on: the batch explanation of that
     * beat, to the bit; a closed alert carries none, on the wire neither.
     */
    @Test
    void openAlertsCarryTheBatchExplanationOfTheirFirstBeat() throws Exception {
        Recording r = recording(600, 31);
        var h = harness(null);
        feed(h, beats("p1", r, BASE));
        flushAll(h);
        EnsembleScorer scorer = TestBundle.scorer();
        List<AnomalyAlert> opened = alerts(h).stream().filter(a -> a.status.equals(AnomalyAlert.OPEN)).toList();
        assertThat(opened).isNotEmpty();
        for (AnomalyAlert o : opened) {
            int start = 0;
            while (BASE + (long) r.time()[start] != o.startTs) {
                start++;
            }
            Explanation batch = scorer.explain(BeatWindows.cut(r.rr(), start, scorer.spec()));
            var wire = StreamJson.read(StreamJson.alert(o));
            var e = wire.get("explanation");
            assertThat(e).as("open alert %s", o.alertId).isNotNull();
            assertThat(e.get("reasons")).hasSize(Explanation.REASONS);
            for (int k = 0; k < Explanation.REASONS; k++) {
                assertThat(e.get("reasons").get(k).get("feature").asText()).isEqualTo(batch.reasons().get(k).feature());
                assertThat(e.get("reasons").get(k).get("contribution").doubleValue())
                        .isEqualTo(batch.reasons().get(k).contribution());
                assertThat(e.get("reasons").get(k).get("text").asText()).isEqualTo(batch.reasons().get(k).text());
            }
            assertThat(e.get("lightgbm_margin").doubleValue()).isEqualTo(batch.lgbmMargin());
            assertThat(e.get("proba").doubleValue()).isEqualTo(o.maxProba); // the opening beat's own probability
            double[] window = new double[e.get("window_rr").size()];
            for (int k = 0; k < window.length; k++) {
                window[k] = e.get("window_rr").get(k).doubleValue();
            }
            assertThat(window).containsExactly(BeatWindows.cut(r.rr(), start, scorer.spec()));
            assertThat(e.get("beat_index").intValue()).isEqualTo(scorer.spec().centre());
            assertThat(wire.get("alert_id").asText()).isEqualTo(o.alertId);
        }
        List<AnomalyAlert> closed = alerts(h).stream().filter(a -> a.status.equals(AnomalyAlert.CLOSED)).toList();
        assertThat(closed).hasSameSizeAs(opened).allSatisfy(c -> {
            assertThat(c.explanation).isNull();
            assertThat(StreamJson.read(StreamJson.alert(c)).has("explanation")).isFalse();
        });
    }

    /** An episode open at a checkpoint is the same episode after the restore: closed once, under its id. */
    @Test
    void anEpisodeOpenAtASnapshotClosesAfterTheRestoreUnderItsAlertId() throws Exception {
        Recording r = recording(600, 31);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        int cut = 0;
        AnomalyAlert open = null;
        while (open == null && cut < beats.size()) { // feed until an episode has opened and not closed yet
            feed(h, beats.subList(cut, ++cut));
            List<AnomalyAlert> so = alerts(h);
            open = so.stream().filter(a -> a.status.equals(AnomalyAlert.OPEN))
                    .filter(a -> so.stream().noneMatch(c -> c.status.equals(AnomalyAlert.CLOSED)
                            && c.alertId.equals(a.alertId)))
                    .findFirst().orElse(null);
        }
        assertThat(open).as("an episode open mid-recording").isNotNull();
        OperatorSubtaskState snapshot = h.snapshot(1, 1);

        var restored = harness(TestBundle.DIR, snapshot, h.getProcessingTime());
        feed(restored, beats.subList(cut, beats.size()));
        flushAll(restored);
        String id = open.alertId;
        List<AnomalyAlert> after = alerts(restored).stream().filter(a -> a.alertId.equals(id)).toList();
        assertThat(after).as("after the restore: only the closing alert").singleElement()
                .satisfies(a -> assertThat(a.status).isEqualTo(AnomalyAlert.CLOSED));

        EnsembleScorer scorer = TestBundle.scorer();
        int[] y = scorer.decide(scorer.scoreRecording(r.rr()).proba());
        int start = 0;
        while (BASE + (long) r.time()[start] != open.startTs) {
            start++;
        }
        int end = start;
        while (end + 1 < y.length && y[end + 1] == 1) {
            end++;
        }
        assertThat(after.get(0).beats).as("the whole episode, across the restore").isEqualTo(end - start + 1);
    }

    /** The batch's episodes: runs of consecutive flagged beats, {first, last} beat index each. */
    private static List<int[]> runsOfFlags(int[] y) {
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < y.length; i++) {
            if (y[i] == 1 && (i == 0 || y[i - 1] == 0)) {
                int end = i;
                while (end + 1 < y.length && y[end + 1] == 1) {
                    end++;
                }
                runs.add(new int[] {i, end});
            }
        }
        return runs;
    }

    /**
     * The alerts sent so far, once those still waiting to be explained together have gone out, as they do before a
     * checkpoint's barrier (the only way a consumer sees them).
     */
    private static List<AnomalyAlert> alerts(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h)
            throws Exception {
        h.prepareSnapshotPreBarrier(0);
        return h.getSideOutput(PatientScorer.ALERTS) == null ? List.of()
                : h.getSideOutput(PatientScorer.ALERTS).stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void stateSurvivesASnapshotAndRestore() throws Exception {
        Recording r = recording(160, 41);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        feed(h, beats.subList(0, 70));
        List<ScoredBeat> before = new ArrayList<>(h.extractOutputValues());
        OperatorSubtaskState snapshot = h.snapshot(1, 1);

        var restored = harness(snapshot); // as after a failure: same state, timers included
        feed(restored, beats.subList(70, beats.size()));
        flushAll(restored);
        List<ScoredBeat> all = new ArrayList<>(before);
        all.addAll(restored.extractOutputValues());
        assertThat(all).extracting(b -> b.ts).doesNotHaveDuplicates().hasSize(r.size());
        assertThat(probas(all, "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr()).proba());
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static List<ShadowScore> shadowScores(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h) {
        return h.getSideOutput(PatientScorer.SHADOW_SCORES) == null ? List.of()
                : h.getSideOutput(PatientScorer.SHADOW_SCORES).stream().map(StreamRecord::getValue).toList();
    }

    private static Episode episode(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, String id,
                                   ValueStateDescriptor<Episode> which) throws Exception {
        h.getOperator().setCurrentKey(id);
        return h.getOperator().getKeyedStateStore().getState(which).value();
    }

    /** The episode open after the first {@code scored} beats flagged {@code y}: its start index, or -1 for none. */
    private static int openEpisodeStart(int[] y, int scored) {
        if (scored == 0 || y[scored - 1] == 0) {
            return -1;
        }
        int start = scored - 1;
        while (start > 0 && y[start - 1] == 1) {
            start--;
        }
        return start;
    }

    /**
     * A shadow bundle scores the windows the live model cuts: each beat's two scores, equal to each bundle's batch
     * scores, go to the shadow side output only; the main output and the alerts are those of a job without a shadow;
     * the shadow's open episode is kept by the live model's rules in a state of its own, across a restore.
     */
    @Test
    void aShadowModelScoresTheSameWindowsIntoItsSideOutputOnly(@TempDir Path tmp) throws Exception {
        Path shadowDir = BundleCopies.reweighted(tmp.resolve("shadow"), "cs-shadow-test");
        Map<String, Recording> recordings = Map.of("p1", recording(600, 31), "p2", recording(300, 32));
        EnsembleScorer live = TestBundle.scorer();
        try (EnsembleScorer shadow = EnsembleScorer.open(shadowDir)) {
            var h = shadowHarness(shadowDir, null);
            var plain = harness(null);
            for (var e : recordings.entrySet()) {
                List<Beat> first = beats(e.getKey(), e.getValue(), BASE).subList(0, 250);
                feed(h, first);
                feed(plain, first);
            }
            List<ShadowScore> shadowScores = new ArrayList<>(shadowScores(h));
            List<ScoredBeat> scored = new ArrayList<>(h.extractOutputValues());
            for (var e : recordings.entrySet()) { // mid-stream: each model's open episode, by the same rules
                int n = state(h, e.getKey()).nextToScore;
                double[] batchLive = live.scoreRecording(e.getValue().rr()).proba();
                double[] batchShadow = shadow.scoreRecording(e.getValue().rr()).proba();
                for (var which : List.of(PatientScorer.episodeState(), PatientScorer.shadowEpisodeState())) {
                    int[] y = which.getName().equals("episode") ? live.decide(batchLive) : shadow.decide(batchShadow);
                    int start = openEpisodeStart(y, n);
                    Episode open = episode(h, e.getKey(), which);
                    if (start < 0) {
                        assertThat(open).as("%s %s after %d beats", e.getKey(), which.getName(), n).isNull();
                    } else {
                        assertThat(open).as("%s %s after %d beats", e.getKey(), which.getName(), n).isNotNull();
                        assertThat(open.startTs).isEqualTo(BASE + (long) e.getValue().time()[start]);
                        assertThat(open.beats).isEqualTo(n - start);
                    }
                }
            }
            OperatorSubtaskState snapshot = h.snapshot(1, 1);
            var restored = shadowHarness(shadowDir, snapshot);
            for (var e : recordings.entrySet()) {
                List<Beat> all = beats(e.getKey(), e.getValue(), BASE);
                feed(restored, all.subList(250, all.size()));
                feed(plain, all.subList(250, all.size()));
            }
            flushAll(restored);
            flushAll(plain);
            shadowScores.addAll(shadowScores(restored));
            scored.addAll(restored.extractOutputValues());
            List<AnomalyAlert> alerts = new ArrayList<>(alerts(h));
            alerts.addAll(alerts(restored));

            int flips = 0;
            for (var e : recordings.entrySet()) {
                String id = e.getKey();
                double[] batchLive = live.scoreRecording(e.getValue().rr()).proba();
                double[] batchShadow = shadow.scoreRecording(e.getValue().rr()).proba();
                List<ShadowScore> mine = shadowScores.stream().filter(x -> x.patientId.equals(id)).toList();
                assertThat(mine).extracting(x -> x.ts).doesNotHaveDuplicates().isSorted().hasSize(e.getValue().size());
                assertThat(mine.stream().mapToDouble(x -> x.shadowProba).toArray()).containsExactly(batchShadow);
                assertThat(mine.stream().mapToDouble(x -> x.liveProba).toArray()).containsExactly(batchLive);
                assertThat(probas(scored, id)).containsExactly(batchLive);
                for (int i = 0; i < mine.size(); i++) {
                    ShadowScore x = mine.get(i);
                    assertThat(x.liveAnomaly).isEqualTo(live.isAnomalous(batchLive[i]));
                    assertThat(x.shadowAnomaly).isEqualTo(shadow.isAnomalous(batchShadow[i]));
                    assertThat(x.rrMs).isEqualTo(e.getValue().rr()[i]);
                    flips += x.liveAnomaly != x.shadowAnomaly ? 1 : 0;
                }
                assertThat(mine).allSatisfy(x -> {
                    assertThat(x.liveModelVersion).isEqualTo(live.modelVersion());
                    assertThat(x.shadowModelVersion).isEqualTo("cs-shadow-test");
                });
                assertThat(episode(restored, id, PatientScorer.shadowEpisodeState())).as("closed at the flush").isNull();
            }
            assertThat(flips).as("the shadow flags beats differently: the test can tell the models apart")
                    .isPositive();
            // the live side is the job's without a shadow: same scores, same alerts (all of the live model)
            assertThat(scored).usingRecursiveFieldByFieldElementComparator()
                    .containsExactlyInAnyOrderElementsOf(plain.extractOutputValues());
            assertThat(alerts).isNotEmpty().usingRecursiveFieldByFieldElementComparator()
                    .containsExactlyElementsOf(alerts(plain));
            assertThat(alerts).allSatisfy(a -> assertThat(a.modelVersion).isEqualTo(live.modelVersion()));
            assertThat(shadowScores(plain)).isEmpty();
        }
    }

    /** A shadow must cut the live model's windows: one of other geometry is refused, naming both, at open and before. */
    @Test
    void aShadowOfOtherWindowsIsRefusedNamingBothModels(@TempDir Path tmp) throws Exception {
        Path other = BundleCopies.withGeometry(tmp.resolve("other"), new FeatureSpec(20, 8), "cs-other-windows");
        String liveVersion = TestBundle.scorer().modelVersion();
        assertThatThrownBy(() -> shadowHarness(other, null)).isInstanceOf(ModelBundleException.class)
                .hasMessageStartingWith("shadow model cs-other-windows (20 past and 8 lookahead beats")
                .hasMessageContaining("live model " + liveVersion + " (16 past and 8 lookahead beats")
                .hasMessageNotContaining("\n");
        // the same refusal at submission (ScoringPipeline.submit, LocalJob.start), before anything starts
        StreamConfig config = StreamConfig.builder().modelDir(TestBundle.DIR.toString())
                .shadowModelDir(other.toString()).build();
        assertThatThrownBy(() -> ShadowModel.check(config)).isInstanceOf(ModelBundleException.class)
                .hasMessageStartingWith("shadow model cs-other-windows");
        Path same = BundleCopies.reweighted(tmp.resolve("same"), "cs-same-windows");
        assertThat(ShadowModel.check(StreamConfig.builder().modelDir(TestBundle.DIR.toString())
                .shadowModelDir(same.toString()).build()).modelVersion()).isEqualTo("cs-same-windows");
        assertThat(ShadowModel.check(StreamConfig.builder().build())).as("no shadow").isNull();
    }
}
