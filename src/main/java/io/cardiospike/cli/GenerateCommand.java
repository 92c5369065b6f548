package io.cardiospike.cli;

import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", description = "Write synthetic labelled RR recordings as CSV (id,time,x,y).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--output", required = true, description = "CSV to write: id,time,x,y")
    Path output;

    @Option(names = "--patients", defaultValue = "20", description = "recordings (default ${DEFAULT-VALUE})")
    int patients;

    @Option(names = "--min-beats", defaultValue = "300", description = "shortest recording in beats (default ${DEFAULT-VALUE})")
    int minBeats;

    @Option(names = "--max-beats", defaultValue = "1200", description = "longest recording in beats (default ${DEFAULT-VALUE})")
    int maxBeats;

    @Option(names = "--seed", defaultValue = "7", description = "random seed: the same seed, the same recordings (default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        List<Recording> recordings = SyntheticRr.recordings(patients, minBeats, maxBeats, seed);
        if (output.getParent() != null) {
            Files.createDirectories(output.getParent());
        }
        long beats = 0;
        try (Writer out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
            out.write("id,time,x,y\n");
            for (Recording r : recordings) {
                for (int i = 0; i < r.size(); i++, beats++) {
                    out.write(r.id() + "," + RrCsv.formatTime(r.time()[i]) + "," + RrCsv.formatTime(r.rr()[i]) + ","
                            + r.label()[i] + "\n");
                }
            }
        }
        System.err.printf("wrote %d beats of %d patients to %s%n", beats, patients, output);
        return 0;
    }
}
