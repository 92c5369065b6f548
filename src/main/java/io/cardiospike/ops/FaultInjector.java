package io.cardiospike.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Makes faults happen on the cluster of {@code cluster start}: SIGKILLs a TaskManager, the leading JobManager or the
 * broker (the supervisor restarts them, as it would any crashed process) or freezes the object store with SIGSTOP so
 * that it is unreachable (connections hang, as with a network partition) until SIGCONT; on a cluster started with
 * {@code --hosts}, cuts a part's link for a while (a network partition: its packets are dropped) and restores it.
 * Processes, and which JobManager leads, are found in the supervisor's {@code status.json}.
 */
public final class FaultInjector {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RESTART_TIMEOUT = Duration.ofMinutes(3);

    private final ClusterConfig cluster;
    private final Random random;

    public FaultInjector(ClusterConfig cluster, long seed) {
        this.cluster = cluster;
        this.random = new Random(seed);
    }

    /** A supervised process as the status file lists it. */
    public record Supervised(String name, long pid, String state) {}

    public List<Supervised> processes() throws IOException {
        List<Supervised> out = new ArrayList<>();
        for (JsonNode p : status().path("processes")) {
            out.add(new Supervised(p.path("name").asText(), p.path("pid").asLong(), p.path("state").asText()));
        }
        return out;
    }

    private JsonNode status() throws IOException {
        Path file = cluster.dir().resolve(ClusterSupervisor.STATUS_FILE);
        return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
    }

    /**
     * SIGKILLs a random running TaskManager among {@code preferred} (those running the job's tasks: killing an idle
     * one tests nothing), or among all if none of them runs; returns its name.
     */
    public String killTaskManager(java.util.Set<String> preferred) throws IOException, InterruptedException {
        Supervised victim = taskManagerAmong(preferred);
        kill(victim);
        return victim.name();
    }

    /**
     * SIGKILLs the leading JobManager, once one leads (at most {@link #RESTART_TIMEOUT}: a failover before may still
     * be electing); returns its name. Returns when it is back as a standby, with another one leading.
     */
    public String killLeadingJobManager() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + RESTART_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> leader = leader();
            List<Supervised> all = processes();
            Optional<Supervised> running = leader.flatMap(name -> all.stream()
                    .filter(p -> p.name().equals(name) && p.state().equals("RUNNING")).findFirst());
            if (running.isPresent()) {
                kill(running.get());
                return running.get().name();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("no JobManager leads in " + cluster.dir());
    }

    /** The leading JobManager, as the supervisor last saw it in ZooKeeper. */
    public Optional<String> leader() throws IOException {
        JsonNode leader = status().path("leader");
        return leader.isTextual() ? Optional.of(leader.asText()) : Optional.empty();
    }

    /** SIGKILLs the broker. */
    public void killBroker() throws IOException, InterruptedException {
        kill(find("kafka"));
    }

    /** Freezes the object store for {@code outage} (SIGSTOP, then SIGCONT), blocking meanwhile. */
    public void storageOutage(Duration outage) throws IOException, InterruptedException {
        Supervised s3 = find("s3");
        signal("STOP", s3.pid());
        try {
            Thread.sleep(outage.toMillis());
        } finally {
            signal("CONT", s3.pid());
        }
    }

    /** A link cut and restored: what was cut, and whether the cluster did what it must meanwhile. */
    public record Cut(String what, boolean ok) {}

    /** A random running TaskManager among {@code preferred}, or among all if none of them runs. */
    private Supervised taskManagerAmong(java.util.Set<String> preferred) throws IOException {
        List<Supervised> all = processes().stream()
                .filter(p -> p.name().startsWith("taskmanager-") && p.state().equals("RUNNING")).toList();
        List<Supervised> busy = all.stream().filter(p -> preferred.contains(p.name())).toList();
        List<Supervised> running = busy.isEmpty() ? all : busy;
        if (running.isEmpty()) {
            throw new IllegalStateException("no running TaskManager in " + cluster.dir());
        }
        return running.get(random.nextInt(running.size()));
    }

