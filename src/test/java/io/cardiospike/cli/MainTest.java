package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {
    /** Every command, nested ones included, answers --help (exit 0) instead of "Unknown option". */
    @ParameterizedTest
    @ValueSource(strings = {"score", "export-dataset", "generate", "bench", "bench stream", "demo", "serve",
        "cluster start", "cluster stop", "cluster status", "job submit", "job status", "job savepoint", "job upgrade",
        "job cancel", "job migrate-savepoint", "produce"})
    void everyCommandAnswersHelp(String command) {
        StringWriter err = new StringWriter();
        String[] args = (command + " --help").split(" ");
        assertThat(Main.run(new PrintWriter(err, true), args)).as(err.toString()).isZero();
        assertThat(err.toString()).doesNotContain("Unknown option");
    }

    /** A new user reads --help: every option says what it does, and what it is when not given. */
    @Test
    void everyOptionSaysWhatItDoesAndItsDefault() {
        List<String> missing = new ArrayList<>();
        collect(new CommandLine(new Main()), missing);
        collect(new CommandLine(new io.cardiospike.stream.StreamConfig.Options()), missing); // the job jar's --help
        assertThat(missing).as("options without a description, or with a default it does not name").isEmpty();
    }

    private static void collect(CommandLine cli, List<String> missing) {
        for (CommandLine.Model.OptionSpec o : cli.getCommandSpec().options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            String text = String.join(" ", o.description());
            String where = cli.getCommandSpec().qualifiedName() + " " + o.longestName();
            if (text.isBlank()) {
                missing.add(where + ": no description");
            } else if (o.defaultValue() != null && !text.contains("${DEFAULT-VALUE}") && !text.contains("default")) {
                missing.add(where + ": default " + o.defaultValue() + " not named");
            }
        }
        cli.getSubcommands().values().forEach(sub -> collect(sub, missing));
    }

    @Test
    void benchMeasuresSmallScorerCalls() {
        StringWriter err = new StringWriter();
        assertThat(Main.run(new PrintWriter(err, true), "bench", "--model", "models", "--call-size", "3", "--beats",
                "2000", "--rounds", "1")).as(err.toString()).isZero();
    }
}
