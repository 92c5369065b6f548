package io.cardiospike.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * Where Kafka is and how to reach it: the bootstrap servers and the client properties of a {@code --kafka-config}
 * file (Java properties, like the {@code --command-config} of Kafka's own tools: {@code security.protocol},
 * {@code sasl.mechanism}, {@code sasl.jaas.config}, {@code ssl.*}, ...), passed unchanged to every producer, consumer
 * and admin client of a command or job. {@link #toString} never shows a value, since most of them are secrets.
 */
public record KafkaConnection(String bootstrapServers, Map<String, String> clientProperties) implements Serializable {
    public KafkaConnection {
        clientProperties = Map.copyOf(clientProperties);
    }

    /** No broker answered, or it refused the credentials: a problem the user fixes, printed as one line. */
    public static final class Unreachable extends IOException {
        public Unreachable(String message) {
            super(message);
        }
    }

    /** No broker answered at all (nothing listens there, or not yet): a failure, not a usage error. */
    public static final class NoBroker extends IOException {
        public NoBroker(String bootstrapServers) {
            super("no broker at " + bootstrapServers + " (is Kafka running there? start one with `bin/cardiospike "
                    + "cluster start` or `demo`, or pass --bootstrap-servers)");
        }
    }

    public static KafkaConnection plain(String bootstrapServers) {
        return new KafkaConnection(bootstrapServers, Map.of());
    }

    /** {@code configFile} may be null (no extra properties). */
    public static KafkaConnection of(String bootstrapServers, String configFile) throws IOException {
        if (configFile == null) {
            return plain(bootstrapServers);
        }
        Path file = Path.of(configFile);
        if (!Files.isRegularFile(file)) {
            throw new IOException("--kafka-config " + configFile + ": no such file");
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        }
        Map<String, String> props = new HashMap<>();
        p.stringPropertyNames().forEach(k -> props.put(k, p.getProperty(k)));
        if (props.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            bootstrapServers = props.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG); // as Kafka's tools do
        }
        return new KafkaConnection(bootstrapServers, props);
    }

    /** A client's configuration: {@code base}, then the file's properties (they win), then the servers. */
    public Map<String, Object> clientConfig(Map<String, ?> base) {
        Map<String, Object> c = new HashMap<>(base);
        c.putAll(clientProperties);
        c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return c;
    }

    public Properties properties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        return p;
    }

    /**
     * Fails at once, with one line, when the broker refuses these credentials or does not answer within
     * {@code timeout}; a client would otherwise retry (and a job restart) for ever. No broker at all is
     * {@link NoBroker}, after {@code timeout} (the admin client's own retries end in a TimeoutException then).
     */
    public void check(Duration timeout) throws NoBroker {
        Map<String, Object> c = clientConfig(Map.of(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000));
        try (Admin admin = Admin.create(c)) {
            admin.describeCluster().clusterId().get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof AuthenticationException || cause instanceof AuthorizationException) {
                throw new IllegalStateException("Kafka at " + bootstrapServers + " refused the client's credentials ("
                        + this + "): " + cause.getMessage());
            }
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw silence(); // nothing answered: not an error of a broker
            }
            throw new IllegalStateException("Kafka at " + bootstrapServers + " answered with an error: " + cause);
        } catch (TimeoutException e) {
            throw silence();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reaching Kafka at " + bootstrapServers);
        }
    }

    /**
     * Why no answer came: nothing listens at the first address ({@link NoBroker}), or something does but would not
     * talk to this client, typically a secured listener and no {@code --kafka-config} (a usage error).
     */
    private NoBroker silence() {
        String first = bootstrapServers.split(",")[0].trim();
        int colon = first.lastIndexOf(':');
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(new java.net.InetSocketAddress(first.substring(0, colon),
                    Integer.parseInt(first.substring(colon + 1))), 1000);
        } catch (IOException | RuntimeException e) {
            return new NoBroker(bootstrapServers);
        }
        throw new IllegalStateException("Kafka at " + bootstrapServers + " accepts connections but did not answer "
                + "this client (" + this + "): does its listener need --kafka-config (SASL or SSL)?");
    }

    /** Whether {@code topic} exists; one listing, not a describe that waits for the topic to appear. */
    public boolean hasTopic(String topic, Duration timeout) throws IOException {
        try (Admin admin = Admin.create(clientConfig(Map.of(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis())))) {
            return admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS).contains(topic);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot list topics at " + bootstrapServers + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** How many partitions {@code topic} has. */
    public int partitions(String topic, Duration timeout) throws IOException {
        try (Admin admin = Admin.create(clientConfig(Map.of(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis())))) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .get(topic).partitions().size();
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot describe topic " + topic + " at " + bootstrapServers + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** One setting of a topic as the broker applies it (its own or the broker's default). */
    public String topicConfig(String topic, String key, Duration timeout) throws IOException {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = Admin.create(clientConfig(Map.of(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis())))) {
            ConfigEntry entry = admin.describeConfigs(List.of(resource)).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(resource).get(key);
            return entry == null ? null : entry.value();
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot read " + key + " of topic " + topic + " at " + bootstrapServers + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        String protocol = clientProperties.getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
        String mechanism = clientProperties.get("sasl.mechanism");
        return "security.protocol " + protocol + (mechanism != null ? ", sasl.mechanism " + mechanism : "")
                + (clientProperties.isEmpty() ? "" : ", properties " + new TreeMap<>(clientProperties).keySet());
    }
}
