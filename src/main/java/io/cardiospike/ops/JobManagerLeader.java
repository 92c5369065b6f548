package io.cardiospike.ops;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.highavailability.zookeeper.CuratorFrameworkWithUnhandledErrorListener;
import org.apache.flink.runtime.highavailability.zookeeper.ZooKeeperClientHAServices;
import org.apache.flink.runtime.leaderretrieval.LeaderRetrievalListener;
import org.apache.flink.runtime.leaderretrieval.LeaderRetrievalService;
import org.apache.flink.runtime.util.ZooKeeperUtils;

/**
 * Observe: which JobManager of the local cluster leads, as ZooKeeper holds it. The elected JobManager publishes its REST
 * address there itself; this reads it with Flink's own client HA services, the way {@code flink run} finds the
 * leader, and follows every change: a failover shows as soon as the new leader has recovered its jobs and publishes.
 * Asking the JobManagers' REST endpoints instead would not tell: a standby's answers every request (it forwards it to
 * the leader), and none says whether it leads.
 */
public final class JobManagerLeader implements AutoCloseable {
    /** How long to wait for a first connection to ZooKeeper before taking the cluster for stopped. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final String quorum;
    private final ZooKeeperClientHAServices ha;
    private final LeaderRetrievalService retriever;
    private volatile String restUrl; // null while no leader is known

    public JobManagerLeader(ClusterConfig cluster) throws IOException {
        quorum = cluster.zooKeeperQuorum();
        Configuration conf = GlobalConfiguration.loadConfiguration(cluster.confDir().toString());
        CuratorFrameworkWithUnhandledErrorListener curator = ZooKeeperUtils.startCuratorFramework(conf,
                e -> System.err.println("ZooKeeper client: " + e)); // Curator reconnects by itself
        try {
            if (!curator.asCuratorFramework().blockUntilConnected((int) CONNECT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IOException("ZooKeeper at " + quorum + " does not answer (is the cluster running? "
                        + "bin/cardiospike cluster status)");
            }
            ha = new ZooKeeperClientHAServices(curator, conf);
            retriever = ha.getClusterRestEndpointLeaderRetriever();
            retriever.start(new LeaderRetrievalListener() {
                @Override
                public void notifyLeaderAddress(String address, UUID session) {
                    restUrl = address == null || address.isEmpty() ? null : address.replaceAll("/+$", "");
                }

                @Override
                public void handleError(Exception e) {
                    restUrl = null; // unknown until the next notification
                }
            });
        } catch (IOException e) {
            curator.close();
            throw e;
        } catch (InterruptedException e) {
            curator.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (Exception e) {
            curator.close();
            throw new IOException("leader lookup in ZooKeeper at " + quorum + ": " + e.getMessage(), e);
        }
    }

    /** The leader's REST address now, if one is known. */
    public Optional<String> restUrl() {
        return Optional.ofNullable(restUrl);
    }

    /** The leader's REST address, waiting up to {@code wait} while none is elected (a failover in progress). */
    public String awaitRestUrl(Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (restUrl == null) {
            if (System.nanoTime() > deadline) {
                throw new IOException("no JobManager leads (ZooKeeper at " + quorum + ") after " + wait.toSeconds()
                        + " s: see bin/cardiospike cluster status");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        return restUrl;
    }

    @Override
    public void close() {
        try {
            retriever.stop();
            ha.close(); // closes the Curator client too
        } catch (Exception e) {
            // closing a client: nothing left to do
        }
    }
}
