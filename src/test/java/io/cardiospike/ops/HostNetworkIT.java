package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hosts of {@code cluster start --hosts} ({@link HostNetwork}), on a network of this test's own (namespaces
 * {@code cst-*}, 10.232.0.0/24, so that it runs beside a cluster): no host has a default route, the root namespace
 * has no address on the subnet, and a cut link makes a connection time out: not refused, not unreachable, not
 * answered. Needs root (as {@code --hosts} does; CI runs as root): skipped otherwise.
 */
class HostNetworkIT {
    static final HostNetwork NETWORK = new HostNetwork("cst-", "10.232.0");

    private final Map<String, String> hosts = NETWORK.hosts(1, 1);
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void root() throws IOException {
        assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).as("network namespaces need root (CI runs as root)")
                .isEqualTo(0);
        NETWORK.create(hosts);
    }

    @AfterEach
    void delete() throws Exception {
        for (Process p : started) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0)) {
            NETWORK.delete();
        }
    }

    @Test
    void aCutLinkDropsPacketsSoThatAConnectionTimesOut() throws Exception {
        assertThat(hosts.keySet()).containsExactly("client", "zookeeper", "kafka", "s3", "jobmanager-1", "taskmanager-1");
        assertThat(NETWORK.namespaces()).containsExactlyInAnyOrder("cst-net", "cst-client", "cst-zookeeper",
                "cst-kafka", "cst-s3", "cst-jobmanager-1", "cst-taskmanager-1");
        for (String host : hosts.keySet()) {
            assertThat(NETWORK.defaultRoutes(host)).as("default route on %s", host).isEmpty();
            // the kernel's answer for an address off the subnet, without sending anything
            assertThat(ip("-n", NETWORK.namespace(host), "route", "get", "203.0.113.1")).as("route off the subnet on %s", host)
                    .contains("unreachable");
        }
        assertThat(ip("-o", "addr")).as("the root namespace has no address on the subnet").doesNotContain("10.232.0.");
        assertThat(NETWORK.runningOn("client")).as("this test runs in the root namespace").isFalse();

        String zk = hosts.get("zookeeper");
        Process listener = java("zookeeper", "listen", zk, "2181");
        started.add(listener);
        String ready = new String(listener.getInputStream().readNBytes("listening".length()), StandardCharsets.UTF_8);
        assertThat(ready).isEqualTo("listening");

        assertThat(connect(zk, 2181, 3000)).isEqualTo("connected");
        assertThat(connect(zk, 2182, 3000)).as("no listener: refused, so a timeout below is the cut's").isEqualTo("refused");

        NETWORK.cut("zookeeper");
        long t0 = System.nanoTime();
        assertThat(connect(zk, 2181, 3000)).as("through a cut link").isEqualTo("timeout");
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds to fail").isGreaterThanOrEqualTo(3.0);
        assertThat(connect(zk, 2182, 3000)).as("a closed port behind a cut link: no answer either").isEqualTo("timeout");

        NETWORK.restore("zookeeper");
        assertThat(connect(zk, 2181, 3000)).as("link restored").isEqualTo("connected");
    }

    /** {@link NetProbe} connecting from the client's host. */
    private String connect(String address, int port, int timeoutMs) throws Exception {
        Process p = java("client", "connect", address, Integer.toString(port), Integer.toString(timeoutMs));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** {@link NetProbe} on {@code host}. */
    private Process java(String host, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(NETWORK.exec(host));
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx32m", "-XX:TieredStopAtLevel=1",
                "-cp", Path.of(NetProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                NetProbe.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
