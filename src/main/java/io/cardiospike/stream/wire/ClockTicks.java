package io.cardiospike.stream.wire;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The job's clock ticks in {@code rr-events}: one record per partition every {@link #INTERVAL_MS}, written by the job
 * itself, with the header {@value #HEADER}, no key and the value {@code {"clock_tick":true}}. The broker stamps them
 * like every beat (the input topic's {@code message.timestamp.type=LogAppendTime}), so a tick read from a partition
 * says: every beat written to it before this time has been read. That is the input clock on which a patient's silence
 * counts as a pause; when the broker or the job is down, no tick is written and no patient pauses. Other readers of
 * the topic skip records with this header.
 */
public final class ClockTicks {
    public static final String HEADER = "cardiospike-clock";
    public static final long INTERVAL_MS = 1000;
    private static final byte[] VALUE = "{\"clock_tick\":true}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HEADER_VALUE = "tick".getBytes(StandardCharsets.UTF_8);

    private ClockTicks() {}

    public static ProducerRecord<byte[], byte[]> tick(String topic, int partition) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER, HEADER_VALUE);
        return new ProducerRecord<>(topic, partition, null, null, VALUE, headers);
    }

    public static boolean isTick(ConsumerRecord<?, ?> record) {
        return record.headers().lastHeader(HEADER) != null;
    }
}
