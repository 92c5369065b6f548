package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench stream --minutes}: a short soak of a small fleet writes its samples and plot, and reports the heap a
 * full collection leaves at its start and end (what tells a leak from garbage not yet collected). Asserts no speed.
 */
class StreamSoakIT {
    @TempDir
    Path dir;

    @Test
    void aSoakSamplesTheJobAndReportsTheLiveHeapAtItsStartAndEnd() throws Exception {
        Path samples = dir.resolve("soak.csv");
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        StringWriter err = new StringWriter();
        int exit;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8)); // the soak's summary goes to stdout
        try {
            exit = Main.run(new PrintWriter(stdout, true), new PrintWriter(err, true), "bench", "stream",
                    "--patients", "50", "--warmup", "2000", "--minutes", "0.4", "--rate", "300",
                    "--samples", samples.toString());
        } finally {
            System.setOut(stdout);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(exit).as("exit; stdout %s; stderr %s", out, err).isZero();
        Matcher live = Pattern.compile("soak: live heap after a full collection (\\d+) -> (\\d+) MB; heap committed "
                + "(\\d+) of at most (\\d+) MB").matcher(out);
        assertThat(live.find()).as("the live heap line in %s", out).isTrue();
        for (int g = 1; g <= 4; g++) {
            assertThat(Long.parseLong(live.group(g))).as("figure %d of %s", g, live.group()).isPositive();
        }
        assertThat(Long.parseLong(live.group(3))).isLessThanOrEqualTo(Long.parseLong(live.group(4)));

        List<String> rows = Files.readAllLines(samples);
        assertThat(rows.get(0)).startsWith("minute,sent,committed,lag_events,heap_mb,rss_mb");
        assertThat(rows).as("a sample every 10 s of 24 s, and the header").hasSizeGreaterThanOrEqualTo(3);
        String[] last = rows.get(rows.size() - 1).split(",");
        assertThat(Double.parseDouble(last[2])).as("beats committed by the last sample").isPositive();
        assertThat(dir.resolve("soak.png")).isNotEmptyFile();
    }
}
