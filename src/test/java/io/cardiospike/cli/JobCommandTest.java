package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.cardiospike.ops.ClusterConfig;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.ScoringJob;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code job ...} against a stand-in for Flink's REST API: what the user reads when there is nothing to act on, and
 * that a refused upgrade changes nothing on the cluster.
 */
class JobCommandTest {
    static final String A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    @TempDir
    Path dir;

    private HttpServer rest;
    private final Map<String, String> answers = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void fakeRest() throws Exception {
        rest = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        rest.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.add(exchange.getRequestMethod() + " " + path);
            String body = exchange.getRequestMethod().equals("GET") ? answers.get(path) : null;
            byte[] bytes = (body == null ? "{\"errors\":[\"Not found: " + path + "\"]}" : body)
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(body == null ? 404 : 200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        rest.start();
        ClusterConfig.create(dir, 1, 1, rest.getAddress().getPort(), 1, 1, 2, 2, 6, "1600m").save();
    }

    @AfterEach
    void stop() {
        rest.stop(0);
    }

    private record Run(int exit, String err) {}

    private Run job(String... args) {
        StringWriter err = new StringWriter();
        List<String> line = new java.util.ArrayList<>(List.of("job"));
        line.addAll(List.of(args));
        line.addAll(List.of("--cluster-dir", dir.toString()));
        return new Run(Main.run(new PrintWriter(err, true), line.toArray(String[]::new)), err.toString());
    }

    private void running(String... ids) {
        StringBuilder jobs = new StringBuilder("{\"jobs\":[");
        for (int i = 0; i < ids.length; i++) {
            jobs.append(i == 0 ? "" : ",").append("{\"jid\":\"").append(ids[i]).append("\",\"name\":\"")
                    .append(ScoringJob.JOB_NAME).append("\",\"state\":\"RUNNING\",\"start-time\":1}");
        }
        answers.put("/jobs/overview", jobs.append("]}").toString());
    }

    @Test
    void withoutARunningScoringJobEachCommandSaysSoInOneLine() {
        running();
        String url = "http://127.0.0.1:" + rest.getAddress().getPort();
        for (String command : List.of("status", "savepoint", "upgrade", "cancel")) {
            Run r = job(command);
            assertThat(r.exit()).as("job %s: %s", command, r.err()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("error: no running scoring job on " + url
                    + " (submit one: bin/cardiospike job submit)" + System.lineSeparator());
        }
    }

    @Test
    void severalRunningScoringJobsAreNamedForTheUserToChoose() {
        running(A, B);
        Run r = job("cancel");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: 2 scoring jobs are running: name one with --job-id [" + A + ", " + B
                + "]" + System.lineSeparator());
        assertThat(requests).noneMatch(q -> q.startsWith("PATCH"));
    }

    @Test
    void anUpgradeOfAJobThatRecordedNoArgumentsIsRefusedAndNothingIsTouched() {
        running(A);
        answers.put("/jobs/" + A + "/config", "{\"execution-config\":{\"user-config\":{\""
                + JobParameters.MODEL_DIR + "\":\"s3://cardiospike/models/x\"}}}");
        Run r = job("upgrade", "--parallelism", "3");
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("error: job " + A + " records no arguments: was it submitted by "
                + "bin/cardiospike?" + System.lineSeparator());
        assertThat(requests).containsExactly("GET /jobs/overview", "GET /jobs/" + A + "/config");
    }
}
