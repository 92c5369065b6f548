package io.cardiospike.cli;

import picocli.CommandLine.Mixin;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "score", description = "Score a CSV of RR recordings (id,time,x) beat by beat; writes id,time,y,proba.")
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "CSV with header id,time,x (other columns ignored)")
    Path input;

    @Option(names = "--output", required = true, description = "CSV to write: id,time,y,proba in input row order")
    Path output;

    @Mixin ModelOption model;

    @Option(names = "--threads", defaultValue = "0", description = "scoring threads, 0 = one per core (default ${DEFAULT-VALUE})")
    int threads;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        RrCsv.Table table = RrCsv.read(input);
        long t1 = System.nanoTime(), t2, t3, t4;
        try (EnsembleScorer scorer = EnsembleScorer.open(model.path())) {
            t2 = System.nanoTime();
            List<double[]> proba = scoreAll(scorer, table.recordings(), threads);
            t3 = System.nanoTime();
            if (output.toAbsolutePath().getParent() != null) {
                Files.createDirectories(output.toAbsolutePath().getParent());
            }
            try (Writer out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
                RrCsv.writeScores(out, table, proba, proba.stream().map(scorer::decide).toList());
            }
            t4 = System.nanoTime();
        }
        System.err.printf("scored %d beats of %d patients with model %s -> %s%n", table.rowCount(),
                table.recordings().size(), model.value(), output);
        // Where a whole run's time goes (docs/performance.md); the JVM's own start-up comes before all of it.
        System.err.printf("timings: read %.0f ms, bundle load %.0f ms, score %.0f ms, write %.0f ms (JVM up %d ms "
                + "before the command)%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6,
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() - (System.nanoTime() - t0) / 1_000_000);
        return 0;
    }

    /** Scores recordings in parallel (the scorer is thread-safe); results in the recordings' order. */
    static List<double[]> scoreAll(EnsembleScorer scorer, List<Recording> recordings, int threads) throws Exception {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<double[]>> futures = new ArrayList<>();
            for (Recording r : recordings) {
                futures.add(pool.submit(() -> scorer.scoreRecording(r.rr()).proba()));
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
