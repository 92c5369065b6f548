package io.cardiospike.cli;

import picocli.CommandLine.Mixin;
import io.cardiospike.features.BeatWindows;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ScoredWindow;
import io.cardiospike.model.ScorerStages;
import io.cardiospike.model.WindowScores;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Throughput of the scorer alone (no CSV I/O), on synthetic recordings, after a warm-up. */
@Command(name = "bench", description = "Benchmark the ensemble scorer: beats/s on synthetic recordings.",
        subcommands = {StreamBenchCommand.class})
final class BenchCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = "--beats", defaultValue = "650000", description = "beats per measured round (default ${DEFAULT-VALUE})")
    int beats;

    @Option(names = "--rounds", defaultValue = "3", description = "measured rounds after a warm-up (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--threads", defaultValue = "0", description = "scoring threads, 0 = one per core (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--call-size", defaultValue = "0", description = "instead: us per window when each scorer call "
            + "holds this many windows, on one thread (the stream's calls hold a few; at most 100,000 windows); default 0: "
            + "throughput instead")
    int callSize;

    @Option(names = "--explain-size", defaultValue = "0", description = "instead: CPU us per explanation when each "
            + "call explains this many scored windows together, on one thread (the stream explains up to 64 at once; "
            + "1,024 windows a round); default 0: throughput instead")
    int explainSize;

    @Override
    public Integer call() throws Exception {
        int patients = Math.max(1, beats / 2000);
        List<Recording> recordings = SyntheticRr.recordings(patients, 1500, 2500, 1);
        long total = recordings.stream().mapToLong(Recording::size).sum();
        try (EnsembleScorer scorer = EnsembleScorer.open(model.path())) {
            if (callSize > 0) {
                benchCalls(scorer, recordings);
                return 0;
            }
            if (explainSize > 0) {
                benchExplanations(scorer, recordings);
                return 0;
            }
            ScoreCommand.scoreAll(scorer, recordings.subList(0, Math.min(10, patients)), threads); // warm-up
            for (int r = 1; r <= rounds; r++) {
                ScorerStages.Totals before = ScorerStages.now();
                long t0 = System.nanoTime();
                ScoreCommand.scoreAll(scorer, recordings, threads);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("round %d: %,d beats in %.2f s = %,.0f beats/s (model %s, threads %d); us per window "
                        + "and thread: %s%n", r, total, s, total / s, scorer.modelVersion(),
                        threads > 0 ? threads : Runtime.getRuntime().availableProcessors(),
                        ScorerStages.now().minus(before).perWindow());
            }
        }
        return 0;
    }

    /** Scores windows in calls of {@code callSize}, like the streaming job's per-timer calls. */
    private void benchCalls(EnsembleScorer scorer, List<Recording> recordings) {
        List<double[]> windows = windows(scorer, recordings, 100_000);
        timeRounds(scorer, windows.size() / callSize * callSize, callSize, System::nanoTime,
                from -> scorer.scoreWindows(windows.subList(from, from + callSize)),
                "round %d: %,d windows in calls of %d: %.1f us/window (model %s, 1 thread)%n");
    }

    /** Explains scored windows in calls of {@code explainSize}, as the streaming job explains its opening alerts. */
    private void benchExplanations(EnsembleScorer scorer, List<Recording> recordings) throws UserException {
        List<double[]> windows = windows(scorer, recordings, 1024);
        if (explainSize > windows.size()) {
            throw new UserException("--explain-size " + explainSize + ": at most " + windows.size() + " (the windows "
                    + "of a round)");
        }
        WindowScores scores = scorer.scoreWindows(windows);
        List<ScoredWindow> scored = new ArrayList<>();
        for (int k = 0; k < windows.size(); k++) {
            scored.add(new ScoredWindow(windows.get(k), scores.lgbmMargin()[k], scores.cnnLogit()[k]));
        }
        timeRounds(scorer, scored.size() / explainSize * explainSize, explainSize, ScorerStages::cpuNanos,
                from -> scorer.explain(scored.subList(from, from + explainSize)),
                "round %d: %,d windows explained in calls of %d: %.0f us of CPU each (model %s, 1 thread)%n");
    }

    /**
     * {@link #rounds} rounds after a warm-up, each of {@code n} windows in calls of {@code size} ({@code call} takes
     * the first window's index), timed by {@code clock} (ns); prints each with {@code format} (round, windows, call
     * size, us per window, model).
     */
    private void timeRounds(EnsembleScorer scorer, int n, int size, LongSupplier clock, IntConsumer call,
                            String format) {
        for (int r = 0; r <= rounds; r++) { // round 0 warms up
            long t0 = clock.getAsLong();
            for (int from = 0; from < n; from += size) {
                call.accept(from);
            }
            double us = (clock.getAsLong() - t0) / 1e3 / n;
            if (r > 0) {
                System.out.printf(format, r, n, size, us, scorer.modelVersion());
            }
        }
    }

    /** The first {@code most} windows of the recordings (fewer if they are shorter). */
    private static List<double[]> windows(EnsembleScorer scorer, List<Recording> recordings, int most) {
        List<double[]> windows = new ArrayList<>();
        for (Recording r : recordings) {
            for (int i = 0; i < r.size() && windows.size() < most; i++) {
                windows.add(BeatWindows.cut(r.rr(), i, scorer.spec()));
            }
        }
        return windows;
    }
}
