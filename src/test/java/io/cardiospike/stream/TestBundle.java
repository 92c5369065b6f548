package io.cardiospike.stream;

import io.cardiospike.model.EnsembleScorer;
import java.nio.file.Path;

/** The model bundle every stream test scores with: {@code models/} at the repository root. */
final class TestBundle {
    static final Path DIR = Path.of("models");

    private static EnsembleScorer shared;

    private TestBundle() {}

    /** One scorer for the reference (batch) results of all tests in this JVM; freed at JVM exit. */
    static synchronized EnsembleScorer scorer() throws Exception {
        if (shared == null) {
            shared = EnsembleScorer.open(DIR);
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }
}
