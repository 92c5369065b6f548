package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.local.ReplayProducer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code produce}: the demo's replay as a command of its own. Every beat of an {@code id,time,x} CSV goes to
 * {@code rr-events} as one JSON event keyed by patient, {@code ts = 1700000000000 + time} (or shifted by
 * {@code --start-ts}), all patients interleaved by time. It retries through a broker restart and exits 0 once the
 * broker acknowledged every event. Acknowledged is not scored: the job sends beats it has already scored to
 * {@code rr-dlq}, so a replay of the same file needs {@code --start-ts now}.
 */
@Command(name = "produce", description = "Replay a CSV (id,time,x) into rr-events; exits 0 once Kafka acknowledged "
        + "every beat. Beats of a patient at or before the newest beat the job scored for it go to rr-dlq (late, "
        + "clock_behind): replay a file the job has seen with --start-ts now.")
final class ProduceCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "CSV|-",
            description = "CSV with id,time,x (ms): one patient per id; - reads stdin")
    Path input;

    @Option(names = "--speed", defaultValue = "1", description = "1 = real time, 20 = twenty times faster, max = no pause (default ${DEFAULT-VALUE})")
    String speed;

    @Option(names = "--topic", defaultValue = "rr-events", description = "topic (default ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--start-ts", paramLabel = "MS|now",
            description = "event time of the file's first beat, in ms since the epoch, or now (the wall clock): the "
                    + "replay keeps its spacing, shifted there. Default: ts = 1700000000000 + time, the same on every "
                    + "run, so a second replay of a file the job has scored goes to rr-dlq")
    String startTs;

    @Mixin KafkaOptions kafkaOptions;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        double pace = DemoCommand.parseSpeed(speed);
        long requestedStart = startTs == null ? 0 : parseStartTs(startTs); // a typo fails before reading the file
        RrCsv.Table table = CliFiles.readRecordings(input);
        long base = startTs == null ? ReplayProducer.REPLAY_BASE_EPOCH_MS
                : ReplayProducer.baseEpochForStart(table.recordings(), requestedStart);
        List<ReplayProducer.Event> events = ReplayProducer.interleave(table.recordings(), base);
        // the broker first: without one, the error is the only line
        io.cardiospike.kafka.KafkaConnection kafka = ClientHost.localCluster(kafkaOptions).connect();
        err.printf(Locale.ROOT, "producing %,d beats of %d patients from %s to %s at speed %s, first ts %d...%n",
                events.size(), table.recordings().size(), CliFiles.name(input, false), topic, speed,
                events.get(0).ts());
        long t0 = System.nanoTime();
        try (ReplayProducer producer = new ReplayProducer(kafka, topic, pace, 0)) {
            // a rate line while it lasts (real time can take hours), on a terminal only
            try (Progress progress = Progress.start(err, "producing (acknowledged)", "beats", events.size(),
                    producer::acknowledged)) {
                producer.send(events, null); // returns after flush(): every send acknowledged or failed
            }
            if (producer.failed() > 0) {
                throw new UserException(producer.failed() + " of " + events.size() + " beats were not acknowledged: "
                        + producer.firstFailure());
            }
            // Kafka has them; whether the job scored them is its own business (rr-dlq says what it rejected).
            err.printf(Locale.ROOT, "produced %,d beats in %.1f s, all acknowledged by Kafka; beats the job rejects "
                    + "(already scored: late, clock_behind) go to rr-dlq: bin/cardiospike consume --topic rr-dlq "
                    + "--from-beginning --max-idle 5s%s%n", producer.acknowledged(), (System.nanoTime() - t0) / 1e9,
                    kafkaOptions.given() ? " --bootstrap-servers " + kafkaOptions.bootstrapServers() : "");
        }
        return 0;
    }

    /** {@code now} or a non-negative epoch in ms. */
    static long parseStartTs(String value) throws UserException {
        if (value.equalsIgnoreCase("now")) {
            return System.currentTimeMillis();
        }
        try {
            long ms = Long.parseLong(value);
            if (ms >= 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UserException("--start-ts " + value + ": give ms since the epoch (e.g. 1700000000000) or now");
    }
}
