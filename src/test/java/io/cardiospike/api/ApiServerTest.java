package io.cardiospike.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.cli.Main;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Artifacts;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The REST contract over real HTTP against a started server with the real model bundle (models/). */
class ApiServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static Path dataCsv;
    static ApiServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        dataCsv = TestData.writeCsv(dir.resolve("data.csv"), 4, 11);
        server = ApiServer.start(ApiServer.Options.builder().port(0).dataFile(dataCsv).build());
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String contentType, byte[] body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
                .POST(BodyPublishers.ofByteArray(body)).build(), BodyHandlers.ofString());
    }

    static HttpResponse<String> postJson(String body) throws Exception {
        return post("/api/v1/predict", "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    /** What {@code bin/cardiospike score} writes for {@code csv}. */
    static String cliScore(Path csv) throws Exception {
        Path out = csv.resolveSibling(csv.getFileName() + ".scores.csv");
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(err, true), "score", "--input", csv.toString(), "--output",
                out.toString(), "--model", "models");
        assertThat(code).as(err.toString()).isZero();
        return Files.readString(out);
    }

    @Test
    void predictMatchesTheCliBeatByBeat() throws Exception {
        List<String> cli = cliScore(dataCsv).lines().skip(1).toList();
        double threshold;
        try (EnsembleScorer scorer = EnsembleScorer.open(Path.of("models"))) {
            threshold = scorer.threshold();
        }
        for (Recording r : RrCsv.read(dataCsv).recordings()) {
            String body = JSON.writeValueAsString(java.util.Map.of("study", r.id(), "sequence", r.rr()));
            HttpResponse<String> res = postJson(body);
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(res.headers().firstValue("Content-Type")).hasValueSatisfying(
                    v -> assertThat(v).startsWith("application/json"));
            JsonNode j = JSON.readTree(res.body());
            assertThat(j.get("study").asText()).isEqualTo(r.id());
            assertThat(j.get("anomaly_thresh").asDouble()).isEqualTo(threshold);
            assertThat(j.get("model_version").asText()).isNotBlank();
            JsonNode proba = j.get("anomaly_proba"), errors = j.get("errors");
            assertThat(proba.size()).isEqualTo(r.size());
            assertThat(errors.size()).isEqualTo(r.size());
            for (int i = 0; i < r.size(); i++) {
                String[] row = cli.get(r.inputRows()[i]).split(",");
                assertThat(row[0]).isEqualTo(r.id());
                assertThat(proba.get(i).asDouble()).as("beat %d of %s", i, r.id())
                        .isCloseTo(Double.parseDouble(row[3]), org.assertj.core.data.Offset.offset(1e-5));
                assertThat(errors.get(i).asInt()).isEqualTo(Artifacts.isArtifact(r.rr()[i]) ? 1 : 0);
            }
            // episodes: exactly the maximal runs of the beats the CLI flags (y: proba >= threshold)
            boolean[] inEpisode = new boolean[r.size()];
            int previousEnd = -2;
            for (JsonNode e : j.get("episodes")) {
                int s = e.get("start").asInt(), end = e.get("end").asInt();
                assertThat(s).isGreaterThan(previousEnd + 1).isLessThanOrEqualTo(end);
                double max = 0;
                for (int i = s; i <= end; i++) {
                    inEpisode[i] = true;
                    max = Math.max(max, proba.get(i).asDouble());
                }
                assertThat(e.get("max_proba").asDouble()).isEqualTo(max);
                previousEnd = end;
            }
            for (int i = 0; i < r.size(); i++) {
                assertThat(inEpisode[i]).isEqualTo(cli.get(r.inputRows()[i]).split(",")[2].equals("1"));
            }
        }
    }

    @Test
    void csvEndpointIsByteIdenticalToTheCli() throws Exception {
        String expected = cliScore(dataCsv);
        byte[] csv = Files.readAllBytes(dataCsv);
        HttpResponse<String> res = post("/api/v1/predict/csv", "text/csv", csv);
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        assertThat(res.body()).isEqualTo(expected);

        String boundary = "----cardiospike-test";
        byte[] multipart = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.csv\""
                + "\r\nContent-Type: text/csv\r\n\r\n" + new String(csv, StandardCharsets.UTF_8) + "\r\n--" + boundary
                + "--\r\n").getBytes(StandardCharsets.UTF_8);
        res = post("/api/v1/predict/csv", "multipart/form-data; boundary=" + boundary, multipart);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(res.body()).isEqualTo(expected);
    }

    @Test
    void badCsvIs400WithTheReadersMessage() throws Exception {
        HttpResponse<String> res = post("/api/v1/predict/csv", "text/csv",
                "id,time,x\np1,0,800\np1,800,eight hundred\n".getBytes(StandardCharsets.UTF_8));
        assertError(res, 400, "request body:3: field 'x' is not a number: 'eight hundred'");
        assertError(post("/api/v1/predict/csv", "text/csv", new byte[0]), 400, "empty file");
        assertError(post("/api/v1/predict/csv", "text/csv", "id,x\np1,800\n".getBytes(StandardCharsets.UTF_8)), 400,
                "header lacks column 'time'");
        String boundary = "b0undary";
        byte[] noFile = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--"
                + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        assertError(post("/api/v1/predict/csv", "multipart/form-data; boundary=" + boundary, noFile), 400,
                "'file'");
    }

    static Stream<Arguments> badPredictBodies() {
        return Stream.of(
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, 810", 400, "malformed JSON"),
                Arguments.of("not json", 400, "malformed JSON"),
                Arguments.of("", 400, "empty body"),
                Arguments.of("[800, 810]", 400, "expected a JSON object"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800]} {}", 400, "malformed JSON"),
                Arguments.of("{\"study\": \"p1\", \"study\": \"p2\", \"sequence\": [800]}", 400, "Duplicate field"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, NaN]}", 400, "malformed JSON"),
                Arguments.of("{\"sequence\": [800]}", 422, "missing field 'study'"),
                Arguments.of("{\"study\": \"p1\"}", 422, "missing field 'sequence'"),
                Arguments.of("{\"study\": null, \"sequence\": [800]}", 422, "'study' must be a string, got null"),
                Arguments.of("{\"study\": 7, \"sequence\": [800]}", 422, "'study' must be a string"),
                Arguments.of("{\"study\": \"\", \"sequence\": [800]}", 422, "1 to 200 characters"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": null}", 422, "must be an array of numbers, got null"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": \"800,810\"}", 422, "must be an array"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": {\"0\": 800}}", 422, "must be an array"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": []}", 422, "is empty"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, \"810\"]}", 422, "sequence[1] must be a number"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, null]}", 422, "sequence[1] must be a number"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, [810]]}", 422, "sequence[1] must be a number"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, true]}", 422, "sequence[1] must be a number"),
                Arguments.of("{\"study\": \"p1\", \"sequence\": [800, 1e999]}", 422, "sequence[1] is not a finite"));
    }

    @ParameterizedTest
    @MethodSource("badPredictBodies")
    void badPredictBodiesAreClear4xx(String body, int status, String message) throws Exception {
        assertError(postJson(body), status, message);
    }

    @Test
    void limitsAre413() throws Exception {
        StringBuilder seq = new StringBuilder("{\"study\": \"long\", \"sequence\": [800");
        for (int i = 1; i <= ApiServer.MAX_BEATS; i++) {
            seq.append(",800");
        }
        HttpResponse<String> res = postJson(seq.append("]}").toString());
        assertError(res, 413, "limit is 100000");
        assertThat(JSON.readTree(res.body()).get("limit").asInt()).isEqualTo(ApiServer.MAX_BEATS);

        byte[] huge = new byte[ApiServer.MAX_BODY_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) ' ');
        assertError(post("/api/v1/predict", "application/json", huge), 413, "exceeds the limit");
        assertError(post("/api/v1/predict/csv", "text/csv", huge), 413, "exceeds the limit");
        // no Content-Length (chunked): the limit still holds
        HttpResponse<String> chunked = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/predict"))
                .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(huge))).build(),
                BodyHandlers.ofString());
        assertError(chunked, 413, "exceeds the limit");
    }

    @Test
    void modelHealthDocsAndErrors() throws Exception {
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        JsonNode h = JSON.readTree(health.body());
        assertThat(h.get("status").asText()).isEqualTo("ok");
        assertThat(h.get("live").asBoolean()).isFalse();
        assertThat(h.has("alert_budget")).as("decisions are the threshold alone").isFalse();
        assertThat(h.get("auth").asBoolean()).as("no --auth-token-file").isFalse();
        assertThat(h.at("/limits/max_concurrent_requests").asInt()).isEqualTo(256);
        assertThat(h.at("/limits/body_memory_bytes").asLong()).isEqualTo(64L * 1024 * 1024);

        HttpResponse<String> model = get("/api/v1/model");
        assertThat(model.statusCode()).isEqualTo(200);
        JsonNode manifest = JSON.readTree(Files.readString(Path.of("models/manifest.json")));
        assertThat(JSON.readTree(model.body())).isEqualTo(manifest);
        assertThat(h.get("model_version").asText()).isEqualTo(manifest.get("model_version").asText());

        HttpResponse<String> openapi = get("/openapi.json");
        assertThat(openapi.statusCode()).isEqualTo(200);
        JsonNode doc = JSON.readTree(openapi.body());
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        for (String path : List.of("/api/v1/predict", "/api/v1/predict/csv", "/api/v1/model", "/health")) {
            assertThat(doc.get("paths").has(path)).as(path).isTrue();
        }
        assertThat(doc.at("/paths/~1api~1v1~1predict/post/responses").has("422")).isTrue();
        assertThat(doc.at("/paths/~1api~1v1~1predict/post/responses").has("413")).isTrue();
        // no --auth-token-file: the document asks for no token and promises no 401, as the server does
        assertThat(doc.has("security")).isFalse();
        assertThat(doc.at("/components").has("securitySchemes")).isFalse();
        assertThat(doc.at("/components/responses").has("Unauthorized")).isFalse();
        doc.get("paths").forEach(path -> path.forEach(operation -> {
            assertThat(operation.has("security")).as(operation.get("operationId").asText()).isFalse();
            assertThat(operation.get("responses").has("401")).as(operation.get("operationId").asText()).isFalse();
        }));
        assertThat(openapi.body()).doesNotContain("bearerAuth").doesNotContain("#/components/responses/Unauthorized");

        HttpResponse<String> docs = get("/docs");
        assertThat(docs.statusCode()).isEqualTo(200);
        assertThat(docs.body()).contains("/openapi.json").doesNotContain("https://");
        for (String asset : List.of("/webjars/swagger-ui/5.30.2/swagger-ui-bundle.js",
                "/webjars/swagger-ui/5.30.2/swagger-ui.css", "/webjars/plotly.js-dist/3.3.1/plotly.js", "/app.js")) {
            assertThat(get(asset).statusCode()).as(asset).isEqualTo(200);
        }
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<div id=\"chart\">").doesNotContain("https://");

        assertError(get("/api/v1/nope"), 404, "not found");
        assertError(get("/no-such-page.html"), 404, "not found");
        assertError(get("/api/v1/recordings/unknown"), 404, "no recording");
        assertError(get("/api/v1/live/patients"), 404, "live view is off");
        HttpResponse<String> wrongMethod = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/predict"))
                .GET().build(), BodyHandlers.ofString());
        assertError(wrongMethod, 405, "not allowed");
        assertThat(wrongMethod.headers().firstValue("Allow")).as("RFC 9110: a 405 names the methods").hasValue("POST");
        HttpResponse<String> trace = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/recordings/p1"))
                .method("TRACE", BodyPublishers.noBody()).build(), BodyHandlers.ofString());
        assertError(trace, 405, "not allowed");
        assertThat(trace.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }

    /** What schemathesis found against the OpenAPI document, each fixed (ApiFuzzIT runs it in `mvn verify`). */
    @Test
    void fuzzFindingsStayFixed() throws Exception {
        // a small malformed multipart upload is a 400, not a 413 "upload larger than 5242880 bytes"
        String boundary = "3d7940665f60b3556fc80396c5a1625a";
        byte[] malformed = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"\u0018u_C\"\r\n\r\n{\"fZ\": true}"
                + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file.pdf\"\r\n\r\n"
                + "%PDF-1.4\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n\r\n--" + boundary + "--\r\n")
                .getBytes(StandardCharsets.UTF_8);
        assertThat(malformed.length).isLessThan(300);
        assertError(post("/api/v1/analyze", "multipart/form-data; boundary=" + boundary, malformed), 400,
                "multipart");
        byte[] extraPart = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--"
                + boundary + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nid,time,x\np1,0,800\n\r\n--"
                + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        assertError(post("/api/v1/analyze", "multipart/form-data; boundary=" + boundary, extraPart), 400,
                "multipart upload with a part other than one 'file'");
        assertError(post("/api/v1/analyze", "multipart/form-data; boundary=" + boundary,
                "no boundary in here".getBytes(StandardCharsets.UTF_8)), 400, "malformed multipart/form-data body");
        // the part 'file' may be a plain field, as the document describes it
        String csv = "id,time,x\np1,0,812\np1,812,790\n";
        HttpResponse<String> field = post("/api/v1/predict/csv", "multipart/form-data; boundary=" + boundary,
                ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + csv + "\r\n--"
                        + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        assertThat(field.statusCode()).as(field.body()).isEqualTo(200);
        assertThat(field.body()).startsWith("id,time,y,proba,artifact\np1,0,");

        // the event stream without the live view is a 404 like its sibling live endpoints, as documented
        assertError(get("/api/v1/live/events"), 404, "live view is off");
        JsonNode eventsAnswers = JSON.readTree(get("/openapi.json").body())
                .at("/paths/~1api~1v1~1live~1events/get/responses");
        assertThat(eventsAnswers.at("/404/$ref").asText()).isEqualTo("#/components/responses/LiveOff");

        // study length in characters as JSON Schema counts them (code points), not UTF-16 units
        String heart = new String(Character.toChars(0x1FAC0));
        HttpResponse<String> longest = postJson("{\"study\": \"" + heart.repeat(200) + "\", \"sequence\": [800]}");
        assertThat(longest.statusCode()).as(longest.body()).isEqualTo(200);
        assertError(postJson("{\"study\": \"" + heart.repeat(201) + "\", \"sequence\": [800]}"), 422,
                "1 to 200 characters");
        // the document says an empty CSV is no CSV, as the server does
        JsonNode csvSchema = JSON.readTree(get("/openapi.json").body()).at("/components/schemas/RrCsv");
        assertThat(csvSchema.get("minLength").asInt()).isEqualTo(1);
        assertThat(csvSchema.get("pattern").asText()).startsWith("^id,time,x");
    }

    @Test
    void recordingsOfTheDataFile() throws Exception {
        JsonNode list = JSON.readTree(get("/api/v1/recordings").body());
        assertThat(list.get("source").asText()).isEqualTo("data.csv");
        assertThat(list.get("recordings")).hasSize(4);
        String id = list.get("recordings").get(0).get("id").asText();
        JsonNode rec = JSON.readTree(get("/api/v1/recordings/" + id).body());
        int n = rec.get("beats").asInt();
        for (String field : List.of("time", "rr", "proba", "anomaly", "artifact")) {
            assertThat(rec.get(field)).as(field).hasSize(n);
        }
        JsonNode predicted = JSON.readTree(postJson(JSON.writeValueAsString(java.util.Map.of("study", id,
                "sequence", rec.get("rr")))).body());
        assertThat(rec.get("proba")).isEqualTo(predicted.get("anomaly_proba"));
        assertThat(rec.get("episodes")).isEqualTo(predicted.get("episodes"));

        // the list's counts (the page opens on the recording with the most episodes) agree with each recording
        for (JsonNode entry : list.get("recordings")) {
            JsonNode full = JSON.readTree(get("/api/v1/recordings/" + entry.get("id").asText()).body());
            assertThat(entry.get("beats").asInt()).isEqualTo(full.get("beats").asInt());
            assertThat(entry.get("episodes").asInt()).isEqualTo(full.get("episodes").size());
            assertThat(entry.get("anomalies").asInt()).isEqualTo(ones(full.get("anomaly")));
            assertThat(entry.get("artifacts").asInt()).isEqualTo(ones(full.get("artifact")));
        }
        assertThat(list.get("recordings").findValuesAsText("episodes")).as("synthetic data has episodes")
                .anyMatch(e -> Integer.parseInt(e) > 0);
        assertThat(JSON.readTree(get("/api/v1/recordings").body())).as("cached: the same answer again").isEqualTo(list);
    }

    static int ones(JsonNode flags) {
        int n = 0;
        for (JsonNode f : flags) {
            n += f.asInt();
        }
        return n;
    }

    @Test
    void optionsStartFromTheDefaultsAndRefuseAWrongValueWhereItIsSet() {
        ApiServer.Options.Builder builder = ApiServer.Options.builder().dataFile(dataCsv);
        ApiServer.Options defaults = builder.build();
        assertThat(defaults.host()).isEqualTo("127.0.0.1");
        assertThat(defaults.port()).isEqualTo(8080);
        assertThat(defaults.kafka()).isNull();
        assertThat(defaults.authTokenFile()).isNull();
        assertThat(defaults.maxConcurrentRequests()).isEqualTo(256);
        // built again after one more setter (as the demo does for a free port): only that setting differs
        assertThat(builder.port(0).build()).isEqualTo(new ApiServer.Options(defaults.host(), 0, defaults.modelDir(),
                dataCsv, null, defaults.scoresTopic(), defaults.alertsTopic(), defaults.shadowScoresTopic(),
                defaults.monitoringTopic(), defaults.beatsPerPatient(),
                defaults.maxPatients(), null, defaults.maxConcurrentRequests(), defaults.idleTimeout(),
                defaults.bodyMemoryBytes()));
        assertThat(ApiServer.Options.builder().bootstrapServers(" ").build().kafka()).isNull();
        assertThatThrownBy(() -> ApiServer.Options.builder().port(65_536)).hasMessageContaining("port");
        assertThatThrownBy(() -> ApiServer.Options.builder().maxConcurrentRequests(0))
                .hasMessageContaining("maxConcurrentRequests");
        assertThatThrownBy(() -> ApiServer.Options.builder().idleTimeout(java.time.Duration.ZERO))
                .hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> ApiServer.Options.builder().bodyMemoryBytes(ApiServer.MAX_BODY_BYTES - 1))
                .hasMessageContaining("bodyMemoryBytes");
    }

    static void assertError(HttpResponse<String> res, int status, String message) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(status);
        assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode j = JSON.readTree(res.body());
        assertThat(j.get("error").asText()).contains(message);
        assertThat(j.get("status").asInt()).isEqualTo(status);
    }
}
