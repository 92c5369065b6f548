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
    static ApiServer server; // live view, no data file: what `bin/cardiospike demo` starts
    static ApiServer recorded; // a data file, no live view: `serve --data FILE`
    static ChromeDriver driver;
    static String base;
    static String recordedBase;
    /** The data file's ids, in the file's order: natural order would be bed-1, bed-2, bed-9, bed-10. */
    static final List<String> FILE_IDS = List.of("bed-10", "bed-9", "bed-1", "bed-2");

    @BeforeAll
    static void start() throws Exception {
        assertThat(CHROMEDRIVER).as("apt-get install chromium chromium-driver").isExecutable();
        assertThat(CHROMIUM).as("apt-get install chromium chromium-driver").isExecutable();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        kafka.createTopics(2, "rr-scores", "rr-alerts");
        server = ApiServer.start(ApiServer.Options.builder().port(0).bootstrapServers(kafka.bootstrapServers())
                .build());
        base = "http://127.0.0.1:" + server.port();
        recorded = ApiServer.start(ApiServer.Options.builder().port(0).dataFile(wardCsv()).build());
        recordedBase = "http://127.0.0.1:" + recorded.port();

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
        if (recorded != null) {
            recorded.stop();
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

    /** Synthetic recordings under ids whose file order, text order and natural order all differ. */
    static Path wardCsv() throws Exception {
        Path synthetic = TestData.writeCsv(dir.resolve("synthetic.csv"), FILE_IDS.size(), 5);
        StringBuilder csv = new StringBuilder();
        for (String line : Files.readAllLines(synthetic)) {
            int comma = line.indexOf(',');
            String id = line.substring(0, comma);
            csv.append(id.startsWith("synth-") ? FILE_IDS.get(Integer.parseInt(id.substring(6)) - 1) : id)
                    .append(line.substring(comma)).append('\n');
        }
        return Files.writeString(dir.resolve("ward.csv"), csv);
    }

    void openDashboard() {
        openDashboard(base + "/");
    }

    /** A fresh page load, as in a new tab (a URL differing only in its #fragment would not reload). */
    void openDashboard(String url) {
        driver.get("about:blank");
        driver.get(url);
        waitUntilReady();
    }

    void waitUntilReady() {
        waitUpTo(30).until(d -> Boolean.TRUE.equals(js("return !!(window.dashboard && window.dashboard.ready)")));
        assertThat(js("return typeof Plotly")).isEqualTo("object");
    }

    Object renderedKey() {
        return js("return window.dashboard.rendered && window.dashboard.rendered.key");
    }

    void waitForRendered(String key) {
        waitUpTo(30).until(d -> key.equals(renderedKey()));
    }

    String hash() {
        return (String) js("return location.hash");
    }

    @SuppressWarnings("unchecked")
    List<String> texts(String cssSelector) {
        return (List<String>) js("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
                cssSelector);
    }

    @SuppressWarnings("unchecked")
    List<String> values(String cssSelector) {
        return (List<String>) js("return [...document.querySelectorAll(arguments[0])].map(e => e.value)", cssSelector);
    }

    void type(String id, String text) {
        WebElement input = driver.findElement(By.id(id));
        input.clear();
        if (!text.isEmpty()) {
            input.sendKeys(text);
        }
        // clear() fires no input event; the page filters on input
        js("arguments[0].dispatchEvent(new Event('input'))", input);
    }

    /** Every request takes this long (ChromeDriver's network emulation), so that a loading state can be seen. */
    void slowNetwork(int latencyMillis) {
        org.openqa.selenium.chromium.ChromiumNetworkConditions slow =
                new org.openqa.selenium.chromium.ChromiumNetworkConditions();
        slow.setLatency(Duration.ofMillis(latencyMillis));
        driver.setNetworkConditions(slow);
    }

    void normalNetwork() {
        driver.deleteNetworkConditions();
    }

    @SuppressWarnings("unchecked")
    List<String> loading() {
        return (List<String>) js("return window.dashboard.loading");
    }

    boolean loadingBadgeShown() {
        return driver.findElement(By.id("loading")).isDisplayed();
    }

    /** 24-hour HH:MM:SS: the page's one time format (no "PM", no seconds as numbers). */
    static final String TIME = "\\d\\d:\\d\\d:\\d\\d";

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

    static JsonNode getJson(String path) {
        return getJson(base, path);
    }

    static JsonNode getJson(String server, String path) {
        try {
            return JSON.readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server + path))
                    .build(), BodyHandlers.ofString()).body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static int ones(JsonNode flags) {
        int n = 0;
        for (JsonNode f : flags) {
            n += f.asInt();
        }
        return n;
    }

    static String plural(long count, String word) {
        return count + " " + word + (count == 1 ? "" : "s");
    }

    /** What the page shows for a time since the start of a recording. */
    static String elapsed(long ms) {
        long s = ms / 1000;
        return String.format("%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    @Test
    void recordingChartMarksAnomaliesArtifactsAndEpisodes() throws Exception {
        // every recording as the API scores it: the most anomalous beats, the most episodes
        JsonNode best = null;
        Map<String, Integer> episodes = new LinkedHashMap<>();
        Map<String, String> labels = new LinkedHashMap<>();
        for (JsonNode r : getJson(recordedBase, "/api/v1/recordings").get("recordings")) {
            JsonNode rec = getJson(recordedBase, "/api/v1/recordings/" + r.get("id").asText());
            episodes.put(rec.get("id").asText(), rec.get("episodes").size());
            labels.put("data:" + rec.get("id").asText(), rec.get("id").asText() + " · "
                    + plural(rec.get("episodes").size(), "episode") + " · " + plural(rec.get("beats").asInt(), "beat"));
            if (best == null || ones(rec.get("anomaly")) > ones(best.get("anomaly"))) {
                best = rec;
            }
        }
        assertThat(episodes.keySet()).as("the file's order").containsExactlyElementsOf(FILE_IDS);
        assertThat(ones(best.get("anomaly"))).as("synthetic data should contain anomalies").isPositive();
        int mostEpisodes = episodes.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertThat(episodes.values()).as("which recording to open first is a choice").anyMatch(n -> n < mostEpisodes);

        openDashboard(recordedBase + "/");
        assertThat(driver.findElement(By.id("model-version")).getText())
                .isEqualTo(best.get("model_version").asText());
        // it opens on the recording with the most episodes, and the URL names it
        String first = renderedKey().toString();
        assertThat(first).startsWith("data:");
        assertThat(episodes.get(first.substring(5))).isEqualTo(mostEpisodes);
        assertThat(hash()).isEqualTo("#recording=" + first.substring(5));
        assertThat(driver.findElement(By.id("live-panel")).isDisplayed()).as("no live view on this server").isFalse();
        assertThat(driver.findElement(By.id("data-source")).getText()).isEqualTo("4 recordings from ward.csv");

        // the list is in natural id order (not the file's, not plain text order), labelled with plurals
        assertThat(values("#data-group option")).containsExactly("data:bed-1", "data:bed-2", "data:bed-9",
                "data:bed-10");
        for (WebElement o : driver.findElements(By.cssSelector("#data-group option"))) {
            assertThat(o.getText()).isEqualTo(labels.get(o.getAttribute("value")));
        }
        // ... and searchable by id
        type("recording-search", "10");
        assertThat(values("#data-group option")).containsExactly("data:bed-10");
        type("recording-search", "BED-1");
        assertThat(values("#data-group option")).containsExactly("data:bed-1", "data:bed-10");
        type("recording-search", "");
        assertThat(values("#data-group option")).hasSize(4);

        String id = best.get("id").asText();
        String key = "data:" + id;
        new Select(driver.findElement(By.id("recording-select"))).selectByValue(key);
        waitForRendered(key);
        assertThat(hash()).isEqualTo("#recording=" + id);

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
        assertThat(driver.findElement(By.id("summary")).getText()).isEqualTo(String.join(" · ",
                plural(best.get("beats").asInt(), "beat"), ones(best.get("anomaly")) + " anomalous",
                plural(ones(best.get("artifact")), "artifact"), plural(best.get("episodes").size(), "episode")));

        // one time format: HH:MM:SS since the start, in the table and on the axis
        JsonNode firstEpisode = best.get("episodes").get(0);
        List<String> starts = texts("#episodes tbody td:nth-child(2)");
        assertThat(starts.get(0)).isEqualTo(elapsed(best.get("time").get(firstEpisode.get("start").asInt()).asLong()));
        assertThat(starts).allMatch(t -> t.matches(TIME));
        assertThat(texts("#episodes tbody td:nth-child(3)")).allMatch(t -> t.matches(TIME));
        List<String> ticks = texts("#chart .xtick text");
        assertThat(ticks).isNotEmpty().allMatch(t -> t.matches(TIME));
        assertThat(new java.util.HashSet<>(ticks)).as("the axis spans the recording: " + ticks).hasSizeGreaterThan(2);
        assertThat(driver.findElement(By.tagName("body")).getText()).doesNotContainPattern("\\b[AP]M\\b");
        screenshot("dashboard.png");

        // why: an episode, clicked, explains its first beat as the API does; so does a flagged beat of the chart
        assertThat(driver.findElement(By.id("explanation")).isDisplayed()).isFalse();
        driver.findElements(By.cssSelector("#episodes tbody tr")).get(0).click();
        assertExplains(best, firstEpisode.get("start").asInt());
        int lastFlagged = best.get("explanations").get(best.get("explanations").size() - 1).get("beat").asInt();
        js("return Plotly.relayout('chart', {'xaxis.autorange': true})");
        WebElement marker = driver.findElements(By.cssSelector("#chart .scatterlayer .trace")).get(1)
                .findElements(By.cssSelector("path.point")).get(ones(best.get("anomaly")) - 1);
        new org.openqa.selenium.interactions.Actions(driver).moveToElement(marker).click().perform();
        assertExplains(best, lastFlagged);
        screenshot("dashboard-explanation.png");

        // the URL goes back to the recording: reloaded, opened afresh (a new tab), changed by hand or by Back
        driver.navigate().refresh();
        waitUntilReady();
        waitForRendered(key);
        openDashboard(recordedBase + "/#recording=bed-9");
        waitForRendered("data:bed-9");
        assertThat(new Select(driver.findElement(By.id("recording-select"))).getFirstSelectedOption()
                .getAttribute("value")).isEqualTo("data:bed-9");
        js("location.hash = '#recording=bed-10'");
        waitForRendered("data:bed-10");
        driver.navigate().back();
        waitForRendered("data:bed-9");
        // a URL naming no recording says so, in view, and shows nothing
        openDashboard(recordedBase + "/#recording=nobody");
        assertThat(driver.findElement(By.id("error")).getText()).isEqualTo("No recording nobody on this server.");
        assertThat(renderedKey()).isNull();
        assertThat(hash()).as("the URL still says what was asked for").isEqualTo("#recording=nobody");
    }

    /** The explanation panel shows the API's explanation of beat {@code beat} of recording {@code rec}. */
    void assertExplains(JsonNode rec, int beat) {
        JsonNode e = null;
        for (JsonNode x : rec.get("explanations")) {
            e = x.get("beat").asInt() == beat ? x : e;
        }
        assertThat(e).as("the API explains beat %d", beat).isNotNull();
        String time = elapsed(rec.get("time").get(beat).asLong());
        waitUpTo(10).until(d -> driver.findElement(By.id("explanation-title")).getText()
                .startsWith("Why the beat at " + time));
        assertExplanationShown(e);
    }

    void assertExplanationShown(JsonNode e) {
        assertThat(driver.findElement(By.id("explanation")).isDisplayed()).isTrue();
        List<String> reasons = texts("#explanation-reasons .reason");
        assertThat(reasons).hasSize(5);
        for (int k = 0; k < 5; k++) {
            assertThat(reasons.get(k)).isEqualTo(e.get("reasons").get(k).get("text").asText());
        }
        assertThat(driver.findElements(By.cssSelector("#explanation-reasons .bar"))).hasSize(5)
                .allMatch(b -> b.getSize().getWidth() > 0);
        assertThat(texts("#explanation-shares tbody td:first-child"))
                .containsExactly("LightGBM", "CardioNet", "artifact flag", "intercept");
        assertThat(((Number) js("return document.getElementById('explanation-window').data[0].y.length")).intValue())
                .isEqualTo(e.get("window_rr").size());
        assertThat(((Number) js("return document.getElementById('explanation-window').data[1].y[0]")).doubleValue())
                .isEqualTo(e.get("window_rr").get(e.get("beat_index").asInt()).asDouble());
    }

    @Test
    void docsPageRendersTheOpenApiOffline() {
        driver.get(base + "/docs");
        waitUpTo(30).until(d -> d.findElements(By.cssSelector(".opblock")).size() >= 10);
        assertThat(driver.findElement(By.tagName("body")).getText()).contains("/api/v1/predict", "/api/v1/predict/csv",
                "/api/v1/model", "/health");
    }

    @Test
    void uploadedCsvIsScoredAndChartedAndItsErrorsShownByTheUploadControl() throws Exception {
        Path csv = TestData.writeCsv(dir.resolve("upload.csv"), 2, 23);
        openDashboard(recordedBase + "/");
        assertThat(hash()).startsWith("#recording=");
        assertThat(loading()).isEmpty();
        assertThat(loadingBadgeShown()).isFalse();
        slowNetwork(1500);
        try {
            driver.findElement(By.id("csv-upload")).sendKeys(csv.toAbsolutePath().toString());
            // while the request is in flight: a loading badge by the title, the upload control says so
            waitUpTo(5).until(d -> loading().contains("upload"));
            assertThat(loadingBadgeShown()).isTrue();
            assertThat(driver.findElement(By.id("upload-status")).getText()).isEqualTo("scoring upload.csv…");
            assertThat(driver.findElement(By.id("csv-upload")).isEnabled()).isFalse();
        } finally {
            normalNetwork();
        }
        waitUpTo(30).until(d -> {
            Object k = renderedKey();
            return k != null && k.toString().startsWith("upload:upload.csv:");
        });
        waitUpTo(5).until(d -> loading().isEmpty());
        assertThat(loadingBadgeShown()).isFalse();
        assertThat(driver.findElement(By.id("upload-status")).getText()).isEqualTo("2 recordings from upload.csv");
        List<WebElement> uploaded = driver.findElements(By.cssSelector("#upload-group option"));
        assertThat(uploaded).hasSize(2);
        assertThat(hash()).as("an upload is not stored: no URL to come back to").isEmpty();
        String id = renderedKey().toString().substring("upload:upload.csv:".length());
        Map<String, Long> c = chartCounts();
        assertThat(c.get("rr")).isPositive();
        assertThat(driver.findElement(By.id("recording-title")).getText()).isEqualTo(id);
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("upload-error")).isDisplayed()).isFalse();

        Path one = TestData.writeCsv(dir.resolve("one.csv"), 1, 29);
        driver.findElement(By.id("csv-upload")).sendKeys(one.toAbsolutePath().toString());
        waitUpTo(30).until(d -> "1 recording from one.csv".equals(
                d.findElement(By.id("upload-status")).getText()));
        waitUpTo(30).until(d -> String.valueOf(renderedKey()).startsWith("upload:one.csv:"));

        // a broken CSV: the reader's message, naming the line, under the upload control and in view; the chart and
        // the table no longer show the last recording as if it were the broken file's
        Path bad = Files.writeString(dir.resolve("broken.csv"), "id,time,x\np1,0,800\np1,800,eight hundred\n");
        driver.findElement(By.id("csv-upload")).sendKeys(bad.toAbsolutePath().toString());
        waitUpTo(30).until(d -> d.findElement(By.id("upload-error")).isDisplayed());
        assertThat(driver.findElement(By.id("upload-error")).getText())
                .contains("broken.csv:3: field 'x' is not a number: 'eight hundred'");
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
        @SuppressWarnings("unchecked")
        Map<String, Number> place = (Map<String, Number>) js("""
                const input = document.getElementById('csv-upload').getBoundingClientRect();
                const error = document.getElementById('upload-error').getBoundingClientRect();
                return { gap: error.top - input.bottom, bottom: error.bottom, view: window.innerHeight };""");
        assertThat(place.get("gap").doubleValue()).as("just under the upload control").isBetween(0.0, 60.0);
        assertThat(place.get("bottom").doubleValue()).as("in view").isLessThanOrEqualTo(place.get("view").doubleValue());
        assertThat(renderedKey()).isNull();
        assertThat(driver.findElement(By.id("recording-title")).getText()).isEqualTo("Nothing shown");
        assertThat(driver.findElement(By.id("summary")).getText()).contains("upload of broken.csv failed");
        assertThat(driver.findElement(By.id("episode-count")).getText()).isEqualTo("0");
        assertThat(driver.findElements(By.cssSelector("#episodes tbody tr"))).isEmpty();
        assertThat(js("const gd = document.getElementById('chart'); return !gd.data || gd.data.length")).isEqualTo(true);
        assertThat(driver.findElement(By.id("recording-select")).getAttribute("value")).isEmpty();
        assertThat(hash()).isEmpty();

        // the next upload that works clears the message
        driver.findElement(By.id("csv-upload")).sendKeys(csv.toAbsolutePath().toString());
        waitUpTo(30).until(d -> String.valueOf(renderedKey()).startsWith("upload:upload.csv:"));
        assertThat(driver.findElement(By.id("upload-error")).isDisplayed()).isFalse();
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
            JsonNode explanation = explanationOfAFlaggedBeat();
            producer.send(new ProducerRecord<>("rr-alerts", patient, alert(patient, t0 + 100 * 800L,
                    t0 + 104 * 800L, explanation)));

            for (String bed : List.of("bed-10", "bed-2", "bed-1")) {
                produceBeats(producer, bed, t0, 0, 20, rnd, new int[1]);
            }
            // held by the job's --alert-hold: shown greyed, not counted as an alert (so not the first view)
            producer.send(new ProducerRecord<>("rr-alerts", "bed-2", alert("bed-2", t0 + 10 * 800L, t0 + 12 * 800L)
                    .replace("}", ",\"suppressed\":true}")));
            producer.commitTransaction();
            waitUpTo(30).until(d -> livePatientIds().size() == 5
                    && getJson("/api/v1/live/patients/" + patient).get("alerts").asInt() == 1);

            // the demo's first view: the live patient with the most alerts, named in the URL
            openDashboard();
            waitForRendered("live:" + patient);
            assertThat(hash()).isEqualTo("#patient=icu-7");
            waitUpTo(10).until(d -> chartCounts().get("rr") == 300);
            assertThat(chartCounts().get("anomaly")).isEqualTo(anomalies[0]);
            assertThat(chartCounts().get("episodes")).isEqualTo(1);
            // the Recording panel speaks to someone who never saw --data
            String hint = driver.findElement(By.id("data-source")).getText();
            assertThat(hint).contains("Upload a CSV", "bin/cardiospike serve --data FILE.csv").doesNotContain("no --data");

            // the list: in id order, plurals, the followed patient selected
            assertThat(texts("#live-patients li b")).containsExactly("bed-1", "bed-2", "bed-10", "icu-7", "icu-8");
            assertThat(driver.findElement(By.id("live-count")).getText()).isEqualTo("5 patients");
            waitUpTo(10).until(d -> liveItem("icu-7").getText().contains("latest alert"));
            assertThat(liveItem("icu-7").getText()).isEqualTo("icu-7\n300 beats · 1 alert\nlatest alert: 5 beats, max p 0.93");
            assertThat(liveItem("icu-8").getText()).isEqualTo("icu-8\n50 beats · 0 alerts");
            assertThat(selectedPatients()).containsExactly("icu-7");
            assertThat(driver.findElement(By.id("summary")).getText()).contains(" · 1 episode · live");

            // one time format: the episode table and the axis in 24-hour HH:MM:SS (the browser's clock)
            Object clock = js("""
                    const d = new Date(arguments[0]);
                    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(v => String(v).padStart(2, '0')).join(':');""",
                    t0 + 100 * 800L);
            assertThat(texts("#episodes tbody td:nth-child(2)")).containsExactly(clock.toString());
            assertThat(texts("#chart .xtick text")).isNotEmpty().allMatch(t -> t.matches(TIME));
            assertThat(driver.findElement(By.tagName("body")).getText()).doesNotContainPattern("\\b[AP]M\\b");

            // three updates, each of one patient (the server lists the most recently updated first, so its order
            // changes each time): the page's list keeps its order, its elements (a click is never lost to a
            // redraw) and the selection
            js("document.querySelectorAll('#live-patients li').forEach(li => li.dataset.mark = 'kept')");
            List<List<String>> serverOrders = new java.util.ArrayList<>();
            Map<String, Integer> beats = new java.util.HashMap<>(Map.of("bed-1", 20, "bed-10", 20, "icu-8", 50));
            for (String updated : List.of("bed-1", "bed-10", "icu-8")) {
                producer.beginTransaction();
                produceBeats(producer, updated, t0, beats.get(updated), 1, rnd, new int[1]);
                producer.commitTransaction();
                int count = beats.merge(updated, 1, Integer::sum);
                waitUpTo(30).until(d -> livePatientIds().get(0).equals(updated));
                serverOrders.add(livePatientIds());
                waitUpTo(10).until(d -> liveItem(updated).getText().contains("\n" + count + " beats"));
                assertThat(texts("#live-patients li b")).containsExactly("bed-1", "bed-2", "bed-10", "icu-7", "icu-8");
                assertThat((Boolean) js("return [...document.querySelectorAll('#live-patients li')]"
                        + ".every(li => li.dataset.mark === 'kept')")).isTrue();
                assertThat(selectedPatients()).containsExactly("icu-7");
            }
            assertThat(new java.util.HashSet<>(serverOrders)).as("the server's order did change").hasSize(3);

            // search by id; the count says how many are shown
            type("patient-search", "BED");
            assertThat(texts("#live-patients li b")).containsExactly("bed-1", "bed-2", "bed-10");
            assertThat(driver.findElement(By.id("live-count")).getText()).isEqualTo("5 patients, 3 shown");
            type("patient-search", "nobody");
            assertThat(texts("#live-patients li")).isEmpty();
            assertThat(driver.findElement(By.id("live-empty")).getText()).isEqualTo("no patient id contains \"nobody\"");
            type("patient-search", "");
            assertThat(texts("#live-patients li b")).hasSize(5);

            // a held alert: in the list and the episode table, greyed
            assertThat(liveItem("bed-2").getText()).isEqualTo(
                    "bed-2\n20 beats · 0 alerts (1 held)\nlatest alert (held): 5 beats, max p 0.93");
            liveItem("bed-2").click();
            waitForRendered("live:bed-2");
            waitUpTo(10).until(d -> texts("#episodes tbody tr").size() == 1);
            WebElement held = driver.findElement(By.cssSelector("#episodes tbody tr"));
            assertThat(held.getAttribute("class")).isEqualTo("suppressed");
            assertThat(held.getCssValue("color")).isEqualTo("rgba(153, 153, 153, 1)");
            assertThat(liveItem("bed-2").findElement(By.className("alert")).getCssValue("color"))
                    .isEqualTo("rgba(153, 153, 153, 1)");
            assertThat(liveItem("icu-7").findElement(By.className("alert")).getCssValue("color"))
                    .as("an alert that paged stays red").isEqualTo("rgba(192, 57, 43, 1)");

            // choosing a patient: a loading state until its beats come, then its URL, which a reload goes back to
            slowNetwork(1500);
            try {
                liveItem("icu-8").click();
                waitUpTo(5).until(d -> loading().contains("live"));
                assertThat(loadingBadgeShown()).isTrue();
            } finally {
                normalNetwork();
            }
            waitForRendered("live:icu-8");
            waitUpTo(10).until(d -> loading().isEmpty());
            assertThat(loadingBadgeShown()).isFalse();
            assertThat(hash()).isEqualTo("#patient=icu-8");
            assertThat(selectedPatients()).containsExactly("icu-8");
            driver.navigate().refresh();
            waitUntilReady();
            waitForRendered("live:icu-8");
            assertThat(selectedPatients()).containsExactly("icu-8");
            liveItem(patient).click();
            waitForRendered("live:" + patient);
            assertThat(hash()).isEqualTo("#patient=icu-7");
            driver.navigate().back();
            waitForRendered("live:icu-8");
            driver.navigate().forward();
            waitForRendered("live:" + patient);
            waitUpTo(10).until(d -> chartCounts().get("rr") == 300);

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
            // the closed alert keeps the open one's explanation: the alert, clicked, says why
            driver.findElements(By.cssSelector("#episodes tbody tr")).get(0).click();
            waitUpTo(10).until(d -> driver.findElement(By.id("explanation-title")).getText()
                    .startsWith("Why the beat at " + clock));
            assertExplanationShown(explanation);
            screenshot("dashboard-live.png");
        }
        JsonNode buffered = getJson("/api/v1/live/patients/" + patient);
        assertThat(buffered.get("beats").asInt()).isEqualTo(420);
        assertThat(buffered.get("alerts").asInt()).isEqualTo(1);
        assertThat(buffered.get("recent_alerts").get(0).get("end_ts").asLong()).isEqualTo(1_767_000_000_000L + 106 * 800L);
        assertThat(buffered.get("recent_alerts").get(0).get("explanation")).as("kept from the open alert")
                .isEqualTo(explanationOfAFlaggedBeat());
    }

    /** A real explanation, as an open alert carries it: the data file's first flagged beat's, without its index. */
    static JsonNode explanationOfAFlaggedBeat() {
        for (String id : FILE_IDS) {
            JsonNode list = getJson(recordedBase, "/api/v1/recordings/" + id).get("explanations");
            if (!list.isEmpty()) {
                com.fasterxml.jackson.databind.node.ObjectNode e = list.get(0).deepCopy();
                e.remove("beat");
                return e;
            }
        }
        throw new AssertionError("no flagged beat in the data file");
    }

    @Test
    void withATokenFileThePageAsksForTheTokenAndThenShowsEverything() throws Exception {
        String token = "dashboard-token-0123456789";
        Path tokens = Files.writeString(dir.resolve("tokens"), token + "\n");
        kafka.createTopics(1, "secured-scores", "secured-alerts"); // no live patients: it opens on a recording
        try (ApiServer secured = ApiServer.start(ApiServer.Options.builder().port(0).authTokenFile(tokens)
                .dataFile(TestData.writeCsv(dir.resolve("secured.csv"), 2, 9))
                .bootstrapServers(kafka.bootstrapServers()).topics("secured-scores", "secured-alerts").build())) {
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
    void modelsViewShowsTheLiveModelAndItsShadowSideBySideAndDrift() throws Exception {
        kafka.createTopics(1, "m-scores", "m-alerts", "m-shadow", "m-monitoring");
        try (ApiServer models = ApiServer.start(ApiServer.Options.builder().port(0)
                .bootstrapServers(kafka.bootstrapServers()).topics("m-scores", "m-alerts")
                .modelTopics("m-shadow", "m-monitoring").build());
             KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                     "bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            // 20 beats of ward-3: live flags beats 3-4, the shadow flags 3-4 and 12 (an episode only it raises)
            long t0 = 1_767_000_000_000L;
            for (int i = 0; i < 20; i++) {
                boolean live = i == 3 || i == 4, shadow = live || i == 12;
                double pl = live ? 0.9 : 0.1, ps = shadow ? 0.8 : 0.2;
                Map<String, Object> score = new LinkedHashMap<>(Map.of("patient_id", "ward-3", "ts", t0 + i * 800L,
                        "rr_ms", 800, "proba", pl, "anomaly", live, "artifact", false, "model_version", "cs-live-1"));
                producer.send(new ProducerRecord<>("m-scores", "ward-3", JSON.writeValueAsString(score)));
                Map<String, Object> both = new LinkedHashMap<>(Map.of("patient_id", "ward-3", "ts", t0 + i * 800L,
                        "rr_ms", 800, "artifact", false,
                        "live", Map.of("model_version", "cs-live-1", "proba", pl, "anomaly", live),
                        "shadow", Map.of("model_version", "cs-next-2", "proba", ps, "anomaly", shadow)));
                producer.send(new ProducerRecord<>("m-shadow", "ward-3", JSON.writeValueAsString(both)));
            }
            producer.send(new ProducerRecord<>("m-monitoring", "cs-live-1", JSON.writeValueAsString(Map.of(
                    "kind", "drift", "model", "live", "model_version", "cs-live-1", "statistic", "rr_ms", "psi", 0.31,
                    "threshold", 0.2, "beats", 5000, "window", "1h", "at", t0))));
            producer.flush();
            String url = "http://127.0.0.1:" + models.port();
            waitUpTo(30).until(d -> getJson(url, "/api/v1/live/models").path("drift").size() == 1
                    && getJson(url, "/api/v1/live/models").path("shadow").path(0).path("beats").asInt() == 20);

            openDashboard(url + "/");
            waitUpTo(10).until(d -> texts("#models-table tbody tr").size() == 5);
            assertThat(texts("#models-table tbody tr")).containsExactly("versionlive-1next-2",
                    "flagged beats10.00 %15.00 %", "mean probability0.18000.2900", "episodes12",
                    "only it raises01");
            assertThat(driver.findElement(By.id("models-summary")).getText())
                    .isEqualTo("20 beats of 1 patient scored by both");
            assertThat(driver.findElement(By.id("models-agreement")).getText()).isEqualTo("agreement 95.00 %, "
                    + "mean |Δp| 0.1300; beats flagged by live only 0, by shadow only 1");
            assertThat(texts("#models-drift li")).singleElement().asString()
                    .endsWith(" live live-1: rr_ms PSI 0.31 (> 0.2) over 1h").startsWith(
                            js("return clockTime(new Date(arguments[0]))", t0).toString());
            // an episode only the shadow raises: a click follows that patient
            assertThat(texts("#models-examples li")).containsExactly(
                    "only shadow: ward-3, 1 beat, max p live 0.10 / shadow 0.80");
            driver.findElement(By.cssSelector("#models-examples li")).click();
            waitForRendered("live:ward-3");
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

    WebElement liveItem(String patient) {
        return driver.findElement(By.cssSelector("#live-patients li[data-patient='" + patient + "']"));
    }

    List<String> selectedPatients() {
        return texts("#live-patients li.selected b");
    }

    /** The server's list, most recently updated first. */
    static List<String> livePatientIds() {
        List<String> ids = new java.util.ArrayList<>();
        getJson("/api/v1/live/patients").get("patients").forEach(p -> ids.add(p.get("patient_id").asText()));
        return ids;
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
        return alert(patient, start, end, null);
    }

    static String alert(String patient, long start, long end, JsonNode explanation) throws Exception {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("alert_id", patient + "-" + start);
        a.put("patient_id", patient);
        a.put("start_ts", start);
        a.put("end_ts", end);
        a.put("beats", 5);
        a.put("max_proba", 0.93);
        a.put("mean_proba", 0.81);
        a.put("model_version", "test-model");
        if (explanation != null) {
            a.put("explanation", explanation);
        }
        return JSON.writeValueAsString(a);
    }
}
