package io.cardiospike.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One process of the local cluster, as the supervisor runs it: its command, its log file (appended to across
 * restarts), a health check, and how often it was restarted.
 */
final class ManagedProcess {
    enum State { STARTING, RUNNING, RESTARTING, STOPPED }

    final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path log;
    private final BooleanSupplier healthy;
    private Process process;
    private volatile State state = State.STOPPED;
    private volatile int restarts;

    ManagedProcess(String name, List<String> command, Map<String, String> environment, Path log,
                   BooleanSupplier healthy) {
        this.name = name;
        this.command = command;
        this.environment = environment;
        this.log = log;
        this.healthy = healthy;
    }

    synchronized void start() throws IOException {
        Files.createDirectories(log.getParent());
        Files.writeString(log, "---- " + java.time.Instant.now() + " starting " + name + " (restart " + restarts
                + "): " + shown() + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(environment);
        process = pb.start();
        state = State.STARTING;
    }

    /** Called by the supervisor's loop: notices a death (and restarts) or the first healthy answer. */
    synchronized void check() throws IOException {
        if (state == State.STOPPED) {
            return;
        }
        if (!process.isAlive()) {
            restarts++;
            Files.writeString(log, "---- " + java.time.Instant.now() + " " + name + " exited with "
                    + process.exitValue() + "; restarting\n", java.nio.file.StandardOpenOption.APPEND);
            state = State.RESTARTING;
            start();
            state = State.RESTARTING;
        } else if (state != State.RUNNING && healthy.getAsBoolean()) {
            state = State.RUNNING;
        }
    }

    boolean isRunning() {
        return state == State.RUNNING;
    }

    /** SIGTERM, then SIGKILL after {@code graceSeconds}. */
    synchronized void stop(int graceSeconds) {
        state = State.STOPPED;
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    State state() {
        return state;
    }

    int restarts() {
        return restarts;
    }

    Path log() {
        return log;
    }

    /** The command as logged: a classpath is shown by its length, not its hundred entries. */
    private String shown() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < command.size(); i++) {
            boolean cp = i > 0 && (command.get(i - 1).equals("-cp"));
            sb.append(i == 0 ? "" : " ").append(cp ? "<" + command.get(i).split(":").length + " jars>" : command.get(i));
        }
        return sb.toString();
    }
}
