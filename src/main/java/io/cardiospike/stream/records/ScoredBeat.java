package io.cardiospike.stream.records;

/** One record of {@code rr-scores}: the score of one beat. Flink POJO. */
public class ScoredBeat {
    public String patientId;
    public long ts;
    public double rrMs;
    public double proba;
    public boolean anomaly;
    public boolean artifact;
    public String modelVersion;

    public ScoredBeat() {}

    public ScoredBeat(String patientId, long ts, double rrMs, double proba, boolean anomaly, boolean artifact,
                      String modelVersion) {
        this.patientId = patientId;
        this.ts = ts;
        this.rrMs = rrMs;
        this.proba = proba;
        this.anomaly = anomaly;
        this.artifact = artifact;
        this.modelVersion = modelVersion;
    }

    @Override
    public String toString() {
        return "ScoredBeat{" + patientId + ", ts=" + ts + ", proba=" + proba + "}";
    }
}
