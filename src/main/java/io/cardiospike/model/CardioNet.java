package io.cardiospike.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The CardioNet ONNX graph in ONNX Runtime: one session, one intra-op thread (parallelism comes from the caller's
 * tasks, not from inside one inference). {@link OrtSession#run} is thread-safe, so one instance serves many threads.
 */
final class CardioNet implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;

    CardioNet(Path onnxFile, String input) throws ModelBundleException {
        this.input = input;
        try {
            env = onLargeStack(OrtEnvironment::getEnvironment);
            session = onLargeStack(() -> {
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                    options.setIntraOpNumThreads(1);
                    options.setInterOpNumThreads(1);
                    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    return env.createSession(onnxFile.toString(), options);
                }
            });
        } catch (OrtException e) {
            throw new ModelBundleException(onnxFile + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
        if (!session.getInputNames().contains(input)) {
            close();
            throw new ModelBundleException(onnxFile + ": graph has no input '" + input + "'");
        }
    }

    /**
     * Runs ONNX Runtime's environment and session creation on a thread of its own with a stack sized for this
     * process's command line. ORT (1.29, Linux) reads {@code /proc/self/cmdline} when it creates its environment and
     * processes it recursively: the native stack it needs grows with the command line (about 160 bytes per
     * character), so a JVM with a long command line (a Flink TaskManager: its classpath, JVM options and dynamic
     * properties; about 4 KB suffice) overflows a 1 MiB thread stack (the JVM default, which Flink's task threads
     * get) and the process dies of SIGSEGV without a JVM crash report. Linux reserves thread stacks lazily, so a
     * generous size costs address space only.
     */
    static <T> T onLargeStack(Callable<T> work) throws OrtException {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                result.set(work.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "onnxruntime-init", initStackBytes());
        t.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // finish: the native call cannot be abandoned halfway
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable e = failure.get();
        if (e instanceof OrtException ortException) {
            throw ortException;
        } else if (e instanceof RuntimeException runtimeException) {
            throw runtimeException;
        } else if (e instanceof Error error) {
            throw error;
        } else if (e != null) {
            throw new IllegalStateException(e);
        }
        return result.get();
    }

    /** 16 MiB plus 1 KiB per byte of the process's command line (6x what ORT was measured to need). */
    static long initStackBytes() {
        long cmdline = 0;
        try {
            cmdline = Files.readAllBytes(Path.of("/proc/self/cmdline")).length;
        } catch (IOException | RuntimeException e) {
            // not Linux: ORT reads no /proc/self/cmdline there either
        }
        return (16L << 20) + 1024L * cmdline;
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
