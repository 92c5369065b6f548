package io.cardiospike.ops;

import io.cardiospike.local.EmbeddedKafka;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The local cluster's broker process: the project's KRaft broker ({@link EmbeddedKafka}) on a fixed port with its data
 * in the cluster directory, the topics created on first start. Arguments: {@code DATA_DIR PORT CONTROLLER_PORT
 * PARTITIONS TOPIC...}; system property {@value #HOST_PROPERTY}: the address it listens on (default 127.0.0.1; a
 * host's own address with {@code cluster start --hosts}).
 */
public final class KafkaBroker {
    static final String HOST_PROPERTY = "cardiospike.kafka.host";

    private KafkaBroker() {}

    public static void main(String[] args) throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start(Path.of(args[0]), System.getProperty(HOST_PROPERTY, "127.0.0.1"),
                Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.close();
            stopped.countDown();
        }, "kafka-stop"));
        List<String> topics = Arrays.asList(args).subList(4, args.length);
        kafka.createTopics(Integer.parseInt(args[3]), topics.toArray(String[]::new));
        System.out.println("kafka: " + kafka.bootstrapServers() + ", topics " + topics);
        stopped.await();
    }

    /** Health check: the broker answers and every topic exists. */
    static boolean topicsExist(String bootstrapServers, String... topics) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000))) {
            Set<String> names = admin.listTopics().names().get(3, TimeUnit.SECONDS);
            return names.containsAll(List.of(topics));
        } catch (Exception e) {
            return false;
        }
    }
}
