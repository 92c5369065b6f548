package io.cardiospike;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.cli.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The docs run as written. A fenced block right after {@code <!-- runs: demo -->} runs against a demo this test starts
 * ({@code bin/cardiospike demo}, its broker on 127.0.0.1:9092 and its dashboard on :8080, as the docs assume), and
 * must exit 0; after {@code <!-- runs: demo, stopped after 30s -->} it is a consumer that runs until stopped, and
 * must have printed a line by then. Blocks run in one directory, README.md's first, then docs/ by name: a block may
 * use a file an earlier one wrote. Every other {@code bin/cardiospike} line of the docs (commands too long for a test:
 * training, a benchmark, a chaos run) must name a command that exists and only options it has.
 */
class DocsIT {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Pattern MARKER = Pattern.compile("<!--\\s*runs:\\s*demo(?:,\\s*stopped after (\\d+)s)?\\s*-->");
    static final Pattern FENCE = Pattern.compile("^\\s*```(\\w*)\\s*$");
    /** A command line: the launcher, its command words, then the rest up to ; && | (an escaped | of a table cell stays). */
    static final Pattern MENTION = Pattern.compile("bin/cardiospike((?:\\s+[a-z][a-z-]*(?:\\\\?\\|[a-z][a-z-]*)*)*)"
            + "((?:[^`;&|\\n\\\\]|\\\\.)*)");
    static final Pattern INLINE_CODE = Pattern.compile("`([^`]+)`");
    static final Pattern OPTION = Pattern.compile("(?<![\\w-])(--[a-z][a-z0-9-]*)");
    /** Commands of the launcher itself (bin/cardiospike), not of the Java CLI; their options are in their --help. */
    static final Set<String> LAUNCHER_COMMANDS = Set.of("train", "search", "promote", "test", "python", "venv",
            "fuzz-venv", "help");

    record Block(Path file, int line, String language, Duration stopAfter, String code) {
        String where() {
            return ROOT.relativize(file) + ":" + line;
        }
    }

