package io.cardiospike.stream.records;

/** One record of {@code rr-dlq}: a rejected input, kept raw, with the reason. Flink POJO. */
public class DeadLetter {
    /**
     * Why an input was rejected: the {@code reason} field of {@code rr-dlq}. This enum is the one definition; the table
     * in {@code docs/streaming.md} is checked against it ({@code DeadLetterReasonsDocTest}).
     */
    public enum Reason {
        MALFORMED_JSON("malformed_json", "not JSON, not an object, empty value or a tombstone"),
        INVALID_FIELD("invalid_field", "`patient_id`, `ts` or `rr_ms` missing, of the wrong type, or out of range "
                + "(non-positive RR, a burst over 10,000 beats, an id over 200 characters)"),
        KEY_MISMATCH("key_mismatch", "the record key differs from `patient_id`"),
        IMPLAUSIBLE_TS("implausible_ts", "a time no device sends: before 2000-01-01 (a clock never set, or seconds "
                + "instead of milliseconds), after 2100-01-01 (microseconds; checked beat by beat through a burst, "
                + "which is then rejected whole), or more than 1 day ahead of the job's clock (one beat)"),
        LATE("late", "at or before the patient's newest scored beat, by at most `--idle-flush`: out of order beyond "
                + "`--allowed-lateness`, or resent after it was scored"),
        CLOCK_BEHIND("clock_behind", "more than `--idle-flush` before the patient's newest scored beat: a device "
                + "clock set back, or an old upload sent again"),
        CLOCK_AHEAD("clock_ahead", "more than `--idle-flush` ahead of the patient's clock, and the patient's next "
                + "beat went on from the old clock: a glitch of the device's clock");

        /** The value on the wire. */
        public final String code;
        /** What puts a record there (markdown, as in the docs). */
        public final String meaning;

        Reason(String code, String meaning) {
            this.code = code;
            this.meaning = meaning;
        }
    }

    public Reason reason;
    /** Human-readable detail (field names, limits; no RR values). */
    public String detail;
    /** Patient id when it could be read, else null. */
    public String patientId;
    public String rawKey;
    public String rawValue;
    /** topic-partition@offset of the input record when known. */
    public String origin;

    public DeadLetter() {}

    public DeadLetter(Reason reason, String detail, String patientId, String rawKey, String rawValue, String origin) {
        this.reason = reason;
        this.detail = detail;
        this.patientId = patientId;
        this.rawKey = rawKey;
        this.rawValue = rawValue;
        this.origin = origin;
    }

    @Override
    public String toString() {
        return "DeadLetter{" + reason.code + ": " + detail + "}";
    }
}
