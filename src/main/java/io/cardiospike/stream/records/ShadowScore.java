package io.cardiospike.stream.records;

/**
 * One record of {@code rr-scores-shadow}: one beat as the live model and the shadow model scored it, from the same
 * window. Flink POJO.
 */
public class ShadowScore {
    public String patientId;
    public long ts;
    public double rrMs;
    public boolean artifact;
    public String liveModelVersion;
    public double liveProba;
    public boolean liveAnomaly;
    public String shadowModelVersion;
    public double shadowProba;
    public boolean shadowAnomaly;

    public ShadowScore() {}

    public ShadowScore(ScoredBeat live, String shadowModelVersion, double shadowProba, boolean shadowAnomaly) {
        this.patientId = live.patientId;
        this.ts = live.ts;
        this.rrMs = live.rrMs;
        this.artifact = live.artifact;
        this.liveModelVersion = live.modelVersion;
        this.liveProba = live.proba;
        this.liveAnomaly = live.anomaly;
        this.shadowModelVersion = shadowModelVersion;
        this.shadowProba = shadowProba;
        this.shadowAnomaly = shadowAnomaly;
    }

    @Override
    public String toString() {
        return "ShadowScore{" + patientId + ", ts=" + ts + ", live=" + liveProba + ", shadow=" + shadowProba + "}";
    }
}
