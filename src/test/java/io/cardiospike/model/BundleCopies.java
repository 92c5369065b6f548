package io.cardiospike.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

    /** A copy whose alert budget is small enough to act on short synthetic recordings. */
    public static Path withAlertBudget(Path to, int maxFlagged, int windowBeats) throws Exception {
        copy(to);
        Path file = to.resolve(ModelManifest.FILE);
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(file.toFile());
        manifest.putObject("alert_budget").put("max_flagged", maxFlagged).put("window_beats", windowBeats);
        json.writeValue(file.toFile(), manifest);
        return to;
    }
}
