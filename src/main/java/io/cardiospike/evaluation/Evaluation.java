package io.cardiospike.evaluation;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a model's flags meet labelled recordings, per beat and per episode (docs/evaluation.md defines every figure).
 * Made from probabilities and flags already computed, so two bundles can be evaluated on the same data and compared.
 *
 * @param hours        recorded time, the sum over recordings of last beat time - first beat time
 * @param patients     the per-patient rows, worst first ({@link #WORST_FIRST})
 * @param scored       what the figures were computed from, in input order (for the report's plots)
 */
public record Evaluation(String modelVersion, double threshold, int lookaheadBeats, long beats, double hours,
                         BeatFigures beat, EpisodeFigures episodes, List<Patient> patients, List<Scored> scored) {

    /** One recording with the model's probability and 0/1 decision per beat, index-aligned with its beats. */
    public record Scored(Recording recording, double[] proba, int[] flags, EpisodeMatching.Matched matched) {}

    /** Per-beat counts and rates; {@code averagePrecision} over the probabilities (threshold-free). */
    public record BeatFigures(long tp, long fp, long fn, double precision, double recall, double f1,
                              double averagePrecision) {
        static BeatFigures of(long tp, long fp, long fn, double averagePrecision) {
            double p = ratio(tp, tp + fp), r = ratio(tp, tp + fn);
            return new BeatFigures(tp, fp, fn, p, r, p + r > 0 ? 2 * p * r / (p + r) : 0, averagePrecision);
        }
    }

    /** Median, 90th percentile and maximum of a delay over the detected episodes; NaN when none was detected. */
    public record Spread(double median, double p90, double max) {
        static Spread of(double[] values) {
            if (values.length == 0) {
                return new Spread(Double.NaN, Double.NaN, Double.NaN);
            }
            double[] v = values.clone();
            Arrays.sort(v);
            return new Spread(percentile(v, 0.5), percentile(v, 0.9), v[v.length - 1]);
        }
    }

    /** A delay from a labelled episode's first beat, counted in beats and in seconds of recording time. */
    public record Delay(Spread beats, Spread seconds) {}

    public record EpisodeFigures(long labelled, long detected, double recall, long alerts, long labelledAlerts,
                                 long falseAlerts, double falseAlertsPerHour, double precision, Delay toFirstFlag,
                                 Delay toOpenAlert, double alertsPerDetected, long split) {
        public long missed() {
            return labelled - detected;
        }
    }

    /** One recording's row in the per-patient table; {@code f1} is NaN where no beat was labelled or flagged. */
    public record Patient(String id, int beats, long labelled, long detected, long alerts, long falseAlerts,
                          double f1) {
        public long missed() {
            return labelled - detected;
        }

        /** Episode errors, what a care team feels: missed episodes and alerts with no labelled beat. */
        public long episodeErrors() {
            return missed() + falseAlerts;
        }
    }

    /** Most episode errors first, then the lowest beat F1 (a patient with nothing to find or flag counts as 1). */
    public static final Comparator<Patient> WORST_FIRST = Comparator.comparingLong(Patient::episodeErrors).reversed()
            .thenComparingDouble(p -> Double.isNaN(p.f1()) ? 1 : p.f1())
            .thenComparing(Patient::id);

    /** Scores nothing: the bundle's decisions on probabilities already computed by {@code scorer}. */
    public static Evaluation of(EnsembleScorer scorer, List<Recording> recordings, List<double[]> proba) {
        return of(scorer.modelVersion(), scorer.threshold(), scorer.spec().lookaheadBeats(), recordings, proba,
                proba.stream().map(scorer::decide).toList());
    }

    /**
     * @param recordings labelled (0/1 on every beat), beats in time order, time in ms
     * @param proba      per recording, the probability of each beat
     * @param flags      per recording, the 0/1 decision of each beat
     */
    public static Evaluation of(String modelVersion, double threshold, int lookaheadBeats, List<Recording> recordings,
                                List<double[]> proba, List<int[]> flags) {
        List<Scored> scored = new ArrayList<>(recordings.size());
        List<Patient> patients = new ArrayList<>(recordings.size());
        long beats = 0, tp = 0, fp = 0, fn = 0, labelled = 0, detected = 0, alerts = 0, falseAlerts = 0, split = 0;
        long touchesOfDetected = 0;
        double hours = 0;
        List<Double> flagBeats = new ArrayList<>(), flagSeconds = new ArrayList<>();
        List<Double> openBeats = new ArrayList<>(), openSeconds = new ArrayList<>();
        for (int r = 0; r < recordings.size(); r++) {
            Recording rec = recordings.get(r);
            EpisodeMatching.Matched m = EpisodeMatching.match(rec.label(), flags.get(r), lookaheadBeats);
            scored.add(new Scored(rec, proba.get(r), flags.get(r), m));
            double[] time = rec.time();
            beats += rec.size();
            hours += rec.size() == 0 ? 0 : (time[rec.size() - 1] - time[0]) / 3_600_000.0;
            tp += m.tp();
            fp += m.fp();
            fn += m.fn();
            labelled += m.labelled().size();
            alerts += m.alerts().size();
            falseAlerts += m.falseAlerts();
            for (EpisodeMatching.LabelledEpisode e : m.labelled()) {
                if (!e.detected()) {
                    continue;
                }
                detected++;
                touchesOfDetected += e.alerts();
                split += e.alerts() > 1 ? 1 : 0;
                int start = e.span().start();
                flagBeats.add((double) (e.firstFlag() - start));
                flagSeconds.add((time[e.firstFlag()] - time[start]) / 1000);
                openBeats.add((double) (e.openAlert() - start));
                openSeconds.add((time[e.openAlert()] - time[start]) / 1000);
            }
            boolean nothing = m.tp() + m.fp() + m.fn() == 0;
            patients.add(new Patient(rec.id(), rec.size(), m.labelled().size(), m.detected(), m.alerts().size(),
                    m.falseAlerts(), nothing ? Double.NaN : BeatFigures.of(m.tp(), m.fp(), m.fn(), 0).f1()));
        }
        patients.sort(WORST_FIRST);
        EpisodeFigures episodes = new EpisodeFigures(labelled, detected, ratio(detected, labelled), alerts,
                alerts - falseAlerts, falseAlerts, hours > 0 ? falseAlerts / hours : Double.NaN,
                ratio(alerts - falseAlerts, alerts),
                new Delay(Spread.of(unbox(flagBeats)), Spread.of(unbox(flagSeconds))),
                new Delay(Spread.of(unbox(openBeats)), Spread.of(unbox(openSeconds))),
                detected > 0 ? (double) touchesOfDetected / detected : Double.NaN, split);
        BeatFigures beat = BeatFigures.of(tp, fp, fn, PrCurve.of(recordings, proba).averagePrecision());
        return new Evaluation(modelVersion, threshold, lookaheadBeats, beats, hours, beat, episodes,
                List.copyOf(patients), List.copyOf(scored));
    }

    /** The human summary: beat figures, episode figures, then the {@code worst} worst patients. */
    public List<String> summary(int worst) {
        EpisodeFigures e = episodes;
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "evaluated %d beats of %d patients (%.1f patient-hours), model %s, "
                + "threshold %.4f, lookahead %d beats", beats, patients.size(), hours, modelVersion, threshold,
                lookaheadBeats));
        lines.add(String.format(Locale.ROOT, "beat: precision %.3f recall %.3f F1 %.3f (tp %d, fp %d, fn %d; "
                + "average precision %.3f)", beat.precision(), beat.recall(), beat.f1(), beat.tp(), beat.fp(),
                beat.fn(), beat.averagePrecision()));
        lines.add(String.format(Locale.ROOT, "episodes: %d labelled, %d detected (recall %.3f), %d missed",
                e.labelled(), e.detected(), e.recall(), e.missed()));
        lines.add(String.format(Locale.ROOT, "alerts: %d, %d with no labelled beat (%s per patient-hour), precision "
                + "%.3f", e.alerts(), e.falseAlerts(), number(e.falseAlertsPerHour(), "%.2f"), e.precision()));
        lines.add("onset to first flagged beat: " + delay(e.toFirstFlag()));
        lines.add("onset to open alert (+" + lookaheadBeats + " beats lookahead): " + delay(e.toOpenAlert()));
        lines.add(String.format(Locale.ROOT, "alerts per detected episode: mean %s, %d of %d split into several",
                number(e.alertsPerDetected(), "%.2f"), e.split(), e.detected()));
        if (worst > 0 && !patients.isEmpty()) {
            lines.add("worst patients (missed episodes + false alerts, then beat F1):");
            lines.add(String.format(Locale.ROOT, "  %-12s %7s %9s %9s %7s %7s", "patient", "beats", "labelled",
                    "detected", "false", "F1"));
            for (Patient p : patients.subList(0, Math.min(worst, patients.size()))) {
                lines.add(String.format(Locale.ROOT, "  %-12s %7d %9d %9d %7d %7s", p.id(), p.beats(), p.labelled(),
                        p.detected(), p.falseAlerts(), number(p.f1(), "%.3f")));
            }
        }
        return lines;
    }

    /** The {@code --json} document; NaN (nothing to measure) is null. */
    public Map<String, Object> json() {
        EpisodeFigures e = episodes;
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("tp", beat.tp());
        b.put("fp", beat.fp());
        b.put("fn", beat.fn());
        b.put("precision", beat.precision());
        b.put("recall", beat.recall());
        b.put("f1", beat.f1());
        b.put("average_precision", beat.averagePrecision());
        Map<String, Object> ep = new LinkedHashMap<>();
        ep.put("labelled", e.labelled());
        ep.put("detected", e.detected());
        ep.put("missed", e.missed());
        ep.put("recall", e.recall());
        ep.put("alerts", e.alerts());
        ep.put("labelled_alerts", e.labelledAlerts());
        ep.put("false_alerts", e.falseAlerts());
        ep.put("false_alerts_per_hour", finite(e.falseAlertsPerHour()));
        ep.put("precision", e.precision());
        ep.put("onset_to_first_flag", delayJson(e.toFirstFlag()));
        ep.put("onset_to_open_alert", delayJson(e.toOpenAlert()));
        ep.put("alerts_per_detected_episode", finite(e.alertsPerDetected()));
        ep.put("split_episodes", e.split());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Patient p : patients) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", p.id());
            row.put("beats", p.beats());
            row.put("labelled_episodes", p.labelled());
            row.put("detected", p.detected());
            row.put("alerts", p.alerts());
            row.put("false_alerts", p.falseAlerts());
            row.put("beat_f1", finite(p.f1()));
            rows.add(row);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model_version", modelVersion);
        doc.put("threshold", threshold);
        doc.put("lookahead_beats", lookaheadBeats);
        doc.put("beats", beats);
        doc.put("patients", patients.size());
        doc.put("hours", hours);
        doc.put("beat", b);
        doc.put("episodes", ep);
        doc.put("per_patient", rows);
        return doc;
    }

    private static Map<String, Object> delayJson(Delay d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("beats", spreadJson(d.beats()));
        m.put("seconds", spreadJson(d.seconds()));
        return m;
    }

    private static Map<String, Object> spreadJson(Spread s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("median", finite(s.median()));
        m.put("p90", finite(s.p90()));
        m.put("max", finite(s.max()));
        return m;
    }

    private static String delay(Delay d) {
        if (Double.isNaN(d.beats().median())) {
            return "n/a (no episode detected)";
        }
        return String.format(Locale.ROOT, "median %.1f beats (%.1f s), p90 %.1f beats (%.1f s), max %.0f beats "
                + "(%.1f s)", d.beats().median(), d.seconds().median(), d.beats().p90(), d.seconds().p90(),
                d.beats().max(), d.seconds().max());
    }

    static String number(double v, String format) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, format, v);
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static double ratio(long a, long b) {
        return b > 0 ? (double) a / b : 0;
    }

    /** Linear interpolation between the closest ranks (numpy's default), over values sorted ascending. */
    static double percentile(double[] sorted, double q) {
        double at = q * (sorted.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
    }

    private static double[] unbox(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
