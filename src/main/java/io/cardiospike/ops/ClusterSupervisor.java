package io.cardiospike.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

/**
 * The local cluster's supervisor, a JVM of its own that {@code cluster start} detaches: it starts the object store,
 * the broker, ZooKeeper, the JobManagers (one leads, the others stand by) and the TaskManagers, each its own process
 * with its own log, restarts any that dies (as systemd or Kubernetes would), and keeps {@code DIR/status.json}
 * current, with the leading JobManager as ZooKeeper names it. SIGTERM ({@code cluster stop}) ends them all,
 * TaskManagers first. On hosts ({@code cluster start --hosts}) it runs on the client's host and starts each process
 * on its own ({@code ip netns exec}, which execs: the pid is the process's), every part bound to its own address.
 */
public final class ClusterSupervisor {
    public static final String STATUS_FILE = "status.json";
    public static final String PID_FILE = "supervisor.pid";
    static final Duration START_TIMEOUT = Duration.ofMinutes(3);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ClusterConfig cluster;
    private final List<ManagedProcess> processes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile JobManagerLeader leader; // from when ZooKeeper runs
    private volatile boolean stopping;
    private volatile boolean ready;
    private volatile String failure;

    ClusterSupervisor(ClusterConfig cluster, Installation installation) throws IOException {
        this.cluster = cluster;
        Configuration flink = cluster.writeFlinkConf(installation);
        Path logs = Files.createDirectories(cluster.logsDir());
        Path conf = cluster.confDir();
        Files.createDirectories(cluster.s3Dir().resolve(ClusterConfig.BUCKET)); // a bucket is a folder to s3proxy's backend
        String java = installation.java().toString();
        List<String> opens = split(flink.toMap().getOrDefault("env.java.opts.all", ""));
        String log4j = "-Dlog4j.configuration=" + conf.resolve("log4j.properties").toUri();
        Map<String, String> flinkEnv = Map.of(
                "FLINK_CONF_DIR", conf.toString(),
                "FLINK_PLUGINS_DIR", installation.pluginsDir().toString());

        processes.add(new ManagedProcess("s3", on("s3", java, "-Xmx256m",
                "-Dlogback.configurationFile=" + conf.resolve("s3proxy-logback.xml"),
                "-jar", installation.s3proxyJar().toString(), "--properties", conf.resolve("s3proxy.properties").toString()),
                Map.of(), logs.resolve("s3.log"), () -> httpAnswers(cluster.s3Endpoint() + "/")));

        List<String> kafka = new ArrayList<>(on("kafka", java, "-Xmx768m", log4j,
                "-D" + KafkaBroker.HOST_PROPERTY + "=" + cluster.host("kafka"), "-cp", installation.appClasspath(),
                KafkaBroker.class.getName(), cluster.kafkaDir().toString(), Integer.toString(cluster.kafkaPort()),
                Integer.toString(cluster.kafkaControllerPort()), Integer.toString(cluster.partitions())));
        kafka.addAll(List.of(ClusterConfig.TOPICS));
        processes.add(new ManagedProcess("kafka", kafka, Map.of(), logs.resolve("kafka.log"),
                () -> KafkaBroker.topicsExist(cluster.kafkaBootstrap(), ClusterConfig.TOPICS)));

        Files.createDirectories(cluster.zooKeeperDir());
        processes.add(new ManagedProcess("zookeeper", on("zookeeper", java, "-Xmx256m", log4j, "-cp", installation.appClasspath(),
                "org.apache.zookeeper.server.ZooKeeperServerMain", conf.resolve("zoo.cfg").toString()), Map.of(),
                logs.resolve("zookeeper.log"), this::zooKeeperOk));

        // JVM flags and dynamic properties as Flink's start scripts compute them (BashJavaUtils); what differs
        // between the JobManagers (ports, upload directory) on top.
        JobManagerProcessSpec jm = JobManagerProcessUtils.processSpecFromConfig(flink);
        for (int j = 1; j <= cluster.jobManagers(); j++) {
            String name = ClusterConfig.jobManager(j);
            List<String> jmCmd = new ArrayList<>(on(name, java));
            jmCmd.addAll(split(JobManagerProcessUtils.generateJvmParametersStr(jm, flink)));
            jmCmd.addAll(opens);
            jmCmd.addAll(List.of(log4j, "-Dlog.file=" + logs.resolve(name + ".log"), "-Djava.io.tmpdir=" + cluster.dir().resolve("tmp"),
                    "-XX:ErrorFile=" + logs.resolve("hs_err_pid%p.log"), "-cp", installation.flinkClasspath(),
                    "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", "--configDir", conf.toString(),
                    "-D", "jobmanager.rpc.address=" + cluster.host(name),
                    "-D", "jobmanager.bind-host=" + cluster.host(name),
                    "-D", "rest.address=" + cluster.host(name),
                    "-D", "rest.bind-address=" + cluster.host(name),
                    "-D", "rest.port=" + cluster.restPort(j),
                    "-D", "high-availability.jobmanager.port=" + cluster.rpcPort(j),
                    "-D", "web.upload.dir=" + Files.createDirectories(cluster.jarsDir(j)),
                    "-D", "metrics.reporter.prom.port=" + cluster.jobManagerPrometheusPort(j)));
            jmCmd.addAll(split(JobManagerProcessUtils.generateDynamicConfigsStr(jm)));
            String rest = cluster.restUrl(j);
            processes.add(new ManagedProcess(name, jmCmd, flinkEnv, logs.resolve(name + ".log"),
                    () -> httpOk(rest + "/overview")));
        }

        TaskExecutorProcessSpec tm = TaskExecutorProcessUtils.processSpecFromConfig(flink);
        for (int i = 1; i <= cluster.taskManagers(); i++) {
            String name = "taskmanager-" + i;
            List<String> tmCmd = new ArrayList<>(on(name, java));
            tmCmd.addAll(split(ProcessMemoryUtils.generateJvmParametersStr(tm)));
            tmCmd.addAll(opens);
            tmCmd.addAll(List.of(log4j, "-Dlog.file=" + logs.resolve(name + ".log"), "-Djava.io.tmpdir=" + cluster.dir().resolve("tmp"),
                    "-XX:ErrorFile=" + logs.resolve("hs_err_pid%p.log"), "-cp", installation.flinkClasspath(),
                    "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "--configDir", conf.toString(),
                    "-D", "taskmanager.resource-id=" + name,
                    "-D", "taskmanager.host=" + cluster.host(name),
                    "-D", "taskmanager.bind-host=" + cluster.host(name),
                    "-D", "metrics.reporter.prom.port=" + cluster.taskManagerPrometheusPort(i)));
            tmCmd.addAll(split(TaskExecutorProcessUtils.generateDynamicConfigsStr(tm)));
            processes.add(new ManagedProcess(name, tmCmd, flinkEnv, logs.resolve(name + ".log"),
                    () -> taskManagerRegistered(name)));
        }
    }

