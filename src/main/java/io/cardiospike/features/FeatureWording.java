package io.cardiospike.features;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each {@link WindowFeatures} feature says about a beat, in words a clinician reads, with its value in them
 * ({@code rel_0} 0.14: "RR 14 % above the window median"). One place for every feature family, so that a feature
 * added there gets its wording here. Features relative to the window median are turned back into milliseconds with
 * the window's median ({@code median_rr}).
 */
public final class FeatureWording {
    private static final Pattern INDEXED = Pattern.compile("(rel|step|diff_prev|diff_next)_(-?\\d+)");
    private static final Pattern SEGMENT = Pattern.compile("(past|future|near2|near4)_(mean|std|min|max)");
    /** Names parsed once: a bundle has a hundred, and every alert's explanation words five of them. */
    private static final Map<String, Name> NAMES = new ConcurrentHashMap<>();

    /** A feature name's parts: {@code family} and {@code k} of an indexed one, or {@code family} and {@code stat}. */
    private record Name(String family, int k, String stat) {
        static Name parse(String name) {
            Matcher m = INDEXED.matcher(name);
            if (m.matches()) {
                return new Name(m.group(1), Integer.parseInt(m.group(2)), null);
            }
            m = SEGMENT.matcher(name);
            return m.matches() ? new Name(m.group(1), 0, m.group(2)) : new Name(null, 0, null);
        }
    }

    private FeatureWording() {}

    /** The wording of feature {@code name} at {@code value}, in a window whose median RR is {@code medianMs}. */
    public static String describe(String name, double value, double medianMs) {
        Name parsed = NAMES.computeIfAbsent(name, Name::parse);
        if (parsed.family() != null && parsed.stat() == null) {
            int k = parsed.k();
            return switch (parsed.family()) {
                case "rel" -> "RR " + (k == 0 ? "" : Math.abs(k) == 1 ? "of " + at(k) + " " : at(k) + " ")
                        + percent(value) + " the window median";
                case "step" -> "RR " + (value >= 0 ? "rises " : "falls ") + ms(Math.abs(value) * medianMs) + " from "
                        + at(k) + " to " + at(k + 1);
                case "diff_prev" -> "RR " + longer(value * medianMs) + " " + at(-k);
                default -> "RR " + longer(value * medianMs) + " " + at(k);
            };
        }
        if (parsed.family() != null) {
            String where = switch (parsed.family()) {
                case "past" -> "the past beats";
                case "future" -> "the lookahead beats";
                case "near2" -> "the beat and 2 either side";
                default -> "the beat and 4 either side";
            };
            return switch (parsed.stat()) {
                case "mean" -> "mean RR of " + where + " " + percent(value - 1) + " the window median";
                case "std" -> "RR variability (SD) of " + where + " " + pct(value) + " % of the window median";
                case "min" -> "shortest RR of " + where + " " + percent(value - 1) + " the window median";
                default -> "longest RR of " + where + " " + percent(value - 1) + " the window median";
            };
        }
        return switch (name) {
            case "rr_c" -> "RR of the beat " + ms(value) + " (artifacts interpolated)";
            case "rr_raw_c" -> "RR of the beat as measured " + ms(value);
            case "artifact_c" -> value != 0 ? "the beat is a sensor artifact" : "the beat is not a sensor artifact";
            case "artifacts" -> count(value, "sensor artifact") + " in the window";
            case "median_rr" -> "window median RR " + ms(value);
            case "iqr_rr" -> "RR interquartile range " + ms(value) + " in the window";
            case "ratio_prev" -> "RR " + times(value) + " the beat before";
            case "ratio_next" -> "next RR " + times(value) + " this beat's";
            case "z_past" -> "RR " + sd(value) + " the past beats' mean";
            case "z_future" -> "RR " + sd(value) + " the lookahead beats' mean";
            case "mean_rr" -> "mean RR " + ms(value) + " in the window";
            case "sdnn" -> "SDNN " + ms(value) + " in the window";
            case "rmssd" -> "RMSSD " + ms(value) + " in the window";
            case "rmssd_past" -> "RMSSD " + ms(value) + " over the past beats";
            case "rmssd_future" -> "RMSSD " + ms(value) + " over the lookahead beats";
            case "pnn50" -> "pNN50 " + pct(value) + " % in the window";
            case "hr_mean" -> "mean heart rate " + bpm(value) + " in the window";
            case "hr_std" -> "heart rate SD " + bpm(value) + " in the window";
            case "hr_min" -> "lowest heart rate " + bpm(value) + " in the window";
            case "hr_max" -> "highest heart rate " + bpm(value) + " in the window";
            default -> name + " = " + String.format(Locale.ROOT, "%.3g", value);
        };
    }

    /** Window position {@code k} relative to the beat: "the beat", "the beat before", "2 beats after". */
    private static String at(int k) {
        if (k == 0) {
            return "the beat";
        }
        String side = k < 0 ? "before" : "after";
        return Math.abs(k) == 1 ? "the beat " + side : Math.abs(k) + " beats " + side;
    }

    private static String percent(double fraction) {
        long p = Math.round(fraction * 100);
        return p == 0 ? "at" : Math.abs(p) + " % " + (p > 0 ? "above" : "below");
    }

    private static String longer(double ms) {
        long v = Math.round(ms);
        return v == 0 ? "the same as" : Math.abs(v) + " ms " + (v > 0 ? "longer than" : "shorter than");
    }

    private static String times(double ratio) {
        return decimals(ratio, 2) + " times";
    }

    private static String sd(double z) {
        return decimals(Math.abs(z), 1) + " SD " + (z >= 0 ? "above" : "below");
    }

    /**
     * {@code String.format(Locale.ROOT, "%.<places>f", v)} for a finite {@code v >= 0} (the same half-up rounding of
     * the same decimal digits), without a Formatter's parse of its pattern: every alert's explanation words five.
     */
    static String decimals(double v, int places) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            return String.format(Locale.ROOT, "%." + places + "f", v);
        }
        return new BigDecimal(Double.toString(v)).setScale(places, RoundingMode.HALF_UP).toPlainString();
    }

    private static String count(double v, String what) {
        long n = Math.round(v);
        return n + " " + what + (n == 1 ? "" : "s");
    }

    private static String ms(double v) {
        return Math.round(v) + " ms";
    }

    private static String bpm(double v) {
        return Math.round(v) + " bpm";
    }

    private static long pct(double fraction) {
        return Math.round(fraction * 100);
    }
}
