package io.cardiospike.local;

import io.cardiospike.stream.wire.ClockTicks;
import io.cardiospike.stream.wire.StreamJson;
import io.cardiospike.kafka.KafkaConnection;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the job's output topics from the beginning as a downstream consumer would: only committed records
 * ({@code isolation.level=read_committed}), so what it sees is exactly what the exactly-once sinks committed.
 * Runs on its own thread; {@code onRecord} gets each JSON value (on that thread).
 */
public final class TopicReader implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean closed;

    public TopicReader(String bootstrapServers, List<String> topics, Consumer<Record> onRecord) {
        this(KafkaConnection.plain(bootstrapServers), topics, false, onRecord);
    }

    /** {@code fromEnd}: only records committed from now on (a live view), not the topics' history. */
    public TopicReader(KafkaConnection kafka, List<String> topics, boolean fromEnd, Consumer<Record> onRecord) {
        consumer = committedConsumer(kafka);
        consumer.assign(topics.stream()
                .flatMap(t -> consumer.partitionsFor(t).stream())
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .toList());
        if (fromEnd) {
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position); // resolve the end now, not at the first poll
        }
        thread = new Thread(() -> {
            try {
                while (!closed) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        if (ClockTicks.isTick(r)) {
                            continue; // the job's input clock in rr-events, not data
                        }
                        onRecord.accept(new Record(r.topic(), r.key(), json(r.value()), System.nanoTime(), r.value()));
                    }
                }
            } catch (WakeupException e) {
                // closing
            } finally {
                consumer.close();
            }
        }, "topic-reader");
        thread.setDaemon(true);
        thread.start();
    }

    private static KafkaConsumer<String, byte[]> committedConsumer(KafkaConnection kafka) {
        return new KafkaConsumer<>(kafka.clientConfig(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000)),
                new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** A topic that is not there (read without creating it). */
    public static final class NoSuchTopic extends Exception {
        public NoSuchTopic(String topic) {
            super("topic " + topic + " does not exist");
        }
    }

    /**
     * Reads {@code topic}'s committed records up to its end as it is now (its last stable offset: records of a
     * transaction still open, and any after it, are not waited for) on the calling thread, from the first record of
     * time {@code fromTs} (epoch ms) on, or from the start where null; returns how many it read.
     */
    public static long readToEnd(KafkaConnection kafka, String topic, Long fromTs, Consumer<Record> onRecord)
            throws NoSuchTopic {
        try (KafkaConsumer<String, byte[]> consumer = committedConsumer(kafka)) {
            if (!consumer.listTopics(Duration.ofSeconds(30)).containsKey(topic)) { // partitionsFor might create it
                throw new NoSuchTopic(topic);
            }
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            if (fromTs == null) {
                consumer.seekToBeginning(partitions);
            } else {
                Map<TopicPartition, Long> at = new HashMap<>();
                partitions.forEach(p -> at.put(p, fromTs));
                consumer.offsetsForTimes(at).forEach((p, found) ->
                        consumer.seek(p, found != null ? found.offset() : end.get(p))); // none that late: nothing
            }
            long read = 0;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    TopicPartition p = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() >= end.get(p) || ClockTicks.isTick(r)) {
                        continue; // committed after the read began, or the job's input clock
                    }
                    onRecord.accept(new Record(r.topic(), r.key(), json(r.value()), System.nanoTime(), r.value()));
                    read++;
                }
            }
            return read;
        }
    }

    /**
     * One committed record and when it was read ({@link System#nanoTime}); {@code value} is the parsed JSON (a missing
     * node for a tombstone or a value that is not JSON), {@code raw} the bytes as they came.
     */
    public record Record(String topic, String key, JsonNode value, long readNanos, byte[] raw) {}

    private static JsonNode json(byte[] value) {
        if (value == null) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
        try {
            return StreamJson.read(value);
        } catch (java.io.UncheckedIOException e) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        consumer.wakeup();
        thread.join(10_000);
    }
}