    /** The command line that runs {@code command} on {@code part}'s host: as it is on loopback. */
    private List<String> on(String part, String... command) {
        List<String> cmd = new ArrayList<>();
        if (cluster.onHosts()) {
            cmd.addAll(HostNetwork.CLUSTER.exec(part));
        }
        cmd.addAll(List.of(command));
        return cmd;
    }

    public static void main(String[] args) throws Exception {
        ClusterConfig cluster = ClusterConfig.load(Path.of(args[0]));
        ClusterSupervisor supervisor = new ClusterSupervisor(cluster, Installation.current());
        Files.writeString(cluster.dir().resolve(PID_FILE), Long.toString(ProcessHandle.current().pid()));
        Runtime.getRuntime().addShutdownHook(new Thread(supervisor::stopAll, "cluster-stop"));
        supervisor.run();
    }

    void run() throws Exception {
        log("starting " + processes.stream().map(p -> p.name).toList() + " in " + cluster.dir());
        Instant start = Instant.now();
        // The object store, the broker and ZooKeeper need nothing else; Flink's JobManagers come next, then the
        // TaskManagers.
        startAndAwait(group("s3", "kafka", "zookeeper"), start);
        if (failure == null && !stopping) {
            leader = new JobManagerLeader(cluster);
        }
        startAndAwait(group("jobmanager-"), start);
        startAndAwait(group("taskmanager-"), start);
        if (failure != null) {
            writeStatus();
            log(failure);
            System.exit(1);
        }
        ready = true;
        log("all running after " + Duration.between(start, Instant.now()).toMillis() + " ms");
        writeStatus();
        String last = statusLine();
        while (!stopping) {
            for (ManagedProcess p : processes) {
                if (!stopping) {
                    p.check();
                }
            }
            String now = statusLine(); // the leader changes by itself, between checks too
            if (!now.equals(last)) {
                log(now);
                writeStatus();
                last = now;
            }
            Thread.sleep(500);
        }
    }

