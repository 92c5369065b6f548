package io.cardiospike.kafka;

import java.io.IOException;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --bootstrap-servers} and {@code --kafka-config}: how every command and the job reach Kafka, declared once
 * (a picocli mixin). Without {@code --bootstrap-servers} a command uses {@link #LOCAL_CLUSTER} or, where it can run
 * without one, does that ({@link #given()}).
 */
public final class KafkaOptions {
    /** The broker of {@code bin/cardiospike cluster start}. */
    public static final String LOCAL_CLUSTER = "127.0.0.1:9092";

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers. Without it: the local cluster's " + LOCAL_CLUSTER + " (produce, consume, "
                    + "the job; its own address when started with --hosts), an embedded broker (demo, bench stream), "
                    + "no live view (serve)")
    String bootstrapServers;

    /** The brokers used without {@code --bootstrap-servers}: the local cluster's. */
    private String localCluster = LOCAL_CLUSTER;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Java properties passed to every Kafka client, as Kafka's tools' --command-config: "
                    + "security.protocol, sasl.mechanism, sasl.jaas.config, ssl.* (default: none, PLAINTEXT)")
    String configFile;

    /** The options as if given on a command line ({@code configFile} may be null). */
    public static KafkaOptions of(String bootstrapServers, String configFile) {
        KafkaOptions o = new KafkaOptions();
        o.bootstrapServers = bootstrapServers;
        o.configFile = configFile;
        return o;
    }

    /** Whether {@code --bootstrap-servers} was given. */
    public boolean given() {
        return bootstrapServers != null;
    }

    public String bootstrapServers() {
        return given() ? bootstrapServers : localCluster;
    }

    /** Where the local cluster's broker is, if not at {@link #LOCAL_CLUSTER} (a cluster on hosts of its own). */
    public void localCluster(String bootstrapServers) {
        localCluster = bootstrapServers;
    }

    /** The {@code --kafka-config} file, or null. */
    public String configFile() {
        return configFile;
    }

    /** How long a command waits for its broker's first answer: an absent one is reported well within 10 s. */
    public static final Duration BROKER_CHECK_TIMEOUT = Duration.ofSeconds(5);

    /** The connection, checked: wrong credentials or no broker fail here with one line. */
    public KafkaConnection connect() throws IOException {
        KafkaConnection kafka = KafkaConnection.of(bootstrapServers(), configFile);
        try {
            kafka.check(BROKER_CHECK_TIMEOUT);
        } catch (IllegalStateException e) {
            throw new KafkaConnection.Unreachable(e.getMessage());
        }
        return kafka;
    }
}
