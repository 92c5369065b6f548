package io.cardiospike.stream;

import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import java.io.IOException;

/**
 * The rule for a shadow bundle ({@code --shadow-model-dir}): it scores every beat from the live model's window state
 * (the same cut windows, one scoring call more per batch), so it must cut the windows the live model cuts. A bundle
 * that cannot is refused before anything starts; it can only replace the live model ({@code job upgrade --model}).
 */
public final class ShadowModel {
    private ShadowModel() {}

    /** Refuses, in one line naming both, a shadow whose windows or features differ from the live model's. */
    public static void requireSameWindows(ModelManifest live, ModelManifest shadow) throws ModelBundleException {
        if (!live.spec().equals(shadow.spec())) {
            throw new ModelBundleException("shadow model " + describe(shadow) + " cannot share the windows of the "
                    + "live model " + describe(live) + ": a shadow must see the same windows (replace the live model "
                    + "with job upgrade --model instead)");
        }
    }

    /**
     * The shadow bundle of {@code config}, checked against its live bundle (both fetched, as the scoring tasks will);
     * null for a job without a shadow.
     */
    public static ModelManifest check(StreamConfig config) throws IOException, ModelBundleException {
        if (config.shadowModelDir() == null) {
            return null;
        }
        ModelManifest live = ModelManifest.load(BundleStore.localCopy(config.modelDir()));
        ModelManifest shadow = ModelManifest.load(BundleStore.localCopy(config.shadowModelDir()));
        requireSameWindows(live, shadow);
        return shadow;
    }

    private static String describe(ModelManifest m) {
        FeatureSpec s = m.spec();
        return m.modelVersion() + " (" + s.pastBeats() + " past and " + s.lookaheadBeats() + " lookahead beats, "
                + "features " + FeatureSpec.VERSION + ")";
    }
}
