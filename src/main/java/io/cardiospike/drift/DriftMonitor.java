package io.cardiospike.drift;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * PSI of one model's live beats against its bundle's {@link DriftReference}, over a sliding hour: a ring of
 * {@value #BUCKETS} one-minute buckets of bin counts per statistic, the hour's totals kept beside them (a beat costs
 * one increment per statistic, a minute's turn one subtraction per bin).
 *
 * <p>The hour is the caller's processing time, not the beats' event time: patients' device clocks differ and jump
 * (PatientScorer orders each on its own), so no single event clock says which beats make up "the last hour"; the
 * question the monitor answers is what the job has been scoring lately. A backlog replayed in minutes is one hour's
 * worth of input.
 *
 * <p>PSI is computed only when the hour holds {@value #MIN_BEATS} beats or more: with ten bins the PSI of a sample
 * from the reference distribution itself is about {@code 9 / beats} (0.005 at 2,000), well below the 0.1 of
 * "stable"; fewer beats read NaN. A statistic's PSI passing {@link #ALARM} gives one {@link Crossing}; it is re-armed
 * when its PSI falls back below.
 *
 * <p>Not thread-safe: one instance per scoring task.
 */
public final class DriftMonitor {
    public static final double ALARM = 0.2;
    public static final int MIN_BEATS = 2000;
    public static final Duration WINDOW = Duration.ofHours(1);
    static final int BUCKETS = 60;
    private static final long BUCKET_MS = WINDOW.toMillis() / BUCKETS;

    /** A statistic's PSI passed {@link #ALARM}: at {@code atMs}, over the hour's {@code beats}. */
    public record Crossing(String statistic, double psi, long beats, long atMs) {}

    private final DriftReference reference;
    private final double decisionThreshold;
    private final String[] names;
    private final Bins[] bins;
    /** Where each statistic's bins start in the flat count arrays. */
    private final int[] offsets;
    private final int features;
    private final long[][] buckets;
    private final long[] bucketBeats = new long[BUCKETS];
    private final long[] hour;
    private long hourBeats;
    private long currentBucket = Long.MIN_VALUE;
    private final double[] psi;
    private final boolean[] above;

    /** @param decisionThreshold the bundle's threshold: a beat at or above it is flagged */
    public DriftMonitor(DriftReference reference, double decisionThreshold) {
        this.reference = reference;
        this.decisionThreshold = decisionThreshold;
        names = reference.names().toArray(String[]::new);
        bins = reference.names().stream().map(reference.statistics()::get).toArray(Bins[]::new);
        offsets = new int[names.length + 1];
        for (int s = 0; s < names.length; s++) {
            offsets[s + 1] = offsets[s] + bins[s].count();
        }
        features = reference.features().size();
        buckets = new long[BUCKETS][offsets[names.length]];
        hour = new long[offsets[names.length]];
        psi = new double[names.length];
        java.util.Arrays.fill(psi, Double.NaN);
        above = new boolean[names.length];
    }

    /**
     * The monitor after {@code recordings}, each scored whole by {@code scorer} (the reference's bundle), as if they
     * made up one hour of the job's input: what the job's monitor would say on data like them. Evaluated.
     */
    public static DriftMonitor over(DriftReference reference, EnsembleScorer scorer, List<Recording> recordings) {
        DriftMonitor monitor = new DriftMonitor(reference, scorer.threshold());
        int[] columns = reference.features().stream().mapToInt(scorer::featureColumn).toArray();
        for (Recording rec : recordings) {
            var scores = scorer.scoreRecording(rec.rr(), columns);
            monitor.observe(rec.rr(), scores.features(), scores.proba(), rec.size(), 0);
        }
        monitor.evaluate(0);
        return monitor;
    }

    public DriftReference reference() {
        return reference;
    }

    /** The statistics' names, in the order of {@link #psi(int)}. */
    public List<String> statistics() {
        return List.of(names);
    }

    /** The statistic's PSI at the last {@link #evaluate}; NaN while the hour holds fewer than {@value #MIN_BEATS}. */
    public double psi(int statistic) {
        return psi[statistic];
    }

    public long beatsInWindow() {
        return hourBeats;
    }

    /**
     * Counts {@code n} scored beats: their raw RR, their reference features row by row ({@code features} holds
     * {@code reference().features().size()} values per beat, in that order) and probabilities.
     */
    public void observe(double[] rrMs, double[] featureRows, double[] proba, int n, long nowMs) {
        roll(nowMs);
        long[] bucket = buckets[(int) Math.floorMod(currentBucket, (long) BUCKETS)];
        int last = names.length - 1; // artifact_rate, flagged_rate before it, proba before that
        for (int i = 0; i < n; i++) {
            count(bucket, 0, rrMs[i]);
            for (int f = 0; f < features; f++) {
                count(bucket, 1 + f, featureRows[i * features + f]);
            }
            count(bucket, last - 2, proba[i]);
            count(bucket, last - 1, proba[i] >= decisionThreshold ? 1 : 0);
            count(bucket, last, Artifacts.isArtifact(rrMs[i]) ? 1 : 0);
        }
        bucketBeats[(int) Math.floorMod(currentBucket, (long) BUCKETS)] += n;
        hourBeats += n;
    }

    private void count(long[] bucket, int statistic, double value) {
        int b = bins[statistic].bin(value);
        if (b >= 0) {
            int at = offsets[statistic] + b;
            bucket[at]++;
            hour[at]++;
        }
    }

    /** Moves the hour on to {@code nowMs}: the minutes it passed leave the totals. */
    private void roll(long nowMs) {
        long b = Math.floorDiv(nowMs, BUCKET_MS);
        if (currentBucket == Long.MIN_VALUE) {
            currentBucket = b;
            return;
        }
        for (long next = currentBucket + 1; next <= b && next <= currentBucket + BUCKETS; next++) {
            int slot = (int) Math.floorMod(next, (long) BUCKETS);
            long[] old = buckets[slot];
            for (int i = 0; i < old.length; i++) {
                hour[i] -= old[i];
                old[i] = 0;
            }
            hourBeats -= bucketBeats[slot];
            bucketBeats[slot] = 0;
        }
        currentBucket = Math.max(currentBucket, b); // a clock set back keeps counting into the current minute
    }

    /**
     * Recomputes every PSI over the hour up to {@code nowMs}; returns the statistics whose PSI passed {@link #ALARM}
     * since the last time it was below.
     */
    public List<Crossing> evaluate(long nowMs) {
        roll(nowMs);
        List<Crossing> crossings = new ArrayList<>(0);
        for (int s = 0; s < names.length; s++) {
            if (hourBeats < MIN_BEATS) {
                psi[s] = Double.NaN; // too few to tell; the alarm state stays as it was
                continue;
            }
            long counted = 0; // NaN features are left out of their statistic
            for (int i = offsets[s]; i < offsets[s + 1]; i++) {
                counted += hour[i];
            }
            psi[s] = counted == 0 ? Double.NaN : Psi.of(hour, offsets[s], counted, bins[s].fractions());
            if (psi[s] > ALARM && !above[s]) {
                above[s] = true;
                crossings.add(new Crossing(names[s], psi[s], hourBeats, nowMs));
            } else if (psi[s] < ALARM) {
                above[s] = false;
            }
        }
        return crossings;
    }
}
