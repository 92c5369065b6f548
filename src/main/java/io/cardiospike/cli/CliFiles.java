package io.cardiospike.cli;

import io.cardiospike.rr.CsvFormatException;
import io.cardiospike.rr.RrCsv;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The file options of the commands, Unix style: {@code -} is stdin (an input) or stdout (an output), and an output
 * goes only where the user said: a missing directory is an error naming it, never created on the user's behalf.
 */
final class CliFiles {
    private CliFiles() {}

    static boolean isStdio(Path file) {
        return file.toString().equals("-");
    }

    /** How messages name the file: the path, or stdin/stdout for {@code -}. */
    static String name(Path file, boolean output) {
        return isStdio(file) ? (output ? "stdout" : "stdin") : file.toString();
    }

    /** The recordings of an {@code id,time,x} CSV; {@code -} reads stdin. */
    static RrCsv.Table readRecordings(Path input) throws CsvFormatException, IOException {
        if (isStdio(input)) {
            // stdin is not closed: it belongs to the process
            return RrCsv.read(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), "stdin");
        }
        return RrCsv.read(input);
    }

    /** As {@link #readRecordings}, every row labelled {@code y} 0 or 1 ({@code evaluate}). */
    static RrCsv.Table readLabelledRecordings(Path input) throws CsvFormatException, IOException {
        if (isStdio(input)) {
            return RrCsv.read(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), "stdin",
                    true);
        }
        return RrCsv.readLabelled(input);
    }

    /** Fails with one line where an output cannot go; called before the work, so a long run does not end in it. */
    static void checkWritable(String option, Path output) throws UserException {
        if (isStdio(output)) {
            return;
        }
        Path parent = output.toAbsolutePath().getParent();
        if (Files.isDirectory(output)) {
            throw new UserException(option + " " + output + ": is a directory; name a file in it");
        }
        if (parent != null && Files.exists(parent) && !Files.isDirectory(parent)) {
            throw new UserException(option + " " + output + ": " + parent + " is not a directory");
        }
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UserException(option + " " + output + ": no such directory " + parent
                    + " (create it first, or choose another path)");
        }
        if (parent != null && !Files.isWritable(parent) && !Files.exists(output)) {
            throw new UserException("cannot write " + output + ": permission denied");
        }
    }

    /**
     * A buffered writer for an output option; {@code -} is the command's stdout (picocli's {@code getOut()}), which
     * closing flushes and leaves open.
     */
    static Writer open(String option, Path output, CommandSpec spec) throws UserException {
        if (isStdio(output)) {
            return new BufferedWriter(new FilterWriter(spec.commandLine().getOut()) {
                @Override
                public void close() throws IOException {
                    flush(); // stdout stays open: the process owns it
                }
            }, 1 << 16);
        }
        checkWritable(option, output);
        try {
            return Files.newBufferedWriter(output, StandardCharsets.UTF_8);
        } catch (AccessDeniedException e) {
            throw new UserException("cannot write " + output + ": permission denied");
        } catch (FileSystemException e) {
            throw new UserException("cannot write " + output + ": "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
        } catch (IOException e) {
            throw new UserException("cannot write " + output + ": " + e.getMessage());
        }
    }
}
