package io.cardiospike.evaluation;

import io.cardiospike.rr.Recording;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** An evaluation as a report directory: report.md (the figures and the per-patient table) and its PNGs. */
public final class EvaluationReport {
    public static final String MARKDOWN = "report.md", PR_CURVE = "pr_curve.png", PATIENT_F1 = "patient_f1.png",
            WORST_PATIENT = "worst_patient.png";

    private EvaluationReport() {}

    /** Writes the report into {@code dir}, which must exist; files of an earlier report there are replaced. */
    public static void write(Path dir, Evaluation ev, String inputName) throws IOException {
        EvaluationCharts.prCurve(dir.resolve(PR_CURVE), PrCurve.of(recordings(ev), probabilities(ev)), ev.beat(),
                ev.threshold());
        EvaluationCharts.patientF1(dir.resolve(PATIENT_F1), ev.patients());
        Evaluation.Scored worst = worst(ev);
        if (worst != null) {
            EvaluationCharts.recording(dir.resolve(WORST_PATIENT), worst, ev.threshold());
        }
        Files.writeString(dir.resolve(MARKDOWN), markdown(ev, inputName, worst), StandardCharsets.UTF_8);
    }

    /** The first patient of the table (worst first). */
    static Evaluation.Scored worst(Evaluation ev) {
        if (ev.patients().isEmpty()) {
            return null;
        }
        String id = ev.patients().get(0).id();
        return ev.scored().stream().filter(s -> s.recording().id().equals(id)).findFirst().orElseThrow();
    }

    static String markdown(Evaluation ev, String inputName, Evaluation.Scored worst) {
        Evaluation.BeatFigures b = ev.beat();
        Evaluation.EpisodeFigures e = ev.episodes();
        List<String> md = new ArrayList<>();
        md.add("# Evaluation of model " + ev.modelVersion() + " on `" + inputName + "`");
        md.add("");
        md.add(String.format(Locale.ROOT, "%d beats of %d patients, %.2f patient-hours of recording; threshold %.4f, "
                + "lookahead %d beats. Definitions: docs/evaluation.md.", ev.beats(), ev.patients().size(),
                ev.hours(), ev.threshold(), ev.lookaheadBeats()));
        md.add("");
        md.add("## Beats");
        md.add("");
        md.add("| precision | recall | F1 | tp | fp | fn | average precision |");
        md.add("|---|---|---|---|---|---|---|");
        md.add(String.format(Locale.ROOT, "| %.4f | %.4f | %.4f | %d | %d | %d | %.4f |", b.precision(), b.recall(),
                b.f1(), b.tp(), b.fp(), b.fn(), b.averagePrecision()));
        md.add("");
        md.add("![precision-recall](" + PR_CURVE + ")");
        md.add("");
        md.add("## Episodes");
        md.add("");
        md.add("| figure | value |");
        md.add("|---|---|");
        md.add("| labelled episodes | " + e.labelled() + " |");
        md.add(String.format(Locale.ROOT, "| detected (recall) | %d (%.4f) |", e.detected(), e.recall()));
        md.add("| missed | " + e.missed() + " |");
        md.add("| alert episodes | " + e.alerts() + " |");
        md.add("| alerts with no labelled beat (false alerts) | " + e.falseAlerts() + " |");
        md.add("| false alerts per patient-hour | " + Evaluation.number(e.falseAlertsPerHour(), "%.3f") + " |");
        md.add(String.format(Locale.ROOT, "| episode precision | %.4f |", e.precision()));
        md.add("| alerts per detected episode (mean) | " + Evaluation.number(e.alertsPerDetected(), "%.3f") + " |");
        md.add("| detected episodes split into several alerts | " + e.split() + " |");
        md.add("");
        md.add("| onset delay | median | p90 | max |");
        md.add("|---|---|---|---|");
        md.add(delayRow("to the first flagged beat, beats", e.toFirstFlag().beats()));
        md.add(delayRow("to the first flagged beat, seconds", e.toFirstFlag().seconds()));
        md.add(delayRow("to the `open` alert (+" + ev.lookaheadBeats() + " beats), beats", e.toOpenAlert().beats()));
        md.add(delayRow("to the `open` alert, seconds", e.toOpenAlert().seconds()));
        md.add("");
        md.add("## Patients, worst first");
        md.add("");
        md.add("Ordered by episode errors (missed episodes + false alerts), then beat F1.");
        md.add("");
        md.add("![beat F1 per patient](" + PATIENT_F1 + ")");
        md.add("");
        if (worst != null) {
            md.add("The worst, patient " + worst.recording().id() + ":");
            md.add("");
            md.add("![worst patient](" + WORST_PATIENT + ")");
            md.add("");
        }
        md.add("| patient | beats | labelled episodes | detected | alerts | false alerts | beat F1 |");
        md.add("|---|---|---|---|---|---|---|");
        for (Evaluation.Patient p : ev.patients()) {
            md.add("| " + p.id() + " | " + p.beats() + " | " + p.labelled() + " | " + p.detected() + " | " + p.alerts()
                    + " | " + p.falseAlerts() + " | " + Evaluation.number(p.f1(), "%.4f") + " |");
        }
        md.add("");
        return String.join("\n", md);
    }

    private static String delayRow(String name, Evaluation.Spread s) {
        return "| " + name + " | " + Evaluation.number(s.median(), "%.1f") + " | " + Evaluation.number(s.p90(), "%.1f")
                + " | " + Evaluation.number(s.max(), "%.1f") + " |";
    }

    private static List<Recording> recordings(Evaluation ev) {
        return ev.scored().stream().map(Evaluation.Scored::recording).toList();
    }

    private static List<double[]> probabilities(Evaluation ev) {
        return ev.scored().stream().map(Evaluation.Scored::proba).toList();
    }
}
