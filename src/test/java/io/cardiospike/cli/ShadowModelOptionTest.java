package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.BundleCopies;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --shadow-model} on the commands that start a job: a bundle that cannot be a shadow stops them first. */
class ShadowModelOptionTest {
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.run(new PrintWriter(err, true), args);
    }

    @Test
    void aShadowOfOtherWindowsStopsDemoAndBenchBeforeAnythingStarts(@TempDir Path tmp) throws Exception {
        Path other = BundleCopies.withGeometry(tmp.resolve("other"), new FeatureSpec(20, 8), "cs-other-windows");
        for (String command : new String[] {"demo --no-dashboard", "bench stream"}) {
            err.getBuffer().setLength(0);
            assertThat(run((command + " --shadow-model " + other).split(" "))).as(command).isEqualTo(2);
            assertThat(err.toString()).as(command).startsWith("error: shadow model cs-other-windows (20 past")
                    .contains("live model cs-").hasLineCount(1);
        }
    }

    @Test
    void aMissingShadowBundleIsNamedAsTheShadow(@TempDir Path tmp) {
        assertThat(run("demo", "--no-dashboard", "--shadow-model", tmp.resolve("none").toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith("error: --shadow-model: no model bundle at ").hasLineCount(1);
    }
}
