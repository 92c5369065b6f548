package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.cli.Main;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.local.TopicReader;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/cardiospike produce} while its broker (the cluster's broker process, {@link KafkaBroker}) is SIGKILLed
 * and started again on the same data: the command must still exit 0, and every beat must be in {@code rr-events}
 * exactly once (the idempotent producer's retries write no duplicates).
 */
class ProduceThroughBrokerRestartIT {
    @TempDir
    Path dir;

    @Test
    void produceRidesOutABrokerKilledMidReplayAndDeliversEveryBeatOnce() throws Exception {
        BrokerProcess brokers = new BrokerProcess(dir, "rr-events");
        List<Recording> recordings = SyntheticRr.recordings(6, 300, 300, 20261202L);
        int beats = recordings.stream().mapToInt(Recording::size).sum();
        StringBuilder csv = new StringBuilder("id,time,x\n");
        for (Recording r : recordings) {
            for (int i = 0; i < r.size(); i++) {
                csv.append(r.id()).append(',').append(RrCsv.formatTime(r.time()[i])).append(',')
                        .append(RrCsv.formatTime(r.rr()[i])).append('\n');
            }
        }
        Path input = Files.writeString(dir.resolve("in.csv"), csv);
        String bootstrap = brokers.bootstrapServers();

        Process broker = brokers.start();
        ExecutorService produce = Executors.newSingleThreadExecutor();
        try {
            // About 240 s of recording at speed 24: the replay runs ~10 s, the broker dies 3 s into it.
            Future<Integer> exit = produce.submit(() -> Main.run("produce", "--input", input.toString(),
                    "--speed", "24", "--bootstrap-servers", bootstrap));
            Thread.sleep(3_000);
            broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            Thread.sleep(3_000);
            assertThat(exit.isDone()).as("produce still waiting for the broker").isFalse();
            broker = brokers.start();
            assertThat(exit.get(3, TimeUnit.MINUTES)).as("produce exit code").isZero();

            Set<String> distinct = ConcurrentHashMap.newKeySet();
            AtomicInteger records = new AtomicInteger();
            try (TopicReader reader = new TopicReader(bootstrap, List.of("rr-events"), r -> {
                records.incrementAndGet();
                distinct.add(r.key() + "@" + r.value().path("ts").asLong());
            })) {
                long deadline = System.currentTimeMillis() + 60_000;
                while (records.get() < beats && System.currentTimeMillis() < deadline) {
                    Thread.sleep(200);
                }
                Thread.sleep(1_000);
            }
            assertThat(distinct).as("beats delivered").hasSize(beats);
            assertThat(records.get()).as("records in rr-events (no duplicates)").isEqualTo(beats);
        } finally {
            produce.shutdownNow();
            broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
