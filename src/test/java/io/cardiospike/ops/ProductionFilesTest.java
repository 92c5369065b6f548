package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.cardiospike.stream.ScoringJob;
import io.cardiospike.stream.StreamConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.util.TimeUtils;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The deployment files nothing here can run (no Docker, no Kubernetes) agree with what the tests do run:
 * {@code flink-conf/config.yaml} (the file {@code bin/cardiospike cluster start} runs), the pom's plugin versions,
 * {@link ClusterConfig}'s topics and bucket, the job's own option parser and the bundle's model_version. Files:
 * {@code docker/Dockerfile}, {@code docker/docker-compose.yml}, {@code docker/prometheus.yml}, the Grafana
 * provisioning and dashboard under {@code docker/grafana/}, and {@code k8s/flinkdeployment.yaml}.
 */
class ProductionFilesTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();
    static final String IMAGE_JAR = "/opt/flink/usrlib/cardiospike-job.jar";
    static final String IMAGE_MODELS = "/opt/cardiospike/models";

    /** The Prometheus names of the job's metrics and of the Flink metrics the dashboard charts. */
    static final Set<String> DASHBOARD_METRICS = Set.of(
            "flink_taskmanager_job_task_operator_eventsIn",
            "flink_taskmanager_job_task_operator_deadLetters",
            "flink_taskmanager_job_task_operator_beatsScored",
            "flink_taskmanager_job_task_operator_alerts",
            "flink_taskmanager_job_task_operator_duplicates",
            "flink_taskmanager_job_task_operator_rejectedBeats",
            "flink_taskmanager_job_task_operator_scoringLatencyMicros",
            "flink_taskmanager_job_task_operator_windowsPerCall",
            "flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max",
            "flink_taskmanager_job_task_operator_pendingRecords",
            // drift (DriftWatch): psi_<statistic> under the group model=live|shadow, a label
            "flink_taskmanager_job_task_operator_model_psi_rr_ms",
            "flink_taskmanager_job_task_operator_model_psi_median_rr",
            "flink_taskmanager_job_task_operator_model_psi_iqr_rr",
            "flink_taskmanager_job_task_operator_model_psi_rmssd",
            "flink_taskmanager_job_task_operator_model_psi_rel_0",
            "flink_taskmanager_job_task_operator_model_psi_step_0",
            "flink_taskmanager_job_task_operator_model_psi_proba",
            "flink_taskmanager_job_task_operator_model_psi_flagged_rate",
            "flink_taskmanager_job_task_operator_model_psi_artifact_rate",
            "flink_jobmanager_job_lastCheckpointDuration",
            "flink_jobmanager_job_lastCheckpointSize",
            "flink_jobmanager_job_numberOfCompletedCheckpoints",
            "flink_jobmanager_job_numberOfFailedCheckpoints",
            "flink_jobmanager_job_numRestarts",
            "flink_jobmanager_job_uptime");

    /** Keys of config.yaml a FlinkDeployment leaves to the operator (addresses) or to spec.*.resource (sizes). */
    static final Set<String> OPERATOR_OWNED = Set.of("jobmanager.rpc.address", "rest.address", "rest.bind-address",
            "jobmanager.memory.process.size", "taskmanager.memory.process.size");

    /** Keys of config.yaml for ZooKeeper, which Kubernetes HA replaces in a FlinkDeployment. */
    static boolean zooKeeperOnly(String key) {
        return key.startsWith("high-availability.zookeeper.") || key.startsWith("zookeeper.");
    }

    // ---- the checks ----

    @Test
    void flinkDeploymentRepeatsTheProductionConfiguration() throws Exception {
        Map<String, String> prod = production();
        JsonNode spec = flinkDeployment().path("spec");
        Map<String, String> deployed = new TreeMap<>();
        spec.path("flinkConfiguration").fields().forEachRemaining(e -> deployed.put(e.getKey(), e.getValue().asText()));

        Map<String, String> differing = new TreeMap<>();
        prod.forEach((k, v) -> {
            if (deployed.containsKey(k) && !deployed.get(k).equals(v) && !k.equals("high-availability.type")) {
                differing.put(k, "config.yaml: " + v + " / k8s: " + deployed.get(k));
            }
        });
        assertThat(differing).as("keys set in both with different values").isEmpty();
        Set<String> missing = new TreeSet<>(prod.keySet());
        missing.removeAll(OPERATOR_OWNED);
        missing.removeIf(ProductionFilesTest::zooKeeperOnly);
        missing.removeAll(deployed.keySet());
        assertThat(missing).as("production keys the FlinkDeployment does not repeat").isEmpty();
        assertThat(deployed.keySet()).as("no ZooKeeper keys on Kubernetes").noneMatch(ProductionFilesTest::zooKeeperOnly);
        assertThat(deployed).as("the keys that matter, in both files").containsKeys(
                "execution.checkpointing.dir", "execution.checkpointing.savepoint-dir", "state.backend.type",
                "s3.endpoint", "metrics.reporter.prom.factory.class");
        assertThat(prod).containsKeys("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir",
                "state.backend.type", "s3.endpoint", "metrics.reporter.prom.factory.class");
        assertThat(deployed).as("keys belong in the Secret, not in the config map")
                .doesNotContainKeys("s3.access-key", "s3.secret-key");

        assertThat(MemorySize.parse(spec.path("jobManager").path("resource").path("memory").asText()))
                .isEqualTo(MemorySize.parse(prod.get("jobmanager.memory.process.size")));
        assertThat(MemorySize.parse(spec.path("taskManager").path("resource").path("memory").asText()))
                .isEqualTo(MemorySize.parse(prod.get("taskmanager.memory.process.size")));
        String[] flink = pomProperty("flink.version").split("\\.");
        assertThat(spec.path("flinkVersion").asText()).isEqualTo("v" + flink[0] + "_" + flink[1]);
        assertThat(spec.path("image").asText()).isEqualTo(image());
    }

    @Test
    void highAvailabilityIsZooKeeperInComposeAndKubernetesOnKubernetesWithTheSameStorage() throws Exception {
        Map<String, String> prod = production();
        assertThat(prod).containsEntry("high-availability.type", "zookeeper")
                .containsEntry("job-result-store.delete-on-commit", "false"); // job upgrade reads the results
        assertThat(prod.get("high-availability.storageDir")).startsWith("s3://" + ClusterConfig.BUCKET + "/");
        assertThat(prod).doesNotContainKey("job-result-store.storage-path"); // so under storageDir

        // compose: the quorum is its ZooKeeper, which runs the version `cluster start` runs, with the same tick
        String[] quorum = prod.get("high-availability.zookeeper.quorum").split(":");
        JsonNode zk = service(quorum[0]);
        assertThat(zk.path("image").asText()).isEqualTo("zookeeper:" + pomProperty("zookeeper.version"));
        assertThat(Integer.parseInt(quorum[1])).as("ZooKeeper's default client port").isEqualTo(2181);
        assertThat(zk.path("environment").path("ZOO_TICK_TIME").asInt()).isEqualTo(ClusterConfig.ZOOKEEPER_TICK_MS);
        Duration session = TimeUtils.parseDuration(prod.get("high-availability.zookeeper.client.session-timeout"));
        assertThat(session.toMillis()).as("session timeout within ZooKeeper's 2 to 20 ticks")
                .isBetween(2L * ClusterConfig.ZOOKEEPER_TICK_MS, 20L * ClusterConfig.ZOOKEEPER_TICK_MS);
        assertThat(TimeUtils.parseDuration(prod.get("high-availability.zookeeper.client.connection-timeout")))
                .isLessThanOrEqualTo(session);

        // compose: two JobManagers, each publishing its own service name when it leads
        List<String> jobManagers = jobManagerServices();
        assertThat(jobManagers).as("a leader and a standby").hasSizeGreaterThanOrEqualTo(2);
        for (String name : jobManagers) {
            JsonNode env = service(name).path("environment");
            assertThat(env.path("JOB_MANAGER_RPC_ADDRESS").asText()).as(name).isEqualTo(name);
            assertThat(flinkProperties(env.path("FLINK_PROPERTIES").asText())).as(name).containsEntry("rest.address", name);
            assertThat(service(name).path("depends_on").has(quorum[0])).as(name + " waits for ZooKeeper").isTrue();
        }

        // Kubernetes: its own HA, the same storage, and a standby
        JsonNode spec = flinkDeployment().path("spec");
        JsonNode deployed = spec.path("flinkConfiguration");
        assertThat(deployed.path("high-availability.type").asText()).isEqualTo("kubernetes");
        assertThat(deployed.path("high-availability.storageDir").asText()).isEqualTo(prod.get("high-availability.storageDir"));
        assertThat(spec.path("jobManager").path("replicas").asInt(1)).as("a leader and a standby").isGreaterThanOrEqualTo(2);
    }

    @Test
    void kubernetesCredentialsComeFromTheSecret() throws Exception {
        JsonNode secret = k8s().stream().filter(d -> d.path("kind").asText().equals("Secret")).findFirst().orElseThrow();
        Set<String> keys = new LinkedHashSet<>();
        secret.path("stringData").fields().forEachRemaining(e -> {
            keys.add(e.getKey());
            assertThat(e.getValue().asText()).as("example secret " + e.getKey()).contains("REPLACE");
        });
        JsonNode container = null;
        for (JsonNode c : flinkDeployment().path("spec").path("podTemplate").path("spec").path("containers")) {
            if (c.path("name").asText().equals("flink-main-container")) {
                container = c;
            }
        }
        assertThat(container).as("podTemplate flink-main-container").isNotNull();
        Map<String, JsonNode> env = new LinkedHashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("valueFrom").path("secretKeyRef")));
        // the presto S3 filesystem's fallback (AWS default credential chain) reads these
        assertThat(env).containsKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
        for (String name : List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")) {
            assertThat(env.get(name).path("name").asText()).as(name + " secret")
                    .isEqualTo(secret.path("metadata").path("name").asText());
            assertThat(keys).as(name + " key in the Secret").contains(env.get(name).path("key").asText());
        }
    }

    @Test
    void composeRunsTheImageTheDockerfileBuildsFromTheTestedParts() throws Exception {
        JsonNode jm = service("jobmanager");
        Path context = Path.of("docker").resolve(jm.path("build").path("context").asText()).normalize();
        assertThat(context.toAbsolutePath()).isEqualTo(Path.of("").toAbsolutePath());
        assertThat(context.resolve(jm.path("build").path("dockerfile").asText()).normalize())
                .isEqualTo(Path.of("docker/Dockerfile"));
        assertThat(image()).isEqualTo("cardiospike-flink:" + pomProjectVersion());
        List<String> services = new ArrayList<>(jobManagerServices());
        services.remove("jobmanager");
        services.addAll(List.of("taskmanager", "submit"));
        for (String s : services) {
            assertThat(service(s).path("image").asText()).as(s + " image").isEqualTo(image());
        }
        assertThat(jm.path("command").asText()).isEqualTo("jobmanager");
        assertThat(service("taskmanager").path("command").asText()).isEqualTo("taskmanager");

        List<String> lines = Files.readAllLines(Path.of("docker/Dockerfile"));
        assertThat(lines.stream().filter(l -> l.startsWith("FROM ")).toList())
                .containsExactly("FROM flink:" + pomProperty("flink.version") + "-java17");
        Map<String, String> copies = dockerCopies(lines);
        String s3Jar = "flink-s3-fs-presto-" + pomProperty("flink.s3.version") + ".jar";
        String promJar = "flink-metrics-prometheus-" + pomProperty("flink.version") + ".jar";
        assertThat(copies).containsEntry("/opt/flink/plugins/s3-fs-presto/", "target/cluster/plugins/s3-fs-presto/" + s3Jar)
                .containsEntry("/opt/flink/plugins/metrics-prometheus/", "target/cluster/plugins/metrics-prometheus/" + promJar)
                .containsEntry("/opt/flink/conf/config.yaml", "flink-conf/config.yaml")
                .containsEntry(IMAGE_JAR, "target/cardiospike-job.jar")
                .containsEntry(IMAGE_MODELS + "/", "models/");
        // ... and the build puts them there (the pom's cluster-parts and job-jar)
        assertThat(pomArtifactDirs()).containsEntry("flink-s3-fs-presto:${flink.s3.version}",
                        "${project.build.directory}/cluster/plugins/s3-fs-presto")
                .containsEntry("flink-metrics-prometheus:${flink.version}",
                        "${project.build.directory}/cluster/plugins/metrics-prometheus");
        assertThat(pomText("outputFile")).contains("${project.build.directory}/cardiospike-job.jar");
    }

    @Test
    void composeTopicsAreTheClusterTopics() throws Exception {
        String script = service("topics").path("command").get(0).asText();
        Matcher list = Pattern.compile("for t in ([^;]+);").matcher(script);
        Matcher partitions = Pattern.compile("--partitions (\\d+)").matcher(script);
        assertThat(list.find() && partitions.find()).as("topics script: " + script).isTrue();
        assertThat(list.group(1).trim().split("\\s+")).containsExactly(ClusterConfig.TOPICS);
        assertThat(script).as("stamped by the broker, as the job's input clock needs")
                .contains("--config message.timestamp.type=LogAppendTime");
        assertThat(Integer.parseInt(partitions.group(1))).as("partitions, as `cluster start`")
                .isEqualTo(ClusterConfig.DEFAULT_PARTITIONS);
        StreamConfig job = StreamConfig.fromArgs(composeJobArgs());
        assertThat(Integer.parseInt(partitions.group(1)) % job.parallelism()).as("partitions per subtask").isZero();
        assertThat(List.of(ClusterConfig.TOPICS))
                .contains(job.inputTopic(), job.scoresTopic(), job.alertsTopic(), job.dlqTopic(), job.monitoringTopic());
    }

    @Test
    void composeSubmitsTheJobWithOptionsItAccepts() throws Exception {
        Map<String, String> prod = production();
        List<String> command = texts(service("submit").path("command"));
        String script = command.get(command.indexOf("-c") + 1).replace("$$", "$"); // compose's escape of $
        assertThat(script).contains("flink run ", " -d ", "-c " + ScoringJob.class.getName() + " " + IMAGE_JAR + " \"$@\"");
        assertThat(script).as("the client finds the leader in ZooKeeper: no fixed JobManager").doesNotContain(" -m ");

        StreamConfig job = StreamConfig.fromArgs(composeJobArgs()); // throws on an option the job does not have
        assertThat(job.modelDir()).isEqualTo(IMAGE_MODELS);
        assertThat(job.checkpointDir()).as("checkpoints: the cluster's execution.checkpointing.dir").isNull();
        assertThat(job.checkpointInterval()).isEqualTo(TimeUtils.parseDuration(prod.get("execution.checkpointing.interval")));
        int slots = service("taskmanager").path("deploy").path("replicas").asInt(1)
                * Integer.parseInt(prod.get("taskmanager.numberOfTaskSlots"));
        assertThat(job.parallelism()).as("parallelism within the TaskManagers' slots").isBetween(1, slots);

        JsonNode kafka = service("kafka").path("environment");
        assertThat(List.of(kafka.path("KAFKA_ADVERTISED_LISTENERS").asText().replaceAll("[A-Z]+://", "").split(",")))
                .as("bootstrap servers the broker advertises").contains(job.bootstrapServers().split(","));
        assertThat(job.transactionTimeout())
                .isLessThan(Duration.ofMillis(kafka.path("KAFKA_TRANSACTION_MAX_TIMEOUT_MS").asLong()));
        Matcher producer = Pattern.compile("produce .*--bootstrap-servers (\\S+)")
                .matcher(String.join("\n", texts(service("producer").path("command"))));
        assertThat(producer.find()).as("producer runs `produce --bootstrap-servers`").isTrue();
        assertThat(producer.group(1)).isEqualTo(job.bootstrapServers());
    }

    @Test
    void flinkDeploymentRunsTheJobWithTheBundledModelVersion() throws Exception {
        Map<String, String> prod = production();
        JsonNode job = flinkDeployment().path("spec").path("job");
        assertThat(job.path("jarURI").asText()).isEqualTo("local://" + IMAGE_JAR);
        assertThat(job.path("entryClass").asText()).isEqualTo(ScoringJob.class.getName());
        StreamConfig config = StreamConfig.fromArgs(texts(job.path("args")).toArray(String[]::new));
        String version = JSON.readTree(Path.of("models/manifest.json").toFile()).path("model_version").asText();
        assertThat(config.modelDir()).isEqualTo(ClusterConfig.modelsUri(version));
        assertThat(config.checkpointDir()).as("checkpoints: the cluster's execution.checkpointing.dir").isNull();
        assertThat(config.checkpointInterval()).isEqualTo(TimeUtils.parseDuration(prod.get("execution.checkpointing.interval")));
        assertThat(job.path("parallelism").asInt()).isEqualTo(config.parallelism());
        assertThat(job.path("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(job.path("state").asText()).isEqualTo("running");
    }

    @Test
    void composeObjectStoreIsTheConfiguredOne() throws Exception {
        Map<String, String> prod = production();
        String bucket = "s3://" + ClusterConfig.BUCKET + "/";
        assertThat(prod.get("execution.checkpointing.dir")).startsWith(bucket);
        assertThat(prod.get("execution.checkpointing.savepoint-dir")).startsWith(bucket);
        assertThat(ClusterConfig.modelsUri("x")).startsWith(bucket);

        JsonNode s3 = service("s3").path("environment");
        URI endpoint = URI.create(prod.get("s3.endpoint"));
        assertThat(compose().path("services").has(endpoint.getHost())).as("s3.endpoint host is a service").isTrue();
        assertThat(URI.create(s3.path("S3PROXY_ENDPOINT").asText()).getPort()).isEqualTo(endpoint.getPort());
        assertThat(s3.path("S3PROXY_AUTHORIZATION").asText()).isEqualTo("aws-v2-or-v4");
        assertThat(s3.path("JCLOUDS_PROVIDER").asText()).isEqualTo("filesystem-nio2");
        String base = s3.path("JCLOUDS_FILESYSTEM_BASEDIR").asText();
        JsonNode init = service("s3-init");
        assertThat(texts(init.path("entrypoint"))).as("bucket directory").contains(base + "/" + ClusterConfig.BUCKET);
        List<String> store = texts(service("s3").path("volumes")).stream().filter(v -> v.endsWith(":" + base)).toList();
        assertThat(store).as("the store's data volume").hasSize(1);
        assertThat(texts(init.path("volumes"))).as("s3-init writes into the store's data").contains(store.get(0));

        assertThat(service("taskmanager").path("environment").path("JOB_MANAGER_RPC_ADDRESS").asText())
                .isEqualTo(prod.get("jobmanager.rpc.address")).isEqualTo("jobmanager");
        List<String> flinkServices = new ArrayList<>(jobManagerServices());
        flinkServices.add("taskmanager");
        for (String name : flinkServices) {
            JsonNode env = service(name).path("environment");
            Map<String, String> props = flinkProperties(env.path("FLINK_PROPERTIES").asText());
            assertThat(props.keySet()).as(name + " FLINK_PROPERTIES: only what the local cluster overrides too")
                    .isSubsetOf(ClusterConfig.LOCAL_OVERRIDES.keySet());
            assertThat(props).as(name + " object store key")
                    .containsEntry("s3.access-key", s3.path("S3PROXY_IDENTITY").asText())
                    .containsEntry("s3.secret-key", s3.path("S3PROXY_CREDENTIAL").asText());
        }
    }

    @Test
    void prometheusScrapesTheReporterPorts() throws Exception {
        Map<String, String> prod = production();
        assertThat(prod.get("metrics.reporter.prom.factory.class"))
                .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        int[] range = Arrays.stream(prod.get("metrics.reporter.prom.port").split("-")).mapToInt(Integer::parseInt).toArray();
        JsonNode prometheus = YAML.readTree(Path.of("docker/prometheus.yml").toFile());
        Map<String, Integer> targets = new TreeMap<>(); // host -> port
        Set<String> byDns = new LinkedHashSet<>();
        for (JsonNode job : prometheus.path("scrape_configs")) {
            for (JsonNode sc : job.path("static_configs")) {
                for (String t : texts(sc.path("targets"))) {
                    targets.put(t.substring(0, t.lastIndexOf(':')), Integer.parseInt(t.substring(t.lastIndexOf(':') + 1)));
                }
            }
            for (JsonNode dns : job.path("dns_sd_configs")) {
                for (String n : texts(dns.path("names"))) {
                    targets.put(n, dns.path("port").asInt());
                    byDns.add(n);
                }
            }
        }
        List<String> flinkServices = new ArrayList<>(jobManagerServices());
        flinkServices.add("taskmanager");
        assertThat(targets.keySet()).as("every JobManager and the TaskManagers").containsExactlyInAnyOrderElementsOf(flinkServices);
        // one Flink process per container: each reporter gets the first port of the range in its own namespace
        assertThat(targets.values()).allSatisfy(p -> assertThat(p).isBetween(range[0], range[1]).isEqualTo(range[0]));
        if (service("taskmanager").path("deploy").path("replicas").asInt(1) > 1) {
            assertThat(byDns).as("replicated TaskManagers found by DNS, one target each").contains("taskmanager");
        }
        assertThat(texts(service("prometheus").path("volumes"))).contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    }

    @Test
    void dashboardChartsTheJobsMetricsByTheirPrometheusNames() throws Exception {
        JsonNode dashboard = JSON.readTree(Path.of("docker/grafana/cardiospike-dashboard.json").toFile());
        List<String> exprs = new ArrayList<>();
        collect(dashboard, "expr", exprs);
        assertThat(exprs).isNotEmpty();
        Set<String> metrics = new LinkedHashSet<>();
        Set<String> jobLabels = new LinkedHashSet<>();
        for (String e : exprs) {
            Matcher m = Pattern.compile("\\bflink_[A-Za-z0-9_]+").matcher(e);
            while (m.find()) {
                metrics.add(m.group());
            }
            Matcher j = Pattern.compile("job_name=~?\"([^\"]*)\"").matcher(e);
            while (j.find()) {
                jobLabels.add(j.group(1));
            }
        }
        assertThat(metrics).as("metric names in the dashboard").isSubsetOf(DASHBOARD_METRICS);
        assertThat(metrics).as("every metric charted").containsAll(DASHBOARD_METRICS);
        // Flink's Prometheus reporter turns characters outside [a-zA-Z0-9:_] of label values into '_'
        assertThat(jobLabels).containsExactly(ScoringJob.JOB_NAME.replaceAll("[^a-zA-Z0-9:_]", "_"));
        assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);

        JsonNode datasource = YAML.readTree(Path.of("docker/grafana/provisioning/datasources/prometheus.yml").toFile())
                .path("datasources").get(0);
        List<String> uids = new ArrayList<>();
        collect(dashboard, "uid", uids);
        uids.remove(dashboard.path("uid").asText());
        assertThat(uids).isNotEmpty().containsOnly(datasource.path("uid").asText());
        assertThat(URI.create(datasource.path("url").asText()).getHost()).isEqualTo("prometheus");
        assertThat(compose().path("services").has("prometheus")).isTrue();

        String path = YAML.readTree(Path.of("docker/grafana/provisioning/dashboards/cardiospike.yml").toFile())
                .path("providers").get(0).path("options").path("path").asText();
        assertThat(texts(service("grafana").path("volumes")))
                .contains("./grafana/cardiospike-dashboard.json:" + path + "/cardiospike-dashboard.json:ro",
                        "./grafana/provisioning:/etc/grafana/provisioning:ro");
    }

    // ---- the files ----

    /** config.yaml as Flink reads it: flattened keys. */
    static Map<String, String> production() {
        return GlobalConfiguration.loadConfiguration("flink-conf").toMap();
    }

    static JsonNode compose() throws IOException {
        return YAML.readTree(Path.of("docker/docker-compose.yml").toFile());
    }

    static JsonNode service(String name) throws IOException {
        JsonNode s = compose().path("services").path(name);
        assertThat(s.isObject()).as("compose service " + name).isTrue();
        return s;
    }

    /** The compose services that run a JobManager. */
    static List<String> jobManagerServices() throws IOException {
        List<String> names = new ArrayList<>();
        compose().path("services").fields().forEachRemaining(s -> {
            if (s.getValue().path("command").asText().equals("jobmanager")) {
                names.add(s.getKey());
            }
        });
        return names;
    }

    static String image() throws IOException {
        return service("jobmanager").path("image").asText();
    }

    /** What the submit service passes after {@code bash -c SCRIPT $0}: the job's arguments. */
    static String[] composeJobArgs() throws IOException {
        List<String> command = texts(service("submit").path("command"));
        int script = command.indexOf("-c") + 1;
        assertThat(script).as("submit: bash -c SCRIPT NAME ARGS...").isPositive();
        return command.subList(script + 2, command.size()).toArray(String[]::new);
    }

    static List<JsonNode> k8s() throws IOException {
        try (var parser = YAML.getFactory().createParser(Path.of("k8s/flinkdeployment.yaml").toFile())) {
            return YAML.readValues(parser, JsonNode.class).readAll();
        }
    }

    static JsonNode flinkDeployment() throws IOException {
        List<JsonNode> docs = k8s().stream().filter(d -> d.path("kind").asText().equals("FlinkDeployment")).toList();
        assertThat(docs).hasSize(1);
        assertThat(docs.get(0).path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        return docs.get(0);
    }

    /** Destination -> source of the Dockerfile's COPY lines (flags such as --chown dropped; one source each). */
    static Map<String, String> dockerCopies(List<String> lines) {
        Map<String, String> copies = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.startsWith("COPY ")) {
                List<String> words = Arrays.stream(line.substring(5).trim().split("\\s+"))
                        .filter(w -> !w.startsWith("--")).toList();
                assertThat(words).as(line).hasSize(2);
                copies.put(words.get(1), words.get(0));
            }
        }
        return copies;
    }

    /** The entrypoint's reading of FLINK_PROPERTIES: one {@code key: value} a line, split at the first colon. */
    static Map<String, String> flinkProperties(String text) {
        Map<String, String> props = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                int colon = line.indexOf(':');
                props.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return props;
    }

    static Element pom() throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile())
                .getDocumentElement();
    }

    static String pomProperty(String name) throws Exception {
        NodeList found = ((Element) pom().getElementsByTagName("properties").item(0)).getElementsByTagName(name);
        assertThat(found.getLength()).as("pom property " + name).isEqualTo(1);
        return found.item(0).getTextContent().trim();
    }

    static String pomProjectVersion() throws Exception {
        for (var n = pom().getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("version")) {
                return e.getTextContent().trim();
            }
        }
        throw new AssertionError("pom.xml has no project version");
    }

    static List<String> pomText(String tag) throws Exception {
        NodeList nodes = pom().getElementsByTagName(tag);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            texts.add(nodes.item(i).getTextContent().trim());
        }
        return texts;
    }

    /** artifactId:version -> outputDirectory of the pom's dependency:copy items. */
    static Map<String, String> pomArtifactDirs() throws Exception {
        NodeList items = pom().getElementsByTagName("artifactItem");
        Map<String, String> dirs = new LinkedHashMap<>();
        for (int i = 0; i < items.getLength(); i++) {
            Element item = (Element) items.item(i);
            dirs.put(child(item, "artifactId") + ":" + child(item, "version"), child(item, "outputDirectory"));
        }
        return dirs;
    }

    static String child(Element e, String tag) {
        NodeList n = e.getElementsByTagName(tag);
        return n.getLength() == 0 ? null : n.item(0).getTextContent().trim();
    }

    static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    static void collect(JsonNode node, String field, List<String> into) {
        node.fields().forEachRemaining(e -> {
            if (e.getKey().equals(field) && e.getValue().isTextual()) {
                into.add(e.getValue().asText());
            }
        });
        node.elements().forEachRemaining(c -> collect(c, field, into));
    }
}
