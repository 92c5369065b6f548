package io.cardiospike.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP request on a socket of its own, written by hand so that a test can play a slow or stalled client: the
 * headers promise a body that arrives late, piecemeal or never.
 */
final class RawRequest implements AutoCloseable {
    /** Longest wait for the server's answer: a hung server fails the test instead of hanging it. */
    private static final int READ_TIMEOUT_MS = 120_000;

    private final Socket socket;
    private final OutputStream out;

    private RawRequest(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
    }

    /** Sends the request line and headers for a POST of {@code contentLength} bytes, and {@code firstBytes} of it. */
    static RawRequest post(int port, String path, long contentLength, String authorization, String firstBytes)
            throws IOException {
        RawRequest r = new RawRequest(new Socket("127.0.0.1", port));
        r.socket.setSoTimeout(READ_TIMEOUT_MS);
        StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + contentLength + "\r\n"
                + "Connection: close\r\n"); // the server closes after its answer: readUntilClosed ends there
        if (authorization != null) {
            head.append("Authorization: ").append(authorization).append("\r\n");
        }
        r.send(head.append("\r\n").append(firstBytes).toString());
        return r;
    }

    /**
     * Keeps sending whitespace, 200 bytes every 20 ms (about 10 KB/s, well above the server's minimum data rate), on
     * a thread of its own until the connection closes: a slow upload the server must keep serving.
     */
    RawRequest trickle() {
        Thread feeder = new Thread(() -> {
            try {
                while (!socket.isClosed()) {
                    send(" ".repeat(200));
                    Thread.sleep(20);
                }
            } catch (IOException | InterruptedException e) {
                // closed: by the test or by the server
            }
        }, "trickle");
        feeder.setDaemon(true);
        feeder.start();
        return this;
    }

    void send(String bytes) throws IOException {
        synchronized (out) {
            out.write(bytes.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** Everything the server sends until it closes the connection (or the read times out). */
    String readUntilClosed() throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server neither answered nor closed within " + READ_TIMEOUT_MS
                    + " ms; got: " + got.toString(StandardCharsets.UTF_8), e);
        } catch (IOException e) {
            // a reset after the answer still counts as closed
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
