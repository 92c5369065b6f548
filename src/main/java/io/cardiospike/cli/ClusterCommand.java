package io.cardiospike.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.ops.ClusterConfig;
import io.cardiospike.ops.ClusterSupervisor;
import io.cardiospike.ops.HostNetwork;
import io.cardiospike.ops.Installation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cluster start|stop|status}: a real deployment on one machine, without Docker: Kafka (KRaft), an S3 object
 * store (s3proxy), ZooKeeper, a Flink standalone session cluster in high availability (a leading JobManager, standbys,
 * N TaskManagers), each its own process under a detached supervisor ({@link ClusterSupervisor}) that restarts any that
 * dies.
 */
@Command(name = "cluster", description = "Run a local Kafka + S3 + ZooKeeper + Flink cluster as supervised processes.",
        subcommands = {ClusterCommand.Start.class, ClusterCommand.Stop.class, ClusterCommand.Status.class})
final class ClusterCommand {

    /** {@code --cluster-dir}: shared by the cluster and job commands. */
    static final class Dir {
        @Option(names = "--cluster-dir", defaultValue = "${env:CARDIOSPIKE_CLUSTER_DIR:-${sys:user.home}/.cache/cardiospike/cluster}",
                description = "where the cluster keeps its data, configuration and logs (default ${DEFAULT-VALUE})")
        Path dir;

        ClusterConfig load() throws IOException {
            return ClusterConfig.load(dir);
        }

        /** The cluster in the default directory (this option's default, resolved by picocli), if one is there. */
        static Optional<ClusterConfig> loadDefault() {
            try {
                return Optional.of(CommandLine.populateCommand(new Dir()).load());
            } catch (IOException noClusterThere) {
                return Optional.empty();
            }
        }
    }

    @Command(name = "start", description = "Start the cluster; returns when every process is healthy.")
    static final class Start implements Callable<Integer> {
        @Mixin Dir dir;

        @Option(names = "--jobmanagers", defaultValue = "2",
                description = "JobManager processes: one leads, the others stand by (default ${DEFAULT-VALUE})")
        int jobManagers;

        @Option(names = "--taskmanagers", defaultValue = "2", description = "TaskManager processes (default ${DEFAULT-VALUE})")
        int taskManagers;

        @Option(names = "--slots", defaultValue = "2", description = "task slots per TaskManager (default ${DEFAULT-VALUE})")
        int slots;

        @Option(names = "--taskmanager-memory", defaultValue = "1600m",
                description = "each TaskManager's process size (default ${DEFAULT-VALUE})")
        String taskManagerMemory;

        @Option(names = "--partitions", defaultValue = "" + ClusterConfig.DEFAULT_PARTITIONS,
                description = "partitions of each topic (default ${DEFAULT-VALUE}: parallelism 1, 2, 3 or 6 all read evenly)")
        int partitions;

        @Option(names = "--kafka-port", defaultValue = "9092", description = "broker port (default ${DEFAULT-VALUE}; the controller uses the next one)")
        int kafkaPort;

        @Option(names = "--s3-port", defaultValue = "9000", description = "object store port (default ${DEFAULT-VALUE})")
        int s3Port;

        @Option(names = "--zookeeper-port", defaultValue = "2181", description = "ZooKeeper port (default ${DEFAULT-VALUE})")
        int zooKeeperPort;

        @Option(names = "--rest-port", defaultValue = "8081",
                description = "Flink REST API and web UI port of JobManager 1; JobManager j uses this + j - 1 (default ${DEFAULT-VALUE})")
        int restPort;

        @Option(names = "--rpc-port", defaultValue = "6123",
                description = "RPC port of JobManager 1; JobManager j uses this + j - 1 (default ${DEFAULT-VALUE})")
        int rpcPort;

        @Option(names = "--prometheus-port", defaultValue = "9249",
                description = "Prometheus port of JobManager 1; TaskManager i uses this + i, then the other JobManagers "
                        + "(default ${DEFAULT-VALUE})")
        int prometheusPort;

        @Option(names = "--fresh", description = "delete the previous cluster's data (topics, checkpoints, bundles) first")
        boolean fresh;

