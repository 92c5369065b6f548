package io.cardiospike.stream.wire;

import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.ScoredBeat;
import io.cardiospike.stream.records.ShadowScore;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Kafka record serializers of the job's outputs: JSON values ({@link StreamJson}), keyed by patient id. */
public final class KafkaJson {
    private KafkaJson() {}

    public static KafkaRecordSerializationSchema<ScoredBeat> scores(String topic) {
        return (s, ctx, ts) -> new ProducerRecord<>(topic, key(s.patientId), StreamJson.score(s));
    }

    public static KafkaRecordSerializationSchema<ShadowScore> shadowScores(String topic) {
        return (s, ctx, ts) -> new ProducerRecord<>(topic, key(s.patientId), StreamJson.shadowScore(s));
    }

    public static KafkaRecordSerializationSchema<AnomalyAlert> alerts(String topic) {
        return (a, ctx, ts) -> new ProducerRecord<>(topic, key(a.patientId), StreamJson.alert(a));
    }

    /** Closed alerts as FHIR R4 Observations ({@link FhirAlerts}). */
    public static KafkaRecordSerializationSchema<AnomalyAlert> fhirAlerts(String topic) {
        return (a, ctx, ts) -> new ProducerRecord<>(topic, key(a.patientId), FhirAlerts.observation(a));
    }

    /** Dead letters keep the input's key (cut like the raw value) when it had one, else the patient id when known. */
    public static KafkaRecordSerializationSchema<DeadLetter> deadLetters(String topic) {
        return (d, ctx, ts) -> new ProducerRecord<>(topic, key(d.rawKey != null ? StreamJson.cut(d.rawKey) : d.patientId),
                StreamJson.deadLetter(d));
    }

    private static byte[] key(String id) {
        return id == null ? null : id.getBytes(StandardCharsets.UTF_8);
    }
}
