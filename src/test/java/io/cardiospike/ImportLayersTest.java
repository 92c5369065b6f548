package io.cardiospike;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The floor plan: each package uses only the rooms below it ({@code cli} → {@code api}, {@code evaluation}, {@code notify}, {@code ops} → {@code local} →
 * {@code stream} → {@code drift} → {@code model} → {@code features} → {@code rr}; {@code api} → {@code shadow} →
 * {@code model}), and {@code kafka}, the ground floor, uses none.
 * Every mention counts: imports and fully qualified names in code.
 */
class ImportLayersTest {
    private static final Set<String> BASE = Set.of("model", "features", "rr", "kafka");
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries( // a room, and the rooms it may use
            Map.entry("kafka", Set.of()),
            Map.entry("rr", Set.of()),
            Map.entry("features", Set.of("rr")),
            Map.entry("model", Set.of("features", "rr")),
            Map.entry("drift", Set.of("model", "features", "rr")),
            Map.entry("stream", union(BASE, "drift")),
            Map.entry("local", union(BASE, "stream", "drift")),
            Map.entry("ops", union(BASE, "stream", "local", "drift")),
            Map.entry("evaluation", Set.of("model", "features", "rr")),
            Map.entry("shadow", BASE),
            Map.entry("api", union(BASE, "shadow")),
            Map.entry("notify", union(BASE, "stream")),
            Map.entry("cli", union(BASE, "stream", "drift", "local", "ops", "api", "evaluation", "notify", "shadow")));
    private static final Pattern MENTION = Pattern.compile("\\bio\\.cardiospike\\.([a-z]+)\\b");

    @Test
    void noPackageUsesOneAboveIt() throws Exception {
        Path root = Path.of("src/main/java/io/cardiospike");
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String room = root.relativize(file).getName(0).toString();
                assertThat(MAY_USE).as("a room of the floor plan: " + file).containsKey(room);
                String code = Files.readString(file).replaceFirst("(?m)^package .*$", "");
                for (Matcher m = MENTION.matcher(code); m.find(); ) {
                    String used = m.group(1);
                    if (!used.equals(room) && !MAY_USE.get(room).contains(used)) {
                        violations.add(root.relativize(file) + " uses " + used);
                    }
                }
            }
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void noCommandCallsFlinksRestApiItself() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("src/main/java/io/cardiospike/cli"))) {
            assertThat(files.filter(f -> {
                try {
                    return Files.readString(f).contains("FlinkRest");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList()).as("commands go through ops' job client").isEmpty();
        }
    }

    private static Set<String> union(Set<String> base, String... more) {
        Set<String> all = new java.util.HashSet<>(base);
        all.addAll(List.of(more));
        return Set.copyOf(all);
    }
}
