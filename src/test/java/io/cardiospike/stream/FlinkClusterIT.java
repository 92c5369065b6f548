package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded job jar ({@code target/cardiospike-job.jar}) on a real standalone Flink session cluster, submitted the
 * way {@code flink run -d} submits it.
 *
 * <p>There is no flink-dist on Maven Central, so the cluster is assembled from this test's classpath: a JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and a TaskManager ({@code TaskManagerRunner}), each its own JVM with a
 * generated {@code config.yaml} and the JVM memory flags Flink's start scripts would compute
 * ({@link JobManagerProcessUtils}, {@link TaskExecutorProcessUtils}, as {@code BashJavaUtils} does). The submission
 * is {@code CliFrontend} (the {@code flink} CLI's main class) in a third JVM with {@code FLINK_CONF_DIR} set.
 *
 * <p>The cluster classpath is this test's classpath without the project's own classes and jars (everything under
 * {@code target/}) and without the libraries the job jar bundles (Kafka clients and connector, ONNX Runtime,
 * lightgbm4j, Jackson, picocli, compression codecs), so that, as on a real cluster, the job's classes and its
 * dependencies can only come from the submitted jar through Flink's child-first user-code classloader. (With the
 * connector on the cluster classpath, Flink's parent-first {@code org.apache.flink.} pattern would load it from
 * there and hide a broken jar.)
 */
class FlinkClusterIT {
    static final Path JOB_JAR = Path.of("target/cardiospike-job.jar").toAbsolutePath();
    static final Path MODELS = Path.of("models").toAbsolutePath();
    static final String[] TOPICS = {"rr-events", "rr-scores", "rr-alerts", "rr-dlq"};

    /** Path fragments (in the local Maven repository) of the libraries the job jar bundles itself. */
    static final List<String> BUNDLED_IN_JOB_JAR = List.of(
            "/org/apache/kafka/", "/org/apache/flink/flink-connector-kafka/", "/com/microsoft/onnxruntime/",
            "/io/github/metarank/", "/com/fasterxml/jackson/", "/info/picocli/", "/com/github/luben/zstd-jni/",
            "/org/xerial/snappy/", "/at/yawk/lz4/", "/org/lz4/");

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, Path> logs = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String restUrl;

