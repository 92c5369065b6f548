package io.cardiospike.evaluation;

import io.cardiospike.rr.Recording;
import java.util.Arrays;
import java.util.List;

/**
 * The beat-level precision-recall curve over every threshold of the probabilities, pooled over recordings, and its
 * average precision as scikit-learn computes it: the sum over distinct thresholds, highest first, of
 * (recall gained) x precision.
 *
 * @param recall    one point per distinct probability, highest threshold first
 * @param precision index-aligned with {@code recall}
 * @param threshold the probability each point flags at or above
 */
public record PrCurve(double[] recall, double[] precision, double[] threshold, double averagePrecision) {

    static PrCurve of(List<Recording> recordings, List<double[]> proba) {
        int n = recordings.stream().mapToInt(Recording::size).sum();
        double[] p = new double[n];
        int[] y = new int[n];
        int k = 0;
        for (int r = 0; r < recordings.size(); r++) {
            System.arraycopy(proba.get(r), 0, p, k, recordings.get(r).size());
            System.arraycopy(recordings.get(r).label(), 0, y, k, recordings.get(r).size());
            k += recordings.get(r).size();
        }
        return of(y, p);
    }

    static PrCurve of(int[] y, double[] p) {
        int n = p.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        long positives = Arrays.stream(y).filter(v -> v == 1).count();
        double[] recall = new double[n], precision = new double[n], threshold = new double[n];
        int points = 0;
        long tp = 0, flagged = 0;
        double ap = 0, lastRecall = 0;
        for (int i = 0; i < n; i++) {
            tp += y[order[i]];
            flagged++;
            if (i + 1 < n && p[order[i + 1]] == p[order[i]]) {
                continue; // ties flag together: one point per distinct threshold
            }
            double r = positives > 0 ? (double) tp / positives : 0, pr = (double) tp / flagged;
            ap += (r - lastRecall) * pr;
            lastRecall = r;
            recall[points] = r;
            precision[points] = pr;
            threshold[points] = p[order[i]];
            points++;
        }
        return new PrCurve(Arrays.copyOf(recall, points), Arrays.copyOf(precision, points),
                Arrays.copyOf(threshold, points), positives > 0 ? ap : 0);
    }
}
