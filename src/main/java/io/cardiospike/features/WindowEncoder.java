package io.cardiospike.features;

/** Turns one raw window into both models' inputs: the LightGBM feature row and the CardioNet tensor slice. */
public final class WindowEncoder {
    private final FeatureSpec spec;
    private final WindowFeatures features;

    public WindowEncoder(FeatureSpec spec) {
        this.spec = spec;
        this.features = new WindowFeatures(spec);
    }

    public FeatureSpec spec() {
        return spec;
    }

    public WindowFeatures features() {
        return features;
    }

    /** Floats per window in the CardioNet input tensor ({@code CHANNELS x W}). */
    public int netInputSize() {
        return NetInput.CHANNELS * spec.windowSize();
    }

    public void encode(double[] rawWindow, double[] featureOut, int featureOffset, float[] netOut, int netOffset) {
        if (rawWindow.length != spec.windowSize()) {
            throw new IllegalArgumentException("window of " + rawWindow.length + " beats, expected " + spec.windowSize());
        }
        double[] clean = WindowCleaner.clean(rawWindow);
        double[] sorted = Stats.sortedCopy(clean); // one sort serves both models' median and IQR
        features.extract(rawWindow, clean, sorted, featureOut, featureOffset);
        NetInput.fill(clean, sorted, netOut, netOffset);
    }
}
