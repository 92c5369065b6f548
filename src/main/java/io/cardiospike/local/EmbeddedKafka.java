package io.cardiospike.local;

import io.cardiospike.kafka.KafkaConnection;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node Kafka broker in KRaft mode (combined broker + controller) inside this JVM, for the demo and the
 * tests: no Docker, no external service. Its log directory is formatted on start like {@code kafka-storage format}.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** Upper bound for producers' {@code transaction.timeout.ms} (exactly-once sinks must stay below it). */
    public static final int MAX_TRANSACTION_TIMEOUT_MS = 15 * 60 * 1000;

    private final KafkaRaftServer server;
    private final String bootstrapServers;
    /** Where this class's own admin client connects: the PLAINTEXT listener (the same as clients' unless secured). */
    private final String internalBootstrap;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, String internalBootstrap) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.internalBootstrap = internalBootstrap;
    }

    /** A SCRAM user of a secured broker ({@link #startWithScram}). */
    public record ScramUser(String mechanism, String name, String password) {}

    /** Starts a broker on free ports whose data lives in {@code dataDir} (created if needed); waits until it serves. */
    public static EmbeddedKafka start(Path dataDir) throws Exception {
        return start(dataDir, freePort(), freePort());
    }

    /**
     * Starts a broker on {@code 127.0.0.1:brokerPort}; data in {@code dataDir} survives a restart (the log directory is
     * formatted only once), as a broker's disk would.
     */
    public static EmbeddedKafka start(Path dataDir, int brokerPort, int controllerPort) throws Exception {
        return start(dataDir, LOOPBACK, brokerPort, controllerPort, null);
    }

    /** As {@link #start(Path, int, int)}, on {@code host}'s address (a host of {@code cluster start --hosts}). */
    public static EmbeddedKafka start(Path dataDir, String host, int brokerPort, int controllerPort) throws Exception {
        return start(dataDir, host, brokerPort, controllerPort, null);
    }

    /**
     * A broker whose clients must authenticate: a SASL_PLAINTEXT listener with {@code user}'s SCRAM mechanism
     * ({@link #bootstrapServers}), the user's credentials written at format time. The broker's own traffic and this
     * class's admin client use a second, PLAINTEXT listener.
     */
    public static EmbeddedKafka startWithScram(Path dataDir, ScramUser user) throws Exception {
        return start(dataDir, LOOPBACK, freePort(), freePort(), user);
    }

    private static final String LOOPBACK = "127.0.0.1";

    private static EmbeddedKafka start(Path dataDir, String host, int brokerPort, int controllerPort, ScramUser scram)
            throws Exception {
        Path logDir = Files.createDirectories(dataDir.resolve("kraft-logs"));
        int internalPort = scram == null ? brokerPort : freePort();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@" + host + ":" + controllerPort);
        if (scram == null) {
            p.put("listeners", "PLAINTEXT://" + host + ":" + brokerPort + ",CONTROLLER://" + host + ":" + controllerPort);
            p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + brokerPort);
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        } else {
            p.put("listeners", "PLAINTEXT://127.0.0.1:" + internalPort + ",CLIENT://127.0.0.1:" + brokerPort
                    + ",CONTROLLER://127.0.0.1:" + controllerPort);
            p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + internalPort + ",CLIENT://127.0.0.1:" + brokerPort);
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.put("sasl.enabled.mechanisms", scram.mechanism());
            p.put("listener.name.client." + scram.mechanism().toLowerCase(java.util.Locale.ROOT) + ".sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        }
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        p.put("num.partitions", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("transaction.max.timeout.ms", Integer.toString(MAX_TRANSACTION_TIMEOUT_MS));
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("auto.create.topics.enable", "false");
        // The broker stamps every record: the job's input clock (InputClock) is the broker's time, not a producer's.
        p.put("log.message.timestamp.type", "LogAppendTime");
        p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
        KafkaConfig config = KafkaConfig.fromProps(p, false);

        if (!Files.exists(logDir.resolve("meta.properties"))) {
            Formatter formatter = new Formatter();
            if (scram != null) {
                formatter.setScramArguments(List.of(scram.mechanism() + "=[name=" + scram.name() + ",password="
                        + scram.password() + "]"));
            }
            formatter
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setClusterId(Uuid.randomUuid().toString())
                    .setNodeId(1)
                    .setControllerListenerName("CONTROLLER")
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .run();
        }
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        EmbeddedKafka kafka = new EmbeddedKafka(server, host + ":" + brokerPort, host + ":" + internalPort);
        kafka.awaitReady();
        return kafka;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Creates the topics that do not exist yet (replication factor 1). */
    public void createTopics(int partitions, String... names) throws ExecutionException, InterruptedException {
        createTopics(KafkaConnection.plain(internalBootstrap), partitions, names);
    }

    /** Creates the topics that do not exist yet on any broker (replication factor 1). */
    public static void createTopics(KafkaConnection kafka, int partitions, String... names)
            throws ExecutionException, InterruptedException {
        try (Admin admin = Admin.create(kafka.clientConfig(Map.of()))) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                if (!existing.contains(name)) {
                    topics.add(new NewTopic(name, partitions, (short) 1));
                }
            }
            try {
                admin.createTopics(topics).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    public Admin admin() {
        return admin(internalBootstrap);
    }

    private static Admin admin(String bootstrapServers) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return Admin.create(p);
    }

    /**
     * Waits until the broker answers and its group coordinator is up. Without the second step the job's first offset
     * commits (Flink's Kafka source commits on every checkpoint) fail with a warning while the broker is still
     * creating its offsets topic.
     */
    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                admin.listConsumerGroupOffsets("cardiospike-readiness").partitionsToOffsetAndMetadata()
                        .get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("embedded Kafka broker did not become ready", last);
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    /** A port free on this machine now (for a broker's controller listener, say). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
