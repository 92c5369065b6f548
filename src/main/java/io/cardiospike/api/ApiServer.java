package io.cardiospike.api;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.rr.CsvFormatException;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.stream.KafkaConnection;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import io.javalin.http.staticfiles.Location;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST scoring API and the dashboard: one Javalin server around one {@link EnsembleScorer}, optionally serving
 * the recordings of a CSV file and following the streaming job's Kafka topics for the live view.
 *
 * <pre>{@code
 * try (ApiServer server = ApiServer.start(ApiServer.Options.defaults().port(0).bootstrapServers(kafka))) {
 *     System.out.println("dashboard: " + server.url());
 * }
 * }</pre>
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    /** Largest request body accepted, JSON or CSV (413 beyond). */
    public static final int MAX_BODY_BYTES = 5 * 1024 * 1024;
    /** Longest {@code sequence} accepted by {@code /api/v1/predict} (413 beyond). */
    public static final int MAX_BEATS = 100_000;

    /**
     * Server settings.
     *
     * @param host             interface to bind; loopback by default because responses carry patient data
     * @param port             TCP port, 0 for any free one
     * @param modelDir         model bundle directory (ignored when a scorer is passed to {@link #start(Options,
     *                         EnsembleScorer)})
     * @param dataFile         optional CSV (id,time,x) whose recordings the dashboard lists
     * @param kafka            optional Kafka (brokers and client properties); enables the live view
     */
    public record Options(String host, int port, Path modelDir, Path dataFile, KafkaConnection kafka,
                          String scoresTopic, String alertsTopic, int beatsPerPatient, int maxPatients) {
        public static Options defaults() {
            return new Options("127.0.0.1", 8080, Path.of("models"), null, null, "rr-scores", "rr-alerts", 2_000,
                    500);
        }

        public Options host(String v) {
            return new Options(v, port, modelDir, dataFile, kafka, scoresTopic, alertsTopic,
                    beatsPerPatient, maxPatients);
        }

        public Options port(int v) {
            return new Options(host, v, modelDir, dataFile, kafka, scoresTopic, alertsTopic,
                    beatsPerPatient, maxPatients);
        }

        public Options modelDir(Path v) {
            return new Options(host, port, v, dataFile, kafka, scoresTopic, alertsTopic, beatsPerPatient,
                    maxPatients);
        }

        public Options dataFile(Path v) {
            return new Options(host, port, modelDir, v, kafka, scoresTopic, alertsTopic, beatsPerPatient,
                    maxPatients);
        }

        public Options bootstrapServers(String v) {
            return kafka(v == null || v.isBlank() ? null : KafkaConnection.plain(v));
        }

        public Options kafka(KafkaConnection v) {
            return new Options(host, port, modelDir, dataFile, v, scoresTopic, alertsTopic, beatsPerPatient,
                    maxPatients);
        }

        public Options topics(String scores, String alerts) {
            return new Options(host, port, modelDir, dataFile, kafka, scores, alerts, beatsPerPatient,
                    maxPatients);
        }

        public Options buffers(int beats, int patients) {
            return new Options(host, port, modelDir, dataFile, kafka, scoresTopic, alertsTopic, beats,
                    patients);
        }
    }

    private final Options options;
    private final EnsembleScorer scorer;
    private final boolean ownsScorer;
    private final String dataName;
    private final Map<String, Recording> recordings;
    private final LiveFeed live;
    private final Javalin app;

    private ApiServer(Options options, EnsembleScorer scorer, boolean ownsScorer, String dataName,
                      Map<String, Recording> recordings, LiveFeed live) {
        this.options = options;
        this.scorer = scorer;
        this.ownsScorer = ownsScorer;
        this.dataName = dataName;
        this.recordings = recordings;
        this.live = live;
        this.app = createApp();
    }

    /** Opens the bundle at {@code options.modelDir()} and starts; {@link #close} also closes the scorer. */
    public static ApiServer start(Options options) throws ModelBundleException, CsvFormatException, IOException {
        EnsembleScorer scorer = EnsembleScorer.open(options.modelDir());
        try {
            return start(options, scorer, true);
        } catch (CsvFormatException | IOException | RuntimeException e) {
            scorer.close();
            throw e;
        }
    }

    /** Starts around a scorer the caller owns (e.g. the demo's), which {@link #close} leaves open. */
    public static ApiServer start(Options options, EnsembleScorer scorer) throws CsvFormatException, IOException {
        return start(options, scorer, false);
    }

    private static ApiServer start(Options options, EnsembleScorer scorer, boolean owns)
            throws CsvFormatException, IOException {
        Map<String, Recording> recordings = new LinkedHashMap<>();
        String dataName = null;
        if (options.dataFile() != null) {
            for (Recording r : RrCsv.read(options.dataFile()).recordings()) {
                recordings.put(r.id(), r);
            }
            dataName = options.dataFile().getFileName().toString();
        }
        LiveFeed live = options.kafka() == null ? null
                : new LiveFeed(options.kafka(), options.scoresTopic(), options.alertsTopic(),
                        options.beatsPerPatient(), options.maxPatients());
        ApiServer server = new ApiServer(options, scorer, owns, dataName, recordings, live);
        try {
            server.app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            if (live != null) {
                live.close();
            }
            throw e;
        }
        LOG.info("serving model {} on {} ({} recordings, live view {})", scorer.modelVersion(), server.url(),
                recordings.size(), live != null ? "on" : "off");
        return server;
    }

    public int port() {
        return app.port();
    }

    /** The dashboard's address, e.g. {@code http://127.0.0.1:8080/}. */
    public String url() {
        String host = options.host();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            host = "localhost";
        }
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/";
    }

    public void stop() {
        if (live != null) {
            live.close(); // ends the SSE streams first so Jetty need not wait for them
        }
        app.stop();
        if (ownsScorer) {
            scorer.close();
        }
    }

    @Override
    public void close() {
        stop();
    }

    private Javalin createApp() {
        Javalin javalin = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.http.maxRequestSize = MAX_BODY_BYTES;
            cfg.http.prefer405over404 = true;
            cfg.jetty.multipartConfig.maxFileSize(MAX_BODY_BYTES, SizeUnit.BYTES);
            cfg.jetty.multipartConfig.maxTotalRequestSize(MAX_BODY_BYTES, SizeUnit.BYTES);
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/web";
                sf.location = Location.CLASSPATH;
            });
            // Plotly and Swagger UI come from webjars on the classpath (/webjars/...): the pages work offline
            cfg.staticFiles.enableWebjars();
            // ids only: never bodies, which carry patient data
            cfg.requestLogger.http((ctx, ms) -> LOG.debug("{} {} -> {} in {} ms", ctx.method(), route(ctx),
                    ctx.statusCode(), Math.round(ms)));
        });

        javalin.get("/health", this::health);
        javalin.get("/api/v1/model", ctx -> ctx.contentType("application/json")
                .result(scorer.manifest().raw().toString()));
        javalin.post("/api/v1/predict", this::predict);
        javalin.post("/api/v1/predict/csv", this::predictCsv);
        javalin.get("/api/v1/recordings", this::listRecordings);
        javalin.get("/api/v1/recordings/{id}", this::recording);
        javalin.post("/api/v1/analyze", this::analyze);
        javalin.get("/api/v1/live", ctx -> ctx.json(live().status()));
        javalin.get("/api/v1/live/patients", ctx -> ctx.contentType("application/json")
                .result(live().patientsJson()));
        javalin.get("/api/v1/live/patients/{id}", this::livePatient);
        javalin.sse("/api/v1/live/events", this::liveEvents);
        javalin.get("/openapi.json", ctx -> ctx.contentType("application/json").result(resource("/api/openapi.json")));
        javalin.get("/docs", ctx -> ctx.html(new String(resource("/web/docs.html"), StandardCharsets.UTF_8)));

        javalin.exception(ApiException.class, (e, ctx) -> ctx.status(e.status()).json(e.body()));
        javalin.exception(HttpResponseException.class, (e, ctx) ->
                ctx.status(e.getStatus()).json(new ApiException(e.getStatus(), e.getMessage()).body()));
        javalin.exception(Exception.class, (e, ctx) -> {
            LOG.error("internal error on {} {}", ctx.method(), route(ctx), e);
            ctx.status(500).json(new ApiException(500, "internal error").body());
        });
        // Unknown routes and wrong methods: JSON like every other error, unless a handler already wrote one.
        javalin.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty()) {
                ctx.json(new ApiException(404, "no such resource: " + ctx.method() + " " + ctx.path()).body());
            }
        });
        javalin.error(405, ctx -> ctx.json(new ApiException(405, "method " + ctx.method() + " not allowed on "
                + ctx.path()).body()));
        return javalin;
    }

    private void health(Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("model_version", scorer.modelVersion());
        m.put("threshold", scorer.threshold());
        m.put("recordings", recordings.size());
        m.put("data", dataName);
        m.put("live", live != null);
        m.put("limits", Map.of("max_body_bytes", MAX_BODY_BYTES, "max_beats", MAX_BEATS));
        ctx.json(m);
    }

    private void predict(Context ctx) {
        PredictRequest req = PredictRequest.parse(body(ctx), MAX_BEATS);
        Analysis a = Analysis.of(scorer, req.sequence());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("study", req.study());
        m.put("anomaly_proba", a.proba());
        m.put("anomaly_thresh", scorer.threshold());
        m.put("errors", a.artifact());
        m.put("episodes", a.episodesJson());
        m.put("model_version", scorer.modelVersion());
        ctx.json(m);
    }

    /** Same output as {@code bin/cardiospike score}: the same reader, scorer and writer. */
    private void predictCsv(Context ctx) throws IOException {
        RrCsv.Table table = csvTable(ctx);
        List<double[]> proba = new ArrayList<>(table.recordings().size());
        for (Recording r : table.recordings()) {
            proba.add(scorer.scoreRecording(r.rr()).proba());
        }
        StringWriter out = new StringWriter();
        RrCsv.writeScores(out, table, proba, proba.stream().map(scorer::decide).toList());
        ctx.contentType("text/csv; charset=utf-8").result(out.toString());
    }

    private void listRecordings(Context ctx) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Recording r : recordings.values()) {
            list.add(Map.of("id", r.id(), "beats", r.size()));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", dataName);
        m.put("recordings", list);
        ctx.json(m);
    }

    private void recording(Context ctx) {
        Recording r = recordings.get(ctx.pathParam("id"));
        if (r == null) {
            throw new ApiException(404, "no recording with this id in the data file").with("id", ctx.pathParam("id"));
        }
        ctx.json(Analysis.recordingJson(scorer, r));
    }

    /** A CSV for the dashboard: every recording in it, scored, in the shape of {@code /api/v1/recordings/{id}}. */
    private void analyze(Context ctx) throws IOException {
        RrCsv.Table table = csvTable(ctx);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Recording r : table.recordings()) {
            list.add(Analysis.recordingJson(scorer, r));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_version", scorer.modelVersion());
        m.put("threshold", scorer.threshold());
        m.put("recordings", list);
        ctx.json(m);
    }

    private void livePatient(Context ctx) {
        String json = live().patientJson(ctx.pathParam("id"));
        if (json == null) {
            throw new ApiException(404, "no live data for this patient").with("patient_id", ctx.pathParam("id"));
        }
        ctx.contentType("application/json").result(json);
    }

    /** Streams the patient list, alerts and (with {@code ?patient=}) one patient's snapshot and new beats. */
    private void liveEvents(io.javalin.http.sse.SseClient client) {
        LiveFeed feed = live;
        if (feed == null) {
            client.sendEvent("error", "{\"error\":\"live view is off: the server was started without "
                    + "--bootstrap-servers\"}");
            return;
        }
        String patient = client.ctx().queryParam("patient");
        LiveFeed.Subscriber sub = feed.subscribe(patient == null || patient.isBlank() ? null : patient);
        // This async request thread is the subscriber's writer, so a slow page never blocks the Kafka consumer.
        try {
            long lastSent = System.nanoTime();
            while (!client.terminated()) {
                LiveFeed.Event e = sub.queue.poll(1, TimeUnit.SECONDS);
                if (e == LiveFeed.END) {
                    break;
                }
                if (e != null) {
                    client.sendEvent(e.name(), e.data());
                    lastSent = System.nanoTime();
                } else if (System.nanoTime() - lastSent > TimeUnit.SECONDS.toNanos(15)) {
                    client.sendComment("keep-alive"); // also how we notice a page that went away
                    lastSent = System.nanoTime();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            feed.unsubscribe(sub);
        }
    }

    private LiveFeed live() {
        if (live == null) {
            throw new ApiException(404, "live view is off: the server was started without --bootstrap-servers");
        }
        return live;
    }

    /** The CSV of a request: a multipart upload's {@code file} field, or else the body itself. */
    private RrCsv.Table csvTable(Context ctx) throws IOException {
        checkLength(ctx);
        byte[] bytes;
        String name;
        if (Objects.toString(ctx.contentType(), "").toLowerCase(java.util.Locale.ROOT).startsWith("multipart/")) {
            UploadedFile file;
            try {
                file = ctx.uploadedFile("file");
            } catch (IllegalStateException e) { // the servlet's multipart size limits
                throw ApiException.tooLarge("upload larger than " + MAX_BODY_BYTES + " bytes", MAX_BODY_BYTES);
            }
            if (file == null) {
                throw ApiException.badRequest("multipart upload without a 'file' field");
            }
            try (InputStream in = file.content()) {
                bytes = readCapped(in);
            }
            name = file.filename() == null || file.filename().isBlank() ? "upload" : file.filename();
        } else {
            bytes = body(ctx);
            name = "request body";
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                new java.io.ByteArrayInputStream(bytes), StandardCharsets.UTF_8))) {
            return RrCsv.read(in, name);
        } catch (CsvFormatException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /** The request body, refused with 413 beyond {@link #MAX_BODY_BYTES} even without a Content-Length. */
    private static byte[] body(Context ctx) {
        checkLength(ctx);
        try {
            return readCapped(ctx.req().getInputStream());
        } catch (IOException e) {
            throw ApiException.badRequest("could not read the request body");
        }
    }

    private static void checkLength(Context ctx) {
        if (ctx.req().getContentLengthLong() > MAX_BODY_BYTES) {
            throw ApiException.tooLarge("request body of " + ctx.req().getContentLengthLong()
                    + " bytes exceeds the limit of " + MAX_BODY_BYTES + " bytes", MAX_BODY_BYTES);
        }
    }

    private static byte[] readCapped(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
            if (out.size() > MAX_BODY_BYTES) {
                throw ApiException.tooLarge("request body exceeds the limit of " + MAX_BODY_BYTES + " bytes",
                        MAX_BODY_BYTES);
            }
        }
        return out.toByteArray();
    }

    /** The matched route template ({@code /api/v1/recordings/{id}}), so that logs never carry the ids in paths. */
    private static String route(Context ctx) {
        try {
            return ctx.endpointHandlerPath();
        } catch (IllegalStateException e) { // static files and unmatched paths have no endpoint
            return "(no route)";
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = ApiServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
