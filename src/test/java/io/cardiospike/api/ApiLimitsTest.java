package io.cardiospike.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.model.EnsembleScorer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server's own limits against real clients on real sockets: the bound on requests in progress, clients that
 * stall or trickle their body, and the memory budget for bodies. Each test starts a server with small limits around
 * one shared scorer; what the server holds is read from {@code /health}, never inferred from timing.
 */
class ApiLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String PREDICT = "{\"study\": \"p1\", \"sequence\": [812, 790, 805, 420, 1250, 800, 795, 810]}";

    static EnsembleScorer scorer;

    @BeforeAll
    static void openScorer() throws Exception {
        scorer = EnsembleScorer.open(Path.of("models"));
    }

    @AfterAll
    static void closeScorer() {
        if (scorer != null) {
            scorer.close();
        }
    }

    static ApiServer start(ApiServer.Options.Builder options) throws Exception {
        return ApiServer.start(options.port(0).build(), scorer);
    }

    static HttpResponse<String> predict(ApiServer server, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/v1/predict"))
                .header("Content-Type", "application/json").POST(BodyPublishers.ofString(body)).build(),
                BodyHandlers.ofString());
    }

    static JsonNode health(ApiServer server) throws Exception {
        HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/health")).build(), BodyHandlers.ofString());
        assertThat(res.statusCode()).as("/health answers whatever the load").isEqualTo(200);
        return JSON.readTree(res.body());
    }

    /** Polls /health until {@code load.<field>} satisfies {@code until} (the server has seen what the test sent). */
    static void awaitLoad(ApiServer server, String field, LongPredicate until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long seen;
        do {
            seen = health(server).at("/load/" + field).asLong();
            if (until.test(seen)) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("load." + field + " stayed at " + seen);
    }

    @Test
    void beyondTheBoundRequestsGet503WithRetryAfterAtOnceAndTheServerRecovers() throws Exception {
        int bound = 3;
        try (ApiServer server = start(ApiServer.Options.builder().maxConcurrentRequests(bound))) {
            List<RawRequest> holders = new ArrayList<>();
            try {
                for (int i = 0; i < bound; i++) { // slow uploads of 5 MiB bodies: in progress for minutes
                    holders.add(RawRequest.post(server.port(), "/api/v1/predict", ApiServer.MAX_BODY_BYTES, null,
                            "").trickle());
                }
                awaitLoad(server, "requests_in_flight", n -> n == bound);

                HttpResponse<String> refused = predict(server, PREDICT);
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                JsonNode body = JSON.readTree(refused.body());
                assertThat(body.get("error").asText()).contains("server busy");
                assertThat(body.get("limit").asInt()).isEqualTo(bound);
                assertThat(health(server).at("/limits/max_concurrent_requests").asInt()).isEqualTo(bound);

            } finally {
                for (RawRequest r : holders) {
                    r.close();
                }
            }
            awaitLoad(server, "requests_in_flight", n -> n == 0);
            HttpResponse<String> served = predict(server, PREDICT);
            assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
        }
    }

    @Test
    void aClientThatSendsHeadersAndStallsIsCutOffWhileOthersAreServed() throws Exception {
        try (ApiServer server = start(ApiServer.Options.builder().idleTimeout(Duration.ofSeconds(2)));
             RawRequest stalled = RawRequest.post(server.port(), "/api/v1/predict", 1000, null, "")) {
            // Jetty holds a request whose body has not begun as a connection, without a thread, until the timeout
            HttpResponse<String> other = predict(server, PREDICT);
            assertThat(other.statusCode()).as(other.body()).isEqualTo(200);

            String answer = stalled.readUntilClosed(); // returns once the server has closed the connection
            assertThat(answer).startsWith("HTTP/1.1 408").contains("request body not received in time");
            awaitLoad(server, "requests_in_flight", n -> n == 0);
        }
    }

    @Test
    void aClientThatTricklesItsBodyIsCutOff() throws Exception {
        // a long idle timeout: only the minimum data rate can end this request
        try (ApiServer server = start(ApiServer.Options.builder().idleTimeout(Duration.ofSeconds(600)));
             RawRequest trickle = RawRequest.post(server.port(), "/api/v1/predict", 100_000, null, "")) {
            Thread sender = new Thread(() -> {
                try {
                    for (int i = 0; i < 600; i++) { // ~5 bytes/s, far below the minimum rate; ends when cut off
                        trickle.send(" ");
                        Thread.sleep(200);
                    }
                } catch (Exception e) {
                    // the server closed the connection
                }
            });
            sender.setDaemon(true);
            sender.start();
            assertThat(trickle.readUntilClosed()).startsWith("HTTP/1.1 408");
            sender.interrupt();
            awaitLoad(server, "requests_in_flight", n -> n == 0);
        }
    }

    @Test
    void largeBodiesBeyondTheMemoryBudgetGet503WhileSmallRequestsAreServed() throws Exception {
        long budget = 6L * 1024 * 1024;
        int large = 4 * 1024 * 1024;
        // a valid predict body padded with whitespace to 4 MiB: large, yet cheap to score
        String padded = PREDICT.substring(0, PREDICT.length() - 1) + " ".repeat(large - PREDICT.length()) + "}";
        try (ApiServer server = start(ApiServer.Options.builder().bodyMemoryBytes(budget))) {
            try (RawRequest holder = RawRequest.post(server.port(), "/api/v1/predict", large, null, "").trickle()) {
                // its declared length is reserved before its body is read
                awaitLoad(server, "body_bytes_held", n -> n == large - BodyBudget.FREE_BYTES);

                // another large body is refused before it is sent (a raw request: no body follows its headers)
                try (RawRequest refused = RawRequest.post(server.port(), "/api/v1/predict", large, null, "")) {
                    String answer = refused.readUntilClosed();
                    assertThat(answer).startsWith("HTTP/1.1 503").contains("\r\nRetry-After: 1\r\n")
                            .contains("request bodies in memory are at their limit");
                }

                HttpResponse<String> small = predict(server, PREDICT); // small bodies are never counted
                assertThat(small.statusCode()).as(small.body()).isEqualTo(200);
            }
            awaitLoad(server, "body_bytes_held", n -> n == 0);
            HttpResponse<String> servedNow = predict(server, padded);
            assertThat(servedNow.statusCode()).as(servedNow.body()).isEqualTo(200);
            assertThat(JSON.readTree(servedNow.body()).get("anomaly_proba")).hasSize(8);
        }
    }
}
