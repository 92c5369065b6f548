package io.cardiospike.cli;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Throughput of the scorer alone (no CSV I/O), on synthetic recordings, after a warm-up. */
@Command(name = "bench", description = "Benchmark the ensemble scorer: beats/s on synthetic recordings.",
        subcommands = {StreamBenchCommand.class})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "${env:CARDIOSPIKE_MODEL:-models}")
    Path model;

    @Option(names = "--beats", defaultValue = "650000", description = "beats per measured round")
    int beats;

    @Option(names = "--rounds", defaultValue = "3")
    int rounds;

    @Option(names = "--threads", defaultValue = "0", description = "0 = one per core")
    int threads;

    @Override
    public Integer call() throws Exception {
        int patients = Math.max(1, beats / 2000);
        List<Recording> recordings = SyntheticRr.recordings(patients, 1500, 2500, 1);
        long total = recordings.stream().mapToLong(Recording::size).sum();
        try (EnsembleScorer scorer = EnsembleScorer.open(model)) {
            ScoreCommand.scoreAll(scorer, recordings.subList(0, Math.min(10, patients)), threads); // warm-up
            for (int r = 1; r <= rounds; r++) {
                long t0 = System.nanoTime();
                ScoreCommand.scoreAll(scorer, recordings, threads);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("round %d: %,d beats in %.2f s = %,.0f beats/s (model %s, threads %d)%n", r, total, s,
                        total / s, scorer.modelVersion(),
                        threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
            }
        }
        return 0;
    }
}
