package io.cardiospike.stream.wire;

import io.cardiospike.stream.records.RrInput;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Parses {@code rr-events} in the source itself, so a burst becomes one record per beat right away. Never throws:
 * bad records come out as rejects. The job's own clock ticks ({@link ClockTicks}) come out as such.
 */
public class RrEventDeserializer implements KafkaRecordDeserializationSchema<RrInput> {
    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RrInput> out) {
        if (ClockTicks.isTick(record)) {
            out.collect(RrInput.clockTick());
            return;
        }
        String origin = record.topic() + "-" + record.partition() + "@" + record.offset();
        for (RrInput in : StreamJson.parseEvent(record.key(), record.value(), origin)) {
            out.collect(in);
        }
    }

    @Override
    public TypeInformation<RrInput> getProducedType() {
        return TypeInformation.of(RrInput.class);
    }
}