    static List<Path> docs() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("training/README.md")));
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    static List<Block> runnableBlocks(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher marker = MARKER.matcher(lines.get(i));
            if (!marker.find()) {
                continue;
            }
            Matcher fence = i + 1 < lines.size() ? FENCE.matcher(lines.get(i + 1)) : null;
            assertThat(fence != null && fence.matches()).as(file + ":" + (i + 1) + ": a runs marker goes right before "
                    + "a fenced block").isTrue();
            StringBuilder code = new StringBuilder();
            int j = i + 2;
            for (; j < lines.size() && !FENCE.matcher(lines.get(j)).matches(); j++) {
                code.append(lines.get(j)).append('\n');
            }
            blocks.add(new Block(file, i + 2, fence.group(1),
                    marker.group(1) == null ? null : Duration.ofSeconds(Integer.parseInt(marker.group(1))),
                    code.toString()));
            i = j;
        }
        return blocks;
    }

    @Test
    void everyDocumentedCommandLineNamesACommandAndOptionsItHas() throws Exception {
        CommandLine cli = new CommandLine(new Main());
        Map<String, String> launcherHelp = new HashMap<>();
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (Path file : docs()) {
            for (Code code : code(file)) {
                for (Matcher m = MENTION.matcher(code.text()); m.find(); ) {
                    String where = ROOT.relativize(file) + ":" + code.line() + ": ";
                    List<String> words = List.of(m.group(1).strip().split("\\s+"));
                    if (words.get(0).isEmpty()) {
                        continue; // the launcher named as a file, not run
                    }
                    Set<String> options = new LinkedHashSet<>();
                    String rest = m.group(2).replaceAll("\\s#.*$", ""); // a shell comment is prose
                    for (Matcher o = OPTION.matcher(rest); o.find(); ) {
                        options.add(o.group(1));
                    }
                    checked++;
                    String command = words.get(0);
                    if (command.equals("python")) {
                        continue; // the venv's python: the options are its script's
                    }
                    if (LAUNCHER_COMMANDS.contains(command)) {
                        String help = launcherHelp.computeIfAbsent(command, DocsIT::launcherHelp);
                        options.stream().filter(o -> !o.equals("--help") && !help.contains(o))
                                .forEach(o -> wrong.add(where + "bin/cardiospike " + command + " has no " + o));
                        continue;
                    }
                    List<CommandLine> commands = resolve(cli, words);
                    if (commands.isEmpty()) {
                        wrong.add(where + "no command bin/cardiospike " + String.join(" ", words));
                        continue;
                    }
                    for (String option : options) {
                        if (commands.stream().noneMatch(c -> has(c, option))) {
                            wrong.add(where + "bin/cardiospike " + String.join(" ", words) + " has no " + option);
                        }
                    }
                }
            }
        }
        assertThat(checked).as("command lines found in the docs").isGreaterThan(50);
        assertThat(wrong).isEmpty();
    }

    /**
     * Whether {@code command} takes {@code option}; one that passes what it does not know on (job upgrade: the job's
     * options to change) takes what its sibling commands take.
     */
    private static boolean has(CommandLine command, String option) {
        if (command.getCommandSpec().findOption(option) != null) {
            return true;
        }
        return !command.getCommandSpec().unmatchedArgsBindings().isEmpty() && command.getParent() != null
                && command.getParent().getSubcommands().values().stream()
                        .anyMatch(sibling -> sibling.getCommandSpec().findOption(option) != null);
    }

    /** The commands a mention's words name: {@code job submit|upgrade} is two; words past the last command are values. */
    private static List<CommandLine> resolve(CommandLine root, List<String> words) {
        List<CommandLine> current = List.of(root);
        for (String word : words) {
            List<CommandLine> next = new ArrayList<>();
            for (CommandLine c : current) {
                for (String alternative : word.replace("\\|", "|").split("\\|")) {
                    CommandLine sub = c.getSubcommands().get(alternative);
                    if (sub != null) {
                        next.add(sub);
                    }
                }
            }
            if (next.isEmpty()) {
                return current.get(0) == root ? List.of() : current;
            }
            current = next;
        }
        return current;
    }

    /** What {@code bin/cardiospike COMMAND --help} prints; a launcher command's help must be there and instant. */
    private static String launcherHelp(String command) {
        try {
            Process p = new ProcessBuilder(ROOT.resolve("bin/cardiospike").toString(), command, "--help")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("bin/cardiospike " + command + " --help\n" + out).isZero();
            return out;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** A piece of a doc that is code: a line of a shell block, or an inline code span. */
    record Code(int line, String text) {}

    static List<Code> code(Path file) throws IOException {
        List<Code> code = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        String block = null; // the open fence's language
        for (int n = 0; n < lines.size(); n++) {
            Matcher fence = FENCE.matcher(lines.get(n));
            if (fence.matches()) {
                block = block == null ? fence.group(1) : null;
            } else if (block != null) {
                if (Set.of("", "bash", "sh", "shell").contains(block)) {
                    code.add(new Code(n + 1, lines.get(n)));
                }
            } else {
                for (Matcher span = INLINE_CODE.matcher(lines.get(n)); span.find(); ) {
                    code.add(new Code(n + 1, span.group(1)));
                }
            }
        }
        return code;
    }

    @Test
    void runnableBlocksRunAsWrittenNextToADemo(@TempDir Path dir) throws Exception {
        List<Block> blocks = new ArrayList<>();
        for (Path file : docs()) {
            blocks.addAll(runnableBlocks(file));
        }
        assertThat(blocks).as("runnable blocks in the docs").hasSizeGreaterThanOrEqualTo(4);
        assertThat(blocks).extracting(Block::language).allMatch(l -> l.equals("bash") || l.equals("python"),
                "bash or python");

        // The docs say bin/cardiospike from the checkout; here it runs from the test's directory.
        Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("bin/cardiospike"),
                "#!/bin/sh\nexec " + ROOT.resolve("bin/cardiospike") + " \"$@\"\n");
        dir.resolve("bin/cardiospike").toFile().setExecutable(true);

        Process demo = new ProcessBuilder(dir.resolve("bin/cardiospike").toString(), "demo", "--speed", "20")
                .directory(dir.toFile()).redirectOutput(dir.resolve("demo.out").toFile())
                .redirectError(dir.resolve("demo.err").toFile()).start();
        try {
            awaitDemo(demo, dir);
            List<String> failures = new ArrayList<>();
            for (Block block : blocks) {
                String failure = run(block, dir);
                if (failure != null) {
                    failures.add(block.where() + ": " + failure);
                }
            }
            assertThat(failures).isEmpty();
        } finally {
            demo.destroy();
            if (!demo.waitFor(30, TimeUnit.SECONDS)) {
                demo.destroyForcibly();
            }
        }
    }

    /** Until the demo's broker is on 9092, its dashboard on 8080 and the job has opened an alert. */
    private static void awaitDemo(Process demo, Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            assertThat(demo.isAlive()).as(() -> "the demo stopped: " + read(dir.resolve("demo.err"))).isTrue();
            String err = read(dir.resolve("demo.err"));
            if (Pattern.compile("\\| [1-9][\\d,]* alerts? \\|").matcher(err).find()) {
                assertThat(read(dir.resolve("demo.out"))).as("the docs' broker address")
                        .contains("kafka: 127.0.0.1:9092");
                assertThat(err).as("the docs' dashboard address").contains("http://127.0.0.1:8080");
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no alert from the demo within 4 minutes: " + read(dir.resolve("demo.err")));
    }

    /** Runs a block in {@code dir}; null when it did what its marker says, else why not. */
    private static String run(Block block, Path dir) throws Exception {
        Path script = dir.resolve("block-" + block.line() + (block.language().equals("python") ? ".py" : ".sh"));
        Files.writeString(script, block.code());
        List<String> command = block.language().equals("python") ? List.of(docsPython(), "-u", script.toString())
                : List.of("bash", "-e", script.toString());
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread drain = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process was stopped
            }
        });
        drain.start();
        Duration limit = block.stopAfter() != null ? block.stopAfter() : Duration.ofMinutes(3);
        boolean exited = p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        drain.join(10_000);
        String shown = String.join("\n", output.subList(Math.max(0, output.size() - 20), output.size()));
        if (block.stopAfter() == null) {
            return !exited ? "still running after " + limit.toMinutes() + " min:\n" + shown
                    : p.exitValue() != 0 ? "exit " + p.exitValue() + ":\n" + shown : null;
        }
        if (exited && p.exitValue() != 0) {
            return "exit " + p.exitValue() + " before it was stopped:\n" + shown;
        }
        return output.stream().anyMatch(l -> !l.isBlank()) ? null
                : "printed nothing in " + block.stopAfter().toSeconds() + " s";
    }

    /** The Python of the tests' small venv (confluent-kafka for the docs' consumer), beside its schemathesis. */
    private static String docsPython() throws IOException, InterruptedException {
        return Path.of(io.cardiospike.api.ApiFuzzIT.schemathesis()).resolveSibling("python").toString();
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
