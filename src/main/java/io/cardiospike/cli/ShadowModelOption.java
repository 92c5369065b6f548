package io.cardiospike.cli;

import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --shadow-model}: a second bundle the job scores every beat with, beside the live one, declared once (a picocli
 * mixin). The job takes it as {@code --shadow-model-dir}.
 */
final class ShadowModelOption {
    @Option(names = "--shadow-model", paramLabel = "BUNDLE",
            description = "a second model bundle that scores every beat from the live model's windows (same "
                    + "geometry); both scores go to rr-scores-shadow, never to rr-scores or alerts; job also takes a "
                    + "URI (default: none)")
    String shadowModel;

    /** As given: a directory or a URI; null for none. */
    String value() {
        return shadowModel;
    }

    /** A local shadow bundle's manifest, checked against the live one's windows before anything starts; null if none. */
    ModelManifest check(ModelManifest live) throws ModelBundleException {
        if (shadowModel == null) {
            return null;
        }
        ModelManifest shadow = ModelManifest.load(Path.of(shadowModel));
        io.cardiospike.stream.ShadowModel.requireSameWindows(live, shadow);
        return shadow;
    }
}
