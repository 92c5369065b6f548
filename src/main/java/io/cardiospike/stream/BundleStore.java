package io.cardiospike.stream;

import io.cardiospike.model.ModelBundleException;
import io.cardiospike.model.ModelManifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;

/**
 * Model bundles on any Flink filesystem ({@code s3://cardiospike/models/VERSION}, {@code file:///...}, a plain path).
 * A process fetches a remote bundle once into a local cache and checks it against its manifest's SHA-256s
 * ({@link ModelManifest#load}), so TaskManagers need no shared disk and never score with a half-copied bundle.
 */
public final class BundleStore {
    /** Per process: one fetch per bundle URI, however many tasks open it. */
    private static final Map<String, Path> FETCHED = new ConcurrentHashMap<>();

    private BundleStore() {}

    /** True for a URI with a scheme other than {@code file} (a local path or file URI is used in place). */
    public static boolean isRemote(String location) {
        String scheme = URI.create(location.replace(" ", "%20")).getScheme();
        return scheme != null && scheme.length() > 1 && !scheme.equals("file");
    }

    /** A local directory holding the bundle at {@code location}: the directory itself, or a verified cached copy. */
    public static Path localCopy(String location) throws IOException, ModelBundleException {
        if (!isRemote(location)) {
            return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
        }
        Path cached = FETCHED.get(location);
        if (cached != null) {
            return cached;
        }
        synchronized (FETCHED) {
            cached = FETCHED.get(location);
            if (cached == null) {
                cached = fetch(location);
                FETCHED.put(location, cached);
            }
            return cached;
        }
    }

    private static Path fetch(String location) throws IOException, ModelBundleException {
        Path cacheRoot = Path.of(System.getProperty("java.io.tmpdir"), "cardiospike-models");
        Path target = cacheRoot.resolve(sha256(location).substring(0, 16));
        if (Files.isRegularFile(target.resolve(ModelManifest.FILE))) {
            try {
                ModelManifest.load(target); // an earlier fetch by this machine: still intact?
                return target;
            } catch (ModelBundleException stale) {
                deleteTree(target);
            }
        }
        Files.createDirectories(cacheRoot);
        Path partial = Files.createTempDirectory(cacheRoot, "fetch-");
        try {
            org.apache.flink.core.fs.Path remote = new org.apache.flink.core.fs.Path(location);
            FileSystem fs = remote.getFileSystem();
            FileStatus[] files = fs.listStatus(remote);
            if (files == null || files.length == 0) {
                throw new ModelBundleException("no model bundle at " + location + " (nothing there)");
            }
            for (FileStatus f : files) {
                if (!f.isDir()) {
                    try (InputStream in = fs.open(f.getPath())) {
                        Files.copy(in, partial.resolve(f.getPath().getName()));
                    }
                }
            }
            ModelManifest.load(partial); // refuses a bundle whose files do not match its manifest
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                deleteTree(partial); // another process on this machine fetched it meanwhile
                ModelManifest.load(target);
            }
            return target;
        } catch (IOException | ModelBundleException | RuntimeException e) {
            if (Files.exists(partial)) {
                deleteTree(partial);
            }
            throw e;
        }
    }

    /** Copies the bundle in {@code dir} (checked first) to {@code location}, replacing what is there. */
    public static void upload(Path dir, String location) throws IOException, ModelBundleException {
        ModelManifest.load(dir);
        org.apache.flink.core.fs.Path remote = new org.apache.flink.core.fs.Path(location);
        FileSystem fs = remote.getFileSystem();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                try (OutputStream out = fs.create(new org.apache.flink.core.fs.Path(remote, f.getFileName().toString()),
                        FileSystem.WriteMode.OVERWRITE)) {
                    Files.copy(f, out);
                }
            }
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
