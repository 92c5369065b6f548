package io.cardiospike.cli;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.EpisodeTracker;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "score", description = "Score a CSV of RR recordings (id,time,x) beat by beat; writes "
        + "id,time,y,proba,artifact and ends with a summary line on stderr.")
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "CSV|-",
            description = "CSV with header id,time,x (other columns ignored); - reads stdin")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "CSV|-",
            description = "CSV to write: id,time,y,proba,artifact in input row order; - writes stdout (and nothing "
                    + "else goes there); its directory must exist")
    Path output;

    @Mixin ModelOption model;

    @Option(names = "--threads", defaultValue = "0", description = "scoring threads, 0 = one per core (default ${DEFAULT-VALUE})")
    int threads;

    @Spec CommandSpec spec;

    /** What a run found, the summary line's numbers. */
    record Summary(long beats, int patients, long flagged, long episodes, long artifacts) {
        /** The last line of {@code score} on stderr; plain integers, so scripts can parse it. */
        String line() {
            return String.format(Locale.ROOT, "scored %d beats of %d patients: %d flagged in %d episodes, %d artifacts",
                    beats, patients, flagged, episodes, artifacts);
        }

        static Summary of(RrCsv.Table table, List<int[]> decisions) {
            long flagged = 0, artifacts = 0;
            long[] episodes = {0};
            for (int r = 0; r < table.recordings().size(); r++) {
                Recording rec = table.recordings().get(r);
                int[] y = decisions.get(r);
                // the API's and the job's definition of an episode (EpisodeTracker), over the recording in time order
                EpisodeTracker<EpisodeTracker.Episode> tracker = new EpisodeTracker<>(null, () -> (at, p) -> {},
                        opened -> episodes[0]++, closed -> {});
                for (int i = 0; i < rec.size(); i++) {
                    flagged += y[i];
                    artifacts += Artifacts.isArtifact(rec.rr()[i]) ? 1 : 0;
                    tracker.beat(i, 0, y[i] == 1);
                }
                tracker.end();
            }
            return new Summary(table.rowCount(), table.recordings().size(), flagged, episodes[0], artifacts);
        }
    }

    @Override
    public Integer call() throws Exception {
        CliFiles.checkWritable("--output", output); // before minutes of scoring, not after
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        RrCsv.Table table = CliFiles.readRecordings(input);
        long t1 = System.nanoTime(), t2, t3, t4;
        List<int[]> decisions;
        try (EnsembleScorer scorer = EnsembleScorer.open(model.path())) {
            t2 = System.nanoTime();
            LongAdder scored = new LongAdder();
            List<double[]> proba;
            try (Progress progress = Progress.start(err, "scoring", "beats", table.rowCount(), scored::sum)) {
                proba = scoreAll(scorer, table.recordings(), threads, scored);
            }
            decisions = proba.stream().map(scorer::decide).toList();
            t3 = System.nanoTime();
            try (Writer out = CliFiles.open("--output", output, spec)) {
                RrCsv.writeScores(out, table, proba, decisions);
            }
            t4 = System.nanoTime();
        }
        // Where a whole run's time goes (docs/performance.md); the JVM's own start-up comes before all of it. The
        // summary is the last line.
        err.printf(Locale.ROOT, "timings: read %.0f ms, bundle load %.0f ms, score %.0f ms, write %.0f ms (JVM up %d ms "
                + "before the command)%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6,
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() - (System.nanoTime() - t0) / 1_000_000);
        err.println(Summary.of(table, decisions).line());
        err.flush();
        return 0;
    }

    /** Scores recordings in parallel (the scorer is thread-safe); results in the recordings' order. */
    static List<double[]> scoreAll(EnsembleScorer scorer, List<Recording> recordings, int threads) throws Exception {
        return scoreAll(scorer, recordings, threads, new LongAdder());
    }

    /** As above, counting each recording's beats into {@code scored} as it is done (for the progress line). */
    static List<double[]> scoreAll(EnsembleScorer scorer, List<Recording> recordings, int threads, LongAdder scored)
            throws Exception {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<double[]>> futures = new ArrayList<>();
            for (Recording r : recordings) {
                futures.add(pool.submit(() -> {
                    double[] p = scorer.scoreRecording(r.rr()).proba();
                    scored.add(r.size());
                    return p;
                }));
            }
            List<double[]> out = new ArrayList<>(futures.size());
            for (Future<double[]> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
