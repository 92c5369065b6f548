package io.cardiospike.api;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bearer tokens the API accepts, read once from a file: one token a line; blank lines and lines starting with
 * {@code #} are ignored. Only SHA-256 digests are kept, compared in constant time, and no message ever contains a
 * token (errors name the line).
 */
public final class BearerTokens {
    private static final Logger LOG = LoggerFactory.getLogger(BearerTokens.class);

    /** Shortest token accepted: a guessable token would not protect patient data. */
    public static final int MIN_TOKEN_CHARS = 16;
    /** RFC 6750's b64token: what may follow "Bearer " in an Authorization header. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/-]+=*");

    private final List<byte[]> digests;

    private BearerTokens(List<byte[]> digests) {
        this.digests = digests;
    }

    /** A token file the server cannot use: missing, unreadable, empty, or with a line that is no valid token. */
    public static final class TokenFileException extends Exception {
        TokenFileException(String message) {
            super(message);
        }
    }

    public static BearerTokens read(Path file) throws TokenFileException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new TokenFileException("auth token file " + file + ": no such file");
        } catch (MalformedInputException e) {
            throw new TokenFileException("auth token file " + file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new TokenFileException("auth token file " + file + ": cannot read it ("
                    + e.getClass().getSimpleName() + ")");
        }
        List<byte[]> digests = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "auth token file " + file + ":" + (i + 1) + ": ";
            if (!TOKEN.matcher(line).matches()) {
                throw new TokenFileException(where + "not a bearer token (allowed: letters, digits and -._~+/, "
                        + "then '=' padding; one token a line)");
            }
            if (line.length() < MIN_TOKEN_CHARS) {
                throw new TokenFileException(where + "token shorter than " + MIN_TOKEN_CHARS + " characters");
            }
            digests.add(sha256(line));
        }
        if (digests.isEmpty()) {
            throw new TokenFileException("auth token file " + file + ": no token in it (one token a line; "
                    + "blank lines and # comments are ignored)");
        }
        warnIfOthersCanRead(file);
        return new BearerTokens(List.copyOf(digests));
    }

    /** How many tokens the file held (for the startup log line; never the tokens). */
    public int size() {
        return digests.size();
    }

    /** Whether an Authorization header value is "Bearer <one of the tokens>" (scheme case-insensitive). */
    public boolean accepts(String authorization) {
        if (authorization == null || authorization.length() < 7
                || !authorization.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
            return false;
        }
        byte[] presented = sha256(authorization.substring(7).strip());
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, presented); // no early exit: the time says nothing about the tokens
        }
        return match;
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static void warnIfOthersCanRead(Path file) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.contains(PosixFilePermission.OTHERS_READ) || p.contains(PosixFilePermission.GROUP_READ)) {
                LOG.warn("auth token file {} is readable by other users; chmod 600 it", file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }
}
