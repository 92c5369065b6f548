package io.cardiospike.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.ops.Installation;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.wire.StreamJson;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code notify} as a separate process against a real broker (alerts written transactionally, one transaction
 * aborted) and a real HTTP server that answers 500, stalls past the timeout and answers 429 with Retry-After at times,
 * always refuses one patient (400) and is always down for another (503). The process is SIGKILLed while the server
 * handles an alert (before its answer goes out) and restarted: every committed alert arrives, duplicates only with
 * the same key and body, every signature verifies, suppressed and aborted alerts never arrive, per patient the order
 * holds, and the two refused records land in {@code rr-alerts-undelivered}. Then the documented Python receiver
 * (docs/examples/webhook_receiver.py) takes every alert from a fresh group.
 */
class NotifyIT {
    static final String SECRET = "it-webhook-secret-7d41";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** One committed alert the test wrote, in the order written. */
    record Sent(String key, String patient, byte[] body) {}

    /** One request the test's server saw and what it did with it. */
    record Seen(String key, byte[] body, String signature, String answer, long nanos) {}

    @Test
    void everyAlertArrivesSignedAtLeastOnceThroughFailuresAndAKill() throws Exception {
        Path secretFile = dir.resolve("secret");
        Files.writeString(secretFile, SECRET + "\n");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            kafka.createTopics(2, "rr-alerts");
            List<Sent> sent = writeAlerts(kafka.bootstrapServers());
            List<Sent> wanted = sent.stream()
                    .filter(s -> !s.patient.equals("p-refused") && !s.patient.equals("p-down")).toList();

            FlakyServer server = new FlakyServer();
            try {
                List<String> args = List.of("--webhook", server.url(), "--secret-file", secretFile.toString(),
                        "--bootstrap-servers", kafka.bootstrapServers(), "--group", "it", "--from-beginning",
                        "--timeout", "1s", "--give-up", "3s");
                Process first = startNotify(args, "notify-1.log");
                server.killOnAccepted(7, first);
                await(() -> !first.isAlive(), 40, "notify SIGKILLed at the 7th accepted alert", "notify-1.log");
                int acceptedBeforeRestart = server.accepted().size();
                assertThat(acceptedBeforeRestart).isEqualTo(7).isLessThan(wanted.size());

                List<String> second = new ArrayList<>(args);
                second.addAll(List.of("--metrics-port", "0"));
                Process notify = startNotify(second, "notify-2.log");
                await(() -> server.accepted().keySet().containsAll(keys(wanted)), 60, "every alert accepted", "notify-2.log");
                List<JsonNode> undelivered = await(kafka.bootstrapServers(), "rr-alerts-undelivered", 2, 20);

                // what the process says: metrics, then its last status line on SIGTERM; never the secret or a patient
                String metrics = get(metricsUrl(dir.resolve("notify-2.log")));
                assertThat(metrics).containsPattern("cardiospike_notify_delivered_total [1-9]")
                        .containsPattern("cardiospike_notify_retried_total [1-9]");
                notify.destroy();
                assertThat(notify.waitFor(20, TimeUnit.SECONDS)).isTrue();
                String log2 = Files.readString(dir.resolve("notify-2.log"));
                assertThat(log2).containsPattern("notify: delivered [1-9]\\d*, retried \\d+, undelivered \\d, skipped 2");
                for (String log : List.of(Files.readString(dir.resolve("notify-1.log")), log2)) {
                    assertThat(log).doesNotContain(SECRET).doesNotContain("p-0").doesNotContain("Exception").doesNotContain("error:");
                }

                checkDeliveries(server, sent, wanted);
                checkUndelivered(undelivered, sent);
            } finally {
                server.stop();
            }

            pythonReceiverTakesEveryAlert(kafka.bootstrapServers(), secretFile, wanted, sent);
        }
    }

    private void checkDeliveries(FlakyServer server, List<Sent> sent, List<Sent> wanted) throws Exception {
        Map<String, byte[]> bodies = new LinkedHashMap<>();
        sent.forEach(s -> bodies.put(s.key, s.body));
        List<Seen> seen = server.seen();
        assertThat(seen).as("requests").hasSizeGreaterThan(wanted.size());
        for (Seen s : seen) {
            assertThat(bodies).as("only committed, unsuppressed alerts are sent").containsKey(s.key);
            assertThat(new String(s.body, StandardCharsets.UTF_8)).as("the record's value as is, for %s", s.key)
                    .isEqualTo(new String(bodies.get(s.key), StandardCharsets.UTF_8));
            JsonNode v = JSON.readTree(s.body);
            assertThat(s.key).isEqualTo(v.get("alert_id").asText() + ":" + v.get("status").asText());
            assertThat(s.signature).as("signature of %s", s.key).isEqualTo(hmac(s.body));
        }
        // the answers that were served: each failure mode happened, and the killed one came twice
        Map<String, Long> answers = seen.stream().collect(Collectors.groupingBy(Seen::answer, Collectors.counting()));
        assertThat(answers).containsKeys("200", "500", "stall", "429", "429-date", "400", "503", "200-killed");
        String killed = seen.stream().filter(s -> s.answer.equals("200-killed")).findFirst().orElseThrow().key;
        assertThat(seen.stream().filter(s -> s.key.equals(killed) && s.answer.startsWith("200")).count())
                .as("the alert accepted as notify died is sent again").isEqualTo(2);
        // per patient (one partition) the first acceptance of each alert comes in the order written
        for (String patient : wanted.stream().map(Sent::patient).distinct().toList()) {
            List<String> order = wanted.stream().filter(s -> s.patient.equals(patient)).map(Sent::key).toList();
            List<String> accepted = server.accepted().keySet().stream().filter(order::contains).toList();
            assertThat(accepted).as("order of %s", patient).isEqualTo(order);
        }
    }

    private static void checkUndelivered(List<JsonNode> undelivered, List<Sent> sent) {
        assertThat(undelivered).hasSize(2);
        Map<String, JsonNode> byPatient = undelivered.stream()
                .collect(Collectors.toMap(u -> u.path("record").path("patient_id").asText(), u -> u));
        JsonNode refused = byPatient.get("p-refused"), down = byPatient.get("p-down");
        assertThat(refused.path("error").asText()).isEqualTo("HTTP 400");
        assertThat(refused.path("attempts").asInt()).isEqualTo(1);
        assertThat(down.path("error").asText()).isEqualTo("HTTP 503");
        assertThat(down.path("attempts").asInt()).isGreaterThanOrEqualTo(2);
        assertThat(down.path("last_attempt").asText()).isGreaterThan(down.path("first_attempt").asText());
        Sent original = sent.stream().filter(s -> s.patient.equals("p-down")).findFirst().orElseThrow();
        assertThat(down.path("record").toString()).isEqualTo(new String(original.body, StandardCharsets.UTF_8));
    }

    /** The README's receiver, run as documented, behind a fresh group of notify. */
    private void pythonReceiverTakesEveryAlert(String bootstrap, Path secretFile, List<Sent> wanted, List<Sent> sent)
            throws Exception {
        int port = EmbeddedKafka.freePort();
        Path out = dir.resolve("receiver.log");
        Process receiver = new ProcessBuilder("python3", Path.of("docs/examples/webhook_receiver.py").toAbsolutePath()
                .toString(), Integer.toString(port), secretFile.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        Process notify = null;
        try {
            String url = "http://127.0.0.1:" + port + "/alerts";
            await(() -> canConnect(port), 15, "the Python receiver listening", "receiver.log");
            notify = startNotify(List.of("--webhook", url, "--secret-file", secretFile.toString(),
                    "--bootstrap-servers", bootstrap, "--group", "python-receiver", "--from-beginning"), "notify-3.log");
            Set<String> all = sent.stream().map(s -> "alert " + status(s) + " " + s.key.split(":")[0])
                    .collect(Collectors.toSet());
            await(() -> lines(out).containsAll(all), 30, "the receiver printed every alert", "receiver.log");
            assertThat(lines(out)).hasSize(all.size()); // each once

            // a forged body is refused; a redelivery is acknowledged and not acted on again
            Sent one = wanted.get(0);
            assertThat(post(url, one, "sha256=" + "0".repeat(64))).isEqualTo(401);
            assertThat(post(url, one, hmac(one.body))).isEqualTo(204);
            await(() -> lines(out).contains("duplicate " + one.key), 5, "the duplicate noticed", "receiver.log");
        } finally {
            if (notify != null) {
                notify.destroyForcibly().waitFor();
            }
            receiver.destroyForcibly().waitFor();
        }
    }

    /** 24 committed alerts (2 suppressed), 2 more in an aborted transaction; returns the committed ones in order. */
    private static List<Sent> writeAlerts(String bootstrap) throws Exception {
        List<Sent> sent = new ArrayList<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "notify-it-alerts"), new StringSerializer(),
                new ByteArraySerializer())) {
            producer.initTransactions();
            List<String> patients = new ArrayList<>(List.of("p-01", "p-02", "p-03", "p-04", "p-05"));
            for (int episode = 0; episode < 2; episode++) {
                producer.beginTransaction();
                for (String p : patients) {
                    for (String status : List.of(AnomalyAlert.OPEN, AnomalyAlert.CLOSED)) {
                        sent.add(send(producer, p, episode, status, false));
                    }
                }
                if (episode == 0) {
                    sent.add(send(producer, "p-refused", 0, AnomalyAlert.OPEN, false));
                    sent.add(send(producer, "p-down", 0, AnomalyAlert.OPEN, false));
                }
                producer.commitTransaction();
                producer.beginTransaction();
                send(producer, "p-ghost", episode, AnomalyAlert.OPEN, false);
                producer.abortTransaction();
            }
            producer.beginTransaction();
            sent.add(send(producer, "p-hold", 0, AnomalyAlert.OPEN, true));
            sent.add(send(producer, "p-hold", 0, AnomalyAlert.CLOSED, true));
            producer.commitTransaction();
        }
        return sent.stream().filter(s -> !s.patient.equals("p-hold")).toList(); // suppressed: never sent
    }

    private static Sent send(KafkaProducer<String, byte[]> producer, String patient, int episode, String status,
                             boolean suppressed) {
        long start = 1_700_000_000_000L + episode * 60_000L;
        AnomalyAlert a = new AnomalyAlert(status, patient, start, start + (status.equals(AnomalyAlert.OPEN) ? 0 : 4_000),
                status.equals(AnomalyAlert.OPEN) ? 1 : 5, 0.93, 0.91, "cs-it");
        String json = new String(StreamJson.alert(a), StandardCharsets.UTF_8);
        if (suppressed) {
            json = json.substring(0, json.length() - 1) + ",\"suppressed\":true}";
        }
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>("rr-alerts", patient, body));
        return new Sent(a.alertId + ":" + status, patient, body);
    }

    /**
     * The receiver: per request, in turn, 200, 200, then a failure (500, a stall past the timeout, 429 with Retry-After in
     * seconds, 429 with an HTTP date), never two failures in a row, so a flaky alert never reaches --give-up;
     * {@code p-refused} always 400, {@code p-down} always 503.
     */
    final class FlakyServer {
        private final HttpServer http;
        private final List<Seen> seen = new CopyOnWriteArrayList<>();
        private final Map<String, Long> accepted = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
        private final AtomicInteger turn = new AtomicInteger();
        private final AtomicReference<Process> killAt = new AtomicReference<>();
        private volatile int killAfter = Integer.MAX_VALUE;
        private final List<String> failures = List.of("500", "stall", "429", "429-date");

        FlakyServer() throws IOException {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.setExecutor(Executors.newCachedThreadPool()); // a stalled request must not hold the next one
            http.createContext("/", this::handle);
            http.start();
        }

        String url() {
            return "http://127.0.0.1:" + http.getAddress().getPort() + "/hooks/alerts";
        }

        void killOnAccepted(int n, Process p) {
            killAt.set(p);
            killAfter = n;
        }

        Map<String, Long> accepted() {
            synchronized (accepted) {
                return new LinkedHashMap<>(accepted);
            }
        }

        List<Seen> seen() {
            return List.copyOf(seen);
        }

        private synchronized String answerFor(String patient) {
            if (patient.equals("p-refused")) {
                return "400";
            }
            if (patient.equals("p-down")) {
                return "503";
            }
            int t = turn.getAndIncrement();
            return t % 3 != 2 ? "200" : failures.get((t / 3) % failures.size());
        }

        private void handle(HttpExchange x) throws IOException {
            byte[] body = x.getRequestBody().readAllBytes();
            String key = x.getRequestHeaders().getFirst("Idempotency-Key");
            String patient = JSON.readTree(body).path("patient_id").asText();
            String answer = answerFor(patient);
            try {
                switch (answer) {
                    case "200" -> {
                        synchronized (accepted) {
                            accepted.putIfAbsent(key, System.nanoTime());
                            if (accepted.size() == killAfter && killAt.get() != null) {
                                answer = "200-killed"; // handled here, but notify dies before it hears so
                                killAt.getAndSet(null).destroyForcibly().waitFor();
                            }
                        }
                        x.sendResponseHeaders(200, -1);
                    }
                    case "stall" -> {
                        Thread.sleep(1_600); // past notify's --timeout 1s
                        x.sendResponseHeaders(200, -1); // too late: not counted as accepted
                    }
                    case "429" -> {
                        x.getResponseHeaders().set("Retry-After", "1");
                        x.sendResponseHeaders(429, -1);
                    }
                    case "429-date" -> {
                        x.getResponseHeaders().set("Retry-After", DateTimeFormatter.RFC_1123_DATE_TIME.format(
                                ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(1)));
                        x.sendResponseHeaders(429, -1);
                    }
                    default -> x.sendResponseHeaders(Integer.parseInt(answer), -1);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // the client went away (timed out, or killed)
            } finally {
                seen.add(new Seen(key, body, x.getRequestHeaders().getFirst("X-CardioSpike-Signature"), answer,
                        System.nanoTime()));
                x.close();
            }
        }

        void stop() {
            http.stop(0);
        }
    }

    private Process startNotify(List<String> args, String log) throws IOException {
        Installation installation = Installation.current();
        List<String> cmd = new ArrayList<>(List.of(installation.java().toString(), "-Xmx256m", "-cp",
                installation.appClasspath(), "io.cardiospike.cli.Main", "notify"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(log).toFile())).start();
    }

    private final long t0 = System.nanoTime();

    private void await(BooleanSupplier condition, int seconds, String what, String log) throws Exception {
        try {
            awaitQuietly(condition, seconds, what, log);
        } finally {
            System.out.printf("NotifyIT: %s at %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
        }
    }

    private void awaitQuietly(BooleanSupplier condition, int seconds, String what, String log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("%s within %d s; %s:\n%s", what, seconds, log,
                    Files.exists(dir.resolve(log)) ? Files.readString(dir.resolve(log)) : "").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Waits for {@code n} committed records of {@code topic} and returns their values. */
    private static List<JsonNode> await(String bootstrap, String topic, int n, int seconds) throws Exception {
        List<JsonNode> values = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.GROUP_ID_CONFIG, "it-check"), new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (values.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    values.add(JSON.readTree(r.value()));
                }
            }
        }
        return values;
    }

    private static Set<String> keys(List<Sent> sent) {
        return sent.stream().map(Sent::key).collect(Collectors.toSet());
    }

    private static String status(Sent s) {
        return s.key.substring(s.key.indexOf(':') + 1);
    }

    /** The signature computed here, independently of the code under test. */
    private static String hmac(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String metricsUrl(Path log) throws IOException {
        Matcher m = Pattern.compile("metrics: (http://\\S+)").matcher(Files.readString(log));
        assertThat(m.find()).as("metrics address in %s", log).isTrue();
        return m.group(1);
    }

    private static String get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int post(String url, Sent s, String signature) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json").header("Idempotency-Key", s.key)
                .header("X-CardioSpike-Signature", signature)
                .POST(HttpRequest.BodyPublishers.ofByteArray(s.body)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static boolean canConnect(int port) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }
}
