package io.cardiospike.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every request passes before Javalin sees it: the bearer token (401), the bound on requests in progress (503
 * with Retry-After at once, rather than a queue without limit) and the request's share of the {@link BodyBudget}.
 * A servlet filter, so that a refused request costs no routing, no body read and no handler.
 */
final class RequestGuard implements Filter {
    static final String EVENTS_PATH = "/api/v1/live/events";
    /** Seconds a refused client should wait: one scoring round on a busy server. */
    static final int RETRY_AFTER_SECONDS = 1;

    /** Paths without patient data, open without a token: the pages, their assets, this API's description. */
    private static final Set<String> OPEN_PATHS = Set.of("/health", "/", "/index.html", "/app.js", "/app.css",
            "/docs", "/docs.html", "/openapi.json", "/favicon.ico");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BearerTokens tokens; // null: authentication off
    private final int maxInFlight;
    private final Semaphore inFlight;
    private final BodyBudget budget;

    RequestGuard(BearerTokens tokens, int maxInFlight, BodyBudget budget) {
        this.tokens = tokens;
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        this.budget = budget;
    }

    /** Requests in progress now (event streams included, {@code /health} not). */
    int inFlight() {
        return maxInFlight - inFlight.availablePermits();
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse res = (HttpServletResponse) response;
        String path = req.getRequestURI(); // raw, as Javalin routes it; anything not known to be open needs a token
        if (tokens != null && !isOpen(path)) {
            String authorization = req.getHeader("Authorization");
            if (!tokens.accepts(authorization)) {
                // RFC 6750: a presented but unknown token is "invalid_token"; no token at all gets the bare challenge
                res.setHeader("WWW-Authenticate", authorization == null ? "Bearer realm=\"cardiospike\""
                        : "Bearer realm=\"cardiospike\", error=\"invalid_token\"");
                refuse(res, new ApiException(401, authorization == null
                        ? "authentication required: send 'Authorization: Bearer <token>'"
                        : "invalid bearer token"));
                return;
            }
        }
        String route = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        if (route.equals("/health")) { // liveness probes get an answer even at the bound
            chain.doFilter(req, res);
            return;
        }
        if (!inFlight.tryAcquire()) {
            res.setHeader("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
            refuse(res, new ApiException(503, "server busy: " + maxInFlight + " requests in progress; retry after "
                    + RETRY_AFTER_SECONDS + " s").with("limit", maxInFlight));
            return;
        }
        BodyBudget.Reservation reservation = budget.open();
        req.setAttribute(BodyBudget.ATTRIBUTE, reservation);
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                reservation.close();
                inFlight.release();
            }
        };
        GuardedRequest guarded = new GuardedRequest(req, route.equals(EVENTS_PATH), new ReleaseOnEnd(release));
        try {
            chain.doFilter(guarded, res);
        } finally {
            if (!guarded.asyncStarted) { // an event stream holds its slot until it ends (ReleaseOnEnd)
                release.run();
            }
        }
    }

    private static boolean isOpen(String path) {
        // webjars (Plotly, Swagger UI): a plain relative path only, so that no dot segment or escape reaches a route
        return OPEN_PATHS.contains(path) || (path.startsWith("/webjars/") && !path.contains("..")
                && !path.contains("%") && !path.contains(";"));
    }

    private static void refuse(HttpServletResponse res, ApiException e) throws IOException {
        res.setStatus(e.status());
        res.setContentType("application/json");
        res.setCharacterEncoding("UTF-8");
        res.getOutputStream().write(JSON.writeValueAsBytes(e.body()));
    }

    /** The request as Javalin sees it: knows when it went asynchronous (an event stream). */
    private static final class GuardedRequest extends HttpServletRequestWrapper {
        private final boolean eventStream;
        private final AsyncListener onEnd;
        private boolean asyncStarted;

        GuardedRequest(HttpServletRequest req, boolean eventStream, AsyncListener onEnd) {
            super(req);
            this.eventStream = eventStream;
            this.onEnd = onEnd;
        }

        // Javalin's event stream answers only "Accept: text/event-stream" and else sends an empty text/plain 200;
        // this endpoint has nothing else to offer, so it streams whatever the client accepts.
        @Override
        public String getHeader(String name) {
            return eventStream && "accept".equalsIgnoreCase(name) ? "text/event-stream" : super.getHeader(name);
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            return eventStream && "accept".equalsIgnoreCase(name)
                    ? Collections.enumeration(Set.of("text/event-stream")) : super.getHeaders(name);
        }

        // The listener goes on before the handler can finish the stream, so no end is missed.
        @Override
        public AsyncContext startAsync() {
            return listened(super.startAsync());
        }

        @Override
        public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
            return listened(super.startAsync(request, response));
        }

        private AsyncContext listened(AsyncContext context) {
            if (!asyncStarted) {
                context.addListener(onEnd);
                asyncStarted = true;
            }
            return context;
        }
    }

    private record ReleaseOnEnd(Runnable release) implements AsyncListener {
        @Override
        public void onComplete(AsyncEvent event) {
            release.run();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            release.run();
        }

        @Override
        public void onError(AsyncEvent event) {
            release.run();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this); // a restarted async cycle drops its listeners
        }
    }
}