    @Test
    void theShadedJobJarRunsOnAStandaloneClusterAndScoresLikeTheBatchScorer() throws Throwable {
        assertThat(JOB_JAR).as("run `mvn package` first").exists();
        EmbeddedKafka kafka = null;
        String jobId = null;
        Thread killCluster = new Thread(() -> processes.values().forEach(Process::destroyForcibly));
        Runtime.getRuntime().addShutdownHook(killCluster); // the test JVM killed: no orphaned cluster
        try {
            kafka = EmbeddedKafka.start(dir.resolve("kafka"));
            kafka.createTopics(2, TOPICS);

            Path conf = writeClusterConfig();
            startCluster(conf);
            awaitTaskManager();
            log("cluster up");

            // The beats are in rr-events before the job starts, so both source partitions have data from their
            // first fetch. (Produced after the start, one partition may be marked idle before its first records
            // arrive: the other partition's watermark then runs ahead and the whole backlog of the idle one is late.)
            List<Recording> recordings = SyntheticRr.recordings(4, 250, 400, 20261124L);
            int beats = recordings.stream().mapToInt(Recording::size).sum();
            try (ReplayProducer producer = new ReplayProducer(kafka.bootstrapServers(), "rr-events",
                    Double.POSITIVE_INFINITY)) {
                producer.send(ReplayProducer.interleave(recordings, ReplayProducer.REPLAY_BASE_EPOCH_MS), null);
            }

            jobId = submit(conf, kafka.bootstrapServers());
            String id = jobId;
            log("submitted " + jobId);
            await("job RUNNING", 60_000, () -> "RUNNING".equals(jobState(id)));
            log("job RUNNING");

            Map<String, List<JsonNode>> scores = new ConcurrentHashMap<>();
            List<JsonNode> deadLetters = new CopyOnWriteArrayList<>();
            try (TopicReader reader = new TopicReader(kafka.bootstrapServers(), List.of("rr-scores", "rr-dlq"),
                    r -> {
                        if (r.topic().equals("rr-scores")) {
                            scores.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(r.value());
                        } else {
                            deadLetters.add(r.value());
                        }
                    })) {
                await("all " + beats + " beats scored", 90_000,
                        () -> scores.values().stream().mapToInt(List::size).sum() >= beats,
                        () -> "scores per patient so far: " + recordings.stream().map(r -> r.id() + " "
                                + scores.getOrDefault(r.id(), List.of()).size() + "/" + r.size()).toList()
                                + ", dead letters " + deadLetters.size());
                log("all beats scored");
                Thread.sleep(1_500); // another checkpoint: nothing more may arrive
            }

            try (EnsembleScorer scorer = EnsembleScorer.open(MODELS)) {
                for (Recording rec : recordings) {
                    double[] batch = scorer.scoreRecording(rec.rr()).proba();
                    List<JsonNode> stream = new ArrayList<>(scores.getOrDefault(rec.id(), List.of()));
                    assertThat(stream).as("scores of %s", rec.id()).hasSize(rec.size());
                    stream.sort((a, b) -> Long.compare(a.path("ts").asLong(), b.path("ts").asLong()));
                    for (int i = 0; i < rec.size(); i++) {
                        assertThat(stream.get(i).path("ts").asLong()).isEqualTo(
                                ReplayProducer.replayTs(rec.time()[i], ReplayProducer.REPLAY_BASE_EPOCH_MS));
                        assertThat(stream.get(i).path("proba").asDouble()).as("%s beat %d", rec.id(), i)
                                .isCloseTo(batch[i], within(1e-5));
                    }
                }
            }
            assertThat(deadLetters).isEmpty();
            assertThat(jobState(jobId)).as("job state on the cluster (/jobs/overview)").isEqualTo("RUNNING");
            JsonNode exceptions = get("/jobs/" + jobId + "/exceptions");
            assertThat(exceptions.path("exceptionHistory").has("entries")).as("/exceptions: %s", exceptions).isTrue();
            assertThat(exceptions.path("exceptionHistory").path("entries")).as("job failures (restarts)").isEmpty();

            cancel(jobId);
            jobId = null;
        } catch (Throwable t) {
            stopCluster();
            throw new AssertionError(t.getMessage() + "\n" + kafkaState(kafka) + keepLogs() + logTails(), t);
        } finally {
            if (jobId != null) {
                try {
                    cancel(jobId);
                } catch (Exception | AssertionError ignored) {
                    // the cluster goes away next anyway
                }
            }
            stopCluster();
            Runtime.getRuntime().removeShutdownHook(killCluster);
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    /** {@code config.yaml} of the cluster (and of the CLI, which reads the REST address from it). */
    private Path writeClusterConfig() throws IOException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path tmp = Files.createDirectories(dir.resolve("flink-tmp"));
        Map<String, String> c = new LinkedHashMap<>();
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", Integer.toString(freePort()));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("jobmanager.memory.process.size", "1024m");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", Integer.toString(freePort()));
        c.put("taskmanager.host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.numberOfTaskSlots", "2");
        c.put("taskmanager.memory.process.size", "1600m");
        c.put("taskmanager.memory.managed.size", "256m");
        c.put("parallelism.default", "2");
        c.put("classloader.resolve-order", "child-first");
        c.put("state.backend.type", "rocksdb");
        c.put("io.tmp.dirs", tmp.toString());
        c.put("env.java.opts.all", String.join(" ", javaOpens()));
        StringBuilder yaml = new StringBuilder("# generated by FlinkClusterIT\n");
        c.forEach((k, v) -> yaml.append(k).append(": ").append(v.isEmpty() || v.contains(" ") ? quote(v) : v)
                .append('\n'));
        Files.writeString(conf.resolve("config.yaml"), yaml);
        Files.writeString(conf.resolve("log4j-cluster.properties"), """
                log4j.rootLogger=INFO, out
                log4j.logger.org.apache.kafka=WARN
                log4j.logger.org.apache.flink.runtime.checkpoint=WARN
                log4j.logger.org.apache.flink.connector.kafka.sink=WARN
                log4j.appender.out=org.apache.log4j.ConsoleAppender
                log4j.appender.out.Target=System.out
                log4j.appender.out.layout=org.apache.log4j.PatternLayout
                log4j.appender.out.layout.ConversionPattern=%d{HH:mm:ss,SSS} %-5p %c{1} [%t] - %m%n
                """);
        restUrl = "http://127.0.0.1:" + c.get("rest.port");
        return conf;
    }

