package io.cardiospike.features;

/**
 * CardioNet's input for one window: two channels of length W, {@code x} and {@code log x} of the cleaned window,
 * each robust-scaled within the window: {@code (v - median) / max(IQR, floor)}. The floors ({@value #RR_IQR_FLOOR_MS}
 * ms and {@value #LOG_IQR_FLOOR}) keep a flat window from blowing small jitter up into large values.
 * Quantiles interpolate linearly between order statistics (numpy's default).
 */
public final class NetInput {
    public static final int CHANNELS = 2;
    public static final double RR_IQR_FLOOR_MS = 10.0;
    public static final double LOG_IQR_FLOOR = 0.0125;

    private NetInput() {}

    /**
     * Writes the window's {@code CHANNELS x W} values, channel-major, into {@code out} starting at {@code offset};
     * {@code sorted} is the cleaned window in ascending order.
     */
    public static void fill(double[] cleanWindow, double[] sorted, float[] out, int offset) {
        int w = cleanWindow.length;
        // log is monotonic, so the log of the sorted window is the sorted log window: one sort serves both channels.
        double[] logs = new double[w], sortedLogs = new double[w];
        for (int k = 0; k < w; k++) {
            logs[k] = Math.log(cleanWindow[k]);
            sortedLogs[k] = Math.log(sorted[k]);
        }
        scale(cleanWindow, sorted, RR_IQR_FLOOR_MS, out, offset);
        scale(logs, sortedLogs, LOG_IQR_FLOOR, out, offset + w);
    }

    private static void scale(double[] v, double[] sorted, double floor, float[] out, int offset) {
        double median = Stats.quantile(sorted, 0.5);
        double iqr = Math.max(Stats.quantile(sorted, 0.75) - Stats.quantile(sorted, 0.25), floor);
        for (int k = 0; k < v.length; k++) {
            out[offset + k] = (float) ((v[k] - median) / iqr);
        }
    }
}
