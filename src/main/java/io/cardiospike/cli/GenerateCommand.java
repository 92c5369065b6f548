package io.cardiospike.cli;

import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "generate", description = "Write synthetic labelled RR recordings as CSV (id,time,x,y).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--output", required = true, paramLabel = "CSV|-",
            description = "CSV to write: id,time,x,y; - writes stdout; its directory must exist")
    Path output;

    @Option(names = "--patients", defaultValue = "20", description = "recordings (default ${DEFAULT-VALUE})")
    int patients;

    @Option(names = "--min-beats", defaultValue = "300", description = "shortest recording in beats (default ${DEFAULT-VALUE})")
    int minBeats;

    @Option(names = "--max-beats", defaultValue = "1200", description = "longest recording in beats (default ${DEFAULT-VALUE})")
    int maxBeats;

    @Option(names = "--seed", defaultValue = "7", description = "random seed: the same seed, the same recordings (default ${DEFAULT-VALUE})")
    long seed;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (patients < 1 || minBeats < 1 || maxBeats < minBeats) {
            throw new UserException("--patients and --min-beats must be at least 1, --max-beats at least --min-beats");
        }
        CliFiles.checkWritable("--output", output);
        List<Recording> recordings = SyntheticRr.recordings(patients, minBeats, maxBeats, seed);
        long beats = 0;
        try (Writer out = CliFiles.open("--output", output, spec)) {
            out.write("id,time,x,y\n");
            for (Recording r : recordings) {
                for (int i = 0; i < r.size(); i++, beats++) {
                    out.write(r.id() + "," + RrCsv.formatTime(r.time()[i]) + "," + RrCsv.formatTime(r.rr()[i]) + ","
                            + r.label()[i] + "\n");
                }
            }
        }
        spec.commandLine().getErr().printf("wrote %d beats of %d patients to %s%n", beats, patients,
                CliFiles.name(output, true));
        return 0;
    }
}
