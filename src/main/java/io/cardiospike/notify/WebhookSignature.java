package io.cardiospike.notify;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@value #HEADER} header: {@code sha256=} and the lower-case hex HMAC-SHA256 of the exact request body under the
 * shared secret, as GitHub's and Stripe's webhooks sign theirs. {@link #toString} never shows the secret.
 */
public final class WebhookSignature {
    public static final String HEADER = "X-CardioSpike-Signature";
    static final String PREFIX = "sha256=";
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    /** {@code secret}: the secret file's text, trimmed (a trailing newline is no part of it). */
    public WebhookSignature(String secret) {
        String trimmed = secret.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("the webhook secret is empty");
        }
        key = new SecretKeySpec(trimmed.getBytes(StandardCharsets.UTF_8), ALGORITHM);
    }

    /** The header's value for {@code body}. */
    public String sign(byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return PREFIX + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is part of every JDK", e);
        }
    }

    /** Whether {@code header} signs {@code body}; compared in constant time, as a receiver must. */
    public boolean verifies(byte[] body, String header) {
        return header != null && MessageDigest.isEqual(sign(body).getBytes(StandardCharsets.US_ASCII),
                header.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "WebhookSignature[HMAC-SHA256, secret hidden]";
    }
}
