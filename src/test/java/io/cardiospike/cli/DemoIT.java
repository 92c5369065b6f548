package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.stream.wire.StreamJson;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's contract: a replay through Kafka and the Flink job writes the same CSV as the batch scorer. */
class DemoIT {
    @Test
    void replayedRecordingsScoreExactlyLikeTheBatchCli(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("replay.csv"), batch = dir.resolve("batch.csv"), stream = dir.resolve("stream.csv");
        StringWriter err = new StringWriter();
        PrintWriter errOut = new PrintWriter(err, true);
        generateAndScore(errOut, input, batch, "6", "40", "400", "5");
        assertThat(Main.run(errOut, "demo", "--replay", input.toString(), "--speed", "max", "--exit-when-done",
                "--scores-csv", stream.toString(), "--no-dashboard", "--idle-flush", "3s")).as(err.toString()).isZero();
        assertThat(Files.readAllLines(stream)).isEqualTo(Files.readAllLines(batch)).hasSizeGreaterThan(200);
    }

    /**
     * {@code --kafka-port} invites other producers: while one writes other patients and hostile records to the same
     * broker, {@code --exit-when-done} still waits for every replayed beat, and the normal stop is quiet (no stack
     * trace, no WARN). Run through the launcher, as a person runs it, so that the process's whole log is seen.
     */
    @Test
    void exitWhenDoneWaitsForEveryReplayedBeatWhileAnotherProducerWrites(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("replay.csv"), batch = dir.resolve("batch.csv"), stream = dir.resolve("stream.csv");
        generateAndScore(new PrintWriter(new StringWriter(), true), input, batch, "8", "300", "900", "11");

        int port = EmbeddedKafka.freePort();
        ProcessBuilder pb = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "demo", "--replay", input.toString(),
                "--speed", "max", "--exit-when-done", "--scores-csv", stream.toString(), "--no-dashboard",
                "--kafka-port", Integer.toString(port)).directory(dir.toFile())
                .redirectError(dir.resolve("err.txt").toFile()).redirectOutput(dir.resolve("out.txt").toFile());
        pb.environment().remove("CARDIOSPIKE_MODEL");
        Process demo = pb.start();
        try {
            KafkaConnection kafka = KafkaConnection.plain("127.0.0.1:" + port);
            awaitTopic(kafka, "rr-events", demo);
            intrude(kafka, demo);
            assertThat(demo.waitFor(4, TimeUnit.MINUTES)).isTrue();
        } finally {
            demo.destroyForcibly();
        }
        String log = Files.readString(dir.resolve("err.txt"));
        assertThat(demo.exitValue()).as(log).isZero();
        assertThat(Files.readAllLines(stream)).as("every replayed beat committed, as the batch scorer scores it")
                .isEqualTo(Files.readAllLines(batch));
        assertThat(log).as("a normal stop is quiet").doesNotContain("\tat ", "Exception", " WARN ");
        // The status line counts what the job saw, the intruder's beats and records too (3,000 beats, 4 records),
        // and the replay's end is said once every replayed beat is committed.
        long replayed = Files.readAllLines(input).size() - 1;
        int end = log.indexOf("demo: the replay is committed: " + replayed + " beats");
        assertThat(end).as(log).isPositive();
        String before = log.substring(0, end).stripTrailing(); // off a terminal, status lines end with a newline
        String lastStatus = before.substring(Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r')) + 1);
        assertThat(lastStatus).as(log).startsWith(String.format(java.util.Locale.ROOT, "in %,d (", replayed + 3004));
    }

    /** Synthetic recordings the project generates itself, and the batch scorer's CSV of them. */
    private static void generateAndScore(PrintWriter err, Path input, Path batch, String patients, String minBeats,
                                         String maxBeats, String seed) {
        assertThat(Main.run(err, "generate", "--output", input.toString(), "--patients", patients, "--min-beats",
                minBeats, "--max-beats", maxBeats, "--seed", seed)).isZero();
        assertThat(Main.run(err, "score", "--input", input.toString(), "--output", batch.toString())).isZero();
    }

    private static void awaitTopic(KafkaConnection kafka, String topic, Process demo) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline && demo.isAlive()) {
            try (Admin admin = Admin.create(kafka.clientConfig(Map.of("request.timeout.ms", 2000,
                    "default.api.timeout.ms", 3000)))) {
                if (admin.listTopics().names().get(3, TimeUnit.SECONDS).contains(topic)) {
                    return;
                }
            } catch (Exception notYet) {
                // the broker is still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the demo's broker never had " + topic);
    }

    /** Other patients' beats (scored like any) and records the job dead-letters, sent while the replay runs. */
    private static void intrude(KafkaConnection kafka, Process demo) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.clientConfig(Map.of(
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class)))) {
            long ts = 1_700_000_000_000L;
            for (int i = 0; i < 3000 && demo.isAlive(); i++) {
                String patient = "intruder-" + i % 3;
                producer.send(new ProducerRecord<>("rr-events", bytes(patient), StreamJson.event(patient, ts, 800)));
                if (i % 3 == 2) {
                    ts += 800;
                }
            }
            for (String hostile : List.of("not json", "{\"patient_id\": \"intruder-0\"}", "[1, 2]", "{}")) {
                producer.send(new ProducerRecord<>("rr-events", bytes("intruder-0"), bytes(hostile)));
            }
            producer.flush();
        }
        Thread.sleep(Duration.ofSeconds(1).toMillis());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
