package io.cardiospike.stream.records;

/** One record of {@code rr-dlq}: a rejected input, kept raw, with the reason. Flink POJO. */
public class DeadLetter {
    /** Short machine-readable category: malformed_json, invalid_field, key_mismatch, late. */
    public String reason;
    /** Human-readable detail (field names, limits; no RR values). */
    public String detail;
    /** Patient id when it could be read, else null. */
    public String patientId;
    public String rawKey;
    public String rawValue;
    /** topic-partition@offset of the input record when known. */
    public String origin;

    public DeadLetter() {}

    public DeadLetter(String reason, String detail, String patientId, String rawKey, String rawValue, String origin) {
        this.reason = reason;
        this.detail = detail;
        this.patientId = patientId;
        this.rawKey = rawKey;
        this.rawValue = rawValue;
        this.origin = origin;
    }

    @Override
    public String toString() {
        return "DeadLetter{" + reason + ": " + detail + "}";
    }
}
