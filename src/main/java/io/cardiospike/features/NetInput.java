package io.cardiospike.features;

/**
 * CardioNet's input for one window: three channels of length W from the cleaned window {@code v} with median
 * {@code m}: {@code x} and {@code log x}, each robust-scaled within the window, {@code (v - median) / max(IQR, floor)},
 * and the window relative to its median, {@code RELATIVE_GAIN * (v / m - 1)}. The robust-scaled channels show the
 * rhythm's shape whatever its size; the relative one keeps the size (a 4 % dip and a 20 % one differ there only).
 * The floors ({@value #RR_IQR_FLOOR_MS} ms and {@value #LOG_IQR_FLOOR}) keep a flat window from blowing small jitter
 * up into large values. Quantiles interpolate linearly between order statistics (numpy's default).
 */
public final class NetInput {
    public static final int CHANNELS = 3;
    public static final double RR_IQR_FLOOR_MS = 10.0;
    public static final double LOG_IQR_FLOOR = 0.0125;
    /** Brings the relative channel to the others' order of magnitude (anomalies change RR by 5-30 %). */
    public static final double RELATIVE_GAIN = 10.0;

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
        double median = Stats.quantile(sorted, 0.5);
        scale(cleanWindow, sorted, median, RR_IQR_FLOOR_MS, out, offset);
        scale(logs, sortedLogs, Stats.quantile(sortedLogs, 0.5), LOG_IQR_FLOOR, out, offset + w);
        for (int k = 0; k < w; k++) {
            out[offset + 2 * w + k] = (float) (RELATIVE_GAIN * (cleanWindow[k] / median - 1));
        }
    }

    private static void scale(double[] v, double[] sorted, double median, double floor, float[] out, int offset) {
        double iqr = Math.max(Stats.quantile(sorted, 0.75) - Stats.quantile(sorted, 0.25), floor);
        for (int k = 0; k < v.length; k++) {
            out[offset + k] = (float) ((v[k] - median) / iqr);
        }
    }
}
