package io.cardiospike.api;

import java.util.LinkedHashMap;
import java.util.Map;

/** A client error: becomes {@code {"error": message, ...details}} with a 4xx status. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final Map<String, Object> details = new LinkedHashMap<>();
    private Integer retryAfterSeconds;

    public ApiException(int status, String message) {
        super(message, null, false, false); // no stack trace: these are expected, not bugs
        this.status = status;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    public static ApiException invalid(String field, String message) {
        return new ApiException(422, message).with("field", field);
    }

    public static ApiException tooLarge(String message, long limit) {
        return new ApiException(413, message).with("limit", limit);
    }

    /** 503: the server is at a limit of its own; the client may retry after {@code seconds}. */
    public static ApiException busy(String message, int seconds) {
        ApiException e = new ApiException(503, message);
        e.retryAfterSeconds = seconds;
        return e;
    }

    /** Seconds for a Retry-After header, or null for none. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public ApiException with(String key, Object value) {
        details.put(key, value);
        return this;
    }

    public int status() {
        return status;
    }

    public Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", getMessage());
        body.put("status", status);
        body.putAll(details);
        return body;
    }
}
