package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hosts' names, addresses and MACs, and the cluster file that records them; no namespace is made here. */
class HostNetworkTest {
    @TempDir
    Path dir;

    @Test
    void everyPartHasAFixedAddressOnTheSubnet() {
        Map<String, String> hosts = HostNetwork.CLUSTER.hosts(2, 3);
        assertThat(hosts).containsExactly(Map.entry("client", "10.231.0.2"), Map.entry("zookeeper", "10.231.0.3"),
                Map.entry("kafka", "10.231.0.4"), Map.entry("s3", "10.231.0.5"), Map.entry("jobmanager-1", "10.231.0.11"),
                Map.entry("jobmanager-2", "10.231.0.12"), Map.entry("taskmanager-1", "10.231.0.101"),
                Map.entry("taskmanager-2", "10.231.0.102"), Map.entry("taskmanager-3", "10.231.0.103"));
        assertThat(HostNetwork.CLUSTER.namespace("kafka")).isEqualTo("cs-kafka");
        assertThat(HostNetwork.CLUSTER.bridgeNamespace()).isEqualTo("cs-net");
        assertThat(HostNetwork.CLUSTER.exec("client")).containsExactly("ip", "netns", "exec", "cs-client");
        assertThat(HostNetwork.mac("10.231.0.101")).isEqualTo("02:00:0a:e7:00:65");
        assertThatThrownBy(() -> HostNetwork.CLUSTER.address("taskmanager-151")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostNetwork.CLUSTER.address("elsewhere")).isInstanceOf(IllegalArgumentException.class);
        // a link is named after its host in the bridge's namespace: at most 15 characters
        assertThat(hosts.keySet()).allMatch(h -> h.length() <= 15);
    }

    @Test
    void theClusterFileRecordsTheAddressesAndEveryEndpointUsesThem() throws Exception {
        ClusterConfig hosts = ClusterConfig.create(dir, 9092, 9000, 2181, 8081, 6123, 9249, 2, 1, 2, 6, "1600m",
                HostNetwork.CLUSTER.hosts(2, 1));
        hosts.save();
        ClusterConfig loaded = ClusterConfig.load(dir);
        assertThat(loaded.onHosts()).isTrue();
        assertThat(loaded.hosts().keySet()).startsWith("client", "zookeeper", "kafka", "s3");
        assertThat(loaded.kafkaBootstrap()).isEqualTo("10.231.0.4:9092");
        assertThat(loaded.s3Endpoint()).isEqualTo("http://10.231.0.5:9000");
        assertThat(loaded.zooKeeperQuorum()).isEqualTo("10.231.0.3:2181");
        assertThat(loaded.restUrl(2)).isEqualTo("http://10.231.0.12:8082");
        assertThat(loaded.jobManagerAt("http://10.231.0.12:8082/")).contains("jobmanager-2");

        ClusterConfig loopback = ClusterConfig.create(dir, 9092, 9000, 2181, 8081, 6123, 9249, 2, 1, 2, 6, "1600m", Map.of());
        assertThat(loopback.onHosts()).isFalse();
        assertThat(loopback.kafkaBootstrap()).isEqualTo("127.0.0.1:9092");
        assertThat(loopback.restUrl(2)).isEqualTo("http://127.0.0.1:8082");
    }
}
