package io.cardiospike.notify;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * One attempt to hand an alert to its receiver (the JDK's HttpClient, one request at a time) and what the answer
 * means: delivered (2xx), worth another try (5xx, 408, 429, a timeout, a connection error; with the server's
 * {@code Retry-After} on 429 and 503) or refused for good (any other status: the receiver will not take this body).
 * Headers: {@code Idempotency-Key}, and {@value WebhookSignature#HEADER} when there is a secret.
 */
public final class WebhookDelivery {
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    /** What one attempt came to. */
    public sealed interface Outcome {
        /** A 2xx. */
        record Delivered(int status) implements Outcome {}

        /** Try again, after {@code retryAfter} when the server named a time. */
        record Retry(String error, Optional<Duration> retryAfter) implements Outcome {}

        /** Not retryable: the record goes to the undelivered topic at once. */
        record Refused(String error) implements Outcome {}
    }

    private final HttpClient http;
    private final Optional<WebhookSignature> signature;
    private final Duration timeout;
    private final Clock clock;

    public WebhookDelivery(Optional<WebhookSignature> signature, Duration timeout) {
        this(signature, timeout, Clock.systemUTC());
    }

    WebhookDelivery(Optional<WebhookSignature> signature, Duration timeout, Clock clock) {
        this.http = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER) // a signed body goes where it was told, nowhere else
                .build();
        this.signature = signature;
        this.timeout = timeout;
        this.clock = clock;
    }

    public Outcome attempt(AlertFormat.Payload payload, String idempotencyKey) throws InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(payload.uri())
                .timeout(timeout)
                .header("Content-Type", payload.contentType())
                .header(IDEMPOTENCY_KEY, idempotencyKey)
                .header("User-Agent", "cardiospike-notify")
                .method(payload.method(), HttpRequest.BodyPublishers.ofByteArray(payload.body()));
        signature.ifPresent(s -> request.header(WebhookSignature.HEADER, s.sign(payload.body())));
        if ("http".equalsIgnoreCase(payload.uri().getScheme())) {
            // no h2c upgrade on plain HTTP: some servers and proxies mishandle an Upgrade on a request with a body
            request.version(HttpClient.Version.HTTP_1_1);
        }
        HttpResponse<Void> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
        } catch (HttpTimeoutException e) {
            return new Outcome.Retry("timeout: no answer within " + timeout.toMillis() + " ms", Optional.empty());
        } catch (ConnectException e) {
            return new Outcome.Retry("connection failed: " + message(e), Optional.empty());
        } catch (IOException e) {
            return new Outcome.Retry("I/O error: " + message(e), Optional.empty());
        }
        return classify(response.statusCode(), response.headers().firstValue("Retry-After").orElse(null));
    }

    /** What an answer's status means for the record. */
    Outcome classify(int status, String retryAfter) {
        if (status >= 200 && status < 300) {
            return new Outcome.Delivered(status);
        }
        String error = "HTTP " + status;
        if (status == 429 || status == 503) {
            return new Outcome.Retry(error, RetryAfter.parse(retryAfter, clock.instant()));
        }
        if (status >= 500 || status == 408) {
            return new Outcome.Retry(error, Optional.empty());
        }
        return new Outcome.Refused(status >= 300 && status < 400
                ? error + " (redirects are not followed: give the final URL)" : error);
    }

    private static String message(Exception e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
