package io.cardiospike.stream.records;

import io.cardiospike.model.EpisodeTracker;

/**
 * A patient's open anomaly episode ({@link EpisodeTracker}: consecutive anomalous beats of one segment), kept apart
 * from {@link PatientState} because it changes only when scores arrive, not with every beat. Flink POJO: its fields
 * are its form in state and savepoints.
 */
public class Episode implements EpisodeTracker.Episode {
    public int beats;
    public long startTs;
    public long endTs;
    public double maxProba;
    public double sumProba;
    /** Opened within {@code --alert-hold} of the patient's last alerted episode: its alerts say so. */
    public boolean suppressed;

    public Episode() {}

    @Override
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
