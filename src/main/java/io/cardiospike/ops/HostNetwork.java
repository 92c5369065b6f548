package io.cardiospike.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The hosts of {@code cluster start --hosts}: one Linux network namespace per part of the cluster (ZooKeeper, the
 * broker, the object store, each JobManager, each TaskManager) and one for the clients, each with an address of its
 * own on a private subnet. Each namespace's {@code eth0} is one end of a veth pair whose other end, named after the
 * part, is a port of one bridge; the bridge lives in a namespace of its own ({@code PREFIX net}), so that the root
 * namespace has no interface and no route on the subnet. No namespace has a default route: a packet for an address
 * off the subnet has nowhere to go, and none ever leaves the machine. Every namespace knows every other's MAC address
 * (permanent neighbour entries): a cut link ({@link #cut}: the part's bridge port down) drops packets silently, as a
 * cut cable does, instead of failing address resolution fast.
 *
 * <p>Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and {@code ip} from iproute2.
 */
public final class HostNetwork {
    /** The local cluster's network: namespaces {@code cs-<part>}, subnet 10.231.0.0/24. */
    public static final HostNetwork CLUSTER = new HostNetwork("cs-", "10.231.0");
    /** The host the clients (and the supervisor) run on. */
    public static final String CLIENT = "client";
    static final String BRIDGE = "br0";
    static final String DEVICE = "eth0";

    private final String prefix;
    private final String subnet;

    /** A network of namespaces named {@code prefix + host} on {@code subnet}.0/24 ({@code subnet}: three octets). */
    public HostNetwork(String prefix, String subnet) {
        this.prefix = prefix;
        this.subnet = subnet;
    }

    /** The cluster's hosts, the client first: name to address. */
    public Map<String, String> hosts(int jobManagers, int taskManagers) {
        List<String> names = new ArrayList<>(List.of(CLIENT, "zookeeper", "kafka", "s3"));
        for (int j = 1; j <= jobManagers; j++) {
            names.add(ClusterConfig.jobManager(j));
        }
        for (int i = 1; i <= taskManagers; i++) {
            names.add("taskmanager-" + i);
        }
        Map<String, String> hosts = new LinkedHashMap<>();
        names.forEach(n -> hosts.put(n, address(n)));
        return hosts;
    }

    /**
     * A host's address, fixed by its name: client .2, zookeeper .3, kafka .4, s3 .5, jobmanager-j .10+j,
     * taskmanager-i .100+i.
     */
    public String address(String host) {
        int last;
        if (host.startsWith("jobmanager-")) {
            last = 10 + number(host, 89);
        } else if (host.startsWith("taskmanager-")) {
            last = 100 + number(host, 150);
        } else {
            last = switch (host) {
                case CLIENT -> 2;
                case "zookeeper" -> 3;
                case "kafka" -> 4;
                case "s3" -> 5;
                default -> throw new IllegalArgumentException("no host " + host);
            };
        }
        return subnet + "." + last;
    }

    private static int number(String host, int max) {
        int n = Integer.parseInt(host.substring(host.lastIndexOf('-') + 1));
        if (n < 1 || n > max) {
            throw new IllegalArgumentException(host + ": at most " + max);
        }
        return n;
    }

    /** The namespace of {@code host}. */
    public String namespace(String host) {
        return prefix + host;
    }

    /** The namespace that holds the bridge and the hosts' links. */
    public String bridgeNamespace() {
        return prefix + "net";
    }

    /** The command prefix that runs a program on {@code host}: {@code ip netns exec} execs it (same pid). */
    public List<String> exec(String host) {
        return List.of("ip", "netns", "exec", namespace(host));
    }

    /**
     * Creates the network for {@code hosts} (name to address), after deleting what is left of a previous one with
     * this prefix; fails if a process still runs in one of its namespaces.
     */
    public void create(Map<String, String> hosts) throws IOException {
        delete();
        String net = bridgeNamespace();
        ip("netns", "add", net);
        batch(net, "link set lo up", "link add " + BRIDGE + " type bridge", "link set " + BRIDGE + " up");
        for (Map.Entry<String, String> h : hosts.entrySet()) {
            String ns = namespace(h.getKey());
            ip("netns", "add", ns);
            // the host's end is created in its namespace directly, named eth0; the bridge's end is named after it
            batch(net, "link add " + h.getKey() + " type veth peer name " + DEVICE + " netns " + ns,
                    "link set " + h.getKey() + " master " + BRIDGE + " up");
            List<String> commands = new ArrayList<>(List.of("link set lo up",
                    "link set " + DEVICE + " address " + mac(h.getValue()),
                    "addr add " + h.getValue() + "/24 dev " + DEVICE,
                    "link set " + DEVICE + " up"));
            for (Map.Entry<String, String> other : hosts.entrySet()) {
                if (!other.getKey().equals(h.getKey())) {
                    commands.add("neigh replace " + other.getValue() + " lladdr " + mac(other.getValue()) + " dev "
                            + DEVICE + " nud permanent");
                }
            }
            batch(ns, commands.toArray(String[]::new));
        }
    }

    /** Deletes every namespace of this network; fails, deleting nothing, while a process runs in one. */
    public void delete() throws IOException {
        List<String> ours = namespaces();
        for (String ns : ours) {
            List<String> pids = pids(ns);
            if (!pids.isEmpty()) {
                throw new IOException("network namespace " + ns + " still has processes " + pids
                        + " (a cluster still running? bin/cardiospike cluster stop)");
            }
        }
        for (String ns : ours) {
            ip("netns", "delete", ns);
        }
    }

    /** The namespaces of this network that exist now. */
    public List<String> namespaces() throws IOException {
        List<String> ours = new ArrayList<>();
        for (String line : ip("netns", "list").split("\n")) {
            String name = line.trim().split("\\s+")[0];
            if (!name.isEmpty() && name.startsWith(prefix)) {
                ours.add(name);
            }
        }
        return ours;
    }

    /** The processes in a namespace. */
    public List<String> pids(String namespace) throws IOException {
        return List.of(ip("netns", "pids", namespace).trim().split("\\s+")).stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Whether any process runs in one of this network's namespaces. */
    public boolean inUse() throws IOException {
        for (String ns : namespaces()) {
            if (!pids(ns).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Cuts {@code host}'s link: its bridge port goes down, and every packet to or from it is dropped. */
    public void cut(String host) throws IOException {
        batch(bridgeNamespace(), "link set " + host + " down");
    }

    /** Restores {@code host}'s link. */
    public void restore(String host) throws IOException {
        batch(bridgeNamespace(), "link set " + host + " up");
    }

    /** {@code ip route show default} on {@code host}: empty on every host of this network. */
    public String defaultRoutes(String host) throws IOException {
        return ip("-n", namespace(host), "route", "show", "default").trim();
    }

    /**
     * Whether this process runs on {@code host} (in its network namespace): the namespace file's inode is the
     * namespace's.
     */
    public boolean runningOn(String host) {
        try {
            String self = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(); // net:[4026531840]
            Object inode = Files.getAttribute(Path.of("/run/netns", namespace(host)), "unix:ino");
            return self.equals("net:[" + inode + "]");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** A locally administered MAC address made of the IPv4 address: 02:00:a:b:c:d. */
    static String mac(String address) {
        StringBuilder mac = new StringBuilder("02:00");
        for (String octet : address.split("\\.")) {
            mac.append(String.format(":%02x", Integer.parseInt(octet)));
        }
        return mac.toString();
    }

    private void batch(String namespace, String... commands) throws IOException {
        run(List.of("ip", "-n", namespace, "-batch", "-"), String.join("\n", commands) + "\n");
    }

    private static String ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return run(cmd, "");
    }

    private static String run(List<String> cmd, String input) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": no answer in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + (input.isEmpty() ? "" : " <<< " + input.strip().replace("\n", "; "))
                    + ": " + out.strip());
        }
        return out;
    }
}
