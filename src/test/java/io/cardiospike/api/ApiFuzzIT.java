package io.cardiospike.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property-based fuzzing of the REST API against its own OpenAPI document: schemathesis, every check, on the real
 * server (a data file, the real bundle), once with bearer authentication and once without, since the document
 * differs between the two. Any failure schemathesis reports fails the test; its output is in
 * {@code target/schemathesis/MODE/output.txt}, a JUnit report beside it.
 *
 * <p>schemathesis comes from its own pinned venv ({@code bin/cardiospike fuzz-venv}; {@code bin/cardiospike test}
 * passes its path in {@code CARDIOSPIKE_SCHEMATHESIS}). Each run is bounded (examples per operation, one worker) and
 * seeded, so it takes about a minute and repeats itself.
 */
public class ApiFuzzIT {
    static final Path REPORTS = Path.of("target/schemathesis").toAbsolutePath();
    static final int EXAMPLES_PER_OPERATION = 150;
    static final int SEED = 42;

    @TempDir
    Path dir;

    @Test
    void withTokensTheApiPassesEverySchemathesisCheckOfItsOwnDocument() throws Exception {
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        Path tokens = Files.writeString(dir.resolve("tokens"), "# fuzzing\n" + token + "\n");
        fuzz("with-tokens", ApiServer.Options.builder().authTokenFile(tokens), token);
    }

    @Test
    void withoutTokensTheApiPassesEverySchemathesisCheckOfItsOwnDocument() throws Exception {
        fuzz("without-tokens", ApiServer.Options.builder(), null);
    }

    /** Runs schemathesis against a server of {@code options}, sending {@code token} (when not null) every time. */
    private void fuzz(String mode, ApiServer.Options.Builder options, String token) throws Exception {
        Path reports = Files.createDirectories(REPORTS.resolve(mode));
        Path output = reports.resolve("output.txt");
        try (ApiServer server = ApiServer.start(options.port(0)
                .dataFile(TestData.writeCsv(dir.resolve("data.csv"), 2, 7)).build())) {
            List<String> command = new ArrayList<>(List.of(schemathesis(), "run",
                    "http://127.0.0.1:" + server.port() + "/openapi.json",
                    "--checks", "all",
                    "--max-examples", Integer.toString(EXAMPLES_PER_OPERATION),
                    "--seed", Integer.toString(SEED),
                    "--workers", "1",
                    "--generation-database", "none", // no examples remembered from earlier runs: the same run each time
                    "--request-timeout", "60",
                    "--no-color",
                    "--report", "junit", "--report-dir", reports.toString()));
            if (token != null) {
                // the token for every request; schemathesis also tries operations without it (check ignored_auth)
                command.addAll(List.of("--header", "Authorization: Bearer " + token));
            }
            Process p = new ProcessBuilder(command).directory(reports.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("schemathesis did not finish in 15 minutes; see " + output);
            }
            String out = Files.readString(output, StandardCharsets.UTF_8);
            if (token != null) {
                assertThat(out).as("the token never shows in schemathesis' output").doesNotContain(token);
            }
            assertThat(p.exitValue()).as("schemathesis reported failures (%s):%n%s", output, tail(out))
                    .isZero();
            Matcher summary = Pattern.compile("(\\d+) generated, (\\d+) passed").matcher(out);
            assertThat(summary.find()).as("a summary line in %s", output).isTrue();
            assertThat(Integer.parseInt(summary.group(1))).as("test cases run").isGreaterThan(1000);
            assertThat(summary.group(2)).as("test cases passed: no failure").isEqualTo(summary.group(1));
        }
    }

    /**
     * The schemathesis of the tests' small venv (bin/cardiospike fuzz-venv): as bin/cardiospike test passes it, else
     * from bin/cardiospike itself. DocsIT runs the docs' Python with the same venv.
     */
    public static String schemathesis() throws IOException, InterruptedException {
        String given = System.getenv("CARDIOSPIKE_SCHEMATHESIS");
        if (given != null && !given.isBlank()) {
            return given;
        }
        Process p = new ProcessBuilder("bin/cardiospike", "fuzz-venv").redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("bin/cardiospike fuzz-venv").isZero();
        String[] lines = printed.split("\n");
        return lines[lines.length - 1];
    }

    private static String tail(String out) {
        return out.length() <= 8000 ? out : "..." + out.substring(out.length() - 8000);
    }
}
