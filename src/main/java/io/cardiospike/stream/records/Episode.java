package io.cardiospike.stream.records;

/**
 * A patient's open anomaly episode (consecutive anomalous beats of one segment), kept apart from {@link PatientState}
 * because it changes only when scores arrive, not with every beat. Flink POJO.
 */
public class Episode {
    public int beats;
    public long startTs;
    public long endTs;
    public double maxProba;
    public double sumProba;

    public Episode() {}

    /** Adds an anomalous beat. */
    public void add(long ts, double proba) {
        if (beats == 0) {
            startTs = ts;
        }
        beats++;
        endTs = ts;
        maxProba = Math.max(maxProba, proba);
        sumProba += proba;
    }
}
