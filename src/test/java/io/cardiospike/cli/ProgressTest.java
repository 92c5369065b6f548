package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    /** On a terminal: a rate line refreshed in place, wiped at the end so the next line starts clean. */
    @Test
    void onATerminalTheLineIsRefreshedInPlaceAndWiped() throws Exception {
        StringWriter err = new StringWriter();
        AtomicLong done = new AtomicLong();
        try (Progress p = new Progress(new PrintWriter(err, true), true, 0, 20, "scoring", "beats", 1000, done::get)) {
            for (int i = 0; i < 10; i++) {
                done.addAndGet(100);
                Thread.sleep(30);
            }
        }
        String text = err.toString();
        assertThat(text).startsWith("\rscoring: ").contains(" of 1000 beats (").contains(" beats/s\u001b[K")
                .endsWith("\r\u001b[K").doesNotContain("\n");
    }

    /** Not a terminal (a pipe, a log file, the build): nothing at all, however long the work takes. */
    @Test
    void offATerminalItIsSilent() throws Exception {
        StringWriter err = new StringWriter();
        try (Progress p = new Progress(new PrintWriter(err, true), false, 0, 1, "scoring", "beats", 10, () -> 5)) {
            Thread.sleep(50);
        }
        assertThat(err.toString()).isEmpty();
        assertThat(Progress.stderrIsTerminal()).as("the build's stderr is no terminal").isFalse();
    }
}
