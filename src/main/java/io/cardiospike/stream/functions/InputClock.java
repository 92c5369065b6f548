package io.cardiospike.stream.functions;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.stream.records.RrInput;
import io.cardiospike.stream.wire.ClockTicks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The input clock: how far the job has read its input, in the broker's time, so that a patient's silence counts as a
 * pause only while the input flows. Faults stop it (a broker outage: no tick is written or read; a restart or restore:
 * the watermark starts again from the checkpointed offsets; lag: the ticks not read yet have not moved it), so they
 * end no patient's segment, while a patient that stops sending ends its segment one idle-flush gap later, as the
 * batch scorer ends a recording.
 *
 * <p>Subtask 0 writes a {@link ClockTicks} record to every partition of the input topic each second; the source's
 * watermark, per partition, is the newest tick read from it ({@link #watermarks()}), and Flink's watermarks carry the
 * oldest partition's to every scoring task. Only ticks move it: a device's clock, or a producer's, cannot. This
 * operator then drops the ticks. A tick that cannot be written is dropped too: the next one says more.
 */
public class InputClock extends AbstractStreamOperator<RrInput> implements OneInputStreamOperator<RrInput, RrInput> {
    /** Partitions added to the topic are found within this. */
    static final long PARTITION_REFRESH_MS = 60_000;

    private final KafkaConnection kafka;
    private final String topic;

    private transient KafkaProducer<byte[], byte[]> producer;
    private transient List<PartitionInfo> partitions;
    private transient long partitionsAt;
    private transient Counter ticksWritten;
    private transient Counter ticksLost;

    public InputClock(KafkaConnection kafka, String topic) {
        this.kafka = kafka;
        this.topic = topic;
    }

    /** The source's watermarks: per partition, the newest tick read, never ahead of this machine's clock. */
    public static WatermarkStrategy<RrInput> watermarks() {
        return WatermarkStrategy.forGenerator(context -> new TickWatermarks());
    }

    @Override
    public void open() throws Exception {
        super.open();
        ticksWritten = getMetricGroup().counter("clockTicksWritten");
        ticksLost = getMetricGroup().counter("clockTicksLost");
        if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() != 0) {
            return;
        }
        // Fire and forget, never blocking the task: a tick late is worth nothing, the next one replaces it.
        producer = new KafkaProducer<>(kafka.clientConfig(Map.of(
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.ACKS_CONFIG, "1",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 200,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1500,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2000)));
        getProcessingTimeService().scheduleWithFixedDelay(this::tick, ClockTicks.INTERVAL_MS,
                ClockTicks.INTERVAL_MS);
    }

    private void tick(long now) {
        try {
            if (partitions == null || now - partitionsAt > PARTITION_REFRESH_MS) {
                partitions = producer.partitionsFor(topic);
                partitionsAt = now;
            }
            for (PartitionInfo p : partitions) {
                producer.send(ClockTicks.tick(topic, p.partition()), (metadata, e) -> {
                    if (e == null) {
                        ticksWritten.inc();
                    } else {
                        ticksLost.inc();
                    }
                });
            }
        } catch (RuntimeException brokerUnreachable) {
            ticksLost.inc(); // the input clock stands still, as it should while the input cannot flow
        }
    }

    @Override
    public void processElement(StreamRecord<RrInput> record) {
        if (!record.getValue().clockTick) {
            output.collect(record);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (producer != null) {
                producer.close(Duration.ZERO);
                producer = null;
            }
        } finally {
            super.close();
        }
    }

    /** Per partition: the newest tick read (clamped to this machine's clock: a forged tick moves nothing ahead). */
    static final class TickWatermarks implements WatermarkGenerator<RrInput> {
        private long newestTick = Long.MIN_VALUE;
        private long emitted = Long.MIN_VALUE;

        @Override
        public void onEvent(RrInput event, long timestamp, WatermarkOutput output) {
            if (event.clockTick) {
                newestTick = Math.max(newestTick, Math.min(timestamp, System.currentTimeMillis()));
                // at once, tick by tick: a backlog read in a burst must not look like a stall (InputFlow)
                onPeriodicEmit(output);
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            if (newestTick > emitted) {
                emitted = newestTick;
                output.emitWatermark(new Watermark(newestTick));
            }
        }
    }
}
