package io.cardiospike.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
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
            EvaluateCommand.class,
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
            NotifyCommand.class,
            DriftReferenceCommand.class,
            DriftCommand.class,
            ShadowCommand.class,
        })
public final class Main {
    /** Set (to anything but 0) for the stack trace behind a failure's one line. */
    static final String DEBUG_ENV = "CARDIOSPIKE_DEBUG";

    public static void main(String[] args) {
        // a command for a cluster on hosts of its own runs on its client's host (ClientHost)
        java.util.Optional<java.util.List<String>> onClientHost = ClientHost.command(args);
        System.exit(onClientHost.isPresent() ? ClientHost.run(onClientHost.get()) : run(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return run(new PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)}, with error messages going to {@code err}. */
    public static int run(PrintWriter err, String... args) {
        // stdout in UTF-8 whatever the locale, as the files the commands write
        return run(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true), err, args);
    }

    /** As {@link #run(String...)}, with what a command writes to stdout ({@code --output -}) going to {@code out}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setExecutionExceptionHandler(Main::failure);
        try {
            return cli.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** A command line that does not parse: one line naming the problem and where the options are listed. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        cli.getErr().println("error: " + oneLine(e.getMessage()) + " (see: " + cli.getCommandSpec().qualifiedName(" ")
                + " --help)");
        return 2;
    }

    /**
     * A command failed: one line on stderr. Problems the user can fix (the command line, an input, a path, a
     * credential) exit 2; anything else exits 1 with a hint to {@value #DEBUG_ENV} for the stack trace.
     */
    static int failure(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        if (e instanceof io.cardiospike.kafka.KafkaConnection.NoBroker) {
            err.println("error: " + e.getMessage());
            return 1; // nothing wrong with what the user typed: the broker is not there (yet)
        }
        if (e instanceof UserException || e instanceof io.cardiospike.rr.CsvFormatException
                || e instanceof io.cardiospike.model.ModelBundleException
                || e instanceof io.cardiospike.kafka.KafkaConnection.Unreachable
                || e instanceof io.cardiospike.ops.ScoringJobException) {
            err.println("error: " + oneLine(e.getMessage()));
            return 2;
        }
        if (e instanceof NoSuchFileException f) {
            err.println("error: " + f.getFile() + ": no such file or directory");
            return 2;
        }
        if (e instanceof AccessDeniedException f) {
            err.println("error: " + f.getFile() + ": permission denied");
            return 2;
        }
        if (e instanceof FileSystemException f) {
            err.println("error: " + f.getFile() + ": " + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName()));
            return 2;
        }
        if (e instanceof java.io.IOException) {
            err.println("error: " + oneLine(e.getMessage() != null ? e.getMessage() : e.toString()));
            return 2;
        }
        String debug = System.getenv(DEBUG_ENV);
        if (debug != null && !debug.isEmpty() && !debug.equals("0")) {
            e.printStackTrace(err);
        }
        err.println("error: " + oneLine(e.getMessage() != null ? e.getMessage() : e.getClass().getName())
                + (debug != null && !debug.isEmpty() && !debug.equals("0") ? ""
                        : " (a failure, not a usage error: rerun with " + DEBUG_ENV + "=1 for the stack trace)"));
        return 1;
    }

    /** The first line of a message: errors are one line. */
    static String oneLine(String message) {
        if (message == null) {
            return "";
        }
        String s = message.strip();
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
