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
 * that submit, inspect, savepoint, stop and cancel the scoring job: what {@code flink run} and the web UI use. Each
 * call goes to where the API answers now ({@link Address}); reads try again through a JobManager failover, the other
 * calls are made once (their callers know whether repeating one is safe).
 */
public final class FlinkRest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** How long a read keeps trying while no JobManager answers it (a failover takes about 10 s here). */
    public static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(60);

    /** Where the REST API answers now: a fixed address, or the leading JobManager's, looked up for every call. */
    @FunctionalInterface
    public interface Address {
        String url() throws IOException;
    }

    /** A call the REST API did not answer with success; {@code status} 0 when no JobManager answered at all. */
    public static final class Failure extends IOException {
        private final int status;

        Failure(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }

        /** No JobManager could handle it now (unreachable, or a server error while the leader changes). */
        public boolean failover() {
            return status == 0 || status >= 500;
        }

        /** The message says it all (the command line prints an exception as its text). */
        @Override
        public String toString() {
            return getMessage();
        }
    }

    private final Address address;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public FlinkRest(String baseUrl) {
        String fixed = baseUrl.replaceAll("/+$", "");
        this.address = () -> fixed;
    }

    public FlinkRest(Address address) {
        this.address = address;
    }

    /** Where the REST API answers now, without a trailing slash. */
    public String baseUrl() throws IOException {
        return address.url().replaceAll("/+$", "");
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
        String base = baseUrl();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(head),
                        HttpRequest.BodyPublishers.ofFile(jar), HttpRequest.BodyPublishers.ofByteArray(tail)))
                .build();
        String file = call(base, request, 200).path("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    /** The ids of the jars uploaded to the JobManager that answers (each keeps its own). */
    public java.util.Set<String> jars() throws IOException {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        get("/jars").path("files").forEach(f -> ids.add(f.path("id").asText()));
        return ids;
    }

    /**
     * Runs an uploaded jar's main ({@code entryClass}) as job {@code jobId} (32 hex digits: the same id again is
     * refused, never a second job). {@code savepoint} may be null; {@code dropState}: state in it whose operator the
     * new job lacks may go (an upgrade that drops an operator on purpose), else such state refuses the restore.
     */
    public void runJar(String jarId, String entryClass, List<String> args, int parallelism, String savepoint,
                       boolean dropState, String jobId) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("entryClass", entryClass);
        body.putPOJO("programArgsList", args);
        body.put("parallelism", parallelism);
        body.put("jobId", jobId);
        if (savepoint != null) {
            body.put("savepointPath", savepoint);
            body.put("allowNonRestoredState", dropState);
        }
        post("/jars/" + jarId + "/run", body, Duration.ofMinutes(3), 200);
    }

    public void deleteJar(String jarId) throws IOException {
        String base = baseUrl();
        call(base, HttpRequest.newBuilder(URI.create(base + "/jars/" + jarId)).DELETE()
                .timeout(Duration.ofSeconds(30)).build(), 200);
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

    /**
     * Stop-with-savepoint (no drain: event time does not jump to the end) into {@code directory}; returns the
     * savepoint's location.
     */
    public String stopWithSavepoint(String id, String directory, Duration timeout)
            throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("drain", false).put("targetDirectory", directory);
        String trigger = post("/jobs/" + id + "/stop", body, Duration.ofSeconds(30), 202).path("request-id").asText();
        return awaitSavepoint(id, trigger, timeout);
    }

    /** A savepoint of the running job (it keeps running); returns the savepoint's location. */
    public String savepoint(String id, Duration timeout) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("cancel-job", false);
        String trigger = post("/jobs/" + id + "/savepoints", body, Duration.ofSeconds(30), 202)
                .path("request-id").asText();
        return awaitSavepoint(id, trigger, timeout);
    }

    public void cancel(String id) throws IOException {
        String base = baseUrl();
        call(base, HttpRequest.newBuilder(URI.create(base + "/jobs/" + id + "?mode=cancel"))
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

    /** A read: tried again while no JobManager can answer it, up to {@link #FAILOVER_TIMEOUT}. */
    public JsonNode get(String path) throws IOException {
        long deadline = System.nanoTime() + FAILOVER_TIMEOUT.toNanos();
        while (true) {
            try {
                String base = baseUrl();
                return call(base, HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                        .build(), 200);
            } catch (Failure e) {
                if (!e.failover() || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    private JsonNode post(String path, JsonNode body, Duration timeout, int expected) throws IOException {
        String base = baseUrl();
        return call(base, HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .timeout(timeout).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), expected);
    }

    private JsonNode call(String base, HttpRequest request, int expected) throws IOException {
        HttpResponse<String> r;
        try {
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (IOException e) { // refused, reset or timed out: the JobManager is gone or not serving
            throw new Failure(0, "Flink's REST API at " + base + " does not answer (" + e.getClass().getSimpleName()
                    + "; is the cluster running? bin/cardiospike cluster status)");
        }
        if (r.statusCode() != expected) {
            throw new Failure(r.statusCode(), request.method() + " " + request.uri().getPath() + ": HTTP "
                    + r.statusCode() + ": " + errors(r.body()));
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
