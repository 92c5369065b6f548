package io.cardiospike.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.local.EmbeddedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard end to end in headless Chromium: a recording of the data file, an uploaded CSV, and a live patient
 * whose beats are produced to a real (embedded) Kafka broker while the page watches. Chromium and ChromeDriver are
 * Debian's; their absence fails the test (CI installs them), and Selenium Manager never downloads anything.
 */
class DashboardBrowserTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path SCREENSHOTS = Path.of("target/screenshots");

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static ApiServer server;
    static ChromeDriver driver;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        assertThat(CHROMEDRIVER).as("apt-get install chromium chromium-driver").isExecutable();
        assertThat(CHROMIUM).as("apt-get install chromium chromium-driver").isExecutable();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        kafka.createTopics(2, "rr-scores", "rr-alerts");
        Path data = TestData.writeCsv(dir.resolve("ward.csv"), 3, 5);
        server = ApiServer.start(ApiServer.Options.builder().port(0).dataFile(data)
                .bootstrapServers(kafka.bootstrapServers()).build());
        base = "http://127.0.0.1:" + server.port();

        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1400,1000", "--user-data-dir=" + Files.createTempDirectory(dir, "chrome"),
                // no name resolves: the page must get everything from the server at 127.0.0.1
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1");
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.stop();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    WebDriverWait waitUpTo(int seconds) {
        WebDriverWait w = new WebDriverWait(driver, Duration.ofSeconds(seconds));
        w.pollingEvery(Duration.ofMillis(100));
        return w;
    }

    void openDashboard() {
        driver.get(base + "/");
        waitUpTo(30).until(d -> Boolean.TRUE.equals(js("return !!(window.dashboard && window.dashboard.ready)")));
        assertThat(js("return typeof Plotly")).isEqualTo("object");
    }

    /** Marker counts as Plotly holds them and as drawn in the SVG. */
    @SuppressWarnings("unchecked")
    Map<String, Long> chartCounts() {
        return (Map<String, Long>) js("""
                const gd = document.getElementById('chart');
                const trace = (name) => gd.data.find(t => t.name === name);
                const points = (name) => gd.querySelectorAll('.scatterlayer .trace')
                    [gd.data.indexOf(trace(name))].querySelectorAll('path.point').length;
                return { rr: trace('RR').x.length, anomaly: trace('anomaly').x.length,
                         anomalySvg: points('anomaly'), artifact: trace('artifact').x.length,
                         artifactSvg: points('artifact'), episodes: Number(document.getElementById('episode-count').textContent),
                         episodeRows: document.querySelectorAll('#episodes tbody tr').length };
                """);
    }

    void screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(png, SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    static JsonNode getJson(String path) throws Exception {
        return JSON.readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                BodyHandlers.ofString()).body());
    }

    static int ones(JsonNode flags) {
        int n = 0;
        for (JsonNode f : flags) {
            n += f.asInt();
        }
        return n;
    }

    @Test
    void recordingChartMarksAnomaliesArtifactsAndEpisodes() throws Exception {
        // the recording with the most anomalous beats, as the API reports them
        JsonNode best = null;
        for (JsonNode r : getJson("/api/v1/recordings").get("recordings")) {
            JsonNode rec = getJson("/api/v1/recordings/" + r.get("id").asText());
            if (best == null || ones(rec.get("anomaly")) > ones(best.get("anomaly"))) {
                best = rec;
            }
        }
        assertThat(ones(best.get("anomaly"))).as("synthetic data should contain anomalies").isPositive();

        openDashboard();
        assertThat(driver.findElement(By.id("model-version")).getText())
                .isEqualTo(best.get("model_version").asText());
        // it opens on the first recording, not on an empty chart
        String first = getJson("/api/v1/recordings").get("recordings").get(0).get("id").asText();
        assertThat(js("return window.dashboard.rendered && window.dashboard.rendered.key")).isEqualTo("data:" + first);
        assertThat(driver.findElement(By.id("recording-title")).getText()).isEqualTo(first);
        String key = "data:" + best.get("id").asText();
        new Select(driver.findElement(By.id("recording-select"))).selectByValue(key);
        waitUpTo(30).until(d -> key.equals(js("return window.dashboard.rendered && window.dashboard.rendered.key")));

        Map<String, Long> c = chartCounts();
        assertThat(c.get("rr")).isEqualTo(best.get("beats").asLong());
        assertThat(c.get("anomaly")).isEqualTo(ones(best.get("anomaly")));
        assertThat(c.get("anomalySvg")).isEqualTo(ones(best.get("anomaly")));
        assertThat(c.get("artifact")).isEqualTo(ones(best.get("artifact")));
        assertThat(c.get("artifactSvg")).isEqualTo(ones(best.get("artifact")));
        assertThat(c.get("episodes")).isEqualTo(best.get("episodes").size()).isPositive();
        assertThat(c.get("episodeRows")).isEqualTo(best.get("episodes").size());
        // marker size grows with the probability
        assertThat((Boolean) js("""
                const t = document.getElementById('chart').data.find(t => t.name === 'anomaly');
                return t.marker.size.every(s => s >= 7 && s <= 21) && new Set(t.marker.size).size > 1;""")).isTrue();
        screenshot("dashboard.png");
    }

    @Test
    void docsPageRendersTheOpenApiOffline() {
        driver.get(base + "/docs");
        waitUpTo(30).until(d -> d.findElements(By.cssSelector(".opblock")).size() >= 10);
        assertThat(driver.findElement(By.tagName("body")).getText()).contains("/api/v1/predict", "/api/v1/predict/csv",
                "/api/v1/model", "/health");
    }

    @Test
    void uploadedCsvIsScoredAndCharted() throws Exception {
        Path csv = TestData.writeCsv(dir.resolve("upload.csv"), 2, 23);
        openDashboard();
        driver.findElement(By.id("csv-upload")).sendKeys(csv.toAbsolutePath().toString());
        waitUpTo(30).until(d -> {
            Object k = js("return window.dashboard.rendered && window.dashboard.rendered.key");
            return k != null && k.toString().startsWith("upload:upload.csv:");
        });
        List<WebElement> uploaded = driver.findElements(By.cssSelector("#upload-group option"));
        assertThat(uploaded).hasSize(2);
        String id = js("return window.dashboard.rendered.key").toString().substring("upload:upload.csv:".length());
        Map<String, Long> c = chartCounts();
        assertThat(c.get("rr")).isPositive();
        assertThat(driver.findElement(By.id("recording-title")).getText()).isEqualTo(id);
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();

        // a broken CSV: the reader's message, naming the line, is shown on the page
        Path bad = Files.writeString(dir.resolve("broken.csv"), "id,time,x\np1,0,800\np1,800,eight hundred\n");
        driver.findElement(By.id("csv-upload")).sendKeys(bad.toAbsolutePath().toString());
        waitUpTo(30).until(d -> d.findElement(By.id("error")).isDisplayed());
        assertThat(driver.findElement(By.id("error")).getText())
                .contains("broken.csv:3: field 'x' is not a number: 'eight hundred'");
    }

    @Test
    void livePatientFollowsBeatsAndAlertsFromKafka() throws Exception {
        String patient = "icu-7";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(), "transactional.id", "dashboard-test"),
                new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            Random rnd = new Random(3);
            long t0 = 1_767_000_000_000L;
            int[] anomalies = {0};
            // the job writes transactionally; the page reads committed records only
            producer.beginTransaction();
            produceBeats(producer, patient, t0, 0, 300, rnd, anomalies);
            produceBeats(producer, "icu-8", t0, 0, 50, rnd, new int[1]);
            producer.send(new ProducerRecord<>("rr-alerts", patient, alert(patient, t0 + 100 * 800L,
                    t0 + 104 * 800L)));
            producer.commitTransaction();

            openDashboard();
            waitUpTo(30).until(d -> !d.findElements(By.cssSelector("#live-patients li[data-patient='icu-7']"))
                    .isEmpty());
            WebElement item = driver.findElement(By.cssSelector("#live-patients li[data-patient='icu-7']"));
            waitUpTo(10).until(d -> d.findElement(By.cssSelector("#live-patients li[data-patient='icu-7']"))
                    .getText().contains("latest alert"));
            item = driver.findElement(By.cssSelector("#live-patients li[data-patient='icu-7']"));
            item.click();
            waitUpTo(30).until(d -> ("live:" + patient).equals(
                    js("return window.dashboard.rendered && window.dashboard.rendered.key")));
            waitUpTo(10).until(d -> chartCounts().get("rr") == 300);
            assertThat(chartCounts().get("anomaly")).isEqualTo(anomalies[0]);
            assertThat(chartCounts().get("episodes")).isEqualTo(1);

            // new beats arrive while the page watches, and the alert closes (same alert_id: one episode still)
            producer.beginTransaction();
            produceBeats(producer, patient, t0, 300, 120, rnd, anomalies);
            producer.send(new ProducerRecord<>("rr-alerts", patient, alert(patient, t0 + 100 * 800L,
                    t0 + 106 * 800L)));
            producer.commitTransaction();
            waitUpTo(30).until(d -> chartCounts().get("rr") == 420);
            assertThat(chartCounts().get("anomaly")).isEqualTo(anomalies[0]);
            assertThat(chartCounts().get("anomalySvg")).isEqualTo(anomalies[0]);
            waitUpTo(10).until(d -> Boolean.TRUE.equals(js("return window.dashboard.live.alerts.length === 1 "
                    + "&& window.dashboard.live.alerts[0].end_ts === arguments[0]", t0 + 106 * 800L)));
            assertThat(chartCounts().get("episodes")).as("the closed alert replaced the open one").isEqualTo(1);
            screenshot("dashboard-live.png");
        }
        JsonNode buffered = getJson("/api/v1/live/patients/" + patient);
        assertThat(buffered.get("beats").asInt()).isEqualTo(420);
        assertThat(buffered.get("alerts").asInt()).isEqualTo(1);
    }

    @Test
    void withATokenFileThePageAsksForTheTokenAndThenShowsEverything() throws Exception {
        String token = "dashboard-token-0123456789";
        Path tokens = Files.writeString(dir.resolve("tokens"), token + "\n");
        try (ApiServer secured = ApiServer.start(ApiServer.Options.builder().port(0).authTokenFile(tokens)
                .dataFile(TestData.writeCsv(dir.resolve("secured.csv"), 2, 9))
                .bootstrapServers(kafka.bootstrapServers()).build())) {
            driver.get("http://127.0.0.1:" + secured.port() + "/"); // another origin: a session storage of its own
            waitUpTo(30).until(d -> Boolean.FALSE.equals(js("return document.getElementById('token-panel').hidden")));
            assertThat(js("return document.querySelectorAll('#data-group option').length")).isEqualTo(0L);

            driver.findElement(By.id("token-input")).sendKeys("not-the-token-0123456789");
            driver.findElement(By.cssSelector("#token-form button")).click();
            waitUpTo(30).until(d -> Boolean.FALSE.equals(js("return document.getElementById('token-panel').hidden"))
                    && driver.findElement(By.id("token-message")).getText().contains("not accepted"));

            driver.findElement(By.id("token-input")).sendKeys(token);
            driver.findElement(By.cssSelector("#token-form button")).click();
            waitUpTo(30).until(d -> Boolean.TRUE.equals(js("return !!window.dashboard.ready")));
            assertThat(js("return document.querySelectorAll('#data-group option').length")).isEqualTo(2L);
            waitUpTo(30).until(d -> js("return window.dashboard.rendered && window.dashboard.rendered.key")
                    .toString().startsWith("data:"));
            // the live stream carries the token too (fetch, not EventSource, which cannot send one)
            waitUpTo(30).until(d -> "live".equals(driver.findElement(By.id("live-state")).getText()));
            assertThat(driver.findElement(By.id("token-panel")).isDisplayed()).isFalse();
        }
    }

    @Test
    void liveBuffersAreBoundedAndEventsStartWithASnapshot() throws Exception {
        kafka.createTopics(1, "bounded-scores", "bounded-alerts");
        try (ApiServer small = ApiServer.start(ApiServer.Options.builder().port(0)
                .bootstrapServers(kafka.bootstrapServers()).topics("bounded-scores", "bounded-alerts").buffers(100, 2)
                .build());
             KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                     "bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            String url = "http://127.0.0.1:" + small.port();
            Random rnd = new Random(1);
            long t0 = 1_000L;
            for (String[] step : new String[][] {{"a", "150"}, {"b", "10"}, {"c", "10"}, {"c", "150"}}) {
                int from = step[0].equals("c") && step[1].equals("150") ? 10 : 0;
                for (int i = from; i < from + Integer.parseInt(step[1]); i++) {
                    producer.send(new ProducerRecord<>("bounded-scores", step[0], JSON.writeValueAsString(Map.of(
                            "patient_id", step[0], "ts", t0 + i * 800L, "rr_ms", 800 + rnd.nextInt(50),
                            "proba", 0.1, "anomaly", 0, "artifact", 0, "model_version", "m"))));
                }
                producer.flush();
            }
            producer.send(new ProducerRecord<>("bounded-scores", "x", "not json")).get();
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.currentTimeMillis() + 30_000;
            JsonNode live;
            do {
                Thread.sleep(100);
                live = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/live")).build(),
                        BodyHandlers.ofString()).body());
            } while (live.get("records").asInt() < 321 && System.currentTimeMillis() < deadline);
            assertThat(live.get("records").asInt()).isEqualTo(321);
            assertThat(live.get("skipped").asInt()).isEqualTo(1);

            JsonNode patients = JSON.readTree(http.send(HttpRequest.newBuilder(
                    URI.create(url + "/api/v1/live/patients")).build(), BodyHandlers.ofString()).body());
            List<String> ids = new java.util.ArrayList<>();
            patients.get("patients").forEach(p -> ids.add(p.get("patient_id").asText()));
            assertThat(ids).containsExactly("c", "b"); // at most 2 patients; "a" was updated least recently
            JsonNode c = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/live/patients/c"))
                    .build(), BodyHandlers.ofString()).body());
            assertThat(c.get("beats").asInt()).isEqualTo(160);
            assertThat(c.get("ts")).hasSize(100);
            assertThat(c.get("ts").get(99).asLong()).isEqualTo(t0 + 159 * 800L);

            // the event stream of one patient opens with the patient list and that patient's buffer; it is
            // text/event-stream whatever the client's Accept (here none)
            HttpResponse<java.util.stream.Stream<String>> sse = http.send(HttpRequest.newBuilder(
                    URI.create(url + "/api/v1/live/events?patient=c")).build(), BodyHandlers.ofLines());
            assertThat(sse.statusCode()).isEqualTo(200);
            assertThat(sse.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
            List<String> lines = sse.body().filter(l -> l.startsWith("event:") || l.startsWith("data:")).limit(4)
                    .toList();
            assertThat(lines.get(0)).isEqualTo("event: patients");
            assertThat(lines.get(2)).isEqualTo("event: snapshot");
            assertThat(JSON.readTree(lines.get(3).substring("data:".length())).get("ts")).hasSize(100);
        }
    }

    static void produceBeats(KafkaProducer<String, String> producer, String patient, long t0, int from, int count,
                             Random rnd, int[] anomalies) throws Exception {
        for (int i = from; i < from + count; i++) {
            boolean anomaly = i % 37 > 32;
            boolean artifact = i % 97 == 5;
            double rr = artifact ? 180 : anomaly ? 520 + rnd.nextInt(80) : 780 + rnd.nextInt(60);
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("patient_id", patient);
            v.put("ts", t0 + i * 800L);
            v.put("rr_ms", rr);
            v.put("proba", anomaly ? 0.7 + 0.3 * rnd.nextDouble() : 0.1 * rnd.nextDouble());
            v.put("anomaly", anomaly);
            v.put("artifact", artifact);
            v.put("model_version", "test-model");
            anomalies[0] += anomaly ? 1 : 0;
            producer.send(new ProducerRecord<>("rr-scores", patient, JSON.writeValueAsString(v)));
        }
    }

    static String alert(String patient, long start, long end) throws Exception {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("alert_id", patient + "-" + start);
        a.put("patient_id", patient);
        a.put("start_ts", start);
        a.put("end_ts", end);
        a.put("beats", 5);
        a.put("max_proba", 0.93);
        a.put("mean_proba", 0.81);
        a.put("model_version", "test-model");
        return JSON.writeValueAsString(a);
    }
}
