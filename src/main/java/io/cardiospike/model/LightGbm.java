package io.cardiospike.model;

import com.microsoft.ml.lightgbm.SWIGTYPE_p_double;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_int;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_long_long;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_p_void;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_void;
import com.microsoft.ml.lightgbm.lightgbmlib;
import com.microsoft.ml.lightgbm.lightgbmlibConstants;
import io.github.metarank.lightgbm4j.LGBMBooster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The LightGBM text model through LightGBM's C API (lightgbm4j's natives and SWIG bindings), one thread per call.
 *
 * <p>Small calls (the stream's: the windows one patient's timer completes) go row by row through the "single row
 * fast" API: its prediction config is parsed once here and each row is read in place from the Java array. A matrix
 * call parses its parameters, builds a predictor and copies the matrix element by element every time, about 20 us,
 * which dominated those calls. Large calls (batch scoring) stay one matrix call: the single-row API serialises all
 * threads on a lock per booster, while matrix calls from several threads run concurrently. Both reach the same
 * predictor code, so a row's margin does not depend on its call (BatchInvarianceTest).
 *
 * <p>Thread-safe.
 */
final class LightGbm implements AutoCloseable {
    private static final String PREDICT_PARAMS = "num_threads=1";
    /** Calls of up to this many rows take the single-row path. */
    static final int SMALL_CALL_ROWS = 64;
    private final SWIGTYPE_p_void booster;
    private final SWIGTYPE_p_void fastConfig;
    private final int featureCount;
    private boolean closed;

    LightGbm(Path modelFile, int expectedFeatures) throws ModelBundleException {
        String text;
        try {
            loadNativeLibraries();
            text = Files.readString(modelFile);
        } catch (IOException e) {
            throw new ModelBundleException(modelFile + ": cannot read it: " + e.getMessage(), e);
        }
        SWIGTYPE_p_p_void out = lightgbmlib.new_voidpp();
        SWIGTYPE_p_int ints = lightgbmlib.new_intp();
        try {
            if (lightgbmlib.LGBM_BoosterLoadModelFromString(text, ints, out) != 0) {
                throw new ModelBundleException(modelFile + ": LightGBM cannot load it: " + lightgbmlib.LGBM_GetLastError());
            }
            booster = lightgbmlib.voidpp_value(out);
            check(lightgbmlib.LGBM_BoosterGetNumFeature(booster, ints), "read the feature count");
            featureCount = lightgbmlib.intp_value(ints);
            if (featureCount != expectedFeatures) {
                lightgbmlib.LGBM_BoosterFree(booster);
                throw new ModelBundleException(modelFile + ": model expects " + featureCount
                        + " features, the bundle's spec has " + expectedFeatures);
            }
            int status = lightgbmlib.LGBM_BoosterPredictForMatSingleRowFastInit(booster,
                    lightgbmlibConstants.C_API_PREDICT_RAW_SCORE, 0, -1, lightgbmlibConstants.C_API_DTYPE_FLOAT64,
                    featureCount, PREDICT_PARAMS, out);
            if (status != 0) {
                String error = lightgbmlib.LGBM_GetLastError();
                lightgbmlib.LGBM_BoosterFree(booster);
                throw new ModelBundleException(modelFile + ": LightGBM cannot prepare predictions: " + error);
            }
            fastConfig = lightgbmlib.voidpp_value(out);
        } finally {
            lightgbmlib.delete_intp(ints);
            lightgbmlib.delete_voidpp(out);
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
        double[] margins = new double[rows];
        SWIGTYPE_p_long_long outLength = lightgbmlib.new_int64_tp();
        if (rows <= SMALL_CALL_ROWS) {
            double[] row = new double[featureCount];
            SWIGTYPE_p_double outScore = lightgbmlib.new_doubleArray(1);
            try {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(rowMajor, r * featureCount, row, 0, featureCount);
                    check(lightgbmlib.LGBM_BoosterPredictForMatSingleRowFastCriticalSWIG(row, fastConfig, outLength,
                            outScore), "predict");
                    margins[r] = lightgbmlib.doubleArray_getitem(outScore, 0);
                }
            } finally {
                lightgbmlib.delete_doubleArray(outScore);
                lightgbmlib.delete_int64_tp(outLength);
            }
            return margins;
        }
        int cells = rows * featureCount;
        SWIGTYPE_p_double matrix = lightgbmlib.new_doubleArray(cells);
        SWIGTYPE_p_double outScores = lightgbmlib.new_doubleArray(rows);
        try {
            for (int k = 0; k < cells; k++) {
                lightgbmlib.doubleArray_setitem(matrix, k, rowMajor[k]);
            }
            check(lightgbmlib.LGBM_BoosterPredictForMat(booster, lightgbmlib.double_to_voidp_ptr(matrix),
                    lightgbmlibConstants.C_API_DTYPE_FLOAT64, rows, featureCount, 1,
                    lightgbmlibConstants.C_API_PREDICT_RAW_SCORE, 0, -1, PREDICT_PARAMS, outLength, outScores),
                    "predict");
            for (int r = 0; r < rows; r++) {
                margins[r] = lightgbmlib.doubleArray_getitem(outScores, r);
            }
        } finally {
            lightgbmlib.delete_doubleArray(outScores);
            lightgbmlib.delete_doubleArray(matrix);
            lightgbmlib.delete_int64_tp(outLength);
        }
        return margins;
    }

    private static void check(int status, String what) {
        if (status != 0) {
            throw new IllegalStateException("LightGBM failed to " + what + ": " + lightgbmlib.LGBM_GetLastError());
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        lightgbmlib.LGBM_FastConfigFree(fastConfig);
        lightgbmlib.LGBM_BoosterFree(booster);
    }
}
