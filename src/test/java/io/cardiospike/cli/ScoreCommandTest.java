package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.model.BundleCopies;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreCommandTest {
    private final StringWriter err = new StringWriter();

    private int score(Path in, Path out) {
        return score(in, out, Path.of("models"));
    }

    private int score(Path in, Path out, Path model) {
        return Main.run(new PrintWriter(err, true), "score", "--input", in.toString(), "--output", out.toString(),
                "--model", model.toString());
    }

    @Test
    void scoresEveryRowInInputOrderIncludingArtifactsAndTinyPatients(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.csv"), out = dir.resolve("out.csv");
        StringBuilder csv = new StringBuilder("id,time,x,y\n");
        for (int i = 39; i >= 0; i--) { // one patient in reverse time order
            csv.append("p1,").append(i * 800).append(',').append(i == 10 ? 40900 : i == 11 ? 0 : i == 12 ? 12 : 800)
                    .append(",0\n");
        }
        csv.append("solo,0,900,0\n"); // one-beat patient
        csv.append("dup,0,800,0\ndup,0,800,0\ndup,800,790,0\n"); // duplicate rows
        Files.writeString(in, csv);
        assertThat(score(in, out)).as(err.toString()).isZero();

        List<String> lines = Files.readAllLines(out);
        assertThat(lines.get(0)).isEqualTo("id,time,y,proba");
        assertThat(lines).hasSize(1 + 40 + 1 + 3);
        assertThat(lines.get(1)).startsWith("p1,31200,");
        assertThat(lines.get(41)).startsWith("solo,0,");
        assertThat(lines.get(42)).startsWith("dup,0,");
        assertThat(lines.get(43)).startsWith("dup,0,");
        double threshold;
        try (EnsembleScorer scorer = EnsembleScorer.open(Path.of("models"))) {
            threshold = scorer.threshold();
        }
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            double p = Double.parseDouble(f[3]);
            assertThat(p).isBetween(0.0, 1.0);
            assertThat(f[2]).isEqualTo(p >= threshold ? "1" : "0");
        }
    }

    /**
     * {@code y} is the model's own decision on long recordings too: nothing withholds a flag, however many beats of a
     * patient are flagged (the former alert budget allowed 81 in any 3,661 and bound on these).
     */
    @Test
    void yIsProbaAtOrAboveTheThresholdOnLongRecordings(@TempDir Path dir) throws Exception {
        // The demo's generator at 4,000 beats a patient: several patients flag far more than 81 beats.
        List<Recording> recordings = SyntheticRr.recordings(20, 4000, 4000, 3);
        StringBuilder csv = new StringBuilder("id,time,x\n");
        for (Recording r : recordings) {
            for (int i = 0; i < r.size(); i++) {
                csv.append(r.id()).append(',').append(RrCsv.formatTime(r.time()[i])).append(',').append(r.rr()[i])
                        .append('\n');
            }
        }
        Path in = dir.resolve("in.csv"), out = dir.resolve("out.csv");
        Files.writeString(in, csv);
        assertThat(score(in, out, BundleCopies.COMMITTED)).as(err.toString()).isZero();

        List<String> lines = Files.readAllLines(out);
        java.util.Map<String, Integer> flagged = new java.util.HashMap<>();
        try (EnsembleScorer scorer = EnsembleScorer.open(BundleCopies.COMMITTED)) {
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",");
                boolean y = f[2].equals("1");
                assertThat(y).as(line).isEqualTo(Double.parseDouble(f[3]) >= scorer.threshold());
                flagged.merge(f[0], y ? 1 : 0, Integer::sum);
            }
        }
        assertThat(flagged.values()).as("patients flagged more than the former budget's 81 beats allowed")
                .anyMatch(n -> n > 2 * 81);
    }

    @Test
    void structuralErrorsExitNonZeroWithOneLineNamingTheLine(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("bad.csv"), out = dir.resolve("out.csv");
        Files.writeString(in, "id,time,x\np1,0,800\np1,800,eight hundred\n");
        assertThat(score(in, out)).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("error: " + in + ":3: field 'x' is not a number: 'eight hundred'");
        assertThat(out).doesNotExist();

        err.getBuffer().setLength(0);
        assertThat(score(dir.resolve("missing.csv"), out)).isEqualTo(2);
        assertThat(err.toString()).contains("missing.csv: no such file").doesNotContain("Exception");

        err.getBuffer().setLength(0);
        Files.writeString(in, "");
        assertThat(score(in, out)).isEqualTo(2);
        assertThat(err.toString()).contains("empty file");

        err.getBuffer().setLength(0);
        Files.writeString(in, "id,x\np1,800\n");
        assertThat(score(in, out)).isEqualTo(2);
        assertThat(err.toString()).contains(":1: header lacks column 'time'");

        err.getBuffer().setLength(0);
        Files.writeString(in, "id,time,x\np1,0\n");
        assertThat(score(in, out)).isEqualTo(2);
        assertThat(err.toString()).contains(":2: expected 3 fields, found 2");
    }
}
