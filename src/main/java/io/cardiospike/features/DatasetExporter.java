package io.cardiospike.features;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes what the Python training reads, computed by the same code that serves:
 * <ul>
 *   <li>{@code beats.csv}: {@code id,time,x,y,artifact}, one row per beat (recordings in order of first appearance,
 *       beats in time order; {@code y} = -1 when the input has no labels);</li>
 *   <li>{@code features.npy}: float64 {@code (N, F)}, the LightGBM features ({@link WindowFeatures});</li>
 *   <li>{@code windows.npy}: float32 {@code (N, 2, W)}, the CardioNet input ({@link NetInput});</li>
 *   <li>{@code meta.json}: feature-spec version, window geometry, feature names, counts, source file and its SHA-256.</li>
 * </ul>
 */
public final class DatasetExporter {
    private final WindowEncoder encoder;

    public DatasetExporter(FeatureSpec spec) {
        this.encoder = new WindowEncoder(spec);
    }

    public Map<String, Object> export(Path input, RrCsv.Table table, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        FeatureSpec spec = encoder.spec();
        int n = table.rowCount(), f = encoder.features().count(), netSize = encoder.netInputSize();
        double[] features = new double[n * f];
        float[] windows = new float[n * netSize];
        int row = 0;
        try (Writer beats = Files.newBufferedWriter(outDir.resolve("beats.csv"), StandardCharsets.UTF_8)) {
            beats.write("id,time,x,y,artifact\n");
            for (Recording rec : table.recordings()) {
                for (int i = 0; i < rec.size(); i++, row++) {
                    encoder.encode(BeatWindows.cut(rec.rr(), i, spec), features, row * f, windows, row * netSize);
                    beats.write(rec.id() + "," + RrCsv.formatTime(rec.time()[i]) + "," + RrCsv.formatTime(rec.rr()[i])
                            + "," + rec.label()[i] + "," + (Artifacts.isArtifact(rec.rr()[i]) ? 1 : 0) + "\n");
                }
            }
        }
        Npy.write(outDir.resolve("features.npy"), features, n, f);
        Npy.write(outDir.resolve("windows.npy"), windows, n, NetInput.CHANNELS, spec.windowSize());

        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("feature_spec_version", FeatureSpec.VERSION);
        meta.put("past_beats", spec.pastBeats());
        meta.put("lookahead_beats", spec.lookaheadBeats());
        meta.put("window", spec.windowSize());
        meta.put("channels", NetInput.CHANNELS);
        meta.put("feature_names", encoder.features().names());
        meta.put("rows", n);
        meta.put("patients", table.recordings().size());
        meta.put("labelled", table.recordings().stream().allMatch(r -> r.size() == 0 || r.label()[0] >= 0));
        meta.put("source_file", input.getFileName().toString());
        meta.put("source_sha256", sha256(input));
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(outDir.resolve("meta.json").toFile(), meta);
        return meta;
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