    /**
     * Cuts a random running TaskManager among {@code preferred} (as {@link #killTaskManager}) off the network for
     * {@code length}, blocking meanwhile, then restores its link.
     */
    public Cut partitionTaskManager(java.util.Set<String> preferred, Duration length) throws IOException, InterruptedException {
        String victim = taskManagerAmong(preferred).name();
        cut(victim, length);
        return new Cut(victim + " cut off for " + length.toSeconds() + " s", true);
    }

    /** Cuts the broker off the network for {@code length}, blocking meanwhile, then restores its link. */
    public Cut partitionBroker(Duration length) throws IOException, InterruptedException {
        cut("kafka", length);
        return new Cut("broker cut off for " + length.toSeconds() + " s", true);
    }

    /**
     * Cuts the leading JobManager off the network, ZooKeeper included, for {@code length}, then restores its link. It
     * must stop leading while cut (its ZooKeeper session lapses) and another JobManager must take the lead, and keep
     * it once the link is back: never two leaders. {@link Cut#ok} says whether that happened.
     */
    public Cut partitionLeadingJobManager(Duration length) throws IOException, InterruptedException {
        String victim = awaitLeader();
        long cutAt = System.nanoTime();
        network().cut(victim);
        Optional<String> next = Optional.empty();
        long tookOver = -1;
        try {
            long end = cutAt + length.toNanos();
            while (System.nanoTime() < end) {
                Optional<String> now = leader();
                if (tookOver < 0 && now.isPresent() && !now.get().equals(victim)) {
                    next = now;
                    tookOver = System.nanoTime();
                }
                Thread.sleep(250);
            }
        } finally {
            network().restore(victim);
        }
        String what = victim + " (leader) cut off for " + length.toSeconds() + " s";
        if (tookOver < 0) {
            return new Cut(what + ", and no other JobManager took the lead", false);
        }
        Thread.sleep(3000); // back on the network, it must not lead again (the other holds the latch)
        Optional<String> after = leader();
        String took = String.format(java.util.Locale.ROOT, ", %s leading after %.1f s", next.get(),
                (tookOver - cutAt) / 1e9);
        if (after.isEmpty() || after.get().equals(victim)) {
            return new Cut(what + took + ", but " + victim + " leads again 3 s after the link came back", false);
        }
        return new Cut(what + took, true);
    }

    private void cut(String part, Duration length) throws IOException, InterruptedException {
        network().cut(part);
        try {
            Thread.sleep(length.toMillis());
        } finally {
            network().restore(part);
        }
    }

    private HostNetwork network() {
        if (!cluster.onHosts()) {
            throw new IllegalStateException("a network partition needs a cluster on hosts of its own: cluster start --hosts");
        }
        return HostNetwork.CLUSTER;
    }

    /** The leading JobManager, once one leads and runs (at most {@link #RESTART_TIMEOUT}). */
    private String awaitLeader() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + RESTART_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> leader = leader();
            List<Supervised> all = processes();
            if (leader.isPresent() && all.stream().anyMatch(p -> p.name().equals(leader.get()) && p.state().equals("RUNNING"))) {
                return leader.get();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("no JobManager leads in " + cluster.dir());
    }

    /** Waits until the supervisor has {@code name} running again under a new pid. */
    public void awaitRestarted(String name, long oldPid) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + RESTART_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Supervised> p = processes().stream().filter(q -> q.name().equals(name)).findFirst();
            if (p.isPresent() && p.get().pid() != oldPid && p.get().state().equals("RUNNING")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(name + " was not restarted within " + RESTART_TIMEOUT.toMinutes() + " min");
    }

    private Supervised find(String name) throws IOException {
        return processes().stream().filter(p -> p.name().equals(name) && p.state().equals("RUNNING")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no running " + name + " in " + cluster.dir()));
    }

    private void kill(Supervised p) throws IOException, InterruptedException {
        ProcessHandle h = ProcessHandle.of(p.pid())
                .orElseThrow(() -> new IllegalStateException(p.name() + " (pid " + p.pid() + ") is not alive"));
        h.destroyForcibly(); // SIGKILL: no shutdown hooks, no clean close, as in a crash
        h.onExit().join();
        awaitRestarted(p.name(), p.pid());
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed");
        }
    }
}
