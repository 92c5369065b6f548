package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.local.EmbeddedKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code produce} and {@code consume} against a real broker (EmbeddedKafka), and against none. */
class ProduceCommandTest {
    private static final String CSV = "id,time,x\na,1200,800\na,2000,800\nb,700,810\nb,1510,810\nb,2300,790\n";

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Nothing listens: one line naming the address within 10 s, exit 1 (a failure, not a usage error). */
    @Test
    void noBrokerIsOneLineWithin10Seconds(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.csv"), CSV);
        String address = "127.0.0.1:" + EmbeddedKafka.freePort(); // free now: nothing answers there
        for (String[] command : new String[][] {
            {"produce", "--input", in.toString(), "--speed", "max", "--bootstrap-servers", address},
            {"consume", "--topic", "rr-dlq", "--max-idle", "1s", "--bootstrap-servers", address}}) {
            long t0 = System.nanoTime();
            Run r = run(command);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(r.exit()).as("%s: %s", command[0], r.err()).isEqualTo(1);
            assertThat(seconds).as("%s gives up within 10 s", command[0]).isLessThan(10);
            assertThat(r.err().strip().lines()).as(command[0]).hasSize(1).first().asString()
                    .startsWith("error: no broker at " + address + " ").doesNotContain("Exception");
        }
    }

    /**
     * The default replay times stay {@code 1700000000000 + time}; {@code --start-ts MS} and {@code now} move the first
     * beat there and keep the spacing. Read back with {@code consume} on stdout.
     */
    @Test
    void startTsShiftsTheReplayAndTheDefaultStaysPut(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.csv"), CSV);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            kafka.createTopics(1, "rr-events");
            String servers = kafka.bootstrapServers();
            Run plain = run("produce", "--input", in.toString(), "--speed", "max", "--bootstrap-servers", servers);
            assertThat(plain.exit()).as(plain.err()).isZero();
            assertThat(plain.err().strip().lines().reduce((a, b) -> b).orElseThrow())
                    .contains("all acknowledged by Kafka").contains("consume --topic rr-dlq");
            Run fixed = run("produce", "--input", in.toString(), "--speed", "max", "--start-ts", "1900000000000",
                    "--bootstrap-servers", servers);
            assertThat(fixed.exit()).as(fixed.err()).isZero();
            long before = System.currentTimeMillis();
            Run now = run("produce", "--input", in.toString(), "--speed", "max", "--start-ts", "now",
                    "--bootstrap-servers", servers);
            long after = System.currentTimeMillis();
            assertThat(now.exit()).as(now.err()).isZero();

            Run consumed = run("consume", "--topic", "rr-events", "--from-beginning", "--max-idle", "8s",
                    "--bootstrap-servers", servers);
            assertThat(consumed.exit()).as(consumed.err()).isZero();
            List<Long> ts = new ArrayList<>();
            ObjectMapper json = new ObjectMapper();
            for (String line : consumed.out().strip().split("\n")) {
                JsonNode event = json.readTree(line); // stdout is JSON lines and nothing else
                ts.add(event.get("ts").asLong());
            }
            assertThat(ts).hasSize(15);
            long t = 1_700_000_000_000L;
            assertThat(ts.subList(0, 5)).containsExactly(t + 700, t + 1200, t + 1510, t + 2000, t + 2300);
            t = 1_900_000_000_000L;
            assertThat(ts.subList(5, 10)).containsExactly(t, t + 500, t + 810, t + 1300, t + 1600);
            long first = ts.get(10);
            assertThat(first).isBetween(before, after);
            assertThat(ts.subList(10, 15)).containsExactly(first, first + 500, first + 810, first + 1300, first + 1600);
        }
    }
}
