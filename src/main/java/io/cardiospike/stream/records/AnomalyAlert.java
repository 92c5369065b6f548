package io.cardiospike.stream.records;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * One record of {@code rr-alerts}: an anomaly episode (consecutive anomalous beats of one segment), as it opens
 * ({@link #OPEN}: in the scoring batch of its first anomalous beat, the figures so far) and as it closes
 * ({@link #CLOSED}: the final ones). Both carry the same {@link #alertId}; consumers upsert by it. Flink POJO.
 */
public class AnomalyAlert {
    public static final String OPEN = "open";
    public static final String CLOSED = "closed";

    public String alertId;
    public String status;
    public String patientId;
    public long startTs;
    public long endTs;
    public int beats;
    public double maxProba;
    public double meanProba;
    public String modelVersion;
    /** Within the patient's {@code --alert-hold}: emitted, never dropped, for consumers to show quietly. */
    public boolean suppressed;
    /** On {@link #OPEN} alerts: why the opening beat was flagged, as JSON text (a String, so no Kryo); else null. */
    public String explanation;

    public AnomalyAlert() {}

    public AnomalyAlert(String status, String patientId, long startTs, long endTs, int beats, double maxProba,
                        double meanProba, String modelVersion) {
        this.alertId = alertId(patientId, startTs, modelVersion);
        this.status = status;
        this.patientId = patientId;
        this.startTs = startTs;
        this.endTs = endTs;
        this.beats = beats;
        this.maxProba = maxProba;
        this.meanProba = meanProba;
        this.modelVersion = modelVersion;
    }

    /** Deterministic, so a replay after recovery or a re-run yields the same id and consumers can dedupe. */
    public static String alertId(String patientId, long startTs, String modelVersion) {
        String name = patientId + '\u0000' + startTs + '\u0000' + modelVersion;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    @Override
    public String toString() {
        return "AnomalyAlert{" + status + " " + patientId + ", " + startTs + ".." + endTs + ", beats=" + beats + "}";
    }
}
