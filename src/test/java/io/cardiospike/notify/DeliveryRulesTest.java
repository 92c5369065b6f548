package io.cardiospike.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rules of one delivery: the signature, Retry-After, the backoff and what each answer means. */
class DeliveryRulesTest {
    static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    @Test
    void theSignatureIsRfc4231sHmacSha256OfTheExactBody() {
        // RFC 4231, test case 2: key "Jefe"
        WebhookSignature s = new WebhookSignature("Jefe\n"); // the file's trailing newline is no part of the secret
        byte[] body = "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII);
        String expected = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assertThat(s.sign(body)).isEqualTo(expected);
        assertThat(s.verifies(body, expected)).isTrue();
        assertThat(s.verifies("what do ya want for nothing? ".getBytes(StandardCharsets.US_ASCII), expected)).isFalse();
        assertThat(s.verifies(body, expected.toUpperCase())).isFalse();
        assertThat(s.verifies(body, null)).isFalse();
        assertThat(new WebhookSignature("Jefx").verifies(body, expected)).isFalse();
        assertThat(s.toString()).doesNotContain("Jefe");
        assertThatThrownBy(() -> new WebhookSignature(" \n")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void retryAfterIsSecondsOrAnHttpDate() {
        assertThat(RetryAfter.parse("120", NOW)).contains(Duration.ofSeconds(120));
        assertThat(RetryAfter.parse(" 0 ", NOW)).contains(Duration.ZERO);
        assertThat(RetryAfter.parse("Thu, 03 Dec 2026 12:00:30 GMT", NOW)).contains(Duration.ofSeconds(30));
        assertThat(RetryAfter.parse("Thu, 03 Dec 2026 11:00:00 GMT", NOW)).contains(Duration.ZERO); // past
        assertThat(RetryAfter.parse(null, NOW)).isEmpty();
        assertThat(RetryAfter.parse("", NOW)).isEmpty();
        assertThat(RetryAfter.parse("-5", NOW)).isEmpty();
        assertThat(RetryAfter.parse("1.5", NOW)).isEmpty();
        assertThat(RetryAfter.parse("tomorrow", NOW)).isEmpty();
        assertThat(RetryAfter.parse("99999999999999999999999", NOW)).isEmpty();
    }

    @Test
    void backoffDoublesWithinHalfJitterUpToItsCap() {
        DeliveryPolicy p = new DeliveryPolicy(Duration.ofSeconds(10), Duration.ofHours(24), Duration.ofSeconds(1),
                Duration.ofSeconds(60));
        assertThat(p.backoff(1, 0.0)).isEqualTo(Duration.ofMillis(500));
        assertThat(p.backoff(1, 0.999)).isBetween(Duration.ofMillis(999), Duration.ofMillis(1000));
        assertThat(p.backoff(2, 0.0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.backoff(3, 0.5)).isEqualTo(Duration.ofSeconds(3)); // 4 s: 2 + 0.5 * 2
        assertThat(p.backoff(7, 0.0)).isEqualTo(Duration.ofSeconds(30)); // 64 s capped at 60
        assertThat(p.backoff(1000, 0.999)).isLessThanOrEqualTo(Duration.ofSeconds(60)).isGreaterThan(Duration.ofSeconds(59));
        for (int attempt = 1; attempt < 12; attempt++) {
            assertThat(p.backoff(attempt + 1, 0.0)).isGreaterThanOrEqualTo(p.backoff(attempt, 0.0));
        }
    }

    @Test
    void answersAreDeliveredRetriedOrRefused() {
        WebhookDelivery d = new WebhookDelivery(Optional.empty(), Duration.ofSeconds(1), Clock.fixed(NOW, ZoneOffset.UTC));
        assertThat(d.classify(200, null)).isInstanceOf(WebhookDelivery.Outcome.Delivered.class);
        assertThat(d.classify(204, null)).isInstanceOf(WebhookDelivery.Outcome.Delivered.class);
        assertThat(d.classify(500, "7")).isEqualTo(new WebhookDelivery.Outcome.Retry("HTTP 500", Optional.empty()));
        assertThat(d.classify(408, null)).isInstanceOf(WebhookDelivery.Outcome.Retry.class);
        assertThat(d.classify(429, "7")).isEqualTo(new WebhookDelivery.Outcome.Retry("HTTP 429",
                Optional.of(Duration.ofSeconds(7))));
        assertThat(d.classify(503, "Thu, 03 Dec 2026 12:01:00 GMT")).isEqualTo(new WebhookDelivery.Outcome.Retry(
                "HTTP 503", Optional.of(Duration.ofMinutes(1))));
        assertThat(d.classify(429, null)).isEqualTo(new WebhookDelivery.Outcome.Retry("HTTP 429", Optional.empty()));
        assertThat(d.classify(400, null)).isEqualTo(new WebhookDelivery.Outcome.Refused("HTTP 400"));
        assertThat(d.classify(401, null)).isInstanceOf(WebhookDelivery.Outcome.Refused.class);
        assertThat(d.classify(301, null)).isInstanceOf(WebhookDelivery.Outcome.Refused.class);
    }

    @Test
    void metricsCountAndExposeLatency() {
        NotifyMetrics m = new NotifyMetrics();
        m.delivered(80);
        m.delivered(3_000);
        m.retried.incrementAndGet();
        String text = m.prometheus();
        assertThat(text).contains("cardiospike_notify_delivered_total 2\n", "cardiospike_notify_retried_total 1\n",
                "cardiospike_notify_delivery_latency_seconds_bucket{le=\"0.1\"} 1\n",
                "cardiospike_notify_delivery_latency_seconds_bucket{le=\"5.0\"} 2\n",
                "cardiospike_notify_delivery_latency_seconds_count 2\n",
                "cardiospike_notify_delivery_latency_seconds_sum 3.08\n");
        assertThat(m.statusLine()).isEqualTo(
                "notify: delivered 2, retried 1, undelivered 0, skipped 0; latency mean 1.54 s, max 3.00 s");
    }
}
