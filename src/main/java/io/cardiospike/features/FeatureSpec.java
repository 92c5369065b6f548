package io.cardiospike.features;

/**
 * What the models see of a beat: the window of raw RR from {@code pastBeats} before it to {@code lookaheadBeats}
 * after it. {@link #VERSION} changes whenever any transformation in this package changes, so a bundle trained on
 * other features is refused.
 */
public record FeatureSpec(int pastBeats, int lookaheadBeats) {
    public static final String VERSION = "fs-4";

    public FeatureSpec {
        if (pastBeats < 1 || lookaheadBeats < 1) {
            throw new IllegalArgumentException("past context and lookahead must be at least one beat");
        }
    }

    public int windowSize() {
        return pastBeats + 1 + lookaheadBeats;
    }

    /** Index of the scored beat inside the window. */
    public int centre() {
        return pastBeats;
    }
}
