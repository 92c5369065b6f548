package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code evaluate} end to end on the generator's labelled recordings, with the committed bundle. */
class EvaluateCommandTest {
    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private int run(String... args) {
        return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private static Path generated(Path dir) throws Exception {
        List<Recording> recordings = SyntheticRr.recordings(6, 400, 900, 5);
        StringBuilder csv = new StringBuilder("id,time,x,y\n");
        for (Recording r : recordings) {
            for (int i = 0; i < r.size(); i++) {
                csv.append(r.id()).append(',').append(RrCsv.formatTime(r.time()[i])).append(',')
                        .append(RrCsv.formatTime(r.rr()[i])).append(',').append(r.label()[i]).append('\n');
            }
        }
        Path in = dir.resolve("labelled.csv");
        Files.writeString(in, csv);
        return in;
    }

    /**
     * The JSON's beat counts agree with {@code score}'s own y column against the labels, its episode figures add up,
     * and the report's files exist and parse.
     */
    @Test
    void jsonAgreesWithScoreAndTheReportIsWritten(@TempDir Path dir) throws Exception {
        Path in = generated(dir), scores = dir.resolve("scores.csv"), report = dir.resolve("report");
        assertThat(run("evaluate", "--input", in.toString(), "--json", "--report", report.toString()))
                .as(err.toString()).isZero();
        JsonNode doc = new ObjectMapper().readTree(out.toString());

        assertThat(run("score", "--input", in.toString(), "--output", scores.toString())).as(err.toString()).isZero();
        Map<String, Integer> label = new HashMap<>();
        for (String line : Files.readAllLines(in).subList(1, Files.readAllLines(in).size())) {
            String[] f = line.split(",");
            label.put(f[0] + "," + f[1], Integer.parseInt(f[3]));
        }
        long tp = 0, fp = 0, fn = 0, rows = 0;
        for (String line : Files.readAllLines(scores).subList(1, Files.readAllLines(scores).size())) {
            String[] f = line.split(",");
            int y = label.get(f[0] + "," + f[1]), flag = Integer.parseInt(f[2]);
            tp += y == 1 && flag == 1 ? 1 : 0;
            fp += y == 0 && flag == 1 ? 1 : 0;
            fn += y == 1 && flag == 0 ? 1 : 0;
            rows++;
        }
        assertThat(doc.get("beats").asLong()).isEqualTo(rows);
        assertThat(doc.get("patients").asInt()).isEqualTo(6);
        JsonNode beat = doc.get("beat"), ep = doc.get("episodes");
        assertThat(List.of(beat.get("tp").asLong(), beat.get("fp").asLong(), beat.get("fn").asLong()))
                .containsExactly(tp, fp, fn);
        assertThat(tp).as("the generator's anomalies are found").isPositive();
        assertThat(ep.get("labelled").asLong()).isPositive();
        assertThat(ep.get("detected").asLong() + ep.get("missed").asLong()).isEqualTo(ep.get("labelled").asLong());
        assertThat(ep.get("labelled_alerts").asLong() + ep.get("false_alerts").asLong())
                .isEqualTo(ep.get("alerts").asLong());
        assertThat(ep.get("onset_to_open_alert").get("beats").get("max").asDouble())
                .isLessThanOrEqualTo(ep.get("onset_to_first_flag").get("beats").get("max").asDouble()
                        + doc.get("lookahead_beats").asInt());
        JsonNode patients = doc.get("per_patient");
        assertThat(patients).hasSize(6);
        long errorsBefore = Long.MAX_VALUE;
        for (JsonNode p : patients) { // worst first
            long errors = p.get("labelled_episodes").asLong() - p.get("detected").asLong()
                    + p.get("false_alerts").asLong();
            assertThat(errors).isLessThanOrEqualTo(errorsBefore);
            errorsBefore = errors;
        }

        String md = Files.readString(report.resolve("report.md"));
        assertThat(md).contains("| labelled episodes | " + ep.get("labelled").asLong() + " |");
        for (JsonNode p : patients) {
            assertThat(md).contains("| " + p.get("id").asText() + " | " + p.get("beats").asInt() + " |");
        }
        for (String png : List.of("pr_curve.png", "patient_f1.png", "worst_patient.png")) {
            BufferedImage image = ImageIO.read(report.resolve(png).toFile());
            assertThat(image).as(png).isNotNull();
            assertThat(image.getWidth()).isEqualTo(1000);
            assertThat(md).contains("(" + png + ")");
        }
    }

    @Test
    void humanSummaryHasStableLines(@TempDir Path dir) throws Exception {
        Path in = generated(dir);
        assertThat(run("evaluate", "--input", in.toString(), "--worst", "3")).as(err.toString()).isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines.get(1)).matches("beat: precision \\d\\.\\d{3} recall \\d\\.\\d{3} F1 \\d\\.\\d{3} .*");
        assertThat(lines.get(2))
                .matches("episodes: \\d+ labelled, \\d+ detected \\(recall \\d\\.\\d{3}\\), \\d+ missed");
        assertThat(lines).anyMatch(l -> l.startsWith("worst patients"));
        assertThat(lines).hasSize(7 + 2 + 3);
        assertThat(err.toString()).as("no progress off a terminal").isEmpty();
    }

    @Test
    void unlabelledInputIsOneLineNamingTheLine(@TempDir Path dir) throws Exception {
        Path noY = dir.resolve("no-y.csv"), badY = dir.resolve("bad-y.csv"), emptyY = dir.resolve("empty-y.csv");
        Files.writeString(noY, "id,time,x\na,0,800\n");
        Files.writeString(badY, "id,time,x,y\na,0,800,0\na,800,800,1\na,1600,800,0.5\n");
        Files.writeString(emptyY, "id,time,x,y\na,0,800,\n");
        assertThat(run("evaluate", "--input", noY.toString())).isEqualTo(2);
        assertThat(run("evaluate", "--input", badY.toString())).isEqualTo(2);
        assertThat(run("evaluate", "--input", emptyY.toString())).isEqualTo(2);
        assertThat(err.toString().lines().toList()).containsExactly(
                "error: " + noY + ":1: header lacks column 'y', the labels (found: id,time,x; expected id,time,x,y)",
                "error: " + badY + ":4: label 'y' must be 0 or 1, found '0.5'",
                "error: " + emptyY + ":2: label 'y' must be 0 or 1, found ''");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void aReportPathThatCannotBeADirectoryFailsBeforeScoring(@TempDir Path dir) throws Exception {
        Path in = generated(dir), file = dir.resolve("file");
        Files.writeString(file, "x");
        assertThat(run("evaluate", "--input", in.toString(), "--report", file.toString())).isEqualTo(2);
        assertThat(run("evaluate", "--input", in.toString(), "--report", dir.resolve("no/such").toString()))
                .isEqualTo(2);
        assertThat(err.toString().lines().toList()).containsExactly(
                "error: --report " + file + ": is a file; name a directory",
                "error: --report " + dir.resolve("no/such") + ": no such directory " + dir.resolve("no")
                        + " (create it first)");
    }
}
