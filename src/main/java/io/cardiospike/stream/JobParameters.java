package io.cardiospike.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.model.ModelManifest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a submitted job records about itself as Flink global job parameters (shown by the REST API under
 * {@code /jobs/ID/config}, {@code execution-config.user-config}): its arguments, so an upgrade can resubmit them, and
 * the model it scores with, so {@code job status} can say which and an upgrade can check that a new bundle continues
 * the saved state.
 */
public final class JobParameters {
    public static final String ARGS = "cardiospike.args";
    public static final String MODEL_VERSION = "cardiospike.model_version";
    public static final String MODEL_DIR = "cardiospike.model_dir";
    public static final String PAST_BEATS = "cardiospike.past_beats";
    public static final String LOOKAHEAD_BEATS = "cardiospike.lookahead_beats";
    public static final String FEATURE_SPEC = "cardiospike.feature_spec";
    /** The shadow bundle's location and version; absent when the job scores without a shadow. */
    public static final String SHADOW_MODEL_DIR = "cardiospike.shadow_model_dir";
    public static final String SHADOW_MODEL_VERSION = "cardiospike.shadow_model_version";

    private static final ObjectMapper JSON = new ObjectMapper();

    private JobParameters() {}

    public static Map<String, String> of(StreamConfig config, ModelManifest manifest, String[] args)
            throws JsonProcessingException {
        return of(config, manifest, null, args);
    }

    /** @param shadow the shadow bundle's manifest, or null for a job without a shadow */
    public static Map<String, String> of(StreamConfig config, ModelManifest manifest, ModelManifest shadow,
                                         String[] args) throws JsonProcessingException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put(ARGS, JSON.writeValueAsString(args));
        p.put(MODEL_VERSION, manifest.modelVersion());
        p.put(MODEL_DIR, config.modelDir());
        p.put(PAST_BEATS, Integer.toString(manifest.spec().pastBeats()));
        p.put(LOOKAHEAD_BEATS, Integer.toString(manifest.spec().lookaheadBeats()));
        p.put(FEATURE_SPEC, io.cardiospike.features.FeatureSpec.VERSION);
        if (shadow != null) {
            p.put(SHADOW_MODEL_DIR, config.shadowModelDir());
            p.put(SHADOW_MODEL_VERSION, shadow.modelVersion());
        }
        return p;
    }

    /** The arguments a job was submitted with, from its recorded parameters. */
    public static List<String> args(Map<String, String> parameters) throws JsonProcessingException {
        String json = parameters.get(ARGS);
        return json == null ? List.of() : List.of(JSON.readValue(json, String[].class));
    }
}
