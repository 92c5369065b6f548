package io.cardiospike.rr;

/**
 * One patient's beats in time order.
 *
 * @param id        patient (recording) id
 * @param time      ms since recording start, per beat
 * @param rr        RR interval in ms, per beat (raw, artifacts included)
 * @param label     1 anomaly, 0 normal, -1 unknown, per beat
 * @param inputRows for each beat, its row index in the file it was read from (to write results in input order)
 */
public record Recording(String id, double[] time, double[] rr, int[] label, int[] inputRows) {
    public int size() {
        return rr.length;
    }
}
