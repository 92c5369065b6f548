package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.TopicReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consume}: a topic's committed records ({@code read_committed}, so exactly what the job's transactions
 * committed) as JSON lines on stdout, one record a line, for people and for {@code jq}.
 */
@Command(name = "consume", description = "Print a topic's committed records (read_committed) as JSON lines.")
final class ConsumeCommand implements Callable<Integer> {
    @Option(names = "--topic", required = true, description = "topic to read, e.g. rr-alerts, rr-scores, rr-dlq")
    String topic;

    @Option(names = "--from-beginning", description = "from the topic's start (default: only records committed from now on)")
    boolean fromBeginning;

    @Option(names = "--max-idle", description = "exit 0 after this long without a record, e.g. 30s (default: run until Ctrl-C)")
    String maxIdle;

    @Mixin KafkaOptions kafkaOptions;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Duration idle = maxIdle == null ? null : parseIdle(maxIdle); // a typo fails before waiting for a broker
        KafkaConnection kafka = ClientHost.localCluster(kafkaOptions).connect();
        PrintWriter out = spec.commandLine().getOut(); // stdout (UTF-8, flushed a line at a time: Main)
        AtomicLong lastNanos = new AtomicLong(System.nanoTime()), records = new AtomicLong();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "consume-stop"));
        try (TopicReader reader = new TopicReader(kafka, List.of(topic), !fromBeginning, r -> {
            out.println(r.raw() == null ? "null" : new String(r.raw(), StandardCharsets.UTF_8));
            records.incrementAndGet();
            lastNanos.set(System.nanoTime());
        })) {
            while (stopped.getCount() > 0
                    && (idle == null || System.nanoTime() - lastNanos.get() < idle.toNanos())) {
                Thread.sleep(100);
            }
        }
        out.flush();
        spec.commandLine().getErr().println("consumed " + records.get() + " records from " + topic);
        return 0;
    }

    private static Duration parseIdle(String value) throws UserException {
        try {
            return TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException e) {
            throw new UserException("--max-idle " + value + ": not a duration; e.g. 30s, 2min");
        }
    }
}
