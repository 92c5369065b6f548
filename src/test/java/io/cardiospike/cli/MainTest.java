package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {
    /** Every command, nested ones included, answers --help (exit 0) instead of "Unknown option". */
    @ParameterizedTest
    @ValueSource(strings = {"score", "export-dataset", "generate", "bench", "bench stream", "demo", "serve"})
    void everyCommandAnswersHelp(String command) {
        StringWriter err = new StringWriter();
        String[] args = (command + " --help").split(" ");
        assertThat(Main.run(new PrintWriter(err, true), args)).as(err.toString()).isZero();
        assertThat(err.toString()).doesNotContain("Unknown option");
    }

    @Test
    void benchMeasuresSmallScorerCalls() {
        StringWriter err = new StringWriter();
        assertThat(Main.run(new PrintWriter(err, true), "bench", "--model", "models", "--call-size", "3", "--beats",
                "2000", "--rounds", "1")).as(err.toString()).isZero();
    }
}
