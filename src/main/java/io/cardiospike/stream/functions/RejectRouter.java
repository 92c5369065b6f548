package io.cardiospike.stream.functions;

import io.cardiospike.stream.records.Beat;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.RrInput;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Valid beats go on to the scorer; rejected inputs go to {@link #DEAD_LETTERS} with their raw record and reason. */
public class RejectRouter extends ProcessFunction<RrInput, Beat> {
    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

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
        if (in.isValid()) {
            out.collect(new Beat(in.patientId, in.ts, in.rrMs));
        } else {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, in.toDeadLetter());
        }
    }
}
