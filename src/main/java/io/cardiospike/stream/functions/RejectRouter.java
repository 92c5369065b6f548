package io.cardiospike.stream.functions;

import io.cardiospike.stream.wire.StreamJson;
import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.RrInput;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Valid beats go on to the scorer; rejected inputs go to {@link #DEAD_LETTERS} with their raw record and reason, and
 * so do beats dated more than {@link #MAX_AHEAD} ahead of this job's clock (a device clock years off): they could
 * only hold their patient's clock hostage.
 */
public class RejectRouter extends ProcessFunction<RrInput, Beat> {
    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};
    /** Wider than any time zone error; replays of the past are fine. */
    public static final Duration MAX_AHEAD = Duration.ofDays(1);

    private transient Counter eventsIn;
    private transient Counter deadLetters;

    @Override
    public void open(OpenContext openContext) {
        eventsIn = getRuntimeContext().getMetricGroup().counter("eventsIn");
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RrInput in, Context ctx, Collector<Beat> out) {
        eventsIn.inc();
        if (!in.isValid()) {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, in.toDeadLetter());
        } else if (in.ts > ctx.timerService().currentProcessingTime() + MAX_AHEAD.toMillis()) {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, new DeadLetter(DeadLetter.Reason.IMPLAUSIBLE_TS, "ts more than 1 day ahead of the job's "
                    + "clock", in.patientId, in.patientId,
                    new String(StreamJson.event(in.patientId, in.ts, in.rrMs), StandardCharsets.UTF_8), null));
        } else {
            out.collect(new Beat(in.patientId, in.ts, in.rrMs));
        }
    }
}
