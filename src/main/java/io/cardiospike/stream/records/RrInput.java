package io.cardiospike.stream.records;

/**
 * One record as read from {@code rr-events}: either a valid beat ({@link #rejectReason} null) or a rejected input
 * that goes to the dead-letter topic with its raw key and value. A burst of several beats becomes one valid
 * {@code RrInput} per beat. Flink POJO (public fields, no-arg constructor) so it is serialized without Kryo.
 */
public class RrInput {
    public String patientId;
    public long ts;
    public double rrMs;
    /** Null for a valid beat. */
    public DeadLetter.Reason rejectReason;
    public String rejectDetail;
    /** Only set for rejects. */
    public String rawKey;
    public String rawValue;
    /** topic-partition@offset of the Kafka record, for rejects. */
    public String origin;
    /** A clock tick of the job's own ({@code wire.ClockTicks}), not input: it only moves the input clock. */
    public boolean clockTick;

    public RrInput() {}

    public static RrInput clockTick() {
        RrInput r = new RrInput();
        r.clockTick = true;
        return r;
    }

    public static RrInput beat(String patientId, long ts, double rrMs) {
        RrInput r = new RrInput();
        r.patientId = patientId;
        r.ts = ts;
        r.rrMs = rrMs;
        return r;
    }

    public static RrInput reject(DeadLetter.Reason reason, String detail, String patientId, String rawKey, String rawValue,
                                 String origin) {
        RrInput r = new RrInput();
        r.patientId = patientId;
        r.rejectReason = reason;
        r.rejectDetail = detail;
        r.rawKey = rawKey;
        r.rawValue = rawValue;
        r.origin = origin;
        return r;
    }

    public DeadLetter toDeadLetter() {
        return new DeadLetter(rejectReason, rejectDetail, patientId, rawKey, rawValue, origin);
    }

    public boolean isValid() {
        return rejectReason == null;
    }
}
