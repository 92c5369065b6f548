package io.cardiospike.cli;

import io.cardiospike.features.DatasetExporter;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.rr.RrCsv;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export-dataset", description = "Write model inputs (features, windows, labels) for Python training.")
final class ExportDatasetCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "CSV file with id,time,x[,y] (a file, not -: its "
            + "sha256 goes into meta.json)")
    Path input;

    @Option(names = "--output", required = true, description = "directory to write (created; its parent must exist)")
    Path output;

    @Option(names = "--past", defaultValue = "16", description = "past context in beats (default ${DEFAULT-VALUE})")
    int past;

    @Option(names = "--lookahead", defaultValue = "8", description = "lookahead in beats (default ${DEFAULT-VALUE})")
    int lookahead;

    @Override
    public Integer call() throws Exception {
        if (CliFiles.isStdio(input)) {
            throw new UserException("--input -: export-dataset reads a file (meta.json records its name and sha256)");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !java.nio.file.Files.isDirectory(parent)) {
            throw new UserException("--output " + output + ": no such directory " + parent + " (create it first)");
        }
        RrCsv.Table table = RrCsv.read(input);
        Map<String, Object> meta = new DatasetExporter(new FeatureSpec(past, lookahead)).export(input, table, output);
        System.err.printf("exported %d beats of %d patients (%d features, window %d) to %s%n", table.rowCount(),
                table.recordings().size(), ((java.util.List<?>) meta.get("feature_names")).size(), meta.get("window"),
                output);
        return 0;
    }
}
