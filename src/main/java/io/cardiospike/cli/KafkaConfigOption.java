package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaConnection;
import java.io.IOException;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code --kafka-config FILE}: one option, the same for every command that talks to Kafka. */
final class KafkaConfigOption {
    @Option(names = "--kafka-config",
            description = "Java properties passed to every Kafka client, as Kafka's tools' --command-config: "
                    + "security.protocol, sasl.mechanism, sasl.jaas.config, ssl.* (default: none, PLAINTEXT)")
    String file;

    /** The connection, checked: wrong credentials or no broker fail here with one line. */
    KafkaConnection connect(String bootstrapServers) throws IOException, UserException {
        KafkaConnection kafka = KafkaConnection.of(bootstrapServers, file);
        try {
            kafka.check(Duration.ofSeconds(20));
        } catch (IllegalStateException e) {
            throw new UserException(e.getMessage());
        }
        return kafka;
    }
}
