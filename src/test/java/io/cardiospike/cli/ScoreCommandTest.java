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
        assertThat(lines.get(0)).isEqualTo("id,time,y,proba,artifact");
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
        // artifacts: RR 40900, 0 and 12 ms of p1 (rows of times 8000, 8800, 9600)
        assertThat(lines.stream().filter(l -> l.endsWith(",1") && l.split(",").length == 5).map(l -> l.split(",")[1]))
                .containsExactlyInAnyOrder("8000", "8800", "9600");
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

    /** A CSV of a few synthetic patients, beats in time order, artifacts included. */
    private static String syntheticCsv(int patients, int beats, long seed) {
        StringBuilder csv = new StringBuilder("id,time,x\n");
        for (Recording r : SyntheticRr.recordings(patients, beats, beats, seed)) {
            for (int i = 0; i < r.size(); i++) {
                csv.append(r.id()).append(',').append(RrCsv.formatTime(r.time()[i])).append(',').append(r.rr()[i])
                        .append('\n');
            }
        }
        return csv.toString();
    }

    /** {@code -} is stdin and stdout: the same CSV as a file, nothing else on stdout, no file named "-". */
    @Test
    void dashReadsStdinAndWritesStdout(@TempDir Path dir) throws Exception {
        String csv = syntheticCsv(3, 400, 11);
        Path in = Files.writeString(dir.resolve("in.csv"), csv), out = dir.resolve("out.csv");
        assertThat(score(in, out)).as(err.toString()).isZero();

        StringWriter stdout = new StringWriter();
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream(csv.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertThat(Main.run(new PrintWriter(stdout, true), new PrintWriter(err, true), "score", "--input", "-",
                    "--output", "-", "--model", "models")).as(err.toString()).isZero();
        } finally {
            System.setIn(stdin);
        }
        assertThat(stdout.toString()).isEqualTo(Files.readString(out));
        assertThat(Path.of("-")).doesNotExist();
    }

    /**
     * The last line on stderr sums the CSV up in plain integers, and the artifact column says what the API's
     * {@code errors} say for the same beats (a real server, the same bundle).
     */
    @Test
    void summaryLineAndArtifactColumnAgreeWithTheCsvAndTheApi(@TempDir Path dir) throws Exception {
        String csv = syntheticCsv(4, 900, 5);
        Path in = Files.writeString(dir.resolve("in.csv"), csv), out = dir.resolve("out.csv");
        assertThat(score(in, out)).as(err.toString()).isZero();

        List<String> rows = Files.readAllLines(out).subList(1, Files.readAllLines(out).size());
        java.util.Map<String, List<String[]>> byPatient = new java.util.LinkedHashMap<>();
        rows.forEach(r -> byPatient.computeIfAbsent(r.split(",")[0], k -> new java.util.ArrayList<>()).add(r.split(",")));
        long flagged = 0, episodes = 0, artifacts = 0;
        for (List<String[]> beats : byPatient.values()) {
            for (int i = 0; i < beats.size(); i++) {
                boolean y = beats.get(i)[2].equals("1");
                flagged += y ? 1 : 0;
                episodes += y && (i == 0 || beats.get(i - 1)[2].equals("0")) ? 1 : 0; // a run of flagged beats
                artifacts += Integer.parseInt(beats.get(i)[4]);
            }
        }
        assertThat(artifacts).as("the generator makes artifacts").isPositive();
        assertThat(episodes).as("and episodes").isPositive();
        List<String> errLines = err.toString().strip().lines().toList();
        assertThat(errLines.get(errLines.size() - 1)).isEqualTo("scored " + rows.size() + " beats of "
                + byPatient.size() + " patients: " + flagged + " flagged in " + episodes + " episodes, " + artifacts
                + " artifacts");

        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        try (io.cardiospike.api.ApiServer server = io.cardiospike.api.ApiServer.start(
                io.cardiospike.api.ApiServer.Options.builder().port(0).modelDir(Path.of("models")).build())) {
            for (Recording r : RrCsv.read(in).recordings()) {
                String body = json.writeValueAsString(java.util.Map.of("study", r.id(), "sequence", r.rr()));
                java.net.http.HttpResponse<String> res = http.send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create(server.url() + "api/v1/predict"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
                List<String> apiErrors = new java.util.ArrayList<>();
                json.readTree(res.body()).get("errors").forEach(e -> apiErrors.add(e.asText()));
                assertThat(byPatient.get(r.id()).stream().map(f -> f[4]).toList()).as(r.id()).isEqualTo(apiErrors);
            }
        }
    }

    /** Outputs go where the user said or nowhere: a missing directory is named, not created; one line, exit 2. */
    @Test
    void anOutputThatCannotBeWrittenIsOneLineAndCreatesNothing(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.csv"), "id,time,x\np1,0,800\np1,800,810\n");
        Path missing = dir.resolve("no").resolve("such");
        assertThat(score(in, missing.resolve("o.csv"))).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("error: --output " + missing.resolve("o.csv")
                + ": no such directory " + missing + " (create it first, or choose another path)");
        assertThat(dir.resolve("no")).doesNotExist();

        for (Path unwritable : new Path[] {Path.of("/sys/o.csv"), in.resolve("o.csv")}) {
            err.getBuffer().setLength(0);
            assertThat(score(in, unwritable)).as(unwritable.toString()).isEqualTo(2);
            assertThat(err.toString().strip().lines()).as(err.toString()).hasSize(1).first().asString()
                    .doesNotContain("Exception").contains(unwritable.toString());
        }
        err.getBuffer().setLength(0);
        score(in, Path.of("/sys/o.csv"));
        // root too: sysfs refuses new files to everyone
        assertThat(err.toString().strip()).isEqualTo("error: cannot write /sys/o.csv: permission denied");
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
