package io.cardiospike.ops;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where this installation's parts are: the launcher's classpath ({@code target/lib}), the job jar, the cluster's extra
 * parts ({@code target/cluster}: Flink's web UI, the plugins, s3proxy) and the production Flink configuration. The home
 * is {@code $CARDIOSPIKE_HOME} (set by {@code bin/cardiospike}), else the working directory (tests).
 */
public record Installation(Path home) {
    /**
     * Jars of {@code target/lib} that stay off the Flink cluster's classpath: what the job jar bundles itself (so its
     * classes can only come from the submitted jar, through Flink's child-first class loader, as on any cluster) and
     * what only the broker, ZooKeeper, the REST API or the dashboard use (Flink's ZooKeeper client is its shaded one).
     * lz4-java stays on it, as in Flink's distribution: batch jobs (the savepoint migration) compress their shuffle
     * with it in the TaskManager's own class loader.
     */
    static final List<String> NOT_ON_FLINK_CLASSPATH = List.of(
            "kafka", "flink-connector-kafka", "onnxruntime", "jackson-", "picocli", "zstd-jni",
            "snappy-java", "javalin", "jetty-", "websocket-", "kotlin-", "plotly", "swagger-ui", "scala-",
            "zookeeper-", "netty-", "metrics-core", "audience-annotations");

    public static Installation current() {
        String home = System.getenv("CARDIOSPIKE_HOME");
        return new Installation(Path.of(home == null || home.isBlank() ? "." : home).toAbsolutePath().normalize());
    }

    public Path target() {
        return home.resolve("target");
    }

    public Path jobJar() {
        return target().resolve("cardiospike-job.jar");
    }

    public Path productionFlinkConf() {
        return home.resolve("flink-conf");
    }

    public Path pluginsDir() {
        return target().resolve("cluster").resolve("plugins");
    }

    public Path s3proxyJar() throws IOException {
        return only(target().resolve("cluster").resolve("s3proxy"), "s3proxy-");
    }

    public Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /** The launcher's classpath: the project jar and everything in {@code target/lib}. */
    public String appClasspath() throws IOException {
        List<String> cp = new ArrayList<>();
        cp.add(only(target(), "cardiospike-0").toString());
        cp.addAll(jars(target().resolve("lib")));
        return String.join(File.pathSeparator, cp);
    }

    /** The JobManager's and TaskManagers' classpath: Flink from {@code target/lib} plus its web UI. */
    public String flinkClasspath() throws IOException {
        List<String> cp = new ArrayList<>();
        for (String jar : jars(target().resolve("lib"))) {
            String name = Path.of(jar).getFileName().toString();
            if (NOT_ON_FLINK_CLASSPATH.stream().noneMatch(name::startsWith)) {
                cp.add(jar);
            }
        }
        cp.addAll(jars(target().resolve("cluster").resolve("flink-lib")));
        return String.join(File.pathSeparator, cp);
    }

    /** Fails with the fix when the build's parts are missing. */
    public void requireBuilt() throws IOException {
        for (Path p : List.of(jobJar(), target().resolve("lib"), pluginsDir(), s3proxyJar())) {
            if (!Files.exists(p)) {
                throw new IOException(p + " missing: build first (mvn -B package -DskipTests, or any bin/cardiospike command)");
            }
        }
    }

    private static List<String> jars(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " missing: build first (mvn -B package -DskipTests)");
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".jar")).map(Path::toString).sorted().toList();
        }
    }

    private static Path only(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " missing: build first (mvn -B package -DskipTests)");
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix) && f.toString().endsWith(".jar"))
                    .findFirst()
                    .orElseThrow(() -> new IOException("no " + prefix + "*.jar in " + dir + ": build first"));
        }
    }
}
