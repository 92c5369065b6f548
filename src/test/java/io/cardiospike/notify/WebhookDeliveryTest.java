package io.cardiospike.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.wire.StreamJson;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One attempt against a real HTTP server: the request each format makes, and timeouts and refused connections. */
class WebhookDeliveryTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Request(String method, String path, Map<String, List<String>> headers, byte[] body) {}

    HttpServer server;
    final List<Request> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", x -> {
            requests.add(new Request(x.getRequestMethod(), x.getRequestURI().getPath(), Map.copyOf(x.getRequestHeaders()),
                    x.getRequestBody().readAllBytes()));
            if (x.getRequestURI().getPath().endsWith("/slow")) {
                try {
                    Thread.sleep(1_500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            x.sendResponseHeaders(x.getRequestMethod().equals("PUT") ? 201 : 204, -1);
            x.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    URI at(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    static JsonNode alert(String status) throws Exception {
        return JSON.readTree(StreamJson.alert(new AnomalyAlert(status, "p-7", 1_700_000_000_000L, 1_700_000_004_000L, 5,
                0.97, 0.93, "cs-test")));
    }

    @Test
    void jsonIsPostedAsIsWithKeyAndSignature() throws Exception {
        WebhookSignature signature = new WebhookSignature("s3cret");
        WebhookDelivery d = new WebhookDelivery(Optional.of(signature), Duration.ofSeconds(2));
        JsonNode a = alert(AnomalyAlert.OPEN);
        byte[] raw = JSON.writeValueAsBytes(a);
        AlertFormat.Payload p = AlertFormat.JSON.payload(at("/hooks"), a, raw).orElseThrow();
        assertThat(d.attempt(p, "k:open")).isEqualTo(new WebhookDelivery.Outcome.Delivered(204));
        Request r = requests.get(0);
        assertThat(r.method).isEqualTo("POST");
        assertThat(r.path).isEqualTo("/hooks");
        assertThat(r.body).isEqualTo(raw);
        assertThat(r.headers.get("Content-type")).containsExactly("application/json");
        assertThat(r.headers.get("Idempotency-key")).containsExactly("k:open");
        assertThat(r.headers.get("X-cardiospike-signature")).containsExactly(signature.sign(raw));
    }

    @Test
    void fhirPutsClosedAlertsObservationUnderTheAlertId() throws Exception {
        WebhookDelivery d = new WebhookDelivery(Optional.empty(), Duration.ofSeconds(2));
        JsonNode closed = alert(AnomalyAlert.CLOSED);
        assertThat(AlertFormat.FHIR.payload(at("/fhir/"), alert(AnomalyAlert.OPEN), new byte[0])).isEmpty();
        AlertFormat.Payload p = AlertFormat.FHIR.payload(at("/fhir/"), closed, JSON.writeValueAsBytes(closed))
                .orElseThrow();
        assertThat(d.attempt(p, "id:closed")).isEqualTo(new WebhookDelivery.Outcome.Delivered(201));
        Request r = requests.get(0);
        String id = closed.get("alert_id").asText();
        assertThat(r.method).isEqualTo("PUT");
        assertThat(r.path).isEqualTo("/fhir/Observation/" + id);
        assertThat(r.headers.get("Content-type")).containsExactly("application/fhir+json");
        assertThat(r.headers).doesNotContainKey("X-cardiospike-signature"); // no secret, no header
        JsonNode o = JSON.readTree(r.body);
        assertThat(o.get("resourceType").asText()).isEqualTo("Observation");
        assertThat(o.get("id").asText()).isEqualTo(id);
        assertThat(o.at("/effectivePeriod/end").asText()).isEqualTo("2023-11-14T22:13:24Z");
        assertThat(o.at("/component/2/valueInteger").asInt()).isEqualTo(5);
    }

    @Test
    void aStallPastTheTimeoutAndARefusedConnectionAreRetried() throws Exception {
        WebhookDelivery d = new WebhookDelivery(Optional.empty(), Duration.ofMillis(500));
        JsonNode a = alert(AnomalyAlert.OPEN);
        long t0 = System.nanoTime();
        WebhookDelivery.Outcome stalled = d.attempt(AlertFormat.JSON.payload(at("/slow"), a, new byte[] {'{', '}'})
                .orElseThrow(), "k");
        assertThat(stalled).isInstanceOf(WebhookDelivery.Outcome.Retry.class);
        assertThat(((WebhookDelivery.Outcome.Retry) stalled).error()).startsWith("timeout");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(1.4);
        URI nobody = URI.create("http://127.0.0.1:" + EmbeddedKafka.freePort() + "/");
        WebhookDelivery.Outcome refused = d.attempt(AlertFormat.JSON.payload(nobody, a, new byte[] {'{', '}'})
                .orElseThrow(), "k");
        assertThat(refused).isInstanceOf(WebhookDelivery.Outcome.Retry.class);
        assertThat(((WebhookDelivery.Outcome.Retry) refused).error()).startsWith("connection failed");
    }
}
