package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.local.EmbeddedKafka;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster's broker process ({@link KafkaBroker}) for tests that kill it: fixed ports and its data in the test's
 * directory, so that a start after a SIGKILL is the same broker again, as the supervisor restarts it.
 */
final class BrokerProcess {
    private final Path dir;
    private final List<String> topics;
    private final int port;
    private final int controllerPort;

    BrokerProcess(Path dir, String... topics) throws Exception {
        this.dir = dir;
        this.topics = List.of(topics);
        this.port = EmbeddedKafka.freePort();
        this.controllerPort = EmbeddedKafka.freePort();
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Starts the broker (topics of 2 partitions, created on the first start); returns once it serves them. */
    Process start() throws Exception {
        Installation installation = Installation.current();
        List<String> cmd = new ArrayList<>(List.of(installation.java().toString(), "-Xmx512m", "-cp",
                installation.appClasspath(), KafkaBroker.class.getName(), dir.resolve("kafka").toString(),
                Integer.toString(port), Integer.toString(controllerPort), "2"));
        cmd.addAll(topics);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("kafka.log").toFile())).start();
        long deadline = System.currentTimeMillis() + 90_000;
        while (!KafkaBroker.topicsExist(bootstrapServers(), topics.toArray(String[]::new))) {
            assertThat(p.isAlive()).as("broker running (see %s)", dir.resolve("kafka.log")).isTrue();
            assertThat(System.currentTimeMillis()).as("broker ready within 90 s").isLessThan(deadline);
            Thread.sleep(250);
        }
        return p;
    }
}
