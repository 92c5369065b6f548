package io.cardiospike.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of this process's threads from {@code /proc/self/task} (Linux; empty elsewhere), grouped by what the
 * threads do. {@code bench stream} runs broker, job and producer in one JVM, so two snapshots tell where the machine's
 * cores went between them: native time (ONNX Runtime, RocksDB) included, which a Java profiler's samples miss.
 */
final class ThreadCpu {
    /** Groups by the start of the thread's name (Linux keeps 15 characters), first match wins. */
    private static final List<Map.Entry<String, List<String>>> GROUPS = List.of(
            Map.entry("scoring tasks (score-patients, chained sinks)", List.of("score-patients")),
            Map.entry("source + validate", List.of("Source: rr-even", "Source Data Fet")),
            Map.entry("Kafka producers' I/O", List.of("kafka-producer-")),
            Map.entry("broker", List.of("data-plane-kafk", "kafka-", "broker-", "raft-", "TxnMarkerSender",
                    "AddPartitionsTo", "group-coordinat", "transaction-log", "ExpirationReape", "LogDirFailureH",
                    "controller-", "share-coordinat", "quorum-")),
            Map.entry("JIT compiler", List.of("C1 CompilerThre", "C2 CompilerThre")),
            Map.entry("garbage collector", List.of("GC Thread", "G1 ")),
            Map.entry("bench's own producer and reader", List.of("main", "topic-reader")),
            Map.entry("checkpoints (async part, RocksDB)", List.of("AsyncOperations", "rocksdb:", "flink-snapshot")));

    private ThreadCpu() {}

    /** CPU seconds per group, and under "other" the rest. */
    static Map<String, Double> snapshot() {
        Map<String, Double> seconds = new LinkedHashMap<>();
        GROUPS.forEach(g -> seconds.put(g.getKey(), 0.0));
        seconds.put("other", 0.0);
        double tick = 100.0; // USER_HZ, 100 on every Linux that matters
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue; // the thread ended meanwhile
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / tick; // utime + stime
                seconds.merge(group(name), cpu, Double::sum);
            }
        } catch (IOException | RuntimeException e) {
            return Map.of(); // not Linux
        }
        return seconds;
    }

    private static String group(String thread) {
        for (Map.Entry<String, List<String>> g : GROUPS) {
            for (String prefix : g.getValue()) {
                if (thread.startsWith(prefix)) {
                    return g.getKey();
                }
            }
        }
        return "other";
    }

    /** "group µs, ..." of CPU per event between two snapshots, largest first, and the cores used. */
    static String perEvent(Map<String, Double> before, Map<String, Double> after, long events, double seconds) {
        if (before.isEmpty() || after.isEmpty() || events <= 0) {
            return "not measured (no /proc)";
        }
        StringBuilder out = new StringBuilder();
        double total = 0;
        List<Map.Entry<String, Double>> rows = after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).toList();
        for (Map.Entry<String, Double> e : rows) {
            total += e.getValue();
            out.append(String.format(Locale.ROOT, "%n  %6.1f us  %s", e.getValue() / events * 1e6, e.getKey()));
        }
        return String.format(Locale.ROOT, "%.1f us of CPU per event = %.2f cores:", total / events * 1e6,
                total / seconds) + out;
    }
}
