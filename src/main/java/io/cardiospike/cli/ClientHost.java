package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.ops.ClusterConfig;
import io.cardiospike.ops.HostNetwork;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;

/**
 * The client's host of a cluster started with {@code cluster start --hosts}: a command that talks to that cluster
 * ({@code job ...}, {@code chaos}, and {@code produce}, {@code consume}, {@code notify} and {@code shadow report} without
 * {@code --bootstrap-servers}) runs
 * there, in the network namespace {@code cs-client}, the only one with a route to the parts' addresses. The root
 * namespace has none: it would send their packets out of the machine. {@code cluster start|stop|status} stay where
 * they are called (they manage the namespaces and read files only).
 *
 * <p>Mechanism: {@link Main#main} asks {@link #command} first; where it answers, the JVM runs its command again
 * under {@code ip netns exec cs-client} (same java, JVM options, class path and arguments) and exits with its exit
 * code.
 */
final class ClientHost {
    /** The commands that may talk to the local cluster; any other starts as it always did, without a parse here. */
    static final java.util.Set<String> CLIENT_COMMANDS = java.util.Set.of("job", "chaos", "produce", "consume",
            "notify", "shadow");

    private ClientHost() {}

    /**
     * The command line that runs {@code args} on the client's host, if they must run there and this process does not
     * already; empty otherwise (and for anything that does not parse: the command reports that itself).
     */
    static Optional<List<String>> command(String[] args) {
        if (args.length == 0 || !CLIENT_COMMANDS.contains(args[0])) {
            return Optional.empty(); // score's start-up stays as fast as it was
        }
        Optional<ClusterConfig> cluster = clusterOf(args);
        if (cluster.isEmpty() || !cluster.get().onHosts() || HostNetwork.CLUSTER.runningOn(HostNetwork.CLIENT)) {
            return Optional.empty();
        }
        // this JVM again: its java, options and class path, then Main with the same arguments
        List<String> cmd = new ArrayList<>(HostNetwork.CLUSTER.exec(HostNetwork.CLIENT));
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(Arrays.asList(args));
        return Optional.of(cmd);
    }

    /** Runs {@code command} with this process's input and output; returns its exit code. */
    static int run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).inheritIO().start();
            Thread stop = new Thread(() -> {
                p.destroy(); // this one is stopped (SIGTERM): so is the command
                try {
                    p.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "client-host-stop");
            Runtime.getRuntime().addShutdownHook(stop);
            int exit = p.waitFor();
            Runtime.getRuntime().removeShutdownHook(stop);
            return exit;
        } catch (IOException e) {
            System.err.println("error: cannot run on the cluster's client host (" + String.join(" ", command.subList(0, 4))
                    + "): " + e.getMessage());
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }

    /** The local cluster a command line talks to, if it talks to one. */
    private static Optional<ClusterConfig> clusterOf(String[] args) {
        CommandLine.ParseResult parsed;
        try {
            parsed = new CommandLine(new Main()).parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return Optional.empty();
        }
        List<CommandLine> path = parsed.asCommandLineList();
        CommandLine leaf = path.get(path.size() - 1);
        boolean help = path.stream().anyMatch(CommandLine::isUsageHelpRequested)
                || path.stream().anyMatch(CommandLine::isVersionHelpRequested);
        if (help || path.stream().anyMatch(c -> c.getCommand() instanceof ClusterCommand)) {
            return Optional.empty();
        }
        List<Object> mixins = new ArrayList<>();
        collectMixins(leaf.getCommandSpec(), mixins);
        for (Object mixin : mixins) {
            if (mixin instanceof ClusterCommand.Dir dir) {
                try {
                    return Optional.of(dir.load());
                } catch (IOException e) {
                    return Optional.empty(); // no cluster there: the command says so itself
                }
            }
            if (mixin instanceof KafkaOptions kafka && !kafka.given()
                    && (leaf.getCommand() instanceof ProduceCommand || leaf.getCommand() instanceof ConsumeCommand
                        || leaf.getCommand() instanceof NotifyCommand
                        || leaf.getCommand() instanceof ShadowCommand.Report)) {
                return ClusterCommand.Dir.loadDefault();
            }
        }
        return Optional.empty();
    }

    /** The user objects of a command's mixins, and of theirs. */
    private static void collectMixins(CommandLine.Model.CommandSpec spec, List<Object> into) {
        for (CommandLine.Model.CommandSpec mixin : spec.mixins().values()) {
            into.add(mixin.userObject());
            collectMixins(mixin, into);
        }
    }

    /** {@code options}, with the local cluster's broker where it is on hosts (produce, consume, notify). */
    static KafkaOptions localCluster(KafkaOptions options) {
        if (!options.given()) {
            ClusterCommand.Dir.loadDefault().filter(ClusterConfig::onHosts)
                    .ifPresent(cluster -> options.localCluster(cluster.kafkaBootstrap()));
        }
        return options;
    }
}
