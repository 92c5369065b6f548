package io.cardiospike.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.wire.StreamJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The demo's status line, from what the job saw: every beat on {@code rr-events} (whoever sent it), what came out of
 * it (scored or dead-lettered), and for the rest why it waits. A beat of a patient who is still sending waits for its
 * lookahead (the next beats) and then for the checkpoint that commits it; a patient who went quiet has the rest of
 * their beats scored by the idle flush.
 */
final class DemoStatus {
    /** A patient with no beat for this long is quiet: their pending beats wait for the idle flush, not the lookahead. */
    static final Duration QUIET = Duration.ofSeconds(2);

    private final int lookahead;
    private final Duration idleFlush;
    private final Map<String, Patient> patients = new ConcurrentHashMap<>();
    private volatile long in, scored, deadLetters, alerts;

    private static final class Patient {
        long in, out, lastInNanos;
    }

    DemoStatus(int lookahead, Duration idleFlush) {
        this.lookahead = lookahead;
        this.idleFlush = idleFlush;
    }

    /** A record on {@code rr-events}: one beat, or a burst of several. */
    synchronized void input(String patient, JsonNode value, long nowNanos) {
        int beats = beats(value);
        Patient p = patient(patient);
        p.in += beats;
        p.lastInNanos = nowNanos;
        in += beats;
    }

    synchronized void scored(String patient) {
        patient(patient).out++;
        scored++;
    }

    /** A dead letter: its raw input record's beats are out of the pipeline. */
    synchronized void deadLetter(String patient, JsonNode deadLetter) {
        int beats = 1;
        try {
            beats = beats(StreamJson.read(deadLetter.path("raw_value").asText().getBytes(StandardCharsets.UTF_8)));
        } catch (java.io.UncheckedIOException notJson) {
            // a record that was not JSON held no beats we can count; one
        }
        if (patient != null) {
            patient(patient).out += beats;
        }
        deadLetters++;
    }

    synchronized void alert() {
        alerts++;
    }

    long in() {
        return in;
    }

    long scored() {
        return scored;
    }

    long deadLetters() {
        return deadLetters;
    }

    long alerts() {
        return alerts;
    }

    /** Beats in and not yet out, by why they wait. */
    record Waiting(long lookahead, long toCommit, long idleFlush, Duration idleFlushWithin) {
        long total() {
            return lookahead + toCommit + idleFlush;
        }
    }

    synchronized Waiting waiting(long nowNanos) {
        long forLookahead = 0, toCommit = 0, forFlush = 0;
        long flushWithinNanos = 0;
        for (Patient p : patients.values()) {
            long pending = Math.max(0, p.in - p.out);
            if (pending == 0) {
                continue;
            }
            long silentNanos = nowNanos - p.lastInNanos;
            if (silentNanos >= QUIET.toNanos()) {
                forFlush += pending;
                flushWithinNanos = Math.max(flushWithinNanos, Math.max(0, idleFlush.toNanos() - silentNanos));
            } else {
                long lookaheadBeats = Math.min(pending, lookahead);
                forLookahead += lookaheadBeats;
                toCommit += pending - lookaheadBeats;
            }
        }
        return new Waiting(forLookahead, toCommit, forFlush, Duration.ofNanos(flushWithinNanos));
    }

    /** {@code in 15,034 (20/s) | scored 14,800 | alerts 3 | dlq 0 | waiting 234: 160 for lookahead, 74 to commit}. */
    String line(double inRate, long nowNanos) {
        Waiting w = waiting(nowNanos);
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "in %,d (%,.0f/s) | scored %,d | %s | dlq %,d | waiting %,d", in, inRate, scored,
                plural(alerts, "alert"), deadLetters, w.total()));
        String sep = ": ";
        if (w.lookahead() > 0) {
            s.append(sep).append(String.format(Locale.ROOT, "%,d for lookahead", w.lookahead()));
            sep = ", ";
        }
        if (w.toCommit() > 0) {
            s.append(sep).append(String.format(Locale.ROOT, "%,d to commit", w.toCommit()));
            sep = ", ";
        }
        if (w.idleFlush() > 0) {
            s.append(sep).append(String.format(Locale.ROOT, "%,d for the idle flush (within %d s)", w.idleFlush(),
                    (w.idleFlushWithin().toMillis() + 999) / 1000));
        }
        return s.toString();
    }

    static String plural(long n, String noun) {
        return String.format(Locale.ROOT, "%,d %s%s", n, noun, n == 1 ? "" : "s");
    }

    /** Beats in an {@code rr-events} value: {@code rr_ms} a number (1) or an array (its length); anything else 1. */
    static int beats(JsonNode value) {
        JsonNode rr = value == null ? null : value.path("rr_ms");
        return rr != null && rr.isArray() ? Math.max(1, rr.size()) : 1;
    }

    private Patient patient(String id) {
        return patients.computeIfAbsent(id == null ? "" : id, k -> new Patient());
    }
}
