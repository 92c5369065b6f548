package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster start --hosts}: every part in a network namespace of its own, the clients in {@code cs-client}, and
 * {@code chaos} with one network partition (the leading JobManager cut off, ZooKeeper included): nothing lost,
 * duplicated or mismatched, another JobManager leads while it is cut off, and the cut one gave up the lead before the
 * other took it (their logs). The command lines are docs/operations.md's, run as written; {@code produce} and
 * {@code consume} reach the broker without {@code --bootstrap-servers}. {@code cluster stop} leaves no namespace.
 * Needs root (CI runs as root): fails otherwise.
 */
class HostsClusterIT {
    static final Pattern LEADER_CUT = Pattern.compile("(jobmanager-\\d) \\(leader\\) cut off for \\d+ s, (jobmanager-\\d) leading after");
    static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

    @TempDir
    Path dir;

    private Path clusterDir;
    private ClusterCli cli;

    @Test
    void partsOnHostsOfTheirOwnSurviveAJobManagerCutOffFromZooKeeper() throws Throwable {
        assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).as("network namespaces need root (CI runs as root)")
                .isEqualTo(0);
        clusterDir = dir.resolve("cluster");
        cli = new ClusterCli("HostsClusterIT", dir, clusterDir);
        List<String> lines = documentedCommands();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith("cluster start --hosts");
        assertThat(lines.get(1)).startsWith("chaos ").contains("--partitions 1");
        assertThat(lines.get(2)).isEqualTo("cluster stop");
        try {
            ClusterCli.Result started = cli.run(lines.get(0).split(" "));
            assertThat(started.exit()).as("cluster start: %s", started).isZero();
            assertThat(started.out()).contains("kafka        10.231.0.4:9092", "zookeeper    10.231.0.3:2181",
                    "hosts        client 10.231.0.2, zookeeper 10.231.0.3, kafka 10.231.0.4, s3 10.231.0.5, "
                            + "jobmanager-1 10.231.0.11, jobmanager-2 10.231.0.12, taskmanager-1 10.231.0.101");
            HostNetwork network = HostNetwork.CLUSTER;
            assertThat(network.namespaces()).contains("cs-net", "cs-client", "cs-kafka", "cs-jobmanager-2");
            for (String host : ClusterConfig.load(clusterDir).hosts().keySet()) {
                assertThat(network.defaultRoutes(host)).as("default route on %s", host).isEmpty();
                assertThat(network.pids(network.namespace(host))).as("processes on %s", host).isNotEmpty();
            }

            // produce and consume, unchanged, from the client's host
            Path csv = Files.writeString(dir.resolve("beats.csv"), "id,time,x\n" + String.join("\n",
                    Stream.iterate(0, i -> i + 1).limit(40).map(i -> "hosts-probe," + (i * 800) + ",800").toList()) + "\n");
            ClusterCli.Result produced = cli.run("produce", "--input", csv.toString(), "--speed", "max");
            assertThat(produced.exit()).as("produce: %s", produced).isZero();
            ClusterCli.Result consumed = cli.run("consume", "--topic", "rr-events", "--from-beginning", "--max-idle", "5s");
            assertThat(consumed.exit()).as("consume: %s", consumed).isZero();
            assertThat(consumed.out().lines().filter(l -> l.contains("hosts-probe"))).hasSize(40);

            ClusterCli.Result chaos = cli.run(lines.get(1).split(" "));
            cli.log("chaos:\n" + chaos.out() + chaos.err());
            assertThat(chaos.exit()).as("chaos: %s", chaos).isZero();
            assertThat(chaos.out()).contains("result: OK", "missing: 0, duplicated: 0, mismatched: 0", "dead letters: 0");
            Matcher cut = LEADER_CUT.matcher(chaos.out());
            assertThat(cut.find()).as("the leader cut off, another leading: %s", chaos).isTrue();
            assertThat(chaos.out().lines().filter(l -> l.startsWith("recovery: "))).hasSize(1)
                    .noneMatch(l -> l.endsWith("never"));
            // no two leaders: the cut one gave up the lead before the other was granted it
            LocalDateTime lost = lastLogTime(cut.group(1), "DispatcherRestEndpoint", "lost leadership");
            LocalDateTime granted = lastLogTime(cut.group(2), "DispatcherRestEndpoint", "was granted leadership");
            cli.log(cut.group(1) + " lost the lead at " + lost + ", " + cut.group(2) + " granted it at " + granted);
            assertThat(lost).as("%s lost the lead before %s got it", cut.group(1), cut.group(2)).isBefore(granted);

            ClusterCli.Result stop = cli.run(lines.get(2).split(" "));
            assertThat(stop.exit()).as("cluster stop: %s", stop).isZero();
            assertThat(network.namespaces()).as("namespaces left").isEmpty();
        } catch (Throwable t) {
            cli.run("cluster", "stop");
            throw new AssertionError(t.getMessage() + cli.keepLogs("hosts-cluster-it-logs"), t);
        }
    }

    /** The command lines of docs/operations.md's section on hosts, without {@code bin/cardiospike}. */
    static List<String> documentedCommands() throws IOException {
        String doc = Files.readString(Path.of("docs/operations.md"));
        String section = doc.substring(doc.indexOf("## Parts on hosts of their own"));
        section = section.substring(section.indexOf("```sh\n") + 6);
        section = section.substring(0, section.indexOf("```"));
        return section.lines().map(l -> l.replaceFirst("^bin/cardiospike ", "")).toList();
    }

    /** The time of the last line of {@code process}'s log with both strings. */
    private LocalDateTime lastLogTime(String process, String a, String b) throws IOException {
        Optional<String> line = Files.readAllLines(clusterDir.resolve("logs").resolve(process + ".log"),
                StandardCharsets.ISO_8859_1).stream().filter(l -> l.contains(a) && l.contains(b))
                .reduce((x, y) -> y);
        assertThat(line).as("'%s ... %s' in %s's log", a, b, process).isPresent();
        return LocalDateTime.parse(line.get().substring(0, 23), LOG_TIME);
    }

}
