package io.cardiospike.stream.records;

/**
 * One record of {@code rr-monitoring}: a statistic of a model's live beats drifted from its training data (PSI over
 * the sliding hour passed the threshold; {@code DriftMonitor}). Flink POJO; no patient data.
 */
public class DriftEvent {
    public static final String KIND = "drift";

    public String kind = KIND;
    /** {@code live} or {@code shadow}. */
    public String model;
    public String modelVersion;
    /** {@code rr_ms}, a feature's name, {@code proba}, {@code flagged_rate} or {@code artifact_rate}. */
    public String statistic;
    public double psi;
    public double threshold;
    /** Beats in the window the PSI was computed over (this scoring task's). */
    public long beats;
    /** The window's length, e.g. {@code 1h}. */
    public String window;
    /** When, epoch ms (processing time). */
    public long at;

    public DriftEvent() {}

    public DriftEvent(String model, String modelVersion, String statistic, double psi, double threshold, long beats,
                      String window, long at) {
        this.model = model;
        this.modelVersion = modelVersion;
        this.statistic = statistic;
        this.psi = psi;
        this.threshold = threshold;
        this.beats = beats;
        this.window = window;
        this.at = at;
    }
}