        @Option(names = "--hosts", description = "each part on a host of its own: a Linux network namespace "
                + "(cs-zookeeper, cs-kafka, cs-s3, cs-jobmanager-J, cs-taskmanager-I) with its own address on "
                + "10.231.0.0/24 and no default route, all on one bridge; the client commands (job, produce, consume, "
                + "chaos) then run in cs-client by themselves. Needs root and iproute2's ip (docs/operations.md)")
        boolean hosts;

        @Override
        public Integer call() throws Exception {
            Installation installation = Installation.current();
            installation.requireBuilt();
            Path home = dir.dir.toAbsolutePath().normalize();
            Optional<ProcessHandle> running = supervisor(home);
            if (running.isPresent()) {
                throw new UserException("a cluster is already running from " + home + " (supervisor pid "
                        + running.get().pid() + "); stop it first: bin/cardiospike cluster stop");
            }
            if (jobManagers < 1 || taskManagers < 1 || slots < 1 || partitions < 1) {
                throw new UserException("--jobmanagers, --taskmanagers, --slots and --partitions must be at least 1");
            }
            Map<String, String> hostAddresses = hosts ? HostNetwork.CLUSTER.hosts(jobManagers, taskManagers) : Map.of();
            ClusterConfig cluster = ClusterConfig.create(home, kafkaPort, s3Port, zooKeeperPort, restPort, rpcPort,
                    prometheusPort, jobManagers, taskManagers, slots, partitions, taskManagerMemory, hostAddresses);
            for (Map.Entry<String, Integer> port : ports(cluster).entrySet()) {
                if (!hosts && !portFree(port.getValue())) { // on hosts each part has an address of its own
                    throw new UserException("port " + port.getValue() + " (" + port.getKey() + ") is in use; free it or "
                            + "choose another with the option of that name (see bin/cardiospike cluster start --help)");
                }
            }
            if (fresh && Files.exists(home)) {
                deleteTree(home);
            } else if (Files.isDirectory(cluster.kafkaDir())) {
                System.err.println("keeping the previous cluster's data in " + home + " (topics, checkpoints, "
                        + "savepoints, bundles); start --fresh to begin empty");
            }
            Files.createDirectories(cluster.logsDir());
            Files.deleteIfExists(home.resolve(ClusterSupervisor.STATUS_FILE));
            cluster.save();
            cluster.writeFlinkConf(installation); // the supervisor's log configuration is in there too

            long t0 = System.nanoTime();
            if (hosts) {
                try {
                    HostNetwork.CLUSTER.create(hostAddresses);
                } catch (IOException e) {
                    throw new UserException("--hosts: the network namespaces could not be made (root and iproute2's ip "
                            + "needed): " + e.getMessage());
                }
            }
            Path log = cluster.logsDir().resolve("supervisor.log");
            List<String> cmd = new ArrayList<>();
            if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
                cmd.add("/usr/bin/setsid"); // its own session: a Ctrl-C in this terminal later does not reach it
            }
            if (hosts) {
                cmd.addAll(HostNetwork.CLUSTER.exec(HostNetwork.CLIENT)); // it reaches every part, as clients do
            }
            cmd.addAll(List.of(installation.java().toString(), "-Xmx256m",
                    "-Dlog4j.configuration=" + cluster.confDir().resolve("log4j.properties").toUri(),
                    "-cp", installation.appClasspath(), ClusterSupervisor.class.getName(), home.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().put("CARDIOSPIKE_HOME", installation.home().toString());
            Process supervisor = pb.start();
            System.err.println("starting the cluster in " + home + " (logs: " + cluster.logsDir() + ")...");

            Set<String> announced = new HashSet<>();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            while (true) {
                JsonNode status = readStatus(home);
                if (status != null) {
                    for (JsonNode p : status.path("processes")) {
                        if (p.path("state").asText().equals("RUNNING") && announced.add(p.path("name").asText())) {
                            System.err.printf("  %-14s running (pid %d) after %.1f s%n", p.path("name").asText(),
                                    p.path("pid").asLong(), (System.nanoTime() - t0) / 1e9);
                        }
                    }
                    if (status.path("ready").asBoolean()) {
                        break;
                    }
                    if (status.has("failure")) {
                        throw new UserException("cluster did not start: " + status.path("failure").asText()
                                + " (supervisor log: " + log + ")");
                    }
                }
                if (!supervisor.isAlive()) {
                    throw new UserException("the cluster supervisor exited (" + supervisor.exitValue() + "): see " + log);
                }
                if (System.nanoTime() > deadline) {
                    supervisor.destroy();
                    throw new UserException("cluster not healthy within 4 minutes; stopped it. Logs: " + cluster.logsDir());
                }
                Thread.sleep(250);
            }
            System.out.printf("cluster started in %.1f s (%s)%n", (System.nanoTime() - t0) / 1e9, home);
            System.out.println("  kafka        " + cluster.kafkaBootstrap() + "  topics " + String.join(", ", ClusterConfig.TOPICS)
                    + " (" + partitions + " partitions)");
            System.out.println("  s3           " + cluster.s3Endpoint() + "  bucket " + ClusterConfig.BUCKET
                    + " (key in " + home.resolve(ClusterConfig.FILE) + ")");
            System.out.println("  flink        " + cluster.restUrl() + "  (REST API and web UI), " + taskManagers
                    + " TaskManagers x " + slots + " slots, " + jobManagers + (jobManagers == 1 ? " JobManager" : " JobManagers")
                    + " (leader " + leader(readStatus(home)).orElse("not yet elected") + "; each one's web UI shows the leader's)");
            System.out.println("  zookeeper    " + cluster.zooKeeperQuorum() + "  leader election, HA metadata in "
                    + "s3://" + ClusterConfig.BUCKET + "/ha");
            System.out.println("  prometheus   http://" + cluster.host(ClusterConfig.jobManager(1)) + ":"
                    + cluster.jobManagerPrometheusPort(1) + "/metrics (jobmanager), ports "
                    + cluster.taskManagerPrometheusPort(1) + "-" + cluster.taskManagerPrometheusPort(taskManagers)
                    + " (taskmanagers)" + (jobManagers > 1 ? ", " + cluster.jobManagerPrometheusPort(2) + "-"
                    + cluster.jobManagerPrometheusPort(jobManagers) + " (jobmanagers 2-" + jobManagers + ")" : ""));
            System.out.println("  logs         " + cluster.logsDir());
            if (hosts) {
                System.out.println("  hosts        " + String.join(", ", hostAddresses.entrySet().stream()
                        .map(h -> h.getKey() + " " + h.getValue()).toList()));
                System.out.println("               network namespaces " + HostNetwork.CLUSTER.namespace("*")
                        + ", bridge in " + HostNetwork.CLUSTER.bridgeNamespace() + "; job, produce, consume and chaos "
                        + "run in " + HostNetwork.CLUSTER.namespace(HostNetwork.CLIENT));
            }
            System.out.println("next: bin/cardiospike job submit --model models");
            return 0;
        }
    }

