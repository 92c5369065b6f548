package io.cardiospike.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cardiospike.evaluation.Evaluation;
import io.cardiospike.evaluation.EvaluationReport;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.RrCsv;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "evaluate", description = "Score labelled RR recordings (id,time,x,y) and measure the model per beat "
        + "and per episode: detected and missed episodes, false alerts, onset delay, split alerts, the worst patients "
        + "(definitions: docs/evaluation.md).")
final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "CSV|-",
            description = "CSV with header id,time,x,y, y 0 or 1 on every row (other columns ignored); - reads stdin")
    Path input;

    @Mixin ModelOption model;

    @Option(names = "--report", paramLabel = "DIR",
            description = "also write report.md and PNGs (precision-recall, per-patient F1, the worst patient) to DIR "
                    + "(created; its parent must exist) (default: none)")
    Path report;

    @Option(names = "--json", description = "print one JSON document on stdout instead of the summary "
            + "(default ${DEFAULT-VALUE})")
    boolean json;

    @Option(names = "--worst", defaultValue = "10", paramLabel = "N",
            description = "patients the summary lists, worst first (default ${DEFAULT-VALUE})")
    int worst;

    @Option(names = "--threads", defaultValue = "0",
            description = "scoring threads, 0 = one per core (default ${DEFAULT-VALUE})")
    int threads;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (worst < 0) {
            throw new UserException("--worst must be at least 0");
        }
        checkReportDir(); // before the scoring, not after
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        RrCsv.Table table = CliFiles.readLabelledRecordings(input);
        Evaluation evaluation;
        try (EnsembleScorer scorer = EnsembleScorer.open(model.path())) {
            LongAdder scored = new LongAdder();
            List<double[]> proba;
            try (Progress progress = Progress.start(err, "scoring", "beats", table.rowCount(), scored::sum)) {
                proba = ScoreCommand.scoreAll(scorer, table.recordings(), threads, scored);
            }
            evaluation = Evaluation.of(scorer, table.recordings(), proba);
        }
        if (report != null) {
            Files.createDirectories(report);
            EvaluationReport.write(report, evaluation, CliFiles.name(input, false));
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(evaluation.json()));
        } else {
            evaluation.summary(worst).forEach(out::println);
            if (report != null) {
                out.println("report: " + report.resolve(EvaluationReport.MARKDOWN));
            }
        }
        out.flush();
        return 0;
    }

    private void checkReportDir() throws UserException {
        if (report == null) {
            return;
        }
        if (Files.exists(report) && !Files.isDirectory(report)) {
            throw new UserException("--report " + report + ": is a file; name a directory");
        }
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UserException("--report " + report + ": no such directory " + parent + " (create it first)");
        }
    }
}