    /** The processes whose names start with one of {@code prefixes}. */
    private List<ManagedProcess> group(String... prefixes) {
        return processes.stream().filter(p -> Arrays.stream(prefixes).anyMatch(p.name::startsWith)).toList();
    }

    private void startAndAwait(List<ManagedProcess> group, Instant start) throws Exception {
        if (failure != null) {
            return;
        }
        for (ManagedProcess p : group) {
            p.start();
        }
        writeStatus();
        while (!stopping && group.stream().anyMatch(p -> !p.isRunning())) {
            if (Duration.between(start, Instant.now()).compareTo(START_TIMEOUT) > 0) {
                failure = "not healthy within " + START_TIMEOUT.toSeconds() + " s: "
                        + group.stream().filter(p -> !p.isRunning()).map(p -> p.name + " (" + p.log() + ")").toList();
                return;
            }
            for (ManagedProcess p : group) {
                p.check();
            }
            writeStatus();
            Thread.sleep(250);
        }
    }

    /**
     * TaskManagers first (their jobs' tasks end), then the JobManagers, the leader last (stopped first, it would hand
     * its jobs to a standby about to stop), then ZooKeeper, broker and object store. The jobs stay in ZooKeeper and
     * the object store: the next start runs them again.
     */
    private void stopAll() {
        stopping = true;
        ready = false;
        log("stopping");
        Optional<String> leading = leading();
        group("taskmanager-").parallelStream().forEach(p -> p.stop(20));
        group("jobmanager-").stream().sorted(Comparator.comparing(p -> leading.equals(Optional.of(p.name))))
                .forEach(p -> p.stop(20));
        List<ManagedProcess> rest = new ArrayList<>(group("zookeeper", "kafka", "s3"));
        Collections.reverse(rest);
        rest.forEach(p -> p.stop(20));
        if (leader != null) {
            leader.close();
        }
        try {
            writeStatus();
            Files.deleteIfExists(cluster.dir().resolve(PID_FILE));
        } catch (IOException e) {
            log("status not written: " + e);
        }
        log("stopped");
    }

    private String statusLine() {
        StringBuilder sb = new StringBuilder();
        for (ManagedProcess p : processes) {
            sb.append(p.name).append('=').append(p.state()).append('/').append(p.restarts()).append(' ');
        }
        return sb.append("leader=").append(leading().orElse("none")).toString();
    }

    /** The leading JobManager's name, as ZooKeeper holds it. */
    private Optional<String> leading() {
        return leader == null ? Optional.empty() : leader.restUrl().flatMap(cluster::jobManagerAt);
    }

    private synchronized void writeStatus() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("supervisor_pid", ProcessHandle.current().pid());
        root.put("ready", ready);
        if (failure != null) {
            root.put("failure", failure);
        }
        root.put("leader", leading().orElse(null));
        ArrayNode list = root.putArray("processes");
        for (ManagedProcess p : processes) {
            list.addObject().put("name", p.name).put("pid", p.pid()).put("state", p.state().name())
                    .put("restarts", p.restarts()).put("log", p.log().toString());
        }
        Path tmp = cluster.dir().resolve(STATUS_FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), root);
        Files.move(tmp, cluster.dir().resolve(STATUS_FILE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private boolean httpAnswers(String url) {
        return httpStatus(url) > 0;
    }

    private boolean httpOk(String url) {
        return httpStatus(url) == 200;
    }

    private int httpStatus(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** ZooKeeper's own health check: {@code ruok}, answered {@code imok}. */
    private boolean zooKeeperOk() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(cluster.host("zookeeper"), cluster.zooKeeperPort()), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("ruok".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).equals("imok");
        } catch (IOException e) {
            return false;
        }
    }

    /** Registered with the leading JobManager's ResourceManager. */
    private boolean taskManagerRegistered(String resourceId) {
        Optional<String> rest = leader == null ? Optional.empty() : leader.restUrl();
        if (rest.isEmpty()) {
            return false;
        }
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(rest.get() + "/taskmanagers"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return false;
            }
            for (JsonNode tm : JSON.readTree(r.body()).path("taskmanagers")) {
                if (tm.path("id").asText().equals(resourceId)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static List<String> split(String s) {
        return Arrays.stream(s.trim().split("\\s+")).filter(x -> !x.isEmpty()).toList();
    }

    private static void log(String message) {
        System.out.println(Instant.now() + " supervisor: " + message);
    }
}
