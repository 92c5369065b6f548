package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.ops.ClusterConfig;
import io.cardiospike.ops.HostNetwork;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which command lines move to the client's host of a cluster on hosts, and which stay (no namespace needed). */
class ClientHostTest {
    @TempDir
    Path dir;

    @Test
    void commandsForAClusterOnHostsRunAgainOnItsClientHost() throws Exception {
        Path hosts = dir.resolve("hosts"), loopback = dir.resolve("loopback");
        ClusterConfig.create(hosts, 9092, 9000, 2181, 8081, 6123, 9249, 2, 1, 2, 6, "1600m",
                HostNetwork.CLUSTER.hosts(2, 1)).save();
        ClusterConfig.create(loopback, 9092, 9000, 2181, 8081, 6123, 9249, 2, 1, 2, 6, "1600m", Map.of()).save();

        assertThat(ClientHost.command(new String[] {"job", "status", "--cluster-dir", hosts.toString()}))
                .hasValueSatisfying(cmd -> assertThat(cmd).startsWith("ip", "netns", "exec", "cs-client")
                        .endsWith(Main.class.getName(), "job", "status", "--cluster-dir", hosts.toString()));
        assertThat(ClientHost.command(new String[] {"chaos", "--cluster-dir", hosts.toString(), "--partitions", "1"}))
                .isPresent();

        // loopback, cluster management, help, brokers named, other commands, and what does not parse: as before
        assertThat(ClientHost.command(new String[] {"job", "status", "--cluster-dir", loopback.toString()})).isEmpty();
        assertThat(ClientHost.command(new String[] {"cluster", "status", "--cluster-dir", hosts.toString()})).isEmpty();
        assertThat(ClientHost.command(new String[] {"job", "status", "--cluster-dir", hosts.toString(), "--help"})).isEmpty();
        assertThat(ClientHost.command(new String[] {"produce", "--input", "x.csv", "--bootstrap-servers", "h:1"})).isEmpty();
        assertThat(ClientHost.command(new String[] {"shadow", "report", "--bootstrap-servers", "h:1"})).isEmpty();
        assertThat(ClientHost.command(new String[] {"job", "status", "--cluster-dir", dir.resolve("none").toString()})).isEmpty();
        assertThat(ClientHost.command(new String[] {"job", "status", "--no-such-option"})).isEmpty();
        assertThat(ClientHost.command(new String[] {"score", "--input", "x.csv"})).isEmpty();
        assertThat(ClientHost.command(new String[0])).isEmpty();
    }
}
