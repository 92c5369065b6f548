package io.cardiospike.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * The CardioNet ONNX graph in ONNX Runtime: one session, one intra-op thread (parallelism comes from the caller's
 * tasks, not from inside one inference). {@link OrtSession#run} is thread-safe, so one instance serves many threads.
 */
final class CardioNet implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final String input;

    CardioNet(Path onnxFile, String input) throws ModelBundleException {
        this.input = input;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(onnxFile.toString(), options);
        } catch (OrtException e) {
            throw new ModelBundleException(onnxFile + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
        if (!session.getInputNames().contains(input)) {
            close();
            throw new ModelBundleException(onnxFile + ": graph has no input '" + input + "'");
        }
    }

    /** Logits of {@code batch} windows laid out as {@code [batch, channels, window]} in {@code tensor}. */
    double[] logits(float[] tensor, int batch, int channels, int window) {
        if (batch == 1) {
            // ONNX Runtime takes another kernel path for a batch of one (logits differ by ~1e-7), so a lone window
            // runs as a batch of two: a window then scores identically however callers batch it, and the streaming
            // job (small batches) reproduces the batch scorer bit for bit.
            int size = channels * window;
            float[] pair = java.util.Arrays.copyOf(tensor, 2 * size);
            System.arraycopy(tensor, 0, pair, size, size);
            return new double[] {logits(pair, 2, channels, window)[0]};
        }
        long[] shape = {batch, channels, window};
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(tensor, 0, batch * channels * window), shape);
             OrtSession.Result result = session.run(Map.of(input, in))) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            double[] logits = new double[batch];
            for (int i = 0; i < batch; i++) {
                logits[i] = out.get(i);
            }
            return logits;
        } catch (OrtException e) {
            throw new IllegalStateException("CardioNet inference failed", e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
