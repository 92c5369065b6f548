package io.cardiospike.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The few calls of Flink's REST API ({@code https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/rest_api/})
 * that submit, inspect, savepoint, stop and cancel the scoring job: what {@code flink run} and the web UI use.
 */
public final class FlinkRest {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public FlinkRest(String baseUrl) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
    }

    /** Where the REST API answers, without a trailing slash. */
    public String baseUrl() {
        return baseUrl;
    }

    /** A job as the overview lists it. */
    public record Job(String id, String name, String state, long startTime) {}

    /** Uploads a job jar; returns its id on the cluster. */
    public String uploadJar(Path jar) throws IOException {
        String boundary = "----cardiospike" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(head),
                        HttpRequest.BodyPublishers.ofFile(jar), HttpRequest.BodyPublishers.ofByteArray(tail)))
                .build();
        String file = call(request, 200).path("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    /** Runs an uploaded jar's main ({@code entryClass}); returns the job id. {@code savepoint} may be null. */
    public String runJar(String jarId, String entryClass, List<String> args, int parallelism, String savepoint)
            throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("entryClass", entryClass);
        body.putPOJO("programArgsList", args);
        body.put("parallelism", parallelism);
        if (savepoint != null) {
            body.put("savepointPath", savepoint);
            body.put("allowNonRestoredState", false);
        }
        return call(post("/jars/" + jarId + "/run", body, Duration.ofMinutes(3)), 200).path("jobid").asText();
    }

    public void deleteJar(String jarId) throws IOException {
        call(HttpRequest.newBuilder(URI.create(baseUrl + "/jars/" + jarId)).DELETE().timeout(Duration.ofSeconds(30))
                .build(), 200);
    }

    public List<Job> jobs() throws IOException {
        List<Job> jobs = new ArrayList<>();
        for (JsonNode j : get("/jobs/overview").path("jobs")) {
            jobs.add(new Job(j.path("jid").asText(), j.path("name").asText(), j.path("state").asText(),
                    j.path("start-time").asLong()));
        }
        return jobs;
    }

    public JsonNode job(String id) throws IOException {
        return get("/jobs/" + id);
    }

    /** The job's global job parameters ({@code execution-config.user-config}). */
    public Map<String, String> jobParameters(String id) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        get("/jobs/" + id + "/config").path("execution-config").path("user-config").fields()
                .forEachRemaining(e -> p.put(e.getKey(), e.getValue().asText()));
        return p;
    }

    public JsonNode checkpoints(String id) throws IOException {
        return get("/jobs/" + id + "/checkpoints");
    }

    /** Stop-with-savepoint (no drain: event time does not jump to the end); returns the savepoint's location. */
    public String stopWithSavepoint(String id, Duration timeout) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("drain", false);
        String trigger = call(post("/jobs/" + id + "/stop", body, Duration.ofSeconds(30)), 202).path("request-id").asText();
        return awaitSavepoint(id, trigger, timeout);
    }

    /** A savepoint of the running job (it keeps running); returns the savepoint's location. */
    public String savepoint(String id, Duration timeout) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("cancel-job", false);
        String trigger = call(post("/jobs/" + id + "/savepoints", body, Duration.ofSeconds(30)), 202)
                .path("request-id").asText();
        return awaitSavepoint(id, trigger, timeout);
    }

    public void cancel(String id) throws IOException {
        call(HttpRequest.newBuilder(URI.create(baseUrl + "/jobs/" + id + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30)).build(), 202);
    }

    private String awaitSavepoint(String id, String trigger, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode r = get("/jobs/" + id + "/savepoints/" + trigger);
            if (r.path("status").path("id").asText().equals("COMPLETED")) {
                JsonNode op = r.path("operation");
                if (op.has("failure-cause")) {
                    throw new IOException("savepoint failed: " + rootCause(op.path("failure-cause")));
                }
                return op.path("location").asText();
            }
            Thread.sleep(200);
        }
        throw new IOException("savepoint not complete within " + timeout.toSeconds() + " s");
    }

    private static String rootCause(JsonNode cause) {
        String trace = cause.path("stack-trace").asText(cause.toString());
        String last = trace;
        for (String line : trace.split("\n")) {
            if (line.startsWith("Caused by: ")) {
                last = line.substring("Caused by: ".length());
            }
        }
        return last.lines().findFirst().orElse(last);
    }

    /** The TaskManagers (resource ids) that run some task of the job now. */
    public java.util.Set<String> taskManagersOf(String jobId) throws IOException {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        for (JsonNode v : job(jobId).path("vertices")) {
            for (JsonNode tm : get("/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/taskmanagers")
                    .path("taskmanagers")) {
                ids.add(tm.path("taskmanager-id").asText());
            }
        }
        return ids;
    }

    public JsonNode get(String path) throws IOException {
        return call(HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(10)).build(), 200);
    }

    private HttpRequest post(String path, JsonNode body, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path)).header("Content-Type", "application/json")
                .timeout(timeout).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    }

    private JsonNode call(HttpRequest request, int expected) throws IOException {
        HttpResponse<String> r;
        try {
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new IOException("Flink's REST API at " + baseUrl + " does not answer (is the cluster running? "
                    + "bin/cardiospike cluster status)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (r.statusCode() != expected) {
            throw new IOException(request.method() + " " + request.uri().getPath() + ": HTTP " + r.statusCode() + ": "
                    + errors(r.body()));
        }
        return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }

    /** Flink answers errors as {@code {"errors": [...]}}, the first often a whole stack trace: its last cause. */
    private static String errors(String body) {
        try {
            JsonNode errors = JSON.readTree(body).path("errors");
            List<String> out = new ArrayList<>();
            for (JsonNode e : errors) {
                String text = e.asText();
                String cause = text.lines().findFirst().orElse(text);
                for (String line : text.split("\n")) {
                    if (line.startsWith("Caused by: ")) {
                        cause = line.substring("Caused by: ".length());
                    }
                }
                out.add(cause);
            }
            return out.isEmpty() ? body : String.join("; ", out);
        } catch (IOException e) {
            return body;
        }
    }
}
