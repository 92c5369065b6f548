package io.cardiospike.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

/**
 * The local cluster's layout, written once by {@code cluster start} to {@code DIR/cluster.json} (owner-only: it holds
 * the object store's key) and read by every later command ({@code status}, {@code stop}, {@code job ...}): ports, the
 * number of TaskManagers, the object store's credentials, and where data and logs live.
 */
public record ClusterConfig(
        Path dir,
        int kafkaPort,
        int kafkaControllerPort,
        int s3Port,
        int restPort,
        int rpcPort,
        int prometheusPort,
        int taskManagers,
        int slots,
        int partitions,
        String taskManagerMemory,
        String s3AccessKey,
        String s3SecretKey) {

    public static final String BUCKET = "cardiospike";
    public static final String FILE = "cluster.json";
    public static final String[] TOPICS = {"rr-events", "rr-scores", "rr-alerts", "rr-dlq"};
    /** Partitions of each topic: parallelism 1, 2, 3 or 6 all read evenly. */
    public static final int DEFAULT_PARTITIONS = 6;

    /**
     * The keys of {@code flink-conf/config.yaml} the local cluster sets otherwise, and why: everything else runs as in
     * production.
     */
    public static final Map<String, String> LOCAL_OVERRIDES = Map.ofEntries(
            Map.entry("jobmanager.rpc.address", "one machine: loopback"),
            Map.entry("jobmanager.rpc.port", "--rpc-port"),
            Map.entry("jobmanager.bind-host", "one machine: loopback"),
            Map.entry("rest.address", "one machine: loopback"),
            Map.entry("rest.bind-address", "one machine: loopback"),
            Map.entry("rest.port", "--rest-port"),
            Map.entry("taskmanager.host", "one machine: loopback"),
            Map.entry("taskmanager.bind-host", "one machine: loopback"),
            Map.entry("taskmanager.numberOfTaskSlots", "--slots"),
            Map.entry("jobmanager.memory.process.size", "several JVMs share one machine"),
            Map.entry("taskmanager.memory.process.size", "--taskmanager-memory"),
            Map.entry("s3.endpoint", "the local s3proxy"),
            Map.entry("s3.access-key", "the local s3proxy's generated key"),
            Map.entry("s3.secret-key", "the local s3proxy's generated key"),
            Map.entry("io.tmp.dirs", "under the cluster directory"),
            Map.entry("web.upload.dir", "under the cluster directory"));

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A new layout with a freshly generated object-store key. */
    public static ClusterConfig create(Path dir, int kafkaPort, int s3Port, int restPort, int rpcPort,
                                       int prometheusPort, int taskManagers, int slots, int partitions,
                                       String taskManagerMemory) {
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        return new ClusterConfig(dir.toAbsolutePath().normalize(), kafkaPort, kafkaPort + 1, s3Port, restPort, rpcPort,
                prometheusPort, taskManagers, slots, partitions, taskManagerMemory, "cardiospike",
                HexFormat.of().formatHex(secret));
    }

    public static ClusterConfig load(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException("no cluster at " + dir.toAbsolutePath() + " (start one: bin/cardiospike cluster start)");
        }
        return JSON.readValue(file.toFile(), ClusterConfig.class);
    }

    public void save() throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        JSON.writeValue(file.toFile(), this);
    }

    public String kafkaBootstrap() {
        return "127.0.0.1:" + kafkaPort;
    }

    public String s3Endpoint() {
        return "http://127.0.0.1:" + s3Port;
    }

    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    /** Prometheus port of the JobManager (0) or TaskManager {@code i} (1..N). */
    public int prometheusPort(int process) {
        return prometheusPort + process;
    }

    public Path confDir() {
        return dir.resolve("conf");
    }

    public Path logsDir() {
        return dir.resolve("logs");
    }

    public Path s3Dir() {
        return dir.resolve("s3");
    }

    public Path kafkaDir() {
        return dir.resolve("kafka");
    }

    public static String modelsUri(String modelVersion) {
        return "s3://" + BUCKET + "/models/" + modelVersion;
    }

    /**
     * Writes {@code conf/config.yaml} (the production file with {@link #LOCAL_OVERRIDES}) and the log configurations,
     * and returns the resolved Flink configuration.
     */
    public Configuration writeFlinkConf(Installation installation) throws IOException {
        Configuration prod = GlobalConfiguration.loadConfiguration(installation.productionFlinkConf().toString());
        Map<String, String> c = new LinkedHashMap<>(prod.toMap());
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", Integer.toString(restPort));
        c.put("taskmanager.host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.numberOfTaskSlots", Integer.toString(slots));
        c.put("jobmanager.memory.process.size", "1024m");
        c.put("taskmanager.memory.process.size", taskManagerMemory);
        c.put("s3.endpoint", s3Endpoint());
        c.put("s3.access-key", s3AccessKey);
        c.put("s3.secret-key", s3SecretKey);
        c.put("io.tmp.dirs", tmp.toString());
        c.put("web.upload.dir", Files.createDirectories(dir.resolve("jars")).toString());
        Set<String> unknown = new java.util.HashSet<>(LOCAL_OVERRIDES.keySet());
        unknown.removeAll(c.keySet());
        if (!unknown.isEmpty()) {
            throw new IllegalStateException("overrides not applied: " + unknown);
        }

        Files.createDirectories(confDir());
        StringBuilder yaml = new StringBuilder("# Written by `bin/cardiospike cluster start`: flink-conf/config.yaml with "
                + "the local overrides (ClusterConfig.LOCAL_OVERRIDES). Holds the object store's key: owner-only.\n");
        c.forEach((k, v) -> yaml.append(k).append(": '").append(v.replace("'", "''")).append("'\n"));
        Path conf = confDir().resolve("config.yaml");
        Files.deleteIfExists(conf);
        Files.createFile(conf, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(conf, yaml);
        Files.writeString(confDir().resolve("log4j.properties"), """
                # Flink and Kafka processes of the local cluster (reload4j, the launcher's logging backend).
                log4j.rootLogger=INFO, out
                log4j.logger.org.apache.kafka=WARN
                log4j.logger.org.apache.kafka.clients.admin=WARN
                log4j.logger.kafka=INFO
                log4j.logger.org.apache.flink.connector.kafka.sink=WARN
                log4j.logger.org.apache.flink.fs.s3presto=WARN
                log4j.logger.com.facebook.presto=WARN
                log4j.logger.org.apache.flink.shaded.zookeeper3=WARN
                log4j.appender.out=org.apache.log4j.ConsoleAppender
                log4j.appender.out.Target=System.out
                log4j.appender.out.layout=org.apache.log4j.PatternLayout
                log4j.appender.out.layout.ConversionPattern=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %c{1} [%t] - %m%n
                """);
        // s3proxy's own jar configures logback at DEBUG (request headers included); INFO here.
        Files.writeString(confDir().resolve("s3proxy-logback.xml"), """
                <configuration>
                  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{20} [%thread] - %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="out"/></root>
                </configuration>
                """);
        Path s3props = confDir().resolve("s3proxy.properties");
        Files.deleteIfExists(s3props);
        Files.createFile(s3props, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(s3props, String.join("\n",
                "# Written by `bin/cardiospike cluster start`: the object store (s3proxy, filesystem backend).",
                "s3proxy.endpoint=" + s3Endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + s3AccessKey,
                "s3proxy.credential=" + s3SecretKey,
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + s3Dir(),
                // the filesystem backend needs these set, and ignores them
                "jclouds.identity=local",
                "jclouds.credential=local",
                ""));
        return GlobalConfiguration.loadConfiguration(confDir().toString());
    }
}
