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
import java.util.Optional;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

/**
 * The local cluster's layout, written once by {@code cluster start} to {@code DIR/cluster.json} (owner-only: it holds
 * the object store's key) and read by every later command ({@code status}, {@code stop}, {@code job ...}): ports, the
 * number of JobManagers and TaskManagers, the object store's credentials, and where data and logs live. JobManager
 * {@code j} (1..N) listens on the REST and RPC ports plus {@code j - 1}. {@code hosts}: with {@code cluster start
 * --hosts}, each part's own address (part name to address, the client's under {@value HostNetwork#CLIENT}, see
 * {@link HostNetwork}); empty when every part runs on 127.0.0.1.
 */
public record ClusterConfig(
        Path dir,
        int kafkaPort,
        int kafkaControllerPort,
        int s3Port,
        int zooKeeperPort,
        int restPort,
        int rpcPort,
        int prometheusPort,
        int jobManagers,
        int taskManagers,
        int slots,
        int partitions,
        String taskManagerMemory,
        String s3AccessKey,
        String s3SecretKey,
        Map<String, String> hosts) {

    public static final String LOOPBACK = "127.0.0.1";

    public ClusterConfig {
        hosts = hosts == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hosts));
    }

    public static final String BUCKET = "cardiospike";
    public static final String FILE = "cluster.json";
    public static final String[] TOPICS = {"rr-events", "rr-scores", "rr-alerts", "rr-dlq", "rr-monitoring"};
    /** Partitions of each topic: parallelism 1, 2, 3 or 6 all read evenly. */
    public static final int DEFAULT_PARTITIONS = 6;
    /** ZooKeeper's tick: a client's session timeout must lie within 2 and 20 ticks (ZooKeeper's own bounds). */
    public static final int ZOOKEEPER_TICK_MS = 2000;

    /**
     * The keys of {@code flink-conf/config.yaml} the local cluster sets otherwise, and why: everything else runs as in
     * production.
     */
    public static final Map<String, String> LOCAL_OVERRIDES = Map.ofEntries(
            Map.entry("jobmanager.rpc.address", "one machine: loopback (--hosts: each JobManager's own address)"),
            Map.entry("jobmanager.rpc.port", "--rpc-port"),
            Map.entry("high-availability.jobmanager.port", "--rpc-port, one port a JobManager"),
            Map.entry("high-availability.zookeeper.quorum", "the local ZooKeeper"),
            Map.entry("jobmanager.bind-host", "one machine: loopback (--hosts: each JobManager's own address)"),
            Map.entry("rest.address", "one machine: loopback (--hosts: each JobManager's own address)"),
            Map.entry("rest.bind-address", "one machine: loopback (--hosts: each JobManager's own address)"),
            Map.entry("rest.port", "--rest-port, one port a JobManager"),
            Map.entry("taskmanager.host", "one machine: loopback (--hosts: each TaskManager's own address)"),
            Map.entry("taskmanager.bind-host", "one machine: loopback (--hosts: each TaskManager's own address)"),
            Map.entry("taskmanager.numberOfTaskSlots", "--slots"),
            Map.entry("jobmanager.memory.process.size", "several JVMs share one machine"),
            Map.entry("taskmanager.memory.process.size", "--taskmanager-memory"),
            Map.entry("s3.endpoint", "the local s3proxy"),
            Map.entry("s3.access-key", "the local s3proxy's generated key"),
            Map.entry("s3.secret-key", "the local s3proxy's generated key"),
            Map.entry("io.tmp.dirs", "under the cluster directory"),
            Map.entry("web.upload.dir", "under the cluster directory, one a JobManager"));

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A new layout with a freshly generated object-store key; {@code hosts}: as the record's (empty: loopback). */
    public static ClusterConfig create(Path dir, int kafkaPort, int s3Port, int zooKeeperPort, int restPort,
                                       int rpcPort, int prometheusPort, int jobManagers, int taskManagers, int slots,
                                       int partitions, String taskManagerMemory, Map<String, String> hosts) {
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        return new ClusterConfig(dir.toAbsolutePath().normalize(), kafkaPort, kafkaPort + 1, s3Port, zooKeeperPort,
                restPort, rpcPort, prometheusPort, jobManagers, taskManagers, slots, partitions, taskManagerMemory,
                "cardiospike", HexFormat.of().formatHex(secret), hosts);
    }

    /** Whether each part runs on a host of its own ({@code cluster start --hosts}). */
    public boolean onHosts() {
        return !hosts.isEmpty();
    }

    /** The address of a part ({@code kafka}, {@code jobmanager-2}, {@code client}...): 127.0.0.1 unless on hosts. */
    public String host(String part) {
        return hosts.getOrDefault(part, LOOPBACK);
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
        return host("kafka") + ":" + kafkaPort;
    }

    public String s3Endpoint() {
        return "http://" + host("s3") + ":" + s3Port;
    }

    public String zooKeeperQuorum() {
        return host("zookeeper") + ":" + zooKeeperPort;
    }

    /** The process name of JobManager {@code j} (1..N). */
    public static String jobManager(int j) {
        return "jobmanager-" + j;
    }

    /** JobManager 1's REST API and web UI, the address {@code start} prints (any JobManager's shows the leader's). */
    public String restUrl() {
        return restUrl(1);
    }

    public String restUrl(int jobManager) {
        return "http://" + host(jobManager(jobManager)) + ":" + restPort(jobManager);
    }

    /** JobManager {@code j}'s REST port. */
    public int restPort(int jobManager) {
        return restPort + jobManager - 1;
    }

    /** JobManager {@code j}'s RPC port (in high availability, {@code high-availability.jobmanager.port}). */
    public int rpcPort(int jobManager) {
        return rpcPort + jobManager - 1;
    }

    /** The JobManager whose REST API is at {@code url}, if any is. */
    public Optional<String> jobManagerAt(String url) {
        for (int j = 1; j <= jobManagers; j++) {
            if (restUrl(j).equals(url.replaceAll("/+$", ""))) {
                return Optional.of(jobManager(j));
            }
        }
        return Optional.empty();
    }

    /**
     * Prometheus port of JobManager {@code j}: the first on the base port, as when there was one; the standbys' come
     * after the TaskManagers', so that each TaskManager keeps its port.
     */
    public int jobManagerPrometheusPort(int j) {
        return j == 1 ? prometheusPort : prometheusPort + taskManagers + j - 1;
    }

    /** Prometheus port of TaskManager {@code i} (1..N). */
    public int taskManagerPrometheusPort(int i) {
        return prometheusPort + i;
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

    public Path zooKeeperDir() {
        return dir.resolve("zookeeper");
    }

    /** Where JobManager {@code j} keeps uploaded jars: its own, as each JobManager has its own disk in production. */
    public Path jarsDir(int jobManager) {
        return dir.resolve("jars").resolve(jobManager(jobManager));
    }

    public static String modelsUri(String modelVersion) {
        return "s3://" + BUCKET + "/models/" + modelVersion;
    }

    /**
     * Writes {@code conf/config.yaml} (the production file with {@link #LOCAL_OVERRIDES}; what differs between the
     * JobManagers the supervisor passes to each), the log configurations, s3proxy's and ZooKeeper's, and returns the
     * resolved Flink configuration.
     */
    public Configuration writeFlinkConf(Installation installation) throws IOException {
        Configuration prod = GlobalConfiguration.loadConfiguration(installation.productionFlinkConf().toString());
        Map<String, String> c = new LinkedHashMap<>(prod.toMap());
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        // the JobManagers' and TaskManagers' own addresses: the supervisor passes each its own (-D); these are the
        // first ones'
        String jobManager = host(jobManager(1)), taskManager = host("taskmanager-1");
        c.put("jobmanager.rpc.address", jobManager);
        c.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        c.put("high-availability.jobmanager.port", Integer.toString(rpcPort(1)));
        c.put("high-availability.zookeeper.quorum", zooKeeperQuorum());
        c.put("jobmanager.bind-host", jobManager);
        c.put("rest.address", jobManager);
        c.put("rest.bind-address", jobManager);
        c.put("rest.port", Integer.toString(restPort));
        c.put("taskmanager.host", taskManager);
        c.put("taskmanager.bind-host", taskManager);
        c.put("taskmanager.numberOfTaskSlots", Integer.toString(slots));
        c.put("jobmanager.memory.process.size", "1024m");
        c.put("taskmanager.memory.process.size", taskManagerMemory);
        c.put("s3.endpoint", s3Endpoint());
        c.put("s3.access-key", s3AccessKey);
        c.put("s3.secret-key", s3SecretKey);
        c.put("io.tmp.dirs", tmp.toString());
        c.put("web.upload.dir", Files.createDirectories(jarsDir(1)).toString());
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
        Files.writeString(confDir().resolve("zoo.cfg"), String.join("\n",
                "# Written by `bin/cardiospike cluster start`: the JobManagers' leader election and HA metadata.",
                "tickTime=" + ZOOKEEPER_TICK_MS,
                "dataDir=" + zooKeeperDir(),
                "clientPortAddress=" + host("zookeeper"),
                "clientPort=" + zooKeeperPort,
                // its admin server would take port 8080; the health check asks `ruok`
                "admin.enableServer=false",
                "4lw.commands.whitelist=ruok",
                "autopurge.purgeInterval=1",
                ""));
        return GlobalConfiguration.loadConfiguration(confDir().toString());
    }
}
