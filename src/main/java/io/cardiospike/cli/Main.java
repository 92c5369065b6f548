package io.cardiospike.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one entry point behind {@code bin/cardiospike}. */
@Command(
        name = "cardiospike",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT, // every subcommand answers --help (and --version)
        version = "cardiospike 0.1.0",
        description = "Heart-rhythm anomaly detection on RR-interval streams.",
        subcommands = {
            ScoreCommand.class,
            ExportDatasetCommand.class,
            GenerateCommand.class,
            BenchCommand.class,
            DemoCommand.class,
            ServeCommand.class,
            ClusterCommand.class,
            JobCommand.class,
            ProduceCommand.class,
            ChaosCommand.class,
            ConsumeCommand.class,
        })
public final class Main {
    public static void main(String[] args) {
        // a command for a cluster on hosts of its own runs on its client's host (ClientHost)
        java.util.Optional<java.util.List<String>> onClientHost = ClientHost.command(args);
        System.exit(onClientHost.isPresent() ? ClientHost.run(onClientHost.get()) : run(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)}, with error messages going to {@code err}. */
    public static int run(java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setErr(err);
        cli.setExecutionExceptionHandler(new UserErrors());
        return cli.execute(args);
    }

    /** Problems the user can fix are one line on stderr, not a stack trace. */
    private static final class UserErrors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            if (e instanceof UserException || e instanceof io.cardiospike.rr.CsvFormatException
                    || e instanceof io.cardiospike.model.ModelBundleException
                    || e instanceof io.cardiospike.kafka.KafkaConnection.Unreachable
                    || e instanceof io.cardiospike.ops.ScoringJobException) {
                cli.getErr().println("error: " + e.getMessage());
                return 2;
            }
            if (e instanceof java.io.IOException) {
                cli.getErr().println("error: " + e);
                return 2;
            }
            throw new RuntimeException(e);
        }
    }
}
