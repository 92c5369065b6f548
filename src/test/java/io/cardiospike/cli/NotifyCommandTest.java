package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code notify}'s inputs are checked before it waits for a broker: one line each, exit 2, the secret never shown. */
class NotifyCommandTest {
    @TempDir
    Path dir;

    @Test
    void badInputsFailAtOnceWithOneLine() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), " \n");
        Path secret = Files.writeString(dir.resolve("secret"), "hunter2-secret\n");
        String broker = "127.0.0.1:1"; // nothing listens: a check that got this far would fail with exit 1
        String[][] cases = {
            {"--webhook", "ftp://example.org/x"}, {"--webhook", "not a url"},
            {"--webhook", "http://127.0.0.1:18300/", "--format", "xml"},
            {"--webhook", "http://127.0.0.1:18300/", "--timeout", "soon"},
            {"--webhook", "http://127.0.0.1:18300/", "--timeout", "0s"},
            {"--webhook", "http://127.0.0.1:18300/", "--give-up", "a day"},
            {"--webhook", "http://127.0.0.1:18300/", "--secret-file", dir.resolve("none").toString()},
            {"--webhook", "http://127.0.0.1:18300/", "--secret-file", empty.toString()},
            {"--webhook", "http://127.0.0.1:18300/", "--secret-file", secret.toString(), "--metrics-port", "70000"}};
        for (String[] args : cases) {
            String[] full = new String[args.length + 3];
            full[0] = "notify";
            System.arraycopy(args, 0, full, 1, args.length);
            full[args.length + 1] = "--bootstrap-servers";
            full[args.length + 2] = broker;
            StringWriter err = new StringWriter();
            long t0 = System.nanoTime();
            assertThat(Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), full))
                    .as("%s: %s", String.join(" ", args), err).isEqualTo(2);
            assertThat((System.nanoTime() - t0) / 1e9).as("before any broker").isLessThan(3);
            assertThat(err.toString().strip().lines()).as(String.join(" ", args)).hasSize(1).first().asString()
                    .startsWith("error: --").doesNotContain("Exception").doesNotContain("hunter2");
        }
    }
}
