package io.cardiospike.cli;

import io.cardiospike.drift.Bins;
import io.cardiospike.drift.DriftReference;
import io.cardiospike.features.DatasetExporter;
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

@Command(name = "drift-reference", description = "Score the bundle's training data with the bundle and write what it "
        + "looked like (deciles of RR, key features and probability; flagged-beat and artifact rates) into the "
        + "bundle's manifest.json, for the job's drift monitoring (docs/models.md).")
final class DriftReferenceCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "CSV|-",
            description = "the bundle's training data, CSV with header id,time,x (other columns ignored); - reads stdin")
    Path input;

    @Mixin ModelOption model;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path dir = model.path();
        ModelManifest.load(dir); // a missing or foreign bundle is named before the data is read
        RrCsv.Table table = CliFiles.readRecordings(input);
        if (table.rowCount() == 0) {
            throw new UserException(input + ": no beats to take a reference from");
        }
        String sha = CliFiles.isStdio(input) ? null : DatasetExporter.sha256(input);
        DriftReference reference;
        try (EnsembleScorer scorer = EnsembleScorer.open(dir)) {
            reference = DriftReference.build(table.recordings(), scorer, sha);
        }
        reference.writeInto(dir);
        PrintWriter err = spec.commandLine().getErr();
        Bins rr = reference.statistics().get(DriftReference.RR);
        err.printf(Locale.ROOT, "drift reference of %d beats of %d patients written into %s: RR deciles %.0f-%.0f ms, "
                        + "%d statistics, flagged rate %.4f, artifact rate %.4f%n", reference.beats(), reference.patients(),
                dir.resolve(ModelManifest.FILE), rr.edges()[0], rr.edges()[rr.edges().length - 1],
                reference.statistics().size(),
                reference.statistics().get(DriftReference.FLAGGED_RATE).fractions()[1],
                reference.statistics().get(DriftReference.ARTIFACT_RATE).fractions()[1]);
        err.flush();
        return 0;
    }
}
