package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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

    /**
     * A new user reads --help: every option of every command (nested ones included, walked from Main's CommandSpec)
     * says what it does and, where it has a default, which: the description shows ${DEFAULT-VALUE} or the value itself.
     */
    @Test
    void everyOptionSaysWhatItDoesAndItsDefault() {
        List<String> missing = new ArrayList<>();
        collect(new CommandLine(new Main()), missing);
        collect(new CommandLine(new io.cardiospike.stream.StreamConfig.Options()), missing); // the job jar's --help
        assertThat(missing).as("options without a description, or with a default it does not name").isEmpty();
    }

    /** The walk above fails where it should: a default the description does not show. */
    @Test
    void theDefaultCheckCatchesAnUnnamedDefault() {
        @CommandLine.Command(name = "t")
        class Sample {
            @CommandLine.Option(names = "--shown", defaultValue = "5", description = "shown (default ${DEFAULT-VALUE})")
            int shown;
            @CommandLine.Option(names = "--literal", defaultValue = "rr-events", description = "topic, rr-events by default")
            String literal;
            @CommandLine.Option(names = "--hidden", defaultValue = "7", description = "some default")
            int hidden;
        }
        List<String> missing = new ArrayList<>();
        collect(new CommandLine(new Sample()), missing);
        assertThat(missing).containsExactly("t --hidden: default 7 not shown");
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
            } else if (!defaultOf(cli, o).isEmpty() && !text.contains(defaultOf(cli, o))) {
                // description() has ${DEFAULT-VALUE} filled in already
                missing.add(where + ": default " + defaultOf(cli, o) + " not shown");
            }
        }
        cli.getSubcommands().values().forEach(sub -> collect(sub, missing));
    }

    /** The default --help shows: a command's default provider's (demo, bench stream), else the annotation's. */
    private static String defaultOf(CommandLine cli, CommandLine.Model.OptionSpec o) {
        try {
            CommandLine.IDefaultValueProvider provider = cli.getCommandSpec().defaultValueProvider();
            String provided = provider == null ? null : provider.defaultValue(o);
            return provided != null ? provided : o.defaultValue() != null ? o.defaultValue() : "";
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The options the README's command table names are in --help, with their defaults. */
    @ParameterizedTest
    @ValueSource(strings = {"demo:--port,--patients,--no-dashboard", "cluster start:--kafka-port,--s3-port,--rest-port"})
    void helpListsTheOptionsTheReadmeNames(String commandAndOptions) {
        String[] parts = commandAndOptions.split(":");
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] args = (parts[0] + " --help").split(" ");
        assertThat(Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args)).isZero();
        for (String option : parts[1].split(",")) {
            assertThat(out.toString()).as(parts[0] + " --help").contains(option);
        }
    }

    /** Usage errors are one line naming the problem and the command's --help, exit 2; no usage dump. */
    @Test
    void usageErrorsAreOneLineWithExit2() {
        for (String[] args : new String[][] {
            {"score", "--input", "in.csv"}, // --output missing
            {"serve", "--port", "99999"},
            {"serve", "--port", "http"},
            {"produce", "--input", "in.csv", "--start-ts", "yesterday"},
            {"consume", "--topic", "rr-dlq", "--max-idle", "a while"},
            {"nosuchcommand"}}) {
            StringWriter err = new StringWriter();
            assertThat(Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args))
                    .as("%s: %s", String.join(" ", args), err).isEqualTo(2);
            assertThat(err.toString().strip().lines()).as(String.join(" ", args)).hasSize(1).first().asString()
                    .startsWith("error: ").doesNotContain("Exception").doesNotContain("\tat ");
        }
        StringWriter err = new StringWriter();
        Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "score", "--input", "in.csv");
        assertThat(err.toString()).contains("--output").contains("(see: cardiospike score --help)");
        err = new StringWriter();
        Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "serve", "--port", "99999");
        assertThat(err.toString().strip()).isEqualTo(
                "error: --port 99999: not a TCP port; give 1-65535, or 0 for any free port");
    }

    /** Anything else is a failure: one line, exit 1, and where the stack trace is. */
    @Test
    void unexpectedFailuresAreOneLineWithExit1AndAHint() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setErr(new PrintWriter(err, true));
        int exit = Main.failure(new IllegalStateException("the flux capacitor is empty\n\tat somewhere"), cli, null);
        assertThat(exit).isEqualTo(1);
        assertThat(err.toString().strip()).isEqualTo("error: the flux capacitor is empty (a failure, not a usage "
                + "error: rerun with CARDIOSPIKE_DEBUG=1 for the stack trace)");
    }

    @Test
    void benchMeasuresExplanationsTogether() {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8)); // the rounds go to stdout
        try {
            assertThat(Main.run(new PrintWriter(err, true), "bench", "--model", "models", "--explain-size", "16",
                    "--beats", "2000", "--rounds", "1")).as(err.toString()).isZero();
        } finally {
            System.setOut(stdout);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("round 1: 1,024 windows explained in calls of 16: \\d+ us of CPU each");
        assertThat(Main.run(new PrintWriter(err, true), "bench", "--model", "models", "--explain-size", "5000",
                "--beats", "2000")).isNotZero();
        assertThat(err.toString()).contains("--explain-size 5000: at most 1024");
    }

    @Test
    void benchMeasuresSmallScorerCalls() {
        StringWriter err = new StringWriter();
        assertThat(Main.run(new PrintWriter(err, true), "bench", "--model", "models", "--call-size", "3", "--beats",
                "2000", "--rounds", "1")).as(err.toString()).isZero();
    }
}
