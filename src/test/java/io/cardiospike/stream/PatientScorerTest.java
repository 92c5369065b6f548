package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.stream.functions.PatientScorer;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.ScoredBeat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keyed scorer alone, driven by Flink's operator test harness: ordering, timers, state contents and cleanup. */
class PatientScorerTest {
    static final long BASE = 1_700_000_000_000L;
    // The gap exceeds the synthetic data's longest RR (a 40.9 s sensor dropout), so recordings stay one segment.
    static final long IDLE_MS = 60_000, RETENTION_MS = 120_000, LATENESS_MS = 3_000;

    private final List<KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat>> harnesses = new ArrayList<>();

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
        var h = new KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat>(
                new PatientScorer(bundle.toString(), IDLE_MS, RETENTION_MS),
                b -> b.patientId, Types.STRING);
        h.setStateBackend(new EmbeddedRocksDBStateBackend());
        harnesses.add(h);
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
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

    /** Feeds beats like the job does: each with its event time, the watermark trailing the newest by the lateness. */
    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h, List<Beat> beats)
            throws Exception {
        long maxTs = Long.MIN_VALUE;
        for (Beat b : beats) {
            h.processElement(b, b.ts);
            maxTs = Math.max(maxTs, b.ts);
            h.processWatermark(maxTs - LATENESS_MS - 1);
        }
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
        h.setProcessingTime(0);
        feed(h, beats("p1", r, BASE));

        EnsembleScorer scorer = TestBundle.scorer();
        int lookahead = scorer.spec().lookaheadBeats();
        List<ScoredBeat> scored = h.extractOutputValues();
        // Everything but the last beats (waiting for lookahead or for the watermark) is already scored.
        assertThat(scored.size()).isBetween(150, r.size() - lookahead);
        PatientState s = state(h, "p1");
        assertThat(s.segLen).as("retained beats stay bounded").isLessThanOrEqualTo(
                scorer.spec().windowSize() + s.pendingCount + lookahead);

        h.setProcessingTime(IDLE_MS); // the patient went silent: flush
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
        assertThat(h.numEventTimeTimers()).isZero();
        assertThat(h.numProcessingTimeTimers()).as("only the cleanup timer").isEqualTo(1);

        h.setProcessingTime(RETENTION_MS); // silent for the retention period: state and timers gone
        assertThat(state(h, "p1")).isNull();
        assertThat(h.numProcessingTimeTimers()).isZero();
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
        h.setProcessingTime(0);
        feed(h, withDuplicates);
        h.setProcessingTime(IDLE_MS);

        List<ScoredBeat> scored = h.extractOutputValues();
        assertThat(scored).hasSize(r.size());
        assertThat(scored).extracting(b -> b.ts).isSorted().doesNotHaveDuplicates();
        assertThat(probas(scored, "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr()).proba());
        assertThat(h.getSideOutput(PatientScorer.LATE_BEATS)).isNullOrEmpty();
    }

    @Test
    void aBeatOlderThanTheWatermarkGoesToTheDeadLetterOutput() throws Exception {
        Recording r = recording(60, 7);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        h.setProcessingTime(0);
        feed(h, beats);
        long watermark = beats.get(beats.size() - 1).ts - LATENESS_MS - 1;
        Beat late = new Beat("p1", watermark - 1, 800); // not a beat we saw: too late to put in order
        h.processElement(late, late.ts);
        Beat repeatOfReleased = beats.get(0); // no longer held: also too late
        h.processElement(repeatOfReleased, repeatOfReleased.ts);

        List<DeadLetter> dead = h.getSideOutput(PatientScorer.LATE_BEATS).stream().map(StreamRecord::getValue).toList();
        assertThat(dead).hasSize(2);
        assertThat(dead).allSatisfy(d -> {
            assertThat(d.reason).isEqualTo(StreamJson.LATE);
            assertThat(d.patientId).isEqualTo("p1");
        });
        assertThat(StreamJson.read(dead.get(0).rawValue.getBytes()).path("ts").asLong()).isEqualTo(late.ts);
        h.setProcessingTime(IDLE_MS);
        assertThat(h.extractOutputValues()).hasSize(r.size());
    }

    @Test
    void beatsWaitInStateUntilTheWatermarkPassesThem() throws Exception {
        Recording r = recording(40, 9);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        h.setProcessingTime(0);
        for (Beat b : beats) {
            h.processElement(b, b.ts);
        }
        PatientState s = state(h, "p1");
        assertThat(s.pendingCount).isEqualTo(40);
        assertThat(s.segSeen).isZero();
        assertThat(h.numEventTimeTimers()).as("one timer per patient").isEqualTo(1);

        h.processWatermark(beats.get(29).ts);
        s = state(h, "p1");
        assertThat(s.pendingCount).isEqualTo(10);
        assertThat(s.segSeen).isEqualTo(30);
        assertThat(s.eventTimerAt).isEqualTo(beats.get(30).ts);
        int lookahead = TestBundle.scorer().spec().lookaheadBeats();
        assertThat(h.extractOutputValues()).hasSize(30 - lookahead);
    }

    @Test
    void aPauseEndsTheSegmentAndTheNextBeatStartsANewOne() throws Exception {
        Recording first = recording(80, 11), second = recording(70, 12);
        long secondStart = BASE + (long) first.time()[first.size() - 1] + 600_000;
        var h = harness(null);
        h.setProcessingTime(0);
        feed(h, beats("p1", first, BASE));
        h.setProcessingTime(IDLE_MS + 1);
        feed(h, beats("p1", second, secondStart));
        h.setProcessingTime(3 * IDLE_MS);

        EnsembleScorer scorer = TestBundle.scorer();
        double[] expected = concat(scorer.scoreRecording(first.rr()).proba(), scorer.scoreRecording(second.rr()).proba());
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(expected);
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
        h.setProcessingTime(0);
        feed(h, beats("p1", r, BASE));
        h.setProcessingTime(IDLE_MS + 1);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(TestBundle.scorer().scoreRecording(rr).proba());
    }

    @Test
    void aPatientSilentInEventTimeWhileOthersGoOnIsFlushedWithoutWaitingForProcessingTime() throws Exception {
        Recording a = recording(60, 51), b = recording(400, 52);
        List<Beat> stream = new ArrayList<>(beats("a", a, BASE));
        long bStart = stream.get(stream.size() - 1).ts + 1000;
        stream.addAll(beats("b", b, bStart)); // b goes on for minutes of event time after a stopped
        var h = harness(null);
        h.setProcessingTime(0);
        feed(h, stream);
        assertThat(probas(h.extractOutputValues(), "a")).containsExactly(TestBundle.scorer().scoreRecording(a.rr()).proba());
        assertThat(state(h, "a").segSeen).isZero();
        assertThat(probas(h.extractOutputValues(), "b").length).isLessThan(b.size());
    }

    @Test
    void noProcessingTimeFlushWhileTheWatermarkStillMoves() throws Exception {
        Recording r = recording(100, 61);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        h.setProcessingTime(0);
        feed(h, beats.subList(0, 50));
        h.setProcessingTime(IDLE_MS - 1);
        h.processWatermark(beats.get(48).ts); // e.g. a stalled job catching up: event time still moves
        h.setProcessingTime(IDLE_MS + 10);
        assertThat(state(h, "p1").segSeen).as("segment still open").isGreaterThan(0);
        feed(h, beats.subList(50, beats.size()));
        h.setProcessingTime(3 * IDLE_MS);
        assertThat(probas(h.extractOutputValues(), "p1")).containsExactly(TestBundle.scorer().scoreRecording(r.rr()).proba());
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
        h.setProcessingTime(0);
        feed(h, interleaved);
        h.setProcessingTime(IDLE_MS);
        List<ScoredBeat> scored = h.extractOutputValues();
        EnsembleScorer scorer = TestBundle.scorer();
        assertThat(probas(scored, "a")).containsExactly(scorer.scoreRecording(a.rr()).proba());
        assertThat(probas(scored, "b")).containsExactly(scorer.scoreRecording(b.rr()).proba());
    }

    @Test
    void aWatermarksWindowsAreScoredTogetherAndTheirScoresPrecedeIt() throws Exception {
        Recording a = recording(40, 81), b = recording(50, 82);
        var h = harness(null);
        h.setProcessingTime(0);
        for (Beat beat : beats("a", a, BASE)) {
            h.processElement(beat, beat.ts);
        }
        for (Beat beat : beats("b", b, BASE + 100)) {
            h.processElement(beat, beat.ts);
        }
        assertThat(h.getOutput()).as("nothing is scored before the watermark").isEmpty();
        long watermark = BASE + 100 + (long) b.time()[b.size() - 1];
        h.processWatermark(watermark);

        List<Object> out = new ArrayList<>(h.getOutput());
        int lookahead = TestBundle.scorer().spec().lookaheadBeats();
        assertThat(out).hasSize(a.size() - lookahead + b.size() - lookahead + 1);
        assertThat(out.get(out.size() - 1)).as("the watermark comes last").isEqualTo(new Watermark(watermark));
        assertThat(out.subList(0, out.size() - 1)).allSatisfy(o -> {
            StreamRecord<?> r = (StreamRecord<?>) o;
            assertThat(r.getValue()).isInstanceOf(ScoredBeat.class);
            assertThat(r.getTimestamp()).as("stamped with the watermark that completed it").isEqualTo(watermark);
        });
        List<ScoredBeat> scored = h.extractOutputValues();
        EnsembleScorer scorer = TestBundle.scorer();
        assertThat(probas(scored, "a")).containsExactly(
                Arrays.copyOf(scorer.scoreRecording(a.rr()).proba(), a.size() - lookahead));
        assertThat(probas(scored, "b")).containsExactly(
                Arrays.copyOf(scorer.scoreRecording(b.rr()).proba(), b.size() - lookahead));
    }

    @Test
    void aWatermarkThatCompletesMoreWindowsThanOneBatchHoldsScoresThemAllInOrder() throws Exception {
        int patients = 60, beatsEach = 90; // 60 x 82 complete windows > MAX_PENDING_WINDOWS (4096)
        List<Recording> recordings = SyntheticRr.recordings(patients, beatsEach, beatsEach, 91);
        var h = harness(null);
        h.setProcessingTime(0);
        long last = Long.MIN_VALUE;
        for (int p = 0; p < patients; p++) {
            for (Beat beat : beats("p" + p, recordings.get(p), BASE + p)) {
                h.processElement(beat, beat.ts);
                last = Math.max(last, beat.ts);
            }
        }
        h.processWatermark(last);

        List<Object> out = new ArrayList<>(h.getOutput());
        assertThat(out.get(out.size() - 1)).isEqualTo(new Watermark(last));
        List<ScoredBeat> scored = h.extractOutputValues();
        int lookahead = TestBundle.scorer().spec().lookaheadBeats();
        assertThat(scored).hasSize(patients * (beatsEach - lookahead));
        for (int p = 0; p < patients; p++) {
            assertThat(probas(scored, "p" + p)).as("patient p%d", p).containsExactly(Arrays.copyOf(
                    TestBundle.scorer().scoreRecording(recordings.get(p).rr()).proba(), beatsEach - lookahead));
        }
    }

    @Test
    void alertsMergeConsecutiveAnomalousBeatsIntoEpisodes() throws Exception {
        Recording r = recording(600, 31);
        var h = harness(null);
        h.setProcessingTime(0);
        feed(h, beats("p1", r, BASE));
        h.setProcessingTime(IDLE_MS);

        EnsembleScorer scorer = TestBundle.scorer();
        double[] proba = scorer.scoreRecording(r.rr()).proba();
        int[] y = scorer.decide(proba);
        List<long[]> expected = new ArrayList<>(); // {start index, end index}
        for (int i = 0; i < proba.length; i++) {
            if (y[i] == 1 && (i == 0 || y[i - 1] == 0)) {
                int end = i;
                while (end + 1 < proba.length && y[end + 1] == 1) {
                    end++;
                }
                expected.add(new long[] {i, end});
            }
        }
        List<AnomalyAlert> all = h.getSideOutput(PatientScorer.ALERTS) == null ? List.of()
                : h.getSideOutput(PatientScorer.ALERTS).stream().map(StreamRecord::getValue).toList();
        List<AnomalyAlert> alerts = all.stream().filter(a -> a.status.equals(AnomalyAlert.CLOSED)).toList();
        List<AnomalyAlert> opened = all.stream().filter(a -> a.status.equals(AnomalyAlert.OPEN)).toList();
        assertThat(alerts).hasSameSizeAs(expected);
        assertThat(opened).hasSameSizeAs(expected);
        assertThat(expected).as("the recording has episodes").isNotEmpty();
        for (int k = 0; k < expected.size(); k++) {
            int start = (int) expected.get(k)[0], end = (int) expected.get(k)[1];
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
        }
    }

    /** An episode open at a checkpoint is the same episode after the restore: closed once, under its id. */
    @Test
    void anEpisodeOpenAtASnapshotClosesAfterTheRestoreUnderItsAlertId() throws Exception {
        Recording r = recording(600, 31);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        h.setProcessingTime(0);
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

        var restored = harness(snapshot);
        restored.setProcessingTime(0);
        feed(restored, beats.subList(cut, beats.size()));
        restored.setProcessingTime(IDLE_MS);
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

    private static List<AnomalyAlert> alerts(KeyedOneInputStreamOperatorTestHarness<String, Beat, ScoredBeat> h) {
        return h.getSideOutput(PatientScorer.ALERTS) == null ? List.of()
                : h.getSideOutput(PatientScorer.ALERTS).stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void stateSurvivesASnapshotAndRestore() throws Exception {
        Recording r = recording(160, 41);
        List<Beat> beats = beats("p1", r, BASE);
        var h = harness(null);
        h.setProcessingTime(0);
        feed(h, beats.subList(0, 70));
        List<ScoredBeat> before = new ArrayList<>(h.extractOutputValues());
        OperatorSubtaskState snapshot = h.snapshot(1, 1);

        var restored = harness(snapshot); // as after a failure: same state, timers included
        restored.setProcessingTime(0);
        feed(restored, beats.subList(70, beats.size()));
        restored.setProcessingTime(IDLE_MS);
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
}
