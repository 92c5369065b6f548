package io.cardiospike.rr;

/**
 * Sensor-artifact rule, the one place it is defined.
 *
 * <p>A beat is an artifact when its RR interval lies outside [{@value #MIN_RR_MS}, {@value #MAX_RR_MS}] ms,
 * i.e. a heart rate above 200 bpm or below 30 bpm. In the CardioSpike training data no labelled anomaly lies
 * outside this range, while split beats (RR of 100-290 ms) and dropouts (RR of several seconds) do.
 */
public final class Artifacts {
    public static final double MIN_RR_MS = 300.0;
    public static final double MAX_RR_MS = 2000.0;

    private Artifacts() {}

    public static boolean isArtifact(double rrMs) {
        return !(rrMs >= MIN_RR_MS && rrMs <= MAX_RR_MS); // NaN counts as an artifact too
    }
}
