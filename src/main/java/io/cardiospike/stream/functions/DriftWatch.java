package io.cardiospike.stream.functions;

import io.cardiospike.drift.DriftMonitor;
import io.cardiospike.drift.DriftReference;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.WindowScores;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.records.DriftEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.OutputTag;
import org.slf4j.LoggerFactory;

/**
 * The scorer's drift monitor for one model ({@code live}, or {@code shadow}): a {@link DriftMonitor} fed with every
 * window that model scores, its PSIs as gauges {@code psi_<statistic>} under the metric group
 * {@code model=<live|shadow>}, and a {@link DriftEvent} to {@link #MONITORING} (the job's {@code rr-monitoring}) when
 * one passes {@link DriftMonitor#ALARM}. A bundle without a drift reference watches nothing (said once per model
 * version in the log). Each scoring task watches its own patients.
 */
public final class DriftWatch {
    public static final OutputTag<DriftEvent> MONITORING = new OutputTag<>("monitoring") {};
    private static final int[] NO_COLUMNS = new int[0];
    /** Versions already said to have no reference, so that a job of many tasks says it once. */
    private static final Set<String> TOLD = ConcurrentHashMap.newKeySet();

    private final DriftMonitor monitor;
    private final String model;
    private final String modelVersion;
    private final int[] columns;
    private final int centre;
    private final Consumer<DriftEvent> out;

    private DriftWatch(DriftMonitor monitor, String model, String modelVersion, int[] columns, int centre,
                       Consumer<DriftEvent> out) {
        this.monitor = monitor;
        this.model = model;
        this.modelVersion = modelVersion;
        this.columns = columns;
        this.centre = centre;
        this.out = out;
    }

    /**
     * The watch of {@code scorer}'s model, named {@code model} in metrics and records; its gauges go under
     * {@code operatorMetrics.addGroup("model", model)}, its records to {@code out}.
     */
    public static DriftWatch open(EnsembleScorer scorer, String model, MetricGroup operatorMetrics,
                                  Consumer<DriftEvent> out) throws ModelBundleException {
        Optional<DriftReference> reference = DriftReference.of(scorer.manifest(), Path.of("."));
        if (reference.isEmpty()) {
            if (TOLD.add(scorer.modelVersion())) {
                LoggerFactory.getLogger(DriftWatch.class).info("model {} ({}) has no drift reference: drift monitoring "
                        + "is off for it (bin/cardiospike drift-reference writes one into a bundle)", model,
                        scorer.modelVersion());
            }
            return new DriftWatch(null, model, scorer.modelVersion(), NO_COLUMNS, 0, out);
        }
        DriftMonitor monitor = new DriftMonitor(reference.get(), scorer.threshold());
        MetricGroup group = operatorMetrics.addGroup("model", model);
        List<String> names = monitor.statistics();
        for (int s = 0; s < names.size(); s++) {
            int statistic = s;
            group.gauge("psi_" + names.get(s), (Gauge<Double>) () -> monitor.psi(statistic));
        }
        int[] columns = reference.get().features().stream().mapToInt(scorer::featureColumn).toArray();
        return new DriftWatch(monitor, model, scorer.modelVersion(), columns, scorer.spec().centre(), out);
    }

    /** The feature columns to ask the scorer for ({@link EnsembleScorer#scoreWindows(List, int[])}). */
    public int[] featureColumns() {
        return columns;
    }

    /** Counts the windows just scored (raw windows, as cut) and emits a record per statistic that crossed. */
    public void observe(List<double[]> windows, WindowScores scores) {
        if (monitor == null || windows.isEmpty()) {
            return;
        }
        double[] rr = new double[windows.size()];
        for (int i = 0; i < rr.length; i++) {
            rr[i] = windows.get(i)[centre]; // the beat's own raw RR
        }
        long now = System.currentTimeMillis();
        monitor.observe(rr, scores.features(), scores.proba(), rr.length, now);
        for (DriftMonitor.Crossing c : monitor.evaluate(now)) {
            out.accept(new DriftEvent(model, modelVersion, c.statistic(), c.psi(), DriftMonitor.ALARM, c.beats(),
                    StreamConfig.format(DriftMonitor.WINDOW), c.atMs()));
        }
    }
}
