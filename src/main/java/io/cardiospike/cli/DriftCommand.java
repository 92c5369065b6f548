package io.cardiospike.cli;

import io.cardiospike.drift.DriftMonitor;
import io.cardiospike.drift.DriftReference;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.rr.RrCsv;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The job's drift check on a file, before any of it is streamed: a new device, site or population recorded to CSV is
 * scored with the bundle and compared with the bundle's reference exactly as the job's monitor compares an hour.
 */
@Command(name = "drift", description = "PSI of recordings against the bundle's drift reference, statistic by "
        + "statistic, as the job's drift monitor would compute it over an hour of such beats (docs/models.md#drift). "
        + "Exit 0 whatever the PSIs; 2 for a bundle without a reference or fewer beats than the monitor needs.")
final class DriftCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "CSV|-",
            description = "recordings, CSV with header id,time,x (other columns ignored); - reads stdin")
    Path input;

    @Mixin ModelOption model;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path dir = model.path();
        DriftReference reference = DriftReference.of(ModelManifest.load(dir), dir).orElseThrow(() ->
                new UserException(dir + " has no drift reference: write one with bin/cardiospike drift-reference "
                        + "--input TRAIN.csv --model " + dir));
        RrCsv.Table table = CliFiles.readRecordings(input);
        if (table.rowCount() < DriftMonitor.MIN_BEATS) {
            throw new UserException(input + ": " + table.rowCount() + " beats; the drift monitor needs "
                    + DriftMonitor.MIN_BEATS + " to tell a shift from chance");
        }
        DriftMonitor monitor;
        String version;
        try (EnsembleScorer scorer = EnsembleScorer.open(dir)) {
            version = scorer.manifest().modelVersion();
            monitor = DriftMonitor.over(reference, scorer, table.recordings());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%d beats of %d patients against the reference of %s (%d beats of %d patients)%n",
                table.rowCount(), table.recordings().size(), version, reference.beats(), reference.patients());
        out.printf(Locale.ROOT, "%-14s %8s%n", "statistic", "psi");
        int shifted = 0;
        for (int s = 0; s < monitor.statistics().size(); s++) {
            double psi = monitor.psi(s);
            String verdict = Double.isNaN(psi) ? "no values (every beat lacks it)"
                    : psi > DriftMonitor.ALARM ? "shift" : psi >= 0.1 ? "moderate" : "stable";
            shifted += psi > DriftMonitor.ALARM ? 1 : 0;
            out.printf(Locale.ROOT, "%-14s %8.3f  %s%n", monitor.statistics().get(s), psi, verdict);
        }
        out.printf(Locale.ROOT, "%d of %d statistics above %.1f: the job would write %d drift records on an hour of "
                        + "such beats%n", shifted, monitor.statistics().size(), DriftMonitor.ALARM, shifted);
        out.flush();
        return 0;
    }
}
