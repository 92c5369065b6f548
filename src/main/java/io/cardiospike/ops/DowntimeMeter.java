package io.cardiospike.ops;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.TopicReader;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upgrade's downtime as a consumer of the scores topic sees it ({@code read_committed}): from the last score
 * committed before the stop to the first committed after the new job runs. Reads from when it is opened.
 */
final class DowntimeMeter implements AutoCloseable {
    private final String topic;
    private final AtomicLong lastCommitNanos = new AtomicLong(), firstAfterNanos = new AtomicLong();
    private final AtomicBoolean newJobRunning = new AtomicBoolean();
    private final TopicReader reader;

    DowntimeMeter(KafkaConnection kafka, String topic) {
        this.topic = topic;
        this.reader = new TopicReader(kafka, List.of(topic), true, r -> {
            // The old job commits its last transactions as the savepoint completes; the new job cannot commit
            // before its tasks run. So every score read before those run is the old job's.
            if (!newJobRunning.get()) {
                lastCommitNanos.set(r.readNanos());
            } else {
                firstAfterNanos.compareAndSet(0, r.readNanos());
            }
        });
    }

    /** The new job's tasks run: scores read from now on are its. */
    void newJobRunning() {
        newJobRunning.set(true);
    }

    /** Waits up to {@code wait} for the new job's first score; the downtime, or why it was not measured. */
    String await(Duration wait) throws InterruptedException {
        if (lastCommitNanos.get() != 0) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (firstAfterNanos.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
        }
        return lastCommitNanos.get() == 0 || firstAfterNanos.get() == 0
                ? "downtime: not measured (no scores committed " + (lastCommitNanos.get() == 0
                ? "before the stop" : "within " + wait.toSeconds() + " s after the restart") + ")"
                : String.format(Locale.ROOT, "downtime: %.1f s between the last score committed before the "
                + "upgrade and the first after it (%s, read_committed)",
                (firstAfterNanos.get() - lastCommitNanos.get()) / 1e9, topic);
    }

    @Override
    public void close() throws InterruptedException {
        reader.close();
    }
}
