package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/cardiospike} as a new user runs it: from any directory, with the installation's bundle by default. */
class LauncherIT {
    static final Path LAUNCHER = Path.of("bin/cardiospike").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void scoresFromOutsideTheRepositoryWithTheInstalledBundle() throws Exception {
        Files.writeString(dir.resolve("in.csv"), "id,time,x\np1,0,800\np1,800,810\np1,1610,790\n");
        Result r = run(Map.of(), "score", "--input", "in.csv", "--output", "out.csv");
        assertThat(r.exit).as(r.err).isZero();
        List<String> lines = Files.readAllLines(dir.resolve("out.csv"));
        assertThat(lines).hasSize(4).first().isEqualTo("id,time,y,proba,artifact");
    }

    @Test
    void aMissingBundleNamesTheWaysToGiveOne() throws Exception {
        Files.writeString(dir.resolve("in.csv"), "id,time,x\np1,0,800\n");
        Result r = run(Map.of("CARDIOSPIKE_MODEL", dir.resolve("nowhere").toString()),
                "score", "--input", "in.csv", "--output", "out.csv");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err).contains("no model bundle at", "--model", "CARDIOSPIKE_MODEL").doesNotContain("Exception");
    }

    /** The class-data archive is the launcher's start-up speed-up: it must exist after a run and change nothing. */
    @Test
    void theClassDataArchiveChangesNoOutput() throws Exception {
        writeSixtyBeats();
        Result with = run(Map.of(), "score", "--input", "in.csv", "--output", "with.csv");
        assertThat(with.exit).as(with.err).isZero();
        Path archive = LAUNCHER.getParent().getParent().resolve("target/cardiospike.jsa");
        assertThat(archive).as(with.err).isRegularFile();
        Result without = run(Map.of("CARDIOSPIKE_CDS", "0"), "score", "--input", "in.csv", "--output", "without.csv");
        assertThat(without.exit).as(without.err).isZero();
        assertThat(Files.readString(dir.resolve("with.csv"))).isEqualTo(Files.readString(dir.resolve("without.csv")));
        assertThat(with.err).doesNotContain("[warning]", "cds");
    }

    /**
     * The launcher unpacks ONNX Runtime's native libraries once per build; without them ONNX Runtime copies 28 MB into
     * {@code java.io.tmpdir} on every start (and leaves a directory behind).
     */
    @Test
    void onnxRuntimeLoadsItsLibrariesFromTheBuildNotFromATemporaryCopy() throws Exception {
        writeSixtyBeats();
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        String opts = "-Xmx1g -Djava.io.tmpdir=" + tmp;
        Result unpacked = run(Map.of("CARDIOSPIKE_JAVA_OPTS", opts), "score", "--input", "in.csv", "--output", "a.csv");
        assertThat(unpacked.exit).as(unpacked.err).isZero();
        assertThat(LAUNCHER.getParent().getParent().resolve("target/onnxruntime-native/libonnxruntime.so")).isRegularFile();
        assertThat(tmp).isEmptyDirectory();
        Result copied = run(Map.of("CARDIOSPIKE_JAVA_OPTS", opts, "CARDIOSPIKE_ORT_NATIVE", "0"),
                "score", "--input", "in.csv", "--output", "b.csv");
        assertThat(copied.exit).as(copied.err).isZero();
        assertThat(tmp).as("ONNX Runtime's own way, which the check above would miss if tmpdir were ignored")
                .isNotEmptyDirectory();
        assertThat(Files.readString(dir.resolve("a.csv"))).isEqualTo(Files.readString(dir.resolve("b.csv")));
    }

    // -- --help: instant and whole (no build beyond the jar, no venv, no network), every option with its default --

    @Test
    void trainHelpListsEveryOptionAndTheConfigKeys() throws Exception {
        String help = assertInstantHelp("train", "--input", "--past", "--lookahead", "--work", "--out", "--from-study",
                "--storage", "--cfg", "key=value");
        assertThat(help).contains("(default: 16)", "(default: 8)", "learning_rate: 0.1", "outer_folds: 5");
    }

    @Test
    void searchHelpListsEveryOptionWithoutTheVenv() throws Exception {
        assertInstantHelp("search", "--storage", "--study", "--trials", "--input", "--threads", "--export", "--model",
                "--workers", "--past", "--lookahead", "--dashboard", "--dashboard-port", "--logs", "--listen",
                "key=value");
        assertInstantHelp("search worker", "--storage", "--study", "--trials", "--input", "--threads", "--export");
        assertInstantHelp("search best", "--storage", "--study");
    }

    @Test
    void promoteHelpListsEveryOptionWithoutTheVenv() throws Exception {
        assertInstantHelp("promote", "BUNDLE", "--into");
    }

    @Test
    void testHelpSaysWhatItSetsUpWithoutDoingIt() throws Exception {
        String help = assertInstantHelp("test", "--java", "MAVEN_ARGUMENTS");
        assertThat(help).contains("apt-get", "libgomp1 chromium chromium-driver postgresql acl iproute2", "venv")
                .doesNotContain("usage: mvn"); // Maven's own help, which `test --help` printed before
    }

    /**
     * {@code bin/cardiospike COMMAND --help}: exit 0 within seconds, each option named, every option line with its
     * default (or "required"), and the venv root left empty. Returns the help.
     */
    private String assertInstantHelp(String command, String... options) throws Exception {
        Path venvs = Files.createDirectories(dir.resolve("venvs"));
        List<String> args = new ArrayList<>(List.of(command.split(" ")));
        args.add("--help");
        Result r = run(Map.of("CARDIOSPIKE_VENV_ROOT", venvs.toString()), args.toArray(String[]::new));
        assertThat(r.exit).as(r.err).isZero();
        assertThat(r.millis).as("%s --help took %d ms", command, r.millis).isLessThan(5_000);
        assertThat(r.out).contains(options);
        for (String entry : optionEntries(r.out)) {
            assertThat(entry).as(command + " --help").containsAnyOf("default", "required");
        }
        assertThat(venvs).as("%s --help made a venv", command).isEmptyDirectory();
        assertThat(r.err).doesNotContain("creating", "building", "\u001b[");
        return r.out;
    }

    /** The entries of a help's option list: a line "  -x ..." or "  --xyz ..." with its more-indented continuations. */
    static List<String> optionEntries(String help) {
        List<String> entries = new ArrayList<>();
        StringBuilder entry = null;
        for (String line : help.split("\n")) {
            if (line.matches(" {2}-.*")) {
                entry = new StringBuilder(line);
                entries.add(null);
            } else if (entry != null && line.matches(" {4,}\\S.*")) {
                entry.append(' ').append(line.strip());
            } else {
                entry = null;
            }
            if (entry != null) {
                entries.set(entries.size() - 1, entry.toString());
            }
        }
        entries.removeIf(e -> e.contains("--help"));
        assertThat(entries).as(help).isNotEmpty();
        return entries;
    }

    // -- the Debian packages a command needs ------------------------------------------------------------------------

    /**
     * Not root: one line names the apt-get command for the missing packages, and nothing else happens (no apt-get, no
     * venv). The packages are made missing by a dpkg-query first on the PATH; the launcher runs as nobody.
     */
    @Test
    void withoutRootAMissingPackageIsNamedInOneAptGetLine() throws Exception {
        Fakes fakes = fakePackageTools();
        // A copy of the launcher, which nobody can run wherever the clone lies (e.g. under /root); the check comes
        // before it needs anything else of the clone.
        Path launcher = Files.copy(LAUNCHER, Files.createDirectories(fakes.home.resolve("bin")).resolve("cardiospike"));
        boolean root = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        List<String> asNobody = root
                ? List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", launcher.toString())
                : List.of(launcher.toString());
        Result r = run(asNobody, fakes.env(), "test", "--java");
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.lines().toList()).containsExactly("cardiospike: missing system packages, install them with: "
                + "sudo apt-get install -y libgomp1 chromium chromium-driver postgresql acl iproute2");
        assertThat(fakes.aptLog).as("apt-get ran").doesNotExist();
        assertThat(fakes.venvs).isEmptyDirectory();
    }

    /** As root the missing packages are installed, non-interactively; a failed install stops the command (exit 1). */
    @Test
    void asRootTheMissingPackagesAreInstalledWithAptGet() throws Exception {
        assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).as("installing needs root (CI runs as root)")
                .isEqualTo(0);
        Fakes fakes = fakePackageTools();
        Result r = run(fakes.env(), "search", "--input", "in.csv", "--model", "lgbm", "--trials", "1");
        assertThat(r.exit).as(r.err).isEqualTo(1);
        assertThat(Files.readAllLines(fakes.aptLog)).containsExactly(
                "DEBIAN_FRONTEND=noninteractive update -q",
                "DEBIAN_FRONTEND=noninteractive install -y -q --no-install-recommends libgomp1 postgresql acl");
        assertThat(r.err).contains("apt-get could not install libgomp1 postgresql acl");
        assertThat(fakes.venvs).isEmptyDirectory();
    }

    record Fakes(Path bin, Path aptLog, Path venvs, Path home) {
        Map<String, String> env() {
            return Map.of("PATH", bin + ":" + System.getenv("PATH"), "CARDIOSPIKE_VENV_ROOT", venvs.toString(),
                    "HOME", home.toString());
        }
    }

    /**
     * A dpkg-query that knows no package and an apt-get that logs its calls (update succeeds, install fails), in
     * directories another user can use too.
     */
    private Fakes fakePackageTools() throws Exception {
        var open = PosixFilePermissions.fromString("rwxrwxrwx");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bin = Files.createDirectories(dir.resolve("fake-bin"));
        Path log = Files.createDirectories(dir.resolve("apt-log"));
        Path venvs = Files.createDirectories(dir.resolve("venvs"));
        Path home = Files.createDirectories(dir.resolve("home"));
        for (Path d : List.of(bin, log, venvs, home)) {
            Files.setPosixFilePermissions(d, open);
        }
        Path aptLog = log.resolve("apt-get.log");
        Files.writeString(bin.resolve("dpkg-query"), "#!/bin/sh\necho \"dpkg-query: no packages found\" >&2\nexit 1\n");
        Files.writeString(bin.resolve("apt-get"), "#!/bin/sh\necho \"DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*\" >> " + aptLog
                + "\n[ \"$1\" = update ]\n");
        for (String tool : List.of("dpkg-query", "apt-get")) {
            Files.setPosixFilePermissions(bin.resolve(tool), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return new Fakes(bin, aptLog, venvs, home);
    }

    private void writeSixtyBeats() throws Exception {
        Files.writeString(dir.resolve("in.csv"), "id,time,x\n" + String.join("\n", java.util.stream.IntStream
                .range(0, 60).mapToObj(i -> "p1," + i * 800 + "," + (760 + (i * 37) % 90)).toList()) + "\n");
    }

    record Result(int exit, String err, String out, long millis) {}

    private Result run(Map<String, String> env, String... args) throws Exception {
        return run(List.of(LAUNCHER.toString()), env, args);
    }

    /** The launcher run through {@code prefix} (e.g. setpriv, to run it as another user). */
    private Result run(List<String> prefix, Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(prefix)).directory(dir.toFile())
                .redirectError(dir.resolve("err.txt").toFile()).redirectOutput(dir.resolve("out.txt").toFile());
        pb.command().addAll(List.of(args));
        pb.environment().remove("CARDIOSPIKE_MODEL");
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Result(p.exitValue(), Files.readString(dir.resolve("err.txt")),
                Files.readString(dir.resolve("out.txt")), millis);
    }
}
