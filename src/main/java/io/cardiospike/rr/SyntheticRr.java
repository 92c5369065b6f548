package io.cardiospike.rr;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Synthetic RR recordings that look like the CardioSpike data, for tests and the demo.
 *
 * <p>Sinus rhythm: a per-patient baseline (550-1000 ms) with respiratory sinus arrhythmia (about 4-6 beats per breath),
 * a slower Mayer wave (about 10 beats), a random-walk drift and beat noise, quantized to 4 ms like the wearables.
 * The anomaly motif labelled in CardioSpike: within a run of about nine beats the RR rises, then drops sharply
 * below baseline and returns; long runs repeat the pair. Sensor artifacts are injected as data: split beats
 * (one interval cut in two), missed beats (two intervals merged) and rare absurd values (12 ms, 40,900 ms).
 * The same seed gives the same recordings.
 */
public final class SyntheticRr {
    private SyntheticRr() {}

    /** One beat: RR in ms and its label (1 = part of an anomaly). */
    public record Beat(double rrMs, int label) {}

    /** An endless generator for one patient. */
    public static final class Patient {
        private final Random random;
        private final double baseline;
        private final double rsaAmplitude, rsaPeriod, mayerAmplitude, mayerPeriod, noise;
        private final double anomalyRate;
        /**
         * The generated block not handed out yet, as {@code rr / 4 * 2 + label} (every RR is a multiple of 4 ms): a
         * fleet of a million patients holds one block each, so a block is a few hundred bytes, not 64 objects.
         */
        private int[] block = new int[0];
        private int blockNext;
        private double drift;
        private long beatIndex;

        public Patient(long seed) {
            random = new Random(seed);
            baseline = 550 + random.nextDouble() * 450;
            rsaAmplitude = 0.01 + random.nextDouble() * 0.03;
            rsaPeriod = 4 + random.nextDouble() * 2;
            mayerAmplitude = 0.005 + random.nextDouble() * 0.02;
            mayerPeriod = 9 + random.nextDouble() * 4;
            noise = 4 + random.nextDouble() * 8;
            anomalyRate = 0.004 + random.nextDouble() * 0.012;
        }

        public Beat next() {
            if (blockNext == block.length) {
                fillBlock();
            }
            int code = block[blockNext++];
            return new Beat(4.0 * (code >> 1), code & 1);
        }

        private void fillBlock() {
            int n = 64;
            double[] rr = new double[n];
            int[] label = new int[n];
            for (int i = 0; i < n; i++, beatIndex++) {
                drift = 0.995 * drift + random.nextGaussian() * 3;
                double t = beatIndex;
                rr[i] = baseline * (1 + rsaAmplitude * Math.sin(2 * Math.PI * t / rsaPeriod)
                        + mayerAmplitude * Math.sin(2 * Math.PI * t / mayerPeriod)) + drift + random.nextGaussian() * noise;
            }
            // Anomaly runs, placed away from the block's edges so the whole run fits.
            for (int s = 6; s < n - 12; s++) {
                if (random.nextDouble() < anomalyRate) {
                    int pairs = random.nextDouble() < 0.25 ? 2 + random.nextInt(3) : 1;
                    int end = Math.min(n - 5, s + 3 * pairs);
                    for (int p = s; p + 1 < end; p += 3) {
                        double rise = 0.05 + random.nextDouble() * 0.08;
                        double drop = 0.08 + random.nextDouble() * 0.12;
                        rr[p] += baseline * rise;
                        rr[p + 1] -= baseline * drop;
                    }
                    for (int k = Math.max(0, s - 4); k <= Math.min(n - 1, end + 2); k++) {
                        label[k] = 1;
                    }
                    s = end + 8;
                }
            }
            int[] out = new int[2 * n];
            int size = 0;
            for (int i = 0; i < n; i++) {
                double x = 4 * Math.round(rr[i] / 4);
                double u = random.nextDouble();
                if (u < 0.003 && label[i] == 0) { // split beat: one interval recorded as two
                    double cut = 4 * Math.round(x * (0.15 + 0.3 * random.nextDouble()) / 4);
                    out[size++] = code(cut, 0);
                    out[size++] = code(x - cut, 0);
                } else if (u < 0.005 && label[i] == 0) { // missed beat: two intervals merged
                    out[size++] = code(2 * x, 0);
                } else if (u < 0.0055 && label[i] == 0) { // absurd sensor values
                    out[size++] = code(random.nextBoolean() ? 12 : 40900, 0);
                } else {
                    out[size++] = code(x, label[i]);
                }
            }
            block = java.util.Arrays.copyOf(out, size);
            blockNext = 0;
        }

        private static int code(double rrMs, int label) {
            return (int) Math.round(rrMs / 4) << 1 | label;
        }
    }

    /** {@code patients} recordings of {@code minBeats..maxBeats} beats, ids {@code synth-0001}... */
    public static List<Recording> recordings(int patients, int minBeats, int maxBeats, long seed) {
        Random sizes = new Random(seed);
        List<Recording> out = new ArrayList<>(patients);
        for (int p = 0; p < patients; p++) {
            int n = minBeats + sizes.nextInt(Math.max(1, maxBeats - minBeats + 1));
            Patient gen = new Patient(seed * 1_000_003L + p);
            double[] time = new double[n], rr = new double[n];
            int[] label = new int[n], rows = new int[n];
            for (int i = 0; i < n; i++) {
                Beat b = gen.next();
                rr[i] = b.rrMs();
                label[i] = b.label();
                // As in the CardioSpike files: a beat's RR is the interval that ends at it.
                time[i] = i == 0 ? 0 : time[i - 1] + rr[i];
            }
            out.add(new Recording(String.format("synth-%04d", p + 1), time, rr, label, rows));
        }
        return out;
    }
}
