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

    /** One thread's group and CPU seconds so far. */
    record Sample(String group, double seconds) {}

    /** Every thread's CPU seconds, by thread id. */
    static Map<String, Sample> snapshot() {
        Map<String, Sample> threads = new LinkedHashMap<>();
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
                threads.put(task.getFileName().toString(), new Sample(group(name), cpu));
            }
        } catch (IOException | RuntimeException e) {
            return Map.of(); // not Linux
        }
        return threads;
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

    /**
     * "µs group" lines of CPU per event between two snapshots, largest first, and the cores used. A thread that ended
     * between them is left out (its time is gone with it); one that started counts whole.
     */
    static String perEvent(Map<String, Sample> before, Map<String, Sample> after, long events, double seconds) {
        if (before.isEmpty() || after.isEmpty() || events <= 0) {
            return "not measured (no /proc)";
        }
        Map<String, Double> groups = new LinkedHashMap<>();
        GROUPS.forEach(g -> groups.put(g.getKey(), 0.0));
        groups.put("other", 0.0);
        after.forEach((tid, t) -> groups.merge(t.group(),
                t.seconds() - (before.containsKey(tid) ? before.get(tid).seconds() : 0), Double::sum));
        StringBuilder out = new StringBuilder();
        double total = 0;
        List<Map.Entry<String, Double>> rows = groups.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).toList();
        for (Map.Entry<String, Double> e : rows) {
            total += e.getValue();
            out.append(String.format(Locale.ROOT, "%n  %6.1f us  %s", e.getValue() / events * 1e6, e.getKey()));
        }
        return String.format(Locale.ROOT, "%.1f us of CPU per event = %.2f cores:", total / events * 1e6,
                total / seconds) + out;
    }
}
