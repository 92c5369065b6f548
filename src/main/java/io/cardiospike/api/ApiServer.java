package io.cardiospike.api;

import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.model.ModelBundleException;
import io.cardiospike.rr.CsvFormatException;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.RrCsv;
import io.cardiospike.kafka.KafkaConnection;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.sse.SseHandler;
import io.javalin.http.staticfiles.Location;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST scoring API and the dashboard: one Javalin server around one {@link EnsembleScorer}, optionally serving
 * the recordings of a CSV file and following the streaming job's Kafka topics for the live view.
 *
 * <pre>{@code
 * try (ApiServer server = ApiServer.start(ApiServer.Options.builder().port(0).bootstrapServers(kafka).build())) {
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
     * Server settings, made by {@link #builder()}, which checks each as it is set.
     *
     * @param host                  interface to bind; loopback by default because responses carry patient data
     * @param port                  TCP port, 0 for any free one
     * @param modelDir              model bundle directory (ignored when a scorer is passed to {@link #start(Options,
     *                              EnsembleScorer)})
     * @param dataFile              optional CSV (id,time,x) whose recordings the dashboard lists
     * @param kafka                 optional Kafka (brokers and client properties); enables the live view
     * @param beatsPerPatient       beats the live view keeps per patient
     * @param maxPatients           patients the live view keeps
     * @param authTokenFile         optional file of bearer tokens (read once at start); without it no authentication
     * @param maxConcurrentRequests requests in progress at once (event streams included); beyond, 503 at once
     * @param idleTimeout           a connection silent this long is closed; a body stalled this long gets 408
     * @param bodyMemoryBytes       request body bytes all requests together may hold in memory ({@link BodyBudget})
     */
    public record Options(String host, int port, Path modelDir, Path dataFile, KafkaConnection kafka,
                          String scoresTopic, String alertsTopic, String shadowScoresTopic, String monitoringTopic,
                          int beatsPerPatient, int maxPatients, Path authTokenFile, int maxConcurrentRequests, Duration idleTimeout, long bodyMemoryBytes) {

        /** The defaults, each replaced by its setter. */
        public static Builder builder() {
            return new Builder();
        }

        /** Mutable; {@link #build} may be called again after more setters (a second server on another port). */
        public static final class Builder {
            private String host = "127.0.0.1";
            private int port = 8080;
            private Path modelDir = Path.of("models");
            private Path dataFile;
            private KafkaConnection kafka;
            private String scoresTopic = "rr-scores";
            private String alertsTopic = "rr-alerts";
            private String shadowScoresTopic = "rr-scores-shadow";
            private String monitoringTopic = "rr-monitoring";
            private int beatsPerPatient = 2_000;
            private int maxPatients = 500;
            private Path authTokenFile;
            private int maxConcurrentRequests = 256;
            private Duration idleTimeout = Duration.ofSeconds(30);
            private long bodyMemoryBytes = 64L * 1024 * 1024;

            private Builder() {}

            public Builder host(String v) {
                host = Objects.requireNonNull(v, "host");
                return this;
            }

            public Builder port(int v) {
                if (v < 0 || v > 65_535) {
                    throw new IllegalArgumentException("port must be 0 to 65535, got " + v);
                }
                port = v;
                return this;
            }

            public Builder modelDir(Path v) {
                modelDir = Objects.requireNonNull(v, "modelDir");
                return this;
            }

            /** Optional: null for none. */
            public Builder dataFile(Path v) {
                dataFile = v;
                return this;
            }

            /** Optional: null for no authentication. */
            public Builder authTokenFile(Path v) {
                authTokenFile = v;
                return this;
            }

            /** Optional: null for no live view. */
            public Builder kafka(KafkaConnection v) {
                kafka = v;
                return this;
            }

            /** Plain brokers, no client properties; null or blank: no live view. */
            public Builder bootstrapServers(String v) {
                return kafka(v == null || v.isBlank() ? null : KafkaConnection.plain(v));
            }

            public Builder topics(String scores, String alerts) {
                scoresTopic = scores;
                alertsTopic = alerts;
                return this;
            }

            /** The models view's topics: the job's shadow scores and its monitoring (drift) records. */
            public Builder modelTopics(String shadowScores, String monitoring) {
                shadowScoresTopic = shadowScores;
                monitoringTopic = monitoring;
                return this;
            }

            /** What the live view keeps: beats per patient, patients. */
            public Builder buffers(int beats, int patients) {
                beatsPerPatient = beats;
                maxPatients = patients;
                return this;
            }

            public Builder maxConcurrentRequests(int v) {
                if (v < 1) {
                    throw new IllegalArgumentException("maxConcurrentRequests must be at least 1");
                }
                maxConcurrentRequests = v;
                return this;
            }

            public Builder idleTimeout(Duration v) {
                if (v.isNegative() || v.isZero()) {
                    throw new IllegalArgumentException("idleTimeout must be positive");
                }
                idleTimeout = v;
                return this;
            }

            public Builder bodyMemoryBytes(long v) {
                if (v < MAX_BODY_BYTES) { // else a body within the limit could never be read
                    throw new IllegalArgumentException("bodyMemoryBytes must be at least the body limit, "
                            + MAX_BODY_BYTES + " bytes");
                }
                bodyMemoryBytes = v;
                return this;
            }

            public Options build() {
                return new Options(host, port, modelDir, dataFile, kafka, scoresTopic, alertsTopic, shadowScoresTopic,
                        monitoringTopic, beatsPerPatient,
                        maxPatients, authTokenFile, maxConcurrentRequests, idleTimeout, bodyMemoryBytes);
            }
        }
    }

    /**
     * A request body, once its first byte has come, must keep arriving at least this fast on average (Jetty checks
     * it on every read; else 408), so that a client trickling its body cannot hold a request for long.
     */
    public static final int MIN_BODY_BYTES_PER_SECOND = 1024;
    /** Threads beyond the request bound: for the 503 answers, /health and Jetty's own selector and acceptor. */
    private static final int SPARE_THREADS = 32;

    private final Options options;
    private final EnsembleScorer scorer;
    private final boolean ownsScorer;
    private final String dataName;
    private final Map<String, Recording> recordings;
    /** Counts of each data-file recording, scored once on the first list request (the data and the model are fixed). */
    private final Map<String, Map<String, Object>> recordingCounts = new ConcurrentHashMap<>();
    private final LiveFeed live;
    private final BearerTokens tokens;
    private final BodyBudget bodyBudget;
    private final RequestGuard guard;
    /**
     * Scorer calls at once: one per core, handed out first come first served. Scoring is CPU-bound, so more at
     * once only share the cores and stretch every call; a fair queue keeps the latency of each call predictable.
     */
    private final Semaphore scoringSlots = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()),
            true);
    /** Methods registered per route template, for the Allow header of a 405. */
    private final Map<String, Set<String>> methodsByRoute = new LinkedHashMap<>();
    private final Javalin app;

    private ApiServer(Options options, EnsembleScorer scorer, boolean ownsScorer, String dataName,
                      Map<String, Recording> recordings, LiveFeed live, BearerTokens tokens) {
        this.options = options;
        this.scorer = scorer;
        this.ownsScorer = ownsScorer;
        this.dataName = dataName;
        this.recordings = recordings;
        this.live = live;
        this.tokens = tokens;
        this.bodyBudget = new BodyBudget(options.bodyMemoryBytes());
        this.guard = new RequestGuard(tokens, options.maxConcurrentRequests(), bodyBudget);
        this.app = createApp();
    }

    /** Opens the bundle at {@code options.modelDir()} and starts; {@link #close} also closes the scorer. */
    public static ApiServer start(Options options)
            throws ModelBundleException, CsvFormatException, IOException, BearerTokens.TokenFileException {
        BearerTokens tokens = readTokens(options); // before the bundle: a bad token file fails at once
        EnsembleScorer scorer = EnsembleScorer.open(options.modelDir());
        try {
            return start(options, scorer, true, tokens);
        } catch (CsvFormatException | IOException | RuntimeException e) {
            scorer.close();
            throw e;
        }
    }

    /** Starts around a scorer the caller owns (e.g. the demo's), which {@link #close} leaves open. */
    public static ApiServer start(Options options, EnsembleScorer scorer)
            throws CsvFormatException, IOException, BearerTokens.TokenFileException {
        return start(options, scorer, false, readTokens(options));
    }

    private static BearerTokens readTokens(Options options) throws BearerTokens.TokenFileException {
        return options.authTokenFile() == null ? null : BearerTokens.read(options.authTokenFile());
    }

    private static ApiServer start(Options options, EnsembleScorer scorer, boolean owns, BearerTokens tokens)
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
                        options.shadowScoresTopic(), options.monitoringTopic(),
                        options.beatsPerPatient(), options.maxPatients());
        ApiServer server = new ApiServer(options, scorer, owns, dataName, recordings, live, tokens);
        try {
            server.app.start();
        } catch (RuntimeException e) {
            if (live != null) {
                live.close();
            }
            throw e;
        }
        LOG.info("serving model {} on {} ({} recordings, live view {}, {})", scorer.modelVersion(), server.url(),
                recordings.size(), live != null ? "on" : "off",
                tokens == null ? "no authentication" : "bearer authentication, " + tokens.size() + " token(s)");
        if (tokens == null && !isLoopback(options.host())) {
            LOG.warn("serving patient data on {} to the network without authentication; see --auth-token-file",
                    options.host());
        }
        return server;
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
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
        long idleMillis = options.idleTimeout().toMillis();
        Javalin javalin = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.http.maxRequestSize = MAX_BODY_BYTES;
            cfg.http.prefer405over404 = true;
            // More threads than the bound, so that a request beyond it is refused at once instead of queued
            QueuedThreadPool threads = new QueuedThreadPool(options.maxConcurrentRequests() + SPARE_THREADS, 8,
                    60_000);
            threads.setName("api-http");
            cfg.jetty.threadPool = threads;
            cfg.jetty.modifyHttpConfiguration(http -> {
                http.setIdleTimeout(idleMillis); // a handler blocked reading a stalled body
                http.setMinRequestDataRate(MIN_BODY_BYTES_PER_SECOND); // a body that trickles in
            });
            cfg.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                connector.setHost(options.host());
                connector.setPort(options.port());
                connector.setIdleTimeout(idleMillis); // a connection that sends nothing (slow headers, keep-alive)
                connector.setAcceptQueueSize(options.maxConcurrentRequests());
                return connector;
            });
            cfg.jetty.modifyServletContextHandler(handler -> {
                FilterHolder holder = new FilterHolder(guard);
                holder.setAsyncSupported(true); // the event stream is asynchronous
                handler.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
            });
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/web";
                sf.location = Location.CLASSPATH;
            });
            // Plotly and Swagger UI come from webjars on the classpath (/webjars/...): the pages work offline
            cfg.staticFiles.enableWebjars();
            // ids only: never bodies, which carry patient data, nor headers, which carry tokens
            cfg.requestLogger.http((ctx, ms) -> LOG.debug("{} {} -> {} in {} ms", ctx.method(), route(ctx),
                    ctx.statusCode(), Math.round(ms)));
        });

        route(javalin, HandlerType.GET, "/health", this::health);
        route(javalin, HandlerType.GET, "/api/v1/model", ctx -> ctx.contentType("application/json")
                .result(scorer.manifest().raw().toString()));
        route(javalin, HandlerType.POST, "/api/v1/predict", this::predict);
        route(javalin, HandlerType.POST, "/api/v1/predict/csv", this::predictCsv);
        route(javalin, HandlerType.GET, "/api/v1/recordings", this::listRecordings);
        route(javalin, HandlerType.GET, "/api/v1/recordings/{id}", this::recording);
        route(javalin, HandlerType.POST, "/api/v1/analyze", this::analyze);
        route(javalin, HandlerType.GET, "/api/v1/live", ctx -> ctx.json(live().status()));
        route(javalin, HandlerType.GET, "/api/v1/live/patients", ctx -> ctx.contentType("application/json")
                .result(live().patientsJson()));
        route(javalin, HandlerType.GET, "/api/v1/live/patients/{id}", this::livePatient);
        route(javalin, HandlerType.GET, "/api/v1/live/models", ctx -> ctx.contentType("application/json")
                .result(live().modelsJson()));
        SseHandler events = new SseHandler(this::liveEvents);
        route(javalin, HandlerType.GET, RequestGuard.EVENTS_PATH, ctx -> {
            live(); // off: a 404 like the other live endpoints, before the stream would begin
            events.handle(ctx);
        });
        byte[] openApi = OpenApiDocument.of(tokens != null);
        route(javalin, HandlerType.GET, "/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
        route(javalin, HandlerType.GET, "/docs", ctx -> ctx.html(new String(resource("/web/docs.html"),
                StandardCharsets.UTF_8)));

        javalin.exception(ApiException.class, (e, ctx) -> {
            if (e.retryAfterSeconds() != null) {
                ctx.header("Retry-After", e.retryAfterSeconds().toString());
            }
            ctx.status(e.status()).json(e.body());
        });
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
        javalin.error(405, ctx -> {
            ctx.header("Allow", allowedMethods(ctx.path())); // RFC 9110: a 405 says what the resource supports
            ctx.json(new ApiException(405, "method " + ctx.method() + " not allowed on " + ctx.path()).body());
        });
        return javalin;
    }

    private void route(Javalin javalin, HandlerType method, String path, Handler handler) {
        javalin.addHttpHandler(method, path, handler);
        methodsByRoute.computeIfAbsent(path, p -> new TreeSet<>()).add(method.name());
    }

    /** The methods of the route templates ({@code /api/v1/recordings/{id}}) that match a request path. */
    private String allowedMethods(String path) {
        String[] segments = path.split("/", -1);
        Set<String> methods = new TreeSet<>();
        for (Map.Entry<String, Set<String>> e : methodsByRoute.entrySet()) {
            String[] template = e.getKey().split("/", -1);
            boolean match = template.length == segments.length;
            for (int i = 0; match && i < template.length; i++) {
                match = template[i].startsWith("{") || template[i].equals(segments[i]);
            }
            if (match) {
                methods.addAll(e.getValue());
                if (e.getValue().contains("GET")) {
                    methods.add("HEAD"); // Jetty answers HEAD wherever GET is served
                }
            }
        }
        return String.join(", ", methods);
    }

    private void health(Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("model_version", scorer.modelVersion());
        m.put("threshold", scorer.threshold());
        m.put("recordings", recordings.size());
        m.put("data", dataName);
        m.put("live", live != null);
        m.put("auth", tokens != null);
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("max_body_bytes", MAX_BODY_BYTES);
        limits.put("max_beats", MAX_BEATS);
        limits.put("max_concurrent_requests", options.maxConcurrentRequests());
        limits.put("body_memory_bytes", bodyBudget.capacity());
        limits.put("idle_timeout_seconds", options.idleTimeout().toSeconds());
        m.put("limits", limits);
        // counts only, for load balancers and tests: how close the server is to its limits
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("requests_in_flight", guard.inFlight());
        load.put("body_bytes_held", bodyBudget.held());
        m.put("load", load);
        ctx.json(m);
    }

    private void predict(Context ctx) {
        PredictRequest req = PredictRequest.parse(RequestBodies.bytes(ctx), MAX_BEATS);
        Analysis a = scoring(() -> Analysis.of(scorer, req.sequence()));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("study", req.study());
        m.put("anomaly_proba", a.proba());
        m.put("anomaly_thresh", scorer.threshold());
        m.put("errors", a.artifact());
        m.put("episodes", a.episodesJson());
        m.put("explanations", scoring(() -> a.explanationsJson(scorer, req.sequence())));
        m.put("model_version", scorer.modelVersion());
        ctx.json(m);
    }

    /** Same output as {@code bin/cardiospike score}: the same reader, scorer and writer. */
    private void predictCsv(Context ctx) throws IOException {
        RrCsv.Table table = RequestBodies.csv(ctx);
        List<double[]> proba = new ArrayList<>(table.recordings().size());
        for (Recording r : table.recordings()) {
            proba.add(scoring(() -> scorer.scoreRecording(r.rr()).proba()));
        }
        StringWriter out = new StringWriter();
        RrCsv.writeScores(out, table, proba, proba.stream().map(scorer::decide).toList());
        ctx.contentType("text/csv; charset=utf-8").result(out.toString());
    }

    private void listRecordings(Context ctx) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Recording r : recordings.values()) {
            list.add(recordingCounts.computeIfAbsent(r.id(), id -> scoring(() -> Analysis.counts(scorer, r))));
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
        ctx.json(scoring(() -> Analysis.recordingJson(scorer, r)));
    }

    /** A CSV for the dashboard: every recording in it, scored, in the shape of {@code /api/v1/recordings/{id}}. */
    private void analyze(Context ctx) throws IOException {
        RrCsv.Table table = RequestBodies.csv(ctx);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Recording r : table.recordings()) {
            list.add(scoring(() -> Analysis.recordingJson(scorer, r)));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_version", scorer.modelVersion());
        m.put("threshold", scorer.threshold());
        m.put("recordings", list);
        ctx.json(m);
    }

    /** Runs one scorer call in a scoring slot (per recording, so a large CSV does not hold a slot for all). */
    private <T> T scoring(Supplier<T> call) {
        try {
            scoringSlots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.busy("server stopping", RequestGuard.RETRY_AFTER_SECONDS);
        }
        try {
            return call.get();
        } finally {
            scoringSlots.release();
        }
    }

    private void livePatient(Context ctx) {
        String json = live().patientJson(ctx.pathParam("id"));
        if (json == null) {
            throw new ApiException(404, "no live data for this patient").with("patient_id", ctx.pathParam("id"));
        }
        ctx.contentType("application/json").result(json);
    }

    /**
     * Streams the patient list, alerts and (with {@code ?patient=}) one patient's snapshot and new beats. Only with
     * the live view on: its route answers 404 before the stream begins.
     */
    private void liveEvents(io.javalin.http.sse.SseClient client) {
        String patient = client.ctx().queryParam("patient");
        LiveFeed.Subscriber sub = live.subscribe(patient == null || patient.isBlank() ? null : patient);
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
            live.unsubscribe(sub);
        }
    }

    private LiveFeed live() {
        if (live == null) {
            throw new ApiException(404, "live view is off: the server was started without --bootstrap-servers");
        }
        return live;
    }

    /** The matched route template ({@code /api/v1/recordings/{id}}), so that logs never carry the ids in paths. */
    private static String route(Context ctx) {
        try {
            return ctx.endpointHandlerPath();
        } catch (IllegalStateException e) { // static files and unmatched paths have no endpoint
            return "(no route)";
        }
    }

    static byte[] resource(String name) {
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
