package io.cardiospike.notify;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts of what {@code notify} did and its delivery latency (from the alert's Kafka record timestamp to the 2xx):
 * a status line for stderr and the Prometheus text format. Counts only: nothing of a patient.
 */
public final class NotifyMetrics {
    /** Upper bounds of the latency histogram's buckets, seconds. */
    static final double[] BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600};

    final AtomicLong delivered = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong undelivered = new AtomicLong();
    final AtomicLong skipped = new AtomicLong();
    private final AtomicLongArray bucketCounts = new AtomicLongArray(BUCKETS.length);
    private final AtomicLong latencyMillisSum = new AtomicLong();
    private final AtomicLong latencyMillisMax = new AtomicLong();

    void delivered(long latencyMillis) {
        long ms = Math.max(latencyMillis, 0);
        delivered.incrementAndGet();
        latencyMillisSum.addAndGet(ms);
        latencyMillisMax.accumulateAndGet(ms, Math::max);
        for (int i = 0; i < BUCKETS.length; i++) {
            if (ms <= BUCKETS[i] * 1000) {
                bucketCounts.incrementAndGet(i);
                break; // cumulated when written
            }
        }
    }

    public long delivered() {
        return delivered.get();
    }

    public long undelivered() {
        return undelivered.get();
    }

    /** One line: {@code notify: delivered D, retried R, undelivered U, skipped S; latency mean M s, max X s}. */
    public String statusLine() {
        long n = delivered.get();
        return String.format(Locale.ROOT, "notify: delivered %d, retried %d, undelivered %d, skipped %d; latency %s",
                n, retried.get(), undelivered.get(), skipped.get(), n == 0 ? "-" : String.format(Locale.ROOT,
                        "mean %.2f s, max %.2f s", latencyMillisSum.get() / 1000.0 / n, latencyMillisMax.get() / 1000.0));
    }

    /** The Prometheus text exposition format (0.0.4). */
    public String prometheus() {
        StringBuilder b = new StringBuilder();
        counter(b, "cardiospike_notify_delivered_total", "Alerts the receiver answered with a 2xx.", delivered.get());
        counter(b, "cardiospike_notify_retried_total", "Failed attempts that were retried.", retried.get());
        counter(b, "cardiospike_notify_undelivered_total", "Alerts written to the undelivered topic.", undelivered.get());
        counter(b, "cardiospike_notify_skipped_total", "Alerts not sent (suppressed; open alerts in FHIR mode).",
                skipped.get());
        String h = "cardiospike_notify_delivery_latency_seconds";
        b.append("# HELP ").append(h).append(" From the alert's Kafka record timestamp to the 2xx.\n");
        b.append("# TYPE ").append(h).append(" histogram\n");
        long cumulative = 0;
        for (int i = 0; i < BUCKETS.length; i++) {
            cumulative += bucketCounts.get(i);
            b.append(h).append("_bucket{le=\"").append(BUCKETS[i]).append("\"} ").append(cumulative).append('\n');
        }
        long count = delivered.get();
        b.append(h).append("_bucket{le=\"+Inf\"} ").append(count).append('\n');
        b.append(h).append("_sum ").append(latencyMillisSum.get() / 1000.0).append('\n');
        b.append(h).append("_count ").append(count).append('\n');
        return b.toString();
    }

    private static void counter(StringBuilder b, String name, String help, long value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" counter\n");
        b.append(name).append(' ').append(value).append('\n');
    }

    /** Serves {@link #prometheus} at {@code GET /metrics} on {@code port} (0: any free one), all interfaces. */
    public HttpServer serve(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/metrics", exchange -> {
            byte[] body = prometheus().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }
}
