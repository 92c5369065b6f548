package io.cardiospike.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Test tooling for the cluster ITs: {@code bin/cardiospike} run as a user types it, against the cluster in
 * {@code clusterDir}; each command's output kept in {@code workDir} ({@code cmd-N.out}, {@code cmd-N.err}) for a look
 * after a failure. Commands may run on several threads.
 */
final class ClusterCli {
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    record Launched(Process process, Path out, Path err) {}

    private final String name;
    private final Path workDir;
    private final Path clusterDir;
    private final AtomicInteger commands = new AtomicInteger();
    private final List<Path> outputs = new CopyOnWriteArrayList<>();
    private final long startedNanos = System.nanoTime();

    /** {@code name}: the test's, in front of its log lines. */
    ClusterCli(String name, Path workDir, Path clusterDir) {
        this.name = name;
        this.workDir = workDir;
        this.clusterDir = clusterDir;
    }

    Path clusterDir() {
        return clusterDir;
    }

    /** The commands' output files so far. */
    List<Path> outputs() {
        return List.copyOf(outputs);
    }

    /** Starts a command; its output goes to files of its own. */
    Launched launch(String... args) throws IOException {
        int n = commands.incrementAndGet();
        Path out = workDir.resolve("cmd-" + n + ".out"), err = workDir.resolve("cmd-" + n + ".err");
        outputs.add(out);
        outputs.add(err);
        List<String> cmd = new ArrayList<>(List.of(Path.of("bin/cardiospike").toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        Files.writeString(err, "$ " + String.join(" ", cmd) + "\n");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()));
        pb.environment().put("CARDIOSPIKE_CLUSTER_DIR", clusterDir.toString());
        pb.environment().put("CARDIOSPIKE_JAVA_OPTS", "-Xmx1g -XX:TieredStopAtLevel=1");
        return new Launched(pb.start(), out, err);
    }

    /** Runs a command to its end (at most 5 minutes). */
    Result run(String... args) throws Exception {
        long t0 = System.nanoTime();
        Launched l = launch(args);
        if (!l.process().waitFor(5, TimeUnit.MINUTES)) {
            l.process().destroyForcibly();
            throw new AssertionError("bin/cardiospike " + String.join(" ", args) + " did not return in 5 minutes");
        }
        log(String.format("%s: exit %d in %.1f s", String.join(" ", args), l.process().exitValue(),
                (System.nanoTime() - t0) / 1e9));
        return new Result(l.process().exitValue(), Files.readString(l.out()), Files.readString(l.err()));
    }

    /**
     * Copies the cluster's logs and the commands' output to {@code target/<kept>} for a look after a failure; returns
     * where, with each file's last 40 lines.
     */
    String keepLogs(String kept) {
        Path into = Path.of("target", kept).toAbsolutePath();
        List<Path> files = new ArrayList<>(outputs);
        try (Stream<Path> logs = Files.isDirectory(clusterDir.resolve("logs")) ? Files.list(clusterDir.resolve("logs"))
                : Stream.empty()) {
            files.addAll(logs.toList());
            Files.createDirectories(into);
            StringBuilder tails = new StringBuilder("\nlogs kept in " + into + "\n");
            for (Path f : files) {
                Files.copy(f, into.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                List<String> lines = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
                tails.append("===== ").append(f.getFileName()).append('\n');
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> tails.append(l).append('\n'));
            }
            return tails.toString();
        } catch (IOException e) {
            return "\n(logs not kept: " + e + ")";
        }
    }

    void log(String message) {
        System.out.printf("%s +%.1fs %s%n", name, (System.nanoTime() - startedNanos) / 1e9, message);
    }
}
