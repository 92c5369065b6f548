package io.cardiospike.notify;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** HTTP's {@code Retry-After} (RFC 9110 10.2.3): delay-seconds, or an HTTP-date. */
public final class RetryAfter {
    private RetryAfter() {}

    /**
     * How long to wait from {@code now}; empty when the value is missing or neither form (the backoff applies then).
     * A date in the past is zero.
     */
    public static Optional<Duration> parse(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        String v = value.strip();
        if (v.chars().allMatch(Character::isDigit)) {
            try {
                return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
            } catch (NumberFormatException e) {
                return Optional.empty(); // more digits than a long: no sensible delay
            }
        }
        try {
            // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the form senders must use
            Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration d = Duration.between(now, at);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
