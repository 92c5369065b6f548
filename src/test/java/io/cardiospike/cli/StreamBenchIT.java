package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cardiospike.features.FeatureSpec;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.TopicReader;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.StreamConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick form of {@code bench stream}'s size sweep: 5,000 patients through every phase (fill, throughput, latency,
 * a savepoint, a restore from it, a rescale 2 -> 1 while the fleet streams on). Asserts correctness, never speed:
 * every beat whose window is complete is scored exactly once, as the batch scorer scores the patient's beats.
 */
class StreamBenchIT {
    private static final int PATIENTS = 5_000; // 10,000 took 2.5-4.5 min of the 25 CI has

    @TempDir
    Path dir;

    @Test
    void aSizeSweepRunScoresEveryBeatOnceAsTheBatchScorerDoesThroughItsSavepointRestoreAndRescale() throws Exception {
        Path models = Path.of("models");
        FeatureSpec geometry = ModelManifest.load(models).spec();
        int lookahead = geometry.lookaheadBeats();
        long latenessMs = 1000;
        // The idle flush outlasts the test, so that every patient's beats stay one segment, as in one batch recording.
        StreamConfig config = StreamConfig.fromArgs("--bootstrap-servers", "127.0.0.1:9", "--input-topic", "it-events",
                "--scores-topic", "it-scores", "--alerts-topic", "it-alerts", "--dlq-topic", "it-dlq",
                "--model-dir", models.toString(), "--parallelism", "2", "--checkpoint-dir", dir.resolve("ckpt").toString(),
                "--checkpoint-interval", "1s", "--idle-flush", "30min", "--allowed-lateness", latenessMs + "ms",
                "--transaction-timeout", "5min", "--group-id", "it", "--transactional-id-prefix", "it");
        Map<String, List<ReplayProducer.Event>> sent = new ConcurrentHashMap<>();
        ScaleRun.Setup setup = new ScaleRun.Setup(PATIENTS, geometry.pastBeats() + lookahead + 1, lookahead, 0, 0,
                Duration.ofSeconds(5), 0, 1, config, Map.of(), null,
                e -> sent.computeIfAbsent(e.patientId(), id -> new ArrayList<>()).add(e));
        Map<String, Map<Long, List<Double>>> scores = new ConcurrentHashMap<>();
        try (ScaleRun run = new ScaleRun(setup)) {
            ScaleRun.Figures f = run.run();
            assertThat(f.sustained()).isPositive();
            assertThat(f.windowHalf()[3]).as("latencies measured").isPositive();
            assertThat(f.state().savepointBytes()).isPositive();
            assertThat(f.state().restoreMs()).isPositive();
            assertThat(f.state().rescaleMs()).isPositive();
            assertThat(f.state().checkpoints()).isPositive();

            long expected = 0;
            for (List<ReplayProducer.Event> beats : sent.values()) {
                expected += complete(beats, geometry, latenessMs);
            }
            AtomicLong read = new AtomicLong();
            try (TopicReader reader = new TopicReader(run.connection(), List.of(run.config().scoresTopic()), false,
                    r -> {
                        scores.computeIfAbsent(r.key(), k -> new ConcurrentHashMap<>())
                                .computeIfAbsent(r.value().path("ts").asLong(), t -> new ArrayList<>())
                                .add(r.value().path("proba").asDouble());
                        read.incrementAndGet();
                    })) {
                long last = -1, stableSince = System.nanoTime(), deadline = System.nanoTime() + 300_000_000_000L;
                while (System.nanoTime() < deadline && System.nanoTime() - stableSince < 15_000_000_000L) {
                    if (read.get() != last) {
                        last = read.get();
                        stableSince = System.nanoTime();
                    }
                    Thread.sleep(500);
                }
            }
            assertThat(read.get()).as("scores committed; missing: %s", missing(sent, scores, geometry, latenessMs))
                    .isEqualTo(expected);
        }

        assertThat(sent).hasSize(PATIENTS);
        // Every patient's beats scored once; every tenth patient's also against the batch scorer (all: a minute more).
        try (EnsembleScorer scorer = EnsembleScorer.open(models)) {
            for (Map.Entry<String, List<ReplayProducer.Event>> patient : sent.entrySet()) {
                List<ReplayProducer.Event> beats = patient.getValue();
                Map<Long, List<Double>> streamed = scores.getOrDefault(patient.getKey(), new HashMap<>());
                int complete = complete(beats, geometry, latenessMs);
                assertThat(streamed).as("beats of %s scored", patient.getKey()).hasSize(complete);
                boolean compared = FleetIndex.patient(patient.getKey()) % 10 == 0;
                double[] batch = compared
                        ? scorer.scoreRecording(beats.stream().mapToDouble(ReplayProducer.Event::rrMs).toArray()).proba()
                        : null;
                for (int i = 0; i < complete; i++) {
                    List<Double> p = streamed.get(beats.get(i).ts());
                    assertThat(p).as("%s beat %d scored once", patient.getKey(), i).hasSize(1);
                    if (compared) {
                        assertThat(p.get(0)).as("%s beat %d", patient.getKey(), i).isCloseTo(batch[i], within(1e-5));
                    }
                }
            }
        }
    }

    /** The first patients with a beat missing: id, beats sent, the indices missing. */
    private static List<String> missing(Map<String, List<ReplayProducer.Event>> sent,
                                        Map<String, Map<Long, List<Double>>> scores, FeatureSpec geometry, long latenessMs) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<ReplayProducer.Event>> patient : sent.entrySet()) {
            List<ReplayProducer.Event> beats = patient.getValue();
            Map<Long, List<Double>> streamed = scores.getOrDefault(patient.getKey(), Map.of());
            List<Integer> gone = new ArrayList<>();
            for (int i = 0; i < complete(beats, geometry, latenessMs); i++) {
                if (!streamed.containsKey(beats.get(i).ts())) {
                    gone.add(i);
                }
            }
            if (!gone.isEmpty() && out.size() < 10) {
                out.add(patient.getKey() + " of " + beats.size() + ": " + gone);
            }
        }
        return out;
    }

    /**
     * How many of a patient's first beats have a complete window ({@code BeatWindows.isComplete}), as the job cuts them
     * in order: beat i + lookahead released (the patient's newest beat at least the allowed lateness later), and
     * enough beats released for the window's reflection at the segment's start (a patient the fleet held back by a
     * long RR artifact has few).
     */
    private static int complete(List<ReplayProducer.Event> beats, FeatureSpec spec, long latenessMs) {
        long newest = beats.get(beats.size() - 1).ts();
        int released = 0;
        while (released < beats.size() && beats.get(released).ts() + latenessMs <= newest) {
            released++;
        }
        return released > spec.pastBeats() ? released - spec.lookaheadBeats() : 0;
    }
}
