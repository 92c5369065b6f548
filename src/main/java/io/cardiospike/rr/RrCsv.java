package io.cardiospike.rr;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads RR recordings in the CardioSpike CSV format: a header with at least {@code id,time,x} (in any order,
 * other columns ignored except an optional {@code y} label), one beat per row, patients interleaved freely.
 * Structural problems raise {@link CsvFormatException} naming file and line; odd RR values are data, not errors.
 */
public final class RrCsv {
    private RrCsv() {}

    /** Parsed rows in input order plus the recordings they form (rows of a patient sorted by time, stable). */
    public record Table(int rowCount, List<Recording> recordings) {}

    public static Table read(Path file) throws CsvFormatException, IOException {
        return read(file, false);
    }

    public static Table read(BufferedReader in, String name) throws CsvFormatException, IOException {
        return read(in, name, false);
    }

    /** As {@link #read(Path)}, requiring a {@code y} label of exactly 0 or 1 on every row (for {@code evaluate}). */
    public static Table readLabelled(Path file) throws CsvFormatException, IOException {
        return read(file, true);
    }

    private static Table read(Path file, boolean labelsRequired) throws CsvFormatException, IOException {
        String name = file.toString();
        if (Files.isDirectory(file)) {
            throw new CsvFormatException(name + ": is a directory, expected a CSV file");
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, name, labelsRequired);
        } catch (NoSuchFileException e) {
            throw new CsvFormatException(name + ": no such file");
        }
    }

    /**
     * @param labelsRequired every row must carry {@code y} 0 or 1 (the error names the line); otherwise {@code y} is
     *                       optional and read as an integer, -1 where empty
     */
    public static Table read(BufferedReader in, String name, boolean labelsRequired)
            throws CsvFormatException, IOException {
        String header = in.readLine();
        if (header == null || header.isBlank()) {
            throw new CsvFormatException(name + ": empty file (expected a header with columns id,time,x)");
        }
        String[] columns = split(stripBom(header));
        int idCol = column(columns, "id"), timeCol = column(columns, "time"), xCol = column(columns, "x");
        int yCol = column(columns, "y");
        for (String required : new String[] {"id", "time", "x"}) {
            if (column(columns, required) < 0) {
                throw new CsvFormatException(name + ":1: header lacks column '" + required + "' (found: "
                        + String.join(",", columns) + "; expected id,time,x)");
            }
        }
        if (labelsRequired && yCol < 0) {
            throw new CsvFormatException(name + ":1: header lacks column 'y', the labels (found: "
                    + String.join(",", columns) + "; expected id,time,x,y)");
        }
        int needed = Math.max(Math.max(idCol, timeCol), Math.max(xCol, yCol)) + 1;

        Map<String, Builder> byPatient = new LinkedHashMap<>();
        int row = 0;
        int lineNo = 1;
        String line;
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            String[] f = split(line);
            if (f.length < needed) {
                throw new CsvFormatException(name + ":" + lineNo + ": expected " + columns.length + " fields, found "
                        + f.length);
            }
            String id = f[idCol];
            if (id.isEmpty()) {
                throw new CsvFormatException(name + ":" + lineNo + ": empty 'id'");
            }
            double time = number(f[timeCol], "time", name, lineNo);
            double x = number(f[xCol], "x", name, lineNo);
            int y = -1;
            if (labelsRequired) {
                y = label(f[yCol], name, lineNo);
            } else if (yCol >= 0 && !f[yCol].isEmpty()) {
                y = (int) number(f[yCol], "y", name, lineNo);
            }
            byPatient.computeIfAbsent(id, Builder::new).add(time, x, y, row++);
        }
        if (row == 0) {
            throw new CsvFormatException(name + ": no data rows after the header");
        }
        List<Recording> recordings = new ArrayList<>(byPatient.size());
        for (Builder b : byPatient.values()) {
            recordings.add(b.build());
        }
        return new Table(row, recordings);
    }

    /** The header of scored CSVs ({@code score}, the API's {@code /predict/csv}, the demo's {@code --scores-csv}). */
    public static final String SCORES_HEADER = "id,time,y,proba,artifact";

    /**
     * Writes score results in input order: {@code id,time,y,proba,artifact}, with {@code y} the 0/1 decisions given
     * and {@code artifact} 1 where the beat's RR is a sensor artifact ({@link Artifacts}, the API's {@code errors}).
     */
    public static void writeScores(Writer out, Table table, List<double[]> probaPerRecording,
                                   List<int[]> decisionsPerRecording) throws IOException {
        String[] lines = new String[table.rowCount()];
        for (int r = 0; r < table.recordings().size(); r++) {
            Recording rec = table.recordings().get(r);
            double[] proba = probaPerRecording.get(r);
            int[] y = decisionsPerRecording.get(r);
            for (int i = 0; i < rec.size(); i++) {
                lines[rec.inputRows()[i]] = rec.id() + "," + formatTime(rec.time()[i]) + "," + y[i] + ","
                        + formatProba(proba[i]) + (Artifacts.isArtifact(rec.rr()[i]) ? ",1" : ",0");
            }
        }
        out.write(SCORES_HEADER + "\n");
        for (String l : lines) {
            out.write(l);
            out.write('\n');
        }
    }

    private static final double SCALE = 1e8;

    /**
     * {@code String.format(Locale.ROOT, "%.8f", p)}, byte for byte, at a fraction of its cost (it was most of a large
     * {@code score}'s writing time). Java rounds the decimal digits of {@code Double.toString(p)} half-up; those digits
     * are within one ulp of {@code p} (at most 1.2e-16 below 1), so rounding {@code p} itself gives the same 8 decimals
     * unless {@code p * 1e8} lies within a hair of a half. Those rare values, and anything outside (0, 1), take
     * {@code String.format} itself. RrCsvTest compares both on 1.5 million values, the halves among them.
     */
    public static String formatProba(double p) {
        if (!(p > 0 && p < 1)) { // also -0.0, which prints its sign
            return String.format(Locale.ROOT, "%.8f", p);
        }
        double scaled = p * SCALE; // within a few 1e-8 of the exact product
        double fraction = scaled - Math.floor(scaled);
        if (Math.abs(fraction - 0.5) < 1e-6) {
            return String.format(Locale.ROOT, "%.8f", p);
        }
        long digits = (long) Math.floor(scaled + 0.5);
        if (digits >= (long) SCALE) {
            return "1.00000000";
        }
        char[] text = {'0', '.', '0', '0', '0', '0', '0', '0', '0', '0'};
        for (int i = text.length - 1; digits > 0; i--, digits /= 10) {
            text[i] = (char) ('0' + digits % 10);
        }
        return new String(text);
    }

    public static String formatTime(double t) {
        return t == Math.rint(t) && Math.abs(t) < 1e15 ? Long.toString((long) t) : Double.toString(t);
    }

    private static double number(String s, String field, String name, int lineNo) throws CsvFormatException {
        try {
            double v = Double.parseDouble(s);
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new CsvFormatException(name + ":" + lineNo + ": field '" + field + "' is not a number: '"
                    + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'");
        }
    }

    private static int label(String s, String name, int lineNo) throws CsvFormatException {
        return switch (s) {
            case "0", "0.0" -> 0;
            case "1", "1.0" -> 1;
            default -> throw new CsvFormatException(name + ":" + lineNo + ": label 'y' must be 0 or 1, found '"
                    + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'");
        };
    }

    private static int column(String[] columns, String wanted) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equalsIgnoreCase(wanted)) {
                return i;
            }
        }
        return -1;
    }

    private static String stripBom(String s) {
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    private static String[] split(String line) {
        String[] f = line.split(",", -1);
        for (int i = 0; i < f.length; i++) {
            String v = f[i].trim();
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                v = v.substring(1, v.length() - 1).trim();
            }
            f[i] = v;
        }
        return f;
    }

    private static final class Builder {
        private final String id;
        private double[] time = new double[64];
        private double[] rr = new double[64];
        private int[] label = new int[64];
        private int[] rows = new int[64];
        private int n;

        Builder(String id) {
            this.id = id;
        }

        void add(double t, double x, int y, int row) {
            if (n == rr.length) {
                time = Arrays.copyOf(time, n * 2);
                rr = Arrays.copyOf(rr, n * 2);
                label = Arrays.copyOf(label, n * 2);
                rows = Arrays.copyOf(rows, n * 2);
            }
            time[n] = t;
            rr[n] = x;
            label[n] = y;
            rows[n] = row;
            n++;
        }

        Recording build() {
            // Stable sort by time: rows of a patient need not arrive in order; duplicates keep their input order.
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(time[a], time[b]));
            double[] t = new double[n], x = new double[n];
            int[] y = new int[n], r = new int[n];
            for (int i = 0; i < n; i++) {
                int k = order[i];
                t[i] = time[k];
                x[i] = rr[k];
                y[i] = label[k];
                r[i] = rows[k];
            }
            return new Recording(id, t, x, y, r);
        }
    }
}
