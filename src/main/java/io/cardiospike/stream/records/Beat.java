package io.cardiospike.stream.records;

/** A validated beat on its way to the per-patient scorer. Flink POJO. */
public class Beat {
    public String patientId;
    /** Epoch ms of the beat. */
    public long ts;
    public double rrMs;

    public Beat() {}

    public Beat(String patientId, long ts, double rrMs) {
        this.patientId = patientId;
        this.ts = ts;
        this.rrMs = rrMs;
    }

    @Override
    public String toString() {
        return "Beat{" + patientId + ", ts=" + ts + "}";
    }
}
