package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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

    private void writeSixtyBeats() throws Exception {
        Files.writeString(dir.resolve("in.csv"), "id,time,x\n" + String.join("\n", java.util.stream.IntStream
                .range(0, 60).mapToObj(i -> "p1," + i * 800 + "," + (760 + (i * 37) % 90)).toList()) + "\n");
    }

    record Result(int exit, String err) {}

    private Result run(Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString()).directory(dir.toFile())
                .redirectError(dir.resolve("err.txt").toFile()).redirectOutput(dir.resolve("out.txt").toFile());
        pb.command().addAll(List.of(args));
        pb.environment().remove("CARDIOSPIKE_MODEL");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        return new Result(p.exitValue(), Files.readString(dir.resolve("err.txt")));
    }
}
