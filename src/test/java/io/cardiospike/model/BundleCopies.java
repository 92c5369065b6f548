package io.cardiospike.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardiospike.features.DatasetExporter;
import io.cardiospike.features.FeatureSpec;
import io.cardiospike.features.WindowFeatures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Copies of the committed bundle for tests that need it altered (the model files stay the committed ones). */
public final class BundleCopies {
    public static final Path COMMITTED = Path.of("models");
    private static final ObjectMapper JSON = new ObjectMapper();

    private BundleCopies() {}

    public static Path copy(Path to) throws Exception {
        try (Stream<Path> files = Files.list(COMMITTED)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    /**
     * Another model of the same windows, as a candidate for the shadow: the committed one with other stacker weights
     * (LightGBM weighs more, CardioNet less, a higher intercept), so that it scores every beat differently and flags
     * some beats the committed one does not; its manifest names {@code version} and the new stacker's SHA-256.
     */
    public static Path reweighted(Path to, String version) throws Exception {
        Files.createDirectories(to);
        copy(to);
        Path stackerFile = to.resolve(EnsembleScorer.STACKER_FILE);
        ObjectNode stacker = (ObjectNode) JSON.readTree(stackerFile.toFile());
        ArrayNode coef = (ArrayNode) stacker.get("coef");
        coef.set(0, coef.get(0).asDouble() * 1.4);
        coef.set(1, coef.get(1).asDouble() * 0.6);
        stacker.put("intercept", stacker.get("intercept").asDouble() + 0.3);
        JSON.writeValue(stackerFile.toFile(), stacker);
        ObjectNode manifest = (ObjectNode) JSON.readTree(to.resolve(ModelManifest.FILE).toFile());
        manifest.put("model_version", version);
        ((ObjectNode) manifest.get("files")).put(EnsembleScorer.STACKER_FILE, DatasetExporter.sha256(stackerFile));
        JSON.writeValue(to.resolve(ModelManifest.FILE).toFile(), manifest);
        ModelManifest.load(to); // valid on its own
        return to;
    }

    /** A valid manifest for another window geometry, named {@code version} (the model files are the committed ones). */
    public static Path withGeometry(Path to, FeatureSpec spec, String version) throws Exception {
        Files.createDirectories(to);
        copy(to);
        ObjectNode manifest = (ObjectNode) JSON.readTree(to.resolve(ModelManifest.FILE).toFile());
        manifest.put("model_version", version).put("past_beats", spec.pastBeats())
                .put("lookahead_beats", spec.lookaheadBeats()).put("window", spec.windowSize());
        manifest.putPOJO("feature_names", new WindowFeatures(spec).names());
        JSON.writeValue(to.resolve(ModelManifest.FILE).toFile(), manifest);
        ModelManifest.load(to); // valid on its own
        return to;
    }
}