    private void startCluster(Path conf) throws IOException {
        Configuration config = GlobalConfiguration.loadConfiguration(conf.toString());

        // JVM flags and dynamic properties as Flink's start scripts compute them (BashJavaUtils).
        JobManagerProcessSpec jm = JobManagerProcessUtils.processSpecFromConfig(config);
        List<String> jmCmd = javaCommand(conf, JobManagerProcessUtils.generateJvmParametersStr(jm, config));
        jmCmd.add("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
        jmCmd.addAll(List.of("--configDir", conf.toString()));
        jmCmd.addAll(split(JobManagerProcessUtils.generateDynamicConfigsStr(jm)));
        start("jobmanager", jmCmd, Map.of());

        TaskExecutorProcessSpec tm = TaskExecutorProcessUtils.processSpecFromConfig(config);
        List<String> tmCmd = javaCommand(conf, ProcessMemoryUtils.generateJvmParametersStr(tm));
        tmCmd.add("org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
        tmCmd.addAll(List.of("--configDir", conf.toString()));
        tmCmd.addAll(split(TaskExecutorProcessUtils.generateDynamicConfigsStr(tm)));
        start("taskmanager", tmCmd, Map.of());
    }

    /** {@code flink run -d target/cardiospike-job.jar ...}: the CLI's main class in its own JVM; returns the job id. */
    private String submit(Path conf, String bootstrapServers) throws Exception {
        List<String> cmd = javaCommand(conf, "-Xmx512m -XX:TieredStopAtLevel=1");
        cmd.add("org.apache.flink.client.cli.CliFrontend");
        cmd.addAll(List.of("run", "-d", JOB_JAR.toString(),
                "--bootstrap-servers", bootstrapServers,
                "--model-dir", MODELS.toString(),
                "--checkpoint-dir", dir.resolve("checkpoints").toUri().toString(),
                "--checkpoint-interval", "1s",
                "--idle-flush", "3s",
                "--watermark-idleness", "30s",
                "--transaction-timeout", "1min",
                "--parallelism", "2"));
        Process cli = start("flink-run", cmd, Map.of("FLINK_CONF_DIR", conf.toString()));
        if (!cli.waitFor(90, TimeUnit.SECONDS)) {
            cli.destroyForcibly();
            throw new AssertionError("flink run did not return within 90 s");
        }
        String out = Files.readString(logs.get("flink-run"));
        assertThat(cli.exitValue()).as("flink run exit code").isZero();
        Matcher m = Pattern.compile("JobID ([0-9a-f]{32})").matcher(out);
        assertThat(m.find()).as("flink run printed the job id").isTrue();
        return m.group(1);
    }

    private List<String> javaCommand(Path conf, String jvmFlags) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(split(jvmFlags));
        cmd.add("-XX:ErrorFile=" + dir.resolve("logs").resolve("hs_err_pid%p.log"));
        cmd.addAll(split(System.getenv().getOrDefault("FLINK_CLUSTER_IT_JVM_OPTS", "")));
        cmd.addAll(javaOpens());
        cmd.add("-Dlog4j.configuration=" + conf.resolve("log4j-cluster.properties").toUri());
        cmd.add("-Djava.io.tmpdir=" + dir.resolve("flink-tmp"));
        cmd.add("-cp");
        cmd.add(clusterClasspath());
        return cmd;
    }

    private Process start(String name, List<String> cmd, Map<String, String> env) throws IOException {
        Path log = dir.resolve("logs").resolve(name + ".log");
        Files.createDirectories(log.getParent());
        logs.put(name, log);
        List<String> shown = new ArrayList<>(cmd);
        int cp = shown.indexOf("-cp");
        shown.set(cp + 1, "<" + shown.get(cp + 1).split(File.pathSeparator).length + " entries, see classpath.txt>");
        Files.writeString(log, String.join(" ", shown) + "\n");
        Files.writeString(log.resolveSibling("classpath.txt"), String.join("\n", cmd.get(cp + 1).split(File.pathSeparator)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        processes.put(name, p);
        return p;
    }

    /**
     * The test classpath minus the project's own classes and jars, minus what the job jar bundles, minus Flink's
     * test jars (they register test services, such as delegation token providers, a real cluster does not have).
     */
    static String clusterClasspath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path target = Path.of("target").toAbsolutePath().normalize();
        List<String> kept = new ArrayList<>();
        for (String entry : cp.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry).toAbsolutePath().normalize();
            String unix = p.toString().replace(File.separatorChar, '/');
            if (p.startsWith(target) || unix.endsWith("-tests.jar")
                    || BUNDLED_IN_JOB_JAR.stream().anyMatch(unix::contains)) {
                continue;
            }
            kept.add(p.toString());
        }
        assertThat(kept).as("cluster classpath").anyMatch(e -> e.contains("flink-runtime"));
        return String.join(File.pathSeparator, kept);
    }

    /** The {@code --add-opens} flags this JVM got (the pom's {@code jvm.opens}). */
    static List<String> javaOpens() {
        List<String> opens = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("--add-exports"))
                .toList();
        assertThat(opens).as("--add-opens of the test JVM (pom: jvm.opens)").isNotEmpty();
        return opens;
    }

    private void awaitTaskManager() throws Exception {
        await("a registered TaskManager", 90_000, () -> {
            try {
                return get("/taskmanagers").path("taskmanagers").size() > 0;
            } catch (IOException e) {
                return false; // REST endpoint not up yet
            }
        });
    }

