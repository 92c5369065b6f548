package io.cardiospike.model;

import com.microsoft.ml.lightgbm.PredictionType;
import io.github.metarank.lightgbm4j.LGBMBooster;
import io.github.metarank.lightgbm4j.LGBMException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The LightGBM text model through lightgbm4j, one thread per prediction; concurrent predictions are safe. */
final class LightGbm implements AutoCloseable {
    private static final String PREDICT_PARAMS = "num_threads=1";
    private final LGBMBooster booster;
    private final int featureCount;

    LightGbm(Path modelFile, int expectedFeatures) throws ModelBundleException {
        try {
            loadNativeLibraries();
            booster = LGBMBooster.loadModelFromString(Files.readString(modelFile));
            featureCount = booster.getNumFeature();
        } catch (IOException | LGBMException e) {
            throw new ModelBundleException(modelFile + ": LightGBM cannot load it: " + e.getMessage(), e);
        }
        if (featureCount != expectedFeatures) {
            close();
            throw new ModelBundleException(modelFile + ": model expects " + featureCount + " features, the bundle's spec has "
                    + expectedFeatures);
        }
    }

    private static boolean nativeLoaded;

    /**
     * lightgbm4j extracts its native libraries, when its class initialises, to the fixed path
     * {@code $java.io.tmpdir/lib_lightgbm*.so}; another JVM starting on the same machine then overwrites the file this
     * JVM has mapped, which crashes it (SIGSEGV). So the extraction goes to a directory of this process's own.
     */
    private static synchronized void loadNativeLibraries() throws IOException {
        if (nativeLoaded) {
            return;
        }
        Path own = Files.createTempDirectory("cardiospike-lightgbm");
        own.toFile().deleteOnExit();
        String tmp = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", own.toString());
        try {
            Class.forName(LGBMBooster.class.getName(), true, LightGbm.class.getClassLoader());
            LGBMBooster.loadNative();
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        } finally {
            System.setProperty("java.io.tmpdir", tmp);
        }
        try (var files = Files.list(own)) {
            files.forEach(f -> f.toFile().deleteOnExit());
        }
        nativeLoaded = true;
    }

    /** Raw scores (margins, before the sigmoid) of {@code rows} row-major feature rows. */
    double[] margins(double[] rowMajor, int rows) {
        try {
            return booster.predictForMat(rowMajor, rows, featureCount, true, PredictionType.C_API_PREDICT_RAW_SCORE,
                    PREDICT_PARAMS);
        } catch (LGBMException e) {
            throw new IllegalStateException("LightGBM prediction failed", e);
        }
    }

    @Override
    public void close() {
        try {
            booster.close();
        } catch (LGBMException e) {
            throw new IllegalStateException(e);
        }
    }
}