    @Command(name = "stop", description = "Stop every process the cluster started; returns when their ports are free.")
    static final class Stop implements Callable<Integer> {
        @Mixin Dir dir;

        @Override
        public Integer call() throws Exception {
            Path home = dir.dir.toAbsolutePath().normalize();
            ClusterConfig cluster = dir.load();
            Optional<ProcessHandle> supervisor = supervisor(home);
            if (supervisor.isPresent()) {
                System.err.println("stopping the cluster (supervisor pid " + supervisor.get().pid() + ")...");
                supervisor.get().destroy(); // SIGTERM: it stops TaskManagers, JobManager, broker, object store
                supervisor.get().onExit().completeOnTimeout(null, 120, TimeUnit.SECONDS).join();
                if (supervisor.get().isAlive()) {
                    supervisor.get().destroyForcibly();
                }
            }
            // Whatever survived a killed supervisor: every recorded pid that is still one of this cluster's processes.
            int killed = 0;
            JsonNode status = readStatus(home);
            if (status != null) {
                for (JsonNode p : status.path("processes")) {
                    Optional<ProcessHandle> h = ProcessHandle.of(p.path("pid").asLong());
                    if (h.isPresent() && h.get().isAlive() && ours(h.get(), home)) {
                        h.get().destroyForcibly();
                        h.get().onExit().completeOnTimeout(null, 10, TimeUnit.SECONDS).join();
                        killed++;
                    }
                }
            }
            Files.deleteIfExists(home.resolve(ClusterSupervisor.PID_FILE));
            if (cluster.onHosts()) {
                deleteHosts(killed);
                return 0;
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<String> busy;
            do {
                busy = new ArrayList<>();
                for (Map.Entry<String, Integer> port : ports(cluster).entrySet()) {
                    if (!portFree(port.getValue())) {
                        busy.add(port.getKey() + " " + port.getValue());
                    }
                }
                if (!busy.isEmpty()) {
                    Thread.sleep(200);
                }
            } while (!busy.isEmpty() && System.nanoTime() < deadline);
            if (!busy.isEmpty()) {
                throw new UserException("cluster stopped, but ports still open: " + busy);
            }
            System.out.println("cluster stopped" + (killed > 0 ? " (" + killed + " orphaned processes killed)" : "")
                    + "; its ports are free. Data stays in " + home + " (start --fresh to delete it)");
            return 0;
        }

        /** Once no process runs on them (30 s at most), the hosts' namespaces are deleted. */
        private void deleteHosts(int killed) throws Exception {
            HostNetwork network = HostNetwork.CLUSTER;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (network.inUse() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            try {
                network.delete();
            } catch (IOException e) {
                throw new UserException("cluster stopped, but its hosts stay: " + e.getMessage());
            }
            System.out.println("cluster stopped" + (killed > 0 ? " (" + killed + " orphaned processes killed)" : "")
                    + "; its hosts (network namespaces " + network.namespace("*") + ") are deleted. Data stays in "
                    + dir.dir.toAbsolutePath().normalize() + " (start --fresh to delete it)");
        }
    }

    @Command(name = "status", description = "One line per process: NAME pid PID STATE restarts N, and 'leader' after the "
            + "leading JobManager.")
    static final class Status implements Callable<Integer> {
        @Mixin Dir dir;

        @Override
        public Integer call() throws Exception {
            Path home = dir.dir.toAbsolutePath().normalize();
            dir.load();
            JsonNode status = readStatus(home);
            boolean supervised = supervisor(home).isPresent();
            if (status == null) {
                throw new UserException("no cluster status in " + home + " (start one: bin/cardiospike cluster start)");
            }
            boolean allRunning = supervised;
            Optional<String> leader = supervised ? leader(status) : Optional.empty();
            for (JsonNode p : status.path("processes")) {
                long pid = p.path("pid").asLong();
                boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                String state = supervised ? p.path("state").asText() : alive ? "UNSUPERVISED" : "STOPPED";
                allRunning &= state.equals("RUNNING");
                String name = p.path("name").asText();
                System.out.println(name + " pid " + pid + " " + state + " restarts " + p.path("restarts").asInt()
                        + (leader.equals(Optional.of(name)) ? " leader" : ""));
            }
            return allRunning ? 0 : 3;
        }
    }

    /** The leading JobManager, as the supervisor last saw it in ZooKeeper. */
    static Optional<String> leader(JsonNode status) {
        return status == null || !status.path("leader").isTextual() ? Optional.empty()
                : Optional.of(status.path("leader").asText());
    }

    /** Every port the cluster listens on, by what uses it. */
    static Map<String, Integer> ports(ClusterConfig c) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("kafka", c.kafkaPort());
        ports.put("kafka controller", c.kafkaControllerPort());
        ports.put("s3", c.s3Port());
        ports.put("zookeeper", c.zooKeeperPort());
        for (int j = 1; j <= c.jobManagers(); j++) {
            String jm = ClusterConfig.jobManager(j);
            ports.put(jm + " rest", c.restPort(j));
            ports.put(jm + " rpc", c.rpcPort(j));
            ports.put("prometheus " + jm, c.jobManagerPrometheusPort(j));
        }
        for (int i = 1; i <= c.taskManagers(); i++) {
            ports.put("prometheus taskmanager-" + i, c.taskManagerPrometheusPort(i));
        }
        return ports;
    }

    static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The live supervisor of the cluster in {@code home}, if any. */
    static Optional<ProcessHandle> supervisor(Path home) {
        Path pidFile = home.resolve(ClusterSupervisor.PID_FILE);
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> ours(h, home));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** A pid can be reused: only a process whose command line names this cluster's directory is one of ours. */
    private static boolean ours(ProcessHandle h, Path home) {
        return h.info().commandLine().map(cmd -> cmd.contains(home.toString())).orElse(false);
    }

    static JsonNode readStatus(Path home) throws IOException {
        Path file = home.resolve(ClusterSupervisor.STATUS_FILE);
        return Files.isRegularFile(file) ? new ObjectMapper().readTree(file.toFile()) : null;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
