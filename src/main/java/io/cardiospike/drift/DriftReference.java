package io.cardiospike.drift;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a bundle's training data looked like, for drift monitoring ({@link DriftMonitor}): the deciles of the beats'
 * RR, of a few window features and of the stacked probability, and the flagged-beat and artifact rates. It lives in
 * the bundle's {@code manifest.json} under {@value #KEY} (so every copy of the bundle, promoted or uploaded, carries
 * it, and it is as trustworthy as the threshold beside it); a bundle without one loads and scores, with drift
 * monitoring off. Statistics are named as in the job's gauges ({@code psi_<statistic>}) and {@code rr-monitoring}.
 */
public record DriftReference(Map<String, Bins> statistics, List<String> features, long beats, int patients,
                             String dataSha256) {
    public static final String KEY = "drift_reference";
    public static final String RR = "rr_ms", PROBA = "proba", FLAGGED_RATE = "flagged_rate",
            ARTIFACT_RATE = "artifact_rate";
    /**
     * The window features watched: the beat's neighbourhood level (median RR), spread (IQR, RMSSD) and shape (the
     * beat's and its step's size relative to the median). The last two are scale-free: a device that reports every
     * RR 30 % short moves the first three and the RR, not them.
     */
    public static final List<String> KEY_FEATURES = List.of("median_rr", "iqr_rr", "rmssd", "rel_0", "step_0");

    /** Statistics in the order every record and gauge uses: RR, the features, the probability, the two rates. */
    public List<String> names() {
        return List.copyOf(statistics.keySet());
    }

    /** Scores {@code recordings} with {@code scorer} and takes their distributions. */
    public static DriftReference build(List<Recording> recordings, EnsembleScorer scorer, String dataSha256) {
        List<String> features = KEY_FEATURES.stream().filter(f -> scorer.featureColumn(f) >= 0).toList();
        int[] columns = features.stream().mapToInt(scorer::featureColumn).toArray();
        int n = recordings.stream().mapToInt(Recording::size).sum(), k = columns.length;
        double[] rr = new double[n], proba = new double[n];
        double[][] values = new double[k][n];
        long flagged = 0, artifacts = 0;
        int at = 0;
        for (Recording rec : recordings) {
            var scores = scorer.scoreRecording(rec.rr(), columns);
            for (int i = 0; i < rec.size(); i++, at++) {
                rr[at] = rec.rr()[i];
                proba[at] = scores.proba()[i];
                for (int j = 0; j < k; j++) {
                    values[j][at] = scores.features()[i * k + j];
                }
                flagged += scorer.isAnomalous(proba[at]) ? 1 : 0;
                artifacts += Artifacts.isArtifact(rr[at]) ? 1 : 0;
            }
        }
        Map<String, Bins> stats = new LinkedHashMap<>();
        stats.put(RR, Bins.deciles(rr));
        for (int j = 0; j < k; j++) {
            stats.put(features.get(j), Bins.deciles(values[j]));
        }
        stats.put(PROBA, Bins.deciles(proba));
        stats.put(FLAGGED_RATE, Bins.rate(round6((double) flagged / n)));
        stats.put(ARTIFACT_RATE, Bins.rate(round6((double) artifacts / n)));
        return new DriftReference(stats, features, n, recordings.size(), dataSha256);
    }

    /** The bundle's reference; empty for a bundle without one. A malformed one is refused, naming what is wrong. */
    public static Optional<DriftReference> of(ModelManifest manifest, Path dir) throws ModelBundleException {
        JsonNode r = manifest.raw().path(KEY);
        if (r.isMissingNode() || r.isNull()) {
            return Optional.empty();
        }
        try {
            Map<String, Bins> stats = new LinkedHashMap<>();
            stats.put(RR, bins(r.path(RR)));
            List<String> features = new ArrayList<>();
            List<String> known = new ArrayList<>();
            manifest.raw().path("feature_names").forEach(f -> known.add(f.asText()));
            for (Iterator<Map.Entry<String, JsonNode>> it = r.path("features").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!known.contains(f.getKey()) || stats.containsKey(f.getKey())) {
                    throw new IllegalArgumentException("feature " + f.getKey() + " is not one of the bundle's");
                }
                features.add(f.getKey());
                stats.put(f.getKey(), bins(f.getValue()));
            }
            stats.put(PROBA, bins(r.path(PROBA)));
            stats.put(FLAGGED_RATE, Bins.rate(rate(r, FLAGGED_RATE)));
            stats.put(ARTIFACT_RATE, Bins.rate(rate(r, ARTIFACT_RATE)));
            return Optional.of(new DriftReference(stats, features, r.path("beats").asLong(), r.path("patients").asInt(),
                    r.path("data_sha256").asText(null)));
        } catch (IllegalArgumentException e) {
            throw new ModelBundleException(dir.resolve(ModelManifest.FILE) + ": " + KEY + ": " + e.getMessage());
        }
    }

    private static Bins bins(JsonNode node) {
        if (!node.path("edges").isArray() || !node.path("fractions").isArray()) {
            throw new IllegalArgumentException("edges and fractions missing");
        }
        return new Bins(doubles(node.path("edges")), doubles(node.path("fractions")));
    }

    private static double[] doubles(JsonNode array) {
        double[] d = new double[array.size()];
        for (int i = 0; i < d.length; i++) {
            if (!array.get(i).isNumber()) {
                throw new IllegalArgumentException("not a number: " + array.get(i));
            }
            d[i] = array.get(i).asDouble();
        }
        return d;
    }

    private static double rate(JsonNode r, String name) {
        double v = r.path(name).asDouble(Double.NaN);
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(name + " must lie in [0, 1]");
        }
        return v;
    }

    /** The reference as the manifest holds it. */
    public ObjectNode toJson() {
        ObjectNode r = JSON.createObjectNode();
        r.put("beats", beats).put("patients", patients);
        if (dataSha256 != null) {
            r.put("data_sha256", dataSha256);
        }
        r.put("bins", "deciles (a value v is in bin i when i edges are <= v)");
        put(r.putObject(RR), statistics.get(RR));
        ObjectNode f = r.putObject("features");
        for (String name : features) {
            put(f.putObject(name), statistics.get(name));
        }
        put(r.putObject(PROBA), statistics.get(PROBA));
        r.put(FLAGGED_RATE, statistics.get(FLAGGED_RATE).fractions()[1]);
        r.put(ARTIFACT_RATE, statistics.get(ARTIFACT_RATE).fractions()[1]);
        return r;
    }

    private static void put(ObjectNode node, Bins b) {
        var edges = node.putArray("edges");
        for (double e : b.edges()) {
            edges.add(e);
        }
        var fractions = node.putArray("fractions");
        for (double f : b.fractions()) {
            fractions.add(round6(f));
        }
    }

    private static double round6(double v) {
        return Math.round(v * 1e6) / 1e6;
    }

    /**
     * Writes this reference into the bundle in {@code dir} (replacing one it had), every other manifest entry kept in
     * its place, and checks that the bundle still loads with it.
     */
    public void writeInto(Path dir) throws IOException, ModelBundleException {
        Path file = dir.resolve(ModelManifest.FILE);
        ModelManifest.load(dir); // a bundle this build can score, before anything is written
        ObjectNode manifest = (ObjectNode) JSON.readTree(file.toFile());
        manifest.set(KEY, toJson());
        Path tmp = dir.resolve(ModelManifest.FILE + ".tmp");
        Files.writeString(tmp, PRETTY.writeValueAsString(manifest) + "\n");
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        of(ModelManifest.load(dir), dir).orElseThrow();
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Two-space indents and {@code "key": value}, as the training's Python writes the manifest: a small diff. */
    private static final com.fasterxml.jackson.databind.ObjectWriter PRETTY = JSON.writer(
            new DefaultPrettyPrinter(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")));
}
