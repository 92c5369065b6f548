package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.local.EmbeddedKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.apache.log4j.PatternLayout;
import org.apache.log4j.WriterAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --kafka-config} against a broker whose clients must authenticate with SASL SCRAM-SHA-512: with the right
 * credentials the demo's replay goes through the job end to end and scores like the batch CLI; with a wrong password
 * every command fails at once with one line. Neither password appears in any log line or message.
 */
class SecuredKafkaIT {
    static final String PASSWORD = "s3cr3t-alice-pw";
    static final String WRONG = "wr0ng-alice-pw";

    @TempDir
    Path dir;

    @Test
    void scramCredentialsWorkEndToEndAndAWrongPasswordFailsAtOnce() throws Exception {
        StringWriter logs = new StringWriter();
        WriterAppender capture = new WriterAppender(new PatternLayout("%p %c - %m%n"), logs);
        Logger.getRootLogger().addAppender(capture);
        Level kafkaLevel = Logger.getLogger("org.apache.kafka").getLevel();
        Logger.getLogger("org.apache.kafka").setLevel(Level.INFO); // client configs are logged at INFO
        try (EmbeddedKafka kafka = EmbeddedKafka.startWithScram(dir.resolve("kafka"),
                new EmbeddedKafka.ScramUser("SCRAM-SHA-512", "alice", PASSWORD))) {
            kafka.createTopics(2, "rr-events", "rr-scores", "rr-alerts", "rr-dlq");
            Path good = clientConfig("good.properties", PASSWORD), bad = clientConfig("bad.properties", WRONG);

            // Without credentials the listener does not serve: the test's broker really is secured.
            StringWriter plainErr = new StringWriter();
            assertThat(Main.run(new PrintWriter(plainErr, true), "consume", "--topic", "rr-scores",
                    "--bootstrap-servers", kafka.bootstrapServers(), "--max-idle", "1s")).isEqualTo(2);

            Path input = dir.resolve("replay.csv"), batch = dir.resolve("batch.csv"), stream = dir.resolve("stream.csv");
            StringWriter err = new StringWriter();
            PrintWriter errOut = new PrintWriter(err, true);
            assertThat(Main.run(errOut, "generate", "--output", input.toString(), "--patients", "4", "--min-beats", "60",
                    "--max-beats", "200", "--seed", "9")).isZero();
            assertThat(Main.run(errOut, "score", "--input", input.toString(), "--output", batch.toString())).isZero();
            assertThat(Main.run(errOut, "demo", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config",
                    good.toString(), "--replay", input.toString(), "--speed", "max", "--exit-when-done",
                    "--scores-csv", stream.toString(), "--no-dashboard", "--idle-flush", "3s")).as(err.toString()).isZero();
            assertThat(Files.readAllLines(stream)).isEqualTo(Files.readAllLines(batch)).hasSizeGreaterThan(200);

            // The same committed scores through `consume` with the same file.
            StringWriter consumeErr = new StringWriter();
            assertThat(Main.run(new PrintWriter(consumeErr, true), "consume", "--topic", "rr-scores",
                    "--from-beginning", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config",
                    good.toString(), "--max-idle", "5s")).as(consumeErr.toString()).isZero();
            assertThat(consumeErr.toString()).contains("consumed " + (Files.readAllLines(batch).size() - 1) + " records");

            for (String[] command : new String[][] {
                {"consume", "--topic", "rr-scores", "--max-idle", "1s"},
                {"produce", "--input", input.toString(), "--speed", "max"},
                {"demo", "--replay", input.toString(), "--speed", "max", "--exit-when-done", "--no-dashboard"}}) {
                StringWriter badErr = new StringWriter();
                long t0 = System.nanoTime();
                String[] args = concat(command, "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config",
                        bad.toString());
                assertThat(Main.run(new PrintWriter(badErr, true), args)).as("%s: %s", command[0], badErr).isEqualTo(2);
                assertThat((System.nanoTime() - t0) / 1e9).as("%s fails at once", command[0]).isLessThan(30);
                assertThat(badErr.toString().strip().lines()).as("%s: one line", command[0]).hasSize(1)
                        .first().asString().contains("refused the client's credentials").doesNotContain(WRONG);
            }
        } finally {
            Logger.getRootLogger().removeAppender(capture);
            Logger.getLogger("org.apache.kafka").setLevel(kafkaLevel);
        }
        assertThat(logs.toString()).as("log lines").contains("sasl.jaas.config").doesNotContain(PASSWORD)
                .doesNotContain(WRONG);
    }

    private Path clientConfig(String name, String password) throws Exception {
        return Files.writeString(dir.resolve(name), String.join("\n",
                "security.protocol=SASL_PLAINTEXT",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" "
                        + "password=\"" + password + "\";", ""));
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
