package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.local.TopicReader;
import io.cardiospike.shadow.ShadowComparison;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shadow report}: the live model against the shadow model a job scores beside it (job ... --shadow-model). */
@Command(name = "shadow", description = "The shadow model a job scores beside the live one (job submit|upgrade "
        + "--shadow-model): how the two compare on live patients.",
        subcommands = {ShadowCommand.Report.class})
final class ShadowCommand {
    @Command(name = "report", description = "Compare the live and the shadow model from the committed records of "
            + "rr-scores-shadow (read_committed, up to the topic's end now), per pair of model versions: beats, "
            + "flagged rate and mean probability of each, agreement, mean |Δp|, label flips each way, episodes only "
            + "one of them raises (the job's episodes: consecutive flagged beats of a segment), with examples.")
    static final class Report implements Callable<Integer> {
        @Option(names = "--since", paramLabel = "DURATION",
                description = "only records of the last DURATION, e.g. 1h, 30min (default: the topic's start)")
        String since;

        @Mixin KafkaOptions kafkaOptions;

        @Option(names = "--topic", defaultValue = "rr-scores-shadow",
                description = "the job's --shadow-scores-topic (default ${DEFAULT-VALUE})")
        String topic;

        @Option(names = "--examples", paramLabel = "N", defaultValue = "5",
                description = "at most N episodes only one model raises, per pair, the most confident first "
                        + "(default ${DEFAULT-VALUE})")
        int examples;

        @Option(names = "--idle-flush", paramLabel = "DURATION", defaultValue = "10s",
                description = "the job's --idle-flush: a pause this long ends a patient's segment and its episode "
                        + "(default ${DEFAULT-VALUE})")
        String idleFlush;

        @Option(names = "--json", description = "print the comparison as JSON (default: a table per pair)")
        boolean json;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            // bad values fail before waiting for a broker
            Duration window = since == null ? null : duration("--since", since);
            Duration idle = duration("--idle-flush", idleFlush);
            if (examples < 0) {
                throw new UserException("--examples must not be negative, not " + examples);
            }
            Long fromTs = window == null ? null : System.currentTimeMillis() - window.toMillis();
            KafkaConnection kafka = ClientHost.localCluster(kafkaOptions).connect();
            ShadowComparison comparison = new ShadowComparison(idle, examples);
            AtomicLong foreign = new AtomicLong();
            long read;
            try {
                read = TopicReader.readToEnd(kafka, topic, fromTs, r -> {
                    try {
                        comparison.add(ShadowComparison.Beat.fromJson(r.value()));
                    } catch (IllegalArgumentException e) {
                        foreign.incrementAndGet(); // counted, not shown: a record may hold patient data
                    }
                });
            } catch (TopicReader.NoSuchTopic e) {
                throw new UserException(e.getMessage() + ": no job has scored with a shadow model there "
                        + "(bin/cardiospike job submit|upgrade --shadow-model DIR)");
            }
            PrintWriter err = spec.commandLine().getErr();
            err.println(String.format(Locale.ROOT, "read %,d records of %s%s", read, topic,
                    window == null ? "" : " of the last " + since)
                    + (foreign.get() == 0 ? "" : String.format(Locale.ROOT,
                            "; %,d of them not in its format (skipped)", foreign.get())));
            ShadowComparison.Report report = comparison.report();
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? report.toJson() + System.lineSeparator() : report.text());
            out.flush();
            return 0;
        }

        private static Duration duration(String option, String value) throws UserException {
            try {
                Duration d = TimeUtils.parseDuration(value);
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("not positive");
                }
                return d;
            } catch (IllegalArgumentException e) {
                throw new UserException(option + " " + value + ": not a positive duration; e.g. 30min, 1h, 2d");
            }
        }
    }
}
