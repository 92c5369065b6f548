package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.local.ReplayProducer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code produce}: the demo's replay as a command of its own. Every beat of an {@code id,time,x} CSV goes to
 * {@code rr-events} as one JSON event keyed by patient, {@code ts = 1700000000000 + time}, all patients interleaved
 * by time. It retries through a broker restart and exits 0 once the broker acknowledged every event.
 */
@Command(name = "produce", description = "Replay a CSV (id,time,x) into rr-events; exits 0 once every beat is acknowledged.")
final class ProduceCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "CSV with id,time,x (ms): one patient per id")
    Path input;

    @Option(names = "--speed", defaultValue = "1", description = "1 = real time, 20 = twenty times faster, max = no pause (default ${DEFAULT-VALUE})")
    String speed;

    @Option(names = "--topic", defaultValue = "rr-events", description = "topic (default ${DEFAULT-VALUE})")
    String topic;

    @Mixin KafkaOptions kafkaOptions;

    @Override
    public Integer call() throws Exception {
        double pace = DemoCommand.parseSpeed(speed);
        RrCsv.Table table = RrCsv.read(input);
        List<ReplayProducer.Event> events = ReplayProducer.interleave(table.recordings(), ReplayProducer.REPLAY_BASE_EPOCH_MS);
        System.err.printf(Locale.ROOT, "producing %,d beats of %d patients from %s to %s at speed %s...%n",
                events.size(), table.recordings().size(), input, topic, speed);
        long t0 = System.nanoTime();
        try (ReplayProducer producer = new ReplayProducer(ClientHost.localCluster(kafkaOptions).connect(), topic, pace, 0)) {
            Thread progress = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.sleep(2000);
                        System.err.printf(Locale.ROOT, "  sent %,d, acknowledged %,d of %,d%n", producer.sent(),
                                producer.acknowledged(), events.size());
                    }
                } catch (InterruptedException done) {
                    // finished
                }
            }, "produce-progress");
            progress.setDaemon(true);
            progress.start();
            producer.send(events, null); // returns after flush(): every send acknowledged or failed
            progress.interrupt();
            if (producer.failed() > 0) {
                throw new UserException(producer.failed() + " of " + events.size() + " beats were not acknowledged: "
                        + producer.firstFailure());
            }
            System.err.printf(Locale.ROOT, "produced %,d beats in %.1f s, all acknowledged%n", producer.acknowledged(),
                    (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
