package io.cardiospike.notify;

import java.time.Duration;

/**
 * When to try a record again: exponential backoff from {@link #initialBackoff}, doubling per failed attempt up to
 * {@link #maxBackoff}, with "equal jitter" (a uniformly random half of it on top of the other half), so that many
 * notifiers behind one receiver that fails do not retry in step; a server's {@code Retry-After} replaces it.
 * {@link #timeout}: one attempt's limit (connect and response headers); {@link #giveUp}: how long after its first
 * attempt a record may still be tried.
 */
public record DeliveryPolicy(Duration timeout, Duration giveUp, Duration initialBackoff, Duration maxBackoff) {
    public static final Duration INITIAL_BACKOFF = Duration.ofSeconds(1);
    public static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

    public DeliveryPolicy {
        if (timeout.isNegative() || timeout.isZero() || giveUp.isNegative() || initialBackoff.isNegative()
                || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("timeout and backoff must be positive, give-up not negative");
        }
    }

    public static DeliveryPolicy of(Duration timeout, Duration giveUp) {
        return new DeliveryPolicy(timeout, giveUp, INITIAL_BACKOFF, MAX_BACKOFF);
    }

    /**
     * The wait after failed attempt number {@code attempt} (1 = the first), {@code random} uniform in [0, 1): within
     * [d/2, d) where d = min(initial * 2^(attempt-1), max).
     */
    public Duration backoff(int attempt, double random) {
        long initial = initialBackoff.toMillis(), cap = maxBackoff.toMillis();
        int doublings = Math.min(Math.max(attempt - 1, 0), 40); // 2^40 s is far past any cap
        long d = Math.min(cap, initial << Math.min(doublings, Long.numberOfLeadingZeros(initial) - 1));
        return Duration.ofMillis(d / 2 + (long) (random * (d - d / 2)));
    }
}
