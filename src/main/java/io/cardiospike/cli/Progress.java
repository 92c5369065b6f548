package io.cardiospike.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A rate line on stderr for work that takes more than a moment, refreshed in place and wiped when the work ends.
 * Silent unless stderr is a terminal, so logs and pipes never see carriage returns.
 */
final class Progress implements AutoCloseable {
    private final PrintWriter err;
    private final Thread thread;
    private volatile boolean shown;

    /**
     * @param what  the unit counted, e.g. "beats"
     * @param total how many there are (0 when unknown)
     * @param done  how many are done so far (read from another thread)
     */
    static Progress start(PrintWriter err, String verb, String what, long total, LongSupplier done) {
        return new Progress(err, stderrIsTerminal(), 2000, 500, verb, what, total, done);
    }

    Progress(PrintWriter err, boolean enabled, long delayMs, long everyMs, String verb, String what, long total,
             LongSupplier done) {
        this.err = err;
        if (!enabled) {
            thread = null;
            return;
        }
        long t0 = System.nanoTime();
        thread = new Thread(() -> {
            try {
                Thread.sleep(delayMs); // quick work shows nothing
                while (!Thread.currentThread().isInterrupted()) {
                    long n = done.getAsLong();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    String line = total > 0
                            ? String.format(Locale.ROOT, "%s: %d of %d %s (%d %%), %.0f %s/s", verb, n, total, what,
                                    n * 100 / total, n / seconds, what)
                            : String.format(Locale.ROOT, "%s: %d %s, %.0f %s/s", verb, n, what, n / seconds, what);
                    synchronized (err) {
                        err.print("\r" + line + "\u001b[K"); // erase what a longer line left
                        err.flush();
                    }
                    shown = true;
                    Thread.sleep(everyMs);
                }
            } catch (InterruptedException ended) {
                // the work ended
            }
        }, "progress");
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops the line and wipes it, so what follows starts on a clean line. */
    @Override
    public void close() {
        if (thread == null) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (shown) {
            synchronized (err) {
                err.print("\r\u001b[K");
                err.flush();
            }
        }
    }

    /**
     * Whether stderr is a terminal. {@code System.console()} answers for stdin and stdout, not stderr (and is null
     * when stdout is piped, exactly when progress on stderr matters); Linux names fd 2's target in /proc.
     */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false; // not Linux, or not knowable: stay silent
        }
    }
}