    private String jobState(String jobId) {
        try {
            for (JsonNode job : get("/jobs/overview").path("jobs")) {
                if (job.path("jid").asText().equals(jobId)) {
                    return job.path("state").asText();
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    private void cancel(String jobId) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("cancel: %s", r.body()).isEqualTo(202);
        await("job CANCELED", 30_000, () -> "CANCELED".equals(jobState(jobId)));
    }

    private JsonNode get(String path) throws IOException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restUrl + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("GET " + path + ": HTTP " + r.statusCode() + " " + r.body());
            }
            return JSON.readTree(r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private void await(String what, long timeoutMs, BooleanSupplier done) throws InterruptedException {
        await(what, timeoutMs, done, () -> "");
    }

    /** Waits for {@code done}; fails early if a cluster process died; {@code progress} goes into the failure. */
    private void await(String what, long timeoutMs, BooleanSupplier done, java.util.function.Supplier<String> progress)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!done.getAsBoolean()) {
            for (String name : List.of("jobmanager", "taskmanager")) {
                Process p = processes.get(name);
                if (p != null && !p.isAlive()) {
                    throw new AssertionError(name + " exited (" + p.exitValue() + ") while waiting for " + what + "; "
                            + progress.get());
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what + "; "
                        + progress.get());
            }
            Thread.sleep(200);
        }
    }

    private void stopCluster() {
        for (Process p : processes.values()) {
            p.destroy();
        }
        for (Process p : processes.values()) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Per output partition: end offset, last stable offset (what read_committed consumers can reach) and the open
     * transactions holding it back, so a failure shows whether results were written but not committed.
     */
    private static String kafkaState(EmbeddedKafka kafka) {
        if (kafka == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder("kafka:\n");
        try (org.apache.kafka.clients.admin.Admin admin = kafka.admin()) {
            for (String topic : List.of("rr-events", "rr-scores", "rr-alerts", "rr-dlq")) {
                for (int p = 0; p < 2; p++) {
                    var tp = new org.apache.kafka.common.TopicPartition(topic, p);
                    long end = admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                            .partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
                    long stable = admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()),
                                    new org.apache.kafka.clients.admin.ListOffsetsOptions(
                                            org.apache.kafka.common.IsolationLevel.READ_COMMITTED))
                            .partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
                    sb.append("  ").append(tp).append(" end ").append(end).append(" stable ").append(stable);
                    admin.describeProducers(List.of(tp)).partitionResult(tp).get(10, TimeUnit.SECONDS)
                            .activeProducers().stream()
                            .filter(ps -> ps.currentTransactionStartOffset().isPresent())
                            .forEach(ps -> sb.append(" open-txn[producer ").append(ps.producerId()).append(" epoch ")
                                    .append(ps.producerEpoch()).append(" from ")
                                    .append(ps.currentTransactionStartOffset().getAsLong()).append(']'));
                    sb.append('\n');
                }
            }
            admin.listTransactions().all().get(10, TimeUnit.SECONDS).forEach(tx -> sb.append("  txn ")
                    .append(tx.transactionalId()).append(' ').append(tx.state()).append('\n'));
        } catch (Exception e) {
            sb.append("  (unavailable: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    /** Copies the cluster's logs (and JVM crash reports) to {@code target/flink-cluster-it-logs} for a look later. */
    private String keepLogs() {
        Path kept = Path.of("target", "flink-cluster-it-logs").toAbsolutePath();
        try (var files = Files.list(dir.resolve("logs"))) {
            Files.createDirectories(kept);
            StringBuilder sb = new StringBuilder("logs kept in " + kept + ":");
            for (Path f : files.toList()) {
                Files.copy(f, kept.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                sb.append(' ').append(f.getFileName());
            }
            return sb.append('\n').toString();
        } catch (IOException e) {
            return "(logs not kept: " + e + ")\n";
        }
    }

    /** The last lines of every process's log, for the failure message. */
    private String logTails() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Path> e : logs.entrySet()) {
            sb.append("\n===== ").append(e.getKey()).append(" (").append(e.getValue()).append(") =====\n");
            try {
                List<String> lines = Files.readAllLines(e.getValue(), StandardCharsets.UTF_8);
                if (lines.size() > 150) {
                    sb.append("[... ").append(lines.size() - 150).append(" lines ...]\n");
                    lines = lines.subList(lines.size() - 150, lines.size());
                }
                lines.forEach(l -> sb.append(l).append('\n'));
            } catch (IOException ex) {
                sb.append("(unreadable: ").append(ex).append(")\n");
            }
        }
        return sb.toString();
    }

    private final long startedNanos = System.nanoTime();

    private void log(String message) {
        System.out.printf("FlinkClusterIT +%.1fs %s%n", (System.nanoTime() - startedNanos) / 1e9, message);
    }

    private static List<String> split(String s) {
        return Arrays.stream(s.trim().split("\\s+")).filter(x -> !x.isEmpty()).toList();
    }

    private static String quote(String v) {
        return "'" + v.replace("'", "''") + "'";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
