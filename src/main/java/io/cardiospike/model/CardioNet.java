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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The CardioNet ONNX graph in ONNX Runtime: one session, one intra-op thread (parallelism comes from the caller's
 * tasks, not from inside one inference). {@link OrtSession#run} is thread-safe, so one instance serves many threads.
 */
final class CardioNet implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;

    private CardioNet(OrtEnvironment env, OrtSession session, String input) {
        this.env = env;
        this.session = session;
        this.input = input;
    }

    /**
     * Starts creating the session for {@code onnxFile} on a thread of its own (ONNX Runtime's part of start-up, about
     * a quarter of a second), so the caller reads the rest of the bundle meanwhile; {@link Loading#finish} waits for it.
     */
    static Loading load(Path onnxFile) {
        FutureTask<OrtSession> task = new FutureTask<>(() -> {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(1);
                options.setInterOpNumThreads(1);
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                return env.createSession(onnxFile.toString(), options);
            }
        });
        Thread t = new Thread(null, task, "onnxruntime-init", initStackBytes());
        t.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        t.setDaemon(true);
        t.start();
        return new Loading(onnxFile, task);
    }

    /**
     * A session being created. Environment and session creation run on a thread with a stack sized for this
     * process's command line: ORT (1.29, Linux) reads {@code /proc/self/cmdline} when it creates its environment and
     * processes it recursively, so the native stack it needs grows with the command line (about 160 bytes per
     * character). A JVM with a long command line (a Flink TaskManager: its classpath, JVM options and dynamic
     * properties; about 4 KB suffice) overflows a 1 MiB thread stack (the JVM default, which Flink's task threads
     * get), and the process dies of SIGSEGV without a JVM crash report. Linux reserves thread stacks lazily, so a
     * generous size costs address space only.
     */
    record Loading(Path onnxFile, FutureTask<OrtSession> task) {
        /** Waits for the session and checks that the graph takes {@code input}. */
        CardioNet finish(String input) throws ModelBundleException {
            OrtSession session = await();
            if (!session.getInputNames().contains(input)) {
                closeQuietly(session);
                throw new ModelBundleException(onnxFile + ": graph has no input '" + input + "'");
            }
            // The environment is a process-wide singleton, created on the large stack by now: this only returns it.
            return new CardioNet(OrtEnvironment.getEnvironment(), session, input);
        }

        /** Waits for the session (the native call cannot be abandoned halfway) and frees it. */
        void discard() {
            try {
                closeQuietly(await());
            } catch (ModelBundleException e) {
                // nothing was created
            }
        }

        private OrtSession await() throws ModelBundleException {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return task.get();
                    } catch (InterruptedException e) {
                        interrupted = true; // finish: the native call cannot be abandoned halfway
                    }
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof OrtException) {
                    throw new ModelBundleException(onnxFile + ": ONNX Runtime cannot load it: " + cause.getMessage(),
                            cause);
                } else if (cause instanceof Error error) {
                    throw error;
                }
                throw new IllegalStateException(cause);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private static void closeQuietly(OrtSession session) {
            try {
                session.close();
            } catch (OrtException e) {
                // already failing or discarding: the first problem is the one to report
            }
        }
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
