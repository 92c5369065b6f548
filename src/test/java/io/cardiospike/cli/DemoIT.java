package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's contract: a replay through Kafka and the Flink job writes the same CSV as the batch scorer. */
class DemoIT {
    @Test
    void replayedRecordingsScoreExactlyLikeTheBatchCli(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("replay.csv"), batch = dir.resolve("batch.csv"), stream = dir.resolve("stream.csv");
        StringWriter err = new StringWriter();
        PrintWriter errOut = new PrintWriter(err, true);
        assertThat(Main.run(errOut, "generate", "--output", input.toString(), "--patients", "6", "--min-beats", "40",
                "--max-beats", "400", "--seed", "5")).isZero();
        assertThat(Main.run(errOut, "score", "--input", input.toString(), "--output", batch.toString())).isZero();
        assertThat(Main.run(errOut, "demo", "--replay", input.toString(), "--speed", "max", "--exit-when-done",
                "--scores-csv", stream.toString(), "--no-dashboard", "--idle-flush", "3s")).as(err.toString()).isZero();
        assertThat(Files.readAllLines(stream)).isEqualTo(Files.readAllLines(batch)).hasSizeGreaterThan(200);
    }
}
