package io.cardiospike.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.features.DatasetExporter;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.features.NetInput;
import io.cardiospike.features.WindowFeatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The bundle's {@code manifest.json}, validated against this build: format, feature-spec version, window geometry,
 * feature names and the SHA-256 of every model file must all match, or the bundle is refused.
 */
public record ModelManifest(String modelVersion, FeatureSpec spec, double threshold,
                            String netInput, String netOutput, JsonNode raw) {
    /**
     * 2: since the bundles of 2026-11 (older ones also carry {@code alert_budget}, a retired report figure this loader
     * ignores; training no longer writes it).
     */
    public static final int BUNDLE_FORMAT = 2;
    public static final String FILE = "manifest.json";

    public static ModelManifest load(Path dir) throws ModelBundleException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new ModelBundleException("no model bundle at " + dir + " (missing " + FILE + "); name one with --model DIR "
                    + "or the environment variable CARDIOSPIKE_MODEL");
        }
        JsonNode m;
        try {
            m = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelBundleException(file + ": not valid JSON: " + e.getMessage());
        }
        int format = m.path("bundle_format").asInt(-1);
        if (format != BUNDLE_FORMAT) {
            throw new ModelBundleException(file + ": bundle_format " + format + ", this build reads " + BUNDLE_FORMAT);
        }
        String specVersion = m.path("feature_spec_version").asText();
        if (!FeatureSpec.VERSION.equals(specVersion)) {
            throw new ModelBundleException(file + ": trained on feature spec '" + specVersion + "' but this build computes '"
                    + FeatureSpec.VERSION + "'; retrain the bundle (bin/cardiospike train)");
        }
        FeatureSpec spec = new FeatureSpec(m.path("past_beats").asInt(-1), m.path("lookahead_beats").asInt(-1));
        if (m.path("window").asInt() != spec.windowSize() || m.path("channels").asInt() != NetInput.CHANNELS) {
            throw new ModelBundleException(file + ": window/channels do not match past_beats/lookahead_beats");
        }
        List<String> names = new ArrayList<>();
        m.path("feature_names").forEach(n -> names.add(n.asText()));
        List<String> expected = new WindowFeatures(spec).names();
        if (!names.equals(expected)) {
            throw new ModelBundleException(file + ": feature_names differ from this build's " + expected.size()
                    + " features for the same spec; retrain the bundle");
        }
        double threshold = m.path("threshold").asDouble(Double.NaN);
        if (!(threshold > 0 && threshold < 1)) {
            throw new ModelBundleException(file + ": threshold must lie in (0, 1)");
        }
        String version = m.path("model_version").asText("");
        if (version.isEmpty()) {
            throw new ModelBundleException(file + ": model_version missing");
        }
        verifyFiles(dir, m.path("files"));
        return new ModelManifest(version, spec, threshold,
                m.path("net_input").asText("windows"), m.path("net_output").asText("logit"), m);
    }

    private static void verifyFiles(Path dir, JsonNode files) throws ModelBundleException {
        for (String required : new String[] {EnsembleScorer.ONNX_FILE, EnsembleScorer.LIGHTGBM_FILE,
                EnsembleScorer.STACKER_FILE}) {
            if (!files.has(required)) {
                throw new ModelBundleException(dir.resolve(FILE) + ": files." + required + " (sha256) missing");
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Path f = dir.resolve(e.getKey());
            try {
                if (!Files.isRegularFile(f)) {
                    throw new ModelBundleException("model bundle " + dir + " lacks " + e.getKey());
                }
                String actual = DatasetExporter.sha256(f);
                if (!actual.equalsIgnoreCase(e.getValue().asText())) {
                    throw new ModelBundleException(f + ": SHA-256 does not match the manifest (mixed bundle?)");
                }
            } catch (IOException ex) {
                throw new ModelBundleException("cannot read " + f + ": " + ex.getMessage(), ex);
            }
        }
    }
}
