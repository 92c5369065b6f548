package io.cardiospike.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.log4j.Level;
import org.apache.log4j.PatternLayout;
import org.apache.log4j.WriterAppender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer authentication over real HTTP against a server started with a token file, and the CLI's startup errors. */
class ApiAuthTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String WARD = "ward-3-gateway-7f3c9a51e2";
    static final String SERVICE = "batch.service+token/2026==";
    static final String PREDICT = "{\"study\": \"p1\", \"sequence\": [812, 790, 805, 420, 1250, 800, 795, 810]}";

    @TempDir
    static Path dir;
    static Path tokenFile;
    static ApiServer server;
    static String base;
    static final StringWriter LOGS = new StringWriter();
    static WriterAppender appender;
    static Level ourLevel;

    @BeforeAll
    static void start() throws Exception {
        // every log line of the server, request lines included, to check that no token reaches a log
        org.apache.log4j.Logger ours = org.apache.log4j.Logger.getLogger("io.cardiospike");
        ourLevel = ours.getLevel();
        ours.setLevel(Level.DEBUG);
        appender = new WriterAppender(new PatternLayout("%p %c %m%n"), LOGS);
        org.apache.log4j.Logger.getRootLogger().addAppender(appender);

        tokenFile = Files.writeString(dir.resolve("tokens"), "# gateways of ward 3\n" + WARD + "\n\n# batch jobs\n"
                + SERVICE + "\n");
        server = ApiServer.start(ApiServer.Options.builder().port(0).authTokenFile(tokenFile)
                .dataFile(TestData.writeCsv(dir.resolve("data.csv"), 2, 3)).build());
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
        org.apache.log4j.Logger.getRootLogger().removeAppender(appender);
        org.apache.log4j.Logger.getLogger("io.cardiospike").setLevel(ourLevel);
    }

    static HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), BodyHandlers.ofString());
    }

    static HttpResponse<String> predict(String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/predict"))
                .header("Content-Type", "application/json").POST(BodyPublishers.ofString(PREDICT));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), BodyHandlers.ofString());
    }

    static void assertUnauthorized(HttpResponse<String> res, String challenge, String message) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(401);
        assertThat(res.headers().firstValue("WWW-Authenticate")).hasValue(challenge);
        assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode j = JSON.readTree(res.body());
        assertThat(j.get("status").asInt()).isEqualTo(401);
        assertThat(j.get("error").asText()).contains(message);
    }

    @Test
    void everyApiRouteNeedsAValidToken() throws Exception {
        for (String path : List.of("/api/v1/model", "/api/v1/recordings", "/api/v1/live", "/api/v1/live/events",
                "/api/v1/nope")) {
            assertUnauthorized(get(path, null), "Bearer realm=\"cardiospike\"", "authentication required");
        }
        assertUnauthorized(predict(null), "Bearer realm=\"cardiospike\"", "authentication required");
        String invalid = "Bearer realm=\"cardiospike\", error=\"invalid_token\"";
        assertUnauthorized(predict("Bearer " + WARD + "0"), invalid, "invalid bearer token");
        assertUnauthorized(predict("Basic " + WARD), invalid, "invalid bearer token");
        assertUnauthorized(predict(WARD), invalid, "invalid bearer token");

        // paths that only look like something else do not slip past the check
        for (String path : List.of("/%61pi/v1/model", "/webjars/../api/v1/model", "//api/v1/model",
                "/api/v1/model/")) {
            HttpResponse<String> res = get(path, null);
            assertThat(res.statusCode()).as(path + ": " + res.body()).isNotEqualTo(200);
            assertThat(res.body()).as(path).doesNotContain("model_version");
        }
    }

    @Test
    void eachTokenOfTheFileIsAccepted() throws Exception {
        for (String token : List.of(WARD, SERVICE)) {
            HttpResponse<String> res = predict("Bearer " + token);
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(JSON.readTree(res.body()).get("anomaly_proba")).hasSize(8);
        }
        assertThat(get("/api/v1/model", "bearer " + SERVICE).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/recordings", "Bearer " + WARD).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/nope", "Bearer " + WARD).statusCode()).as("known token: the route's own answer")
                .isEqualTo(404);
    }

    @Test
    void healthThePagesAndTheDocumentStayOpen() throws Exception {
        HttpResponse<String> health = get("/health", null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(health.body()).get("auth").asBoolean()).isTrue();
        for (String path : List.of("/", "/app.js", "/app.css", "/docs", "/openapi.json",
                "/webjars/swagger-ui/5.30.2/swagger-ui-bundle.js")) {
            assertThat(get(path, null).statusCode()).as(path).isEqualTo(200);
        }
        JsonNode doc = JSON.readTree(get("/openapi.json", null).body());
        assertThat(doc.at("/components/securitySchemes/bearerAuth/scheme").asText()).isEqualTo("bearer");
        assertThat(doc.at("/security/0").has("bearerAuth")).as("every operation needs the token").isTrue();
        assertThat(doc.at("/paths/~1health/get/security")).isEmpty();
        assertThat(doc.at("/paths/~1openapi.json/get/security")).isEmpty();
        doc.get("paths").forEach(path -> path.forEach(operation -> {
            boolean open = operation.has("security"); // the open ones: an empty requirement of their own
            assertThat(operation.get("responses").has("401")).as(operation.get("operationId").asText())
                    .isEqualTo(!open);
        }));
        assertThat(doc.at("/paths/~1api~1v1~1predict/post/responses").has("401")).isTrue();
    }

    @Test
    void theTokenFileIsReadOnceAtStart() throws Exception {
        String later = "added-after-start-0123456789";
        Path file = Files.writeString(dir.resolve("rotating"), WARD + "\n");
        try (ApiServer once = ApiServer.start(ApiServer.Options.builder().port(0).authTokenFile(file).build())) {
            Files.writeString(file, later + "\n");
            String url = "http://127.0.0.1:" + once.port() + "/api/v1/model";
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + WARD)
                    .build(), BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + later)
                    .build(), BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void aMissingOrEmptyTokenFileStopsServeAtStartWithAClearError() throws Exception {
        Path missing = dir.resolve("no-such-tokens");
        Path empty = Files.writeString(dir.resolve("empty-tokens"), "# nothing yet\n\n");
        Path bad = Files.writeString(dir.resolve("bad-tokens"), WARD + "\n" + SERVICE + " and more\n");
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        for (Object[] c : List.of(new Object[] {missing, ": no such file"}, new Object[] {empty, ": no token in it"},
                new Object[] {bad, ":2: not a bearer token"})) {
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(err, true), "serve", "--port", Integer.toString(port),
                    "--auth-token-file", c[0].toString());
            assertThat(code).as(err.toString()).isEqualTo(2);
            assertThat(err.toString()).contains("error: auth token file " + c[0] + c[1])
                    .doesNotContain(WARD).doesNotContain(SERVICE);
        }
        try (Socket s = new Socket()) { // nothing started listening
            assertThat(tryConnect(s, port)).isFalse();
        }
    }

    private static boolean tryConnect(Socket s, int port) {
        try {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void noTokenReachesALog() throws Exception {
        predict("Bearer " + WARD);
        predict("Bearer " + WARD + "-wrong");
        get("/api/v1/recordings/unknown", "Bearer " + SERVICE);
        get("/api/v1/model", null);
        String logs = LOGS.toString();
        assertThat(logs).as("the server logged its requests").contains("/api/v1/predict");
        assertThat(logs).doesNotContain(WARD).doesNotContain(SERVICE).doesNotContain("Bearer " + WARD.charAt(0));
    }
}
