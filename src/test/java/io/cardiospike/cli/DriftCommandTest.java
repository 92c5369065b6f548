package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.model.BundleCopies;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code drift} on files: a bundle given a reference of synthetic patients ({@code drift-reference}) finds no shift in
 * those patients and a shift of RR, not of the scale-free beat-to-median ratio, in the same patients with every RR
 * scaled by 0.7 (as {@code DriftIT} streams them).
 */
class DriftCommandTest {
    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static Path csv(Path file, List<Recording> recordings, double scale) throws Exception {
        StringBuilder b = new StringBuilder("id,time,x\n");
        for (Recording r : recordings) {
            for (int i = 0; i < r.size(); i++) {
                b.append(String.format(Locale.ROOT, "%s,%.0f,%.0f%n", r.id(), r.time()[i], r.rr()[i] * scale));
            }
        }
        return Files.writeString(file, b);
    }

    private static double psi(String out, String statistic) {
        return out.lines().filter(l -> l.startsWith(statistic + " ")).map(l -> Double.parseDouble(l.split("\\s+")[1]))
                .findFirst().orElseThrow(() -> new AssertionError("no " + statistic + " in " + out));
    }

    @Test
    void theReferencePatientsHaveNoShiftAndTheirRrScaledBy07Has(@TempDir Path dir) throws Exception {
        Path bundle = BundleCopies.copy(Files.createDirectory(dir.resolve("bundle")));
        List<Recording> patients = SyntheticRr.recordings(7, 320, 400, 5);
        Path same = csv(dir.resolve("same.csv"), patients, 1.0);
        assertThat(run("drift-reference", "--input", same.toString(), "--model", bundle.toString()).exit()).isZero();

        Run own = run("drift", "--input", same.toString(), "--model", bundle.toString());
        assertThat(own.exit()).as(own.err()).isZero();
        assertThat(psi(own.out(), "rr_ms")).isBetween(0.0, 1e-3);
        assertThat(psi(own.out(), "proba")).isBetween(0.0, 1e-3);
        assertThat(own.out()).contains("0 of 9 statistics above 0.2");

        Run slower = run("drift", "--input", csv(dir.resolve("fast.csv"), patients, 0.7).toString(),
                "--model", bundle.toString());
        assertThat(slower.exit()).as(slower.err()).isZero();
        assertThat(psi(slower.out(), "rr_ms")).isGreaterThan(0.2);
        assertThat(psi(slower.out(), "rel_0")).isLessThan(0.2);
        assertThat(slower.out()).containsPattern("rr_ms +[0-9.]+  shift");
    }

    @Test
    void aBundleWithoutAReferenceAndTooFewBeatsAreNamedInOneLine(@TempDir Path dir) throws Exception {
        Path bundle = BundleCopies.copy(Files.createDirectory(dir.resolve("bundle")));
        Path few = csv(dir.resolve("few.csv"), SyntheticRr.recordings(2, 300, 300, 1), 1.0);
        Run tooFew = run("drift", "--input", few.toString(), "--model", bundle.toString());
        assertThat(tooFew.exit()).isEqualTo(2);
        assertThat(tooFew.err().strip()).isEqualTo("error: " + few + ": 600 beats; the drift monitor needs 2000 to "
                + "tell a shift from chance");

        Path manifest = bundle.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"drift_reference\"", "\"old_reference\""));
        Run none = run("drift", "--input", few.toString(), "--model", bundle.toString());
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("has no drift reference: write one with bin/cardiospike drift-reference");
    }
}
