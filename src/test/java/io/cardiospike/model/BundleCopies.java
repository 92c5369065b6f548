package io.cardiospike.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Copies of the committed bundle for tests that need it altered (the model files stay the committed ones). */
public final class BundleCopies {
    public static final Path COMMITTED = Path.of("models");

    private BundleCopies() {}

    public static Path copy(Path to) throws Exception {
        try (Stream<Path> files = Files.list(COMMITTED)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }
}
