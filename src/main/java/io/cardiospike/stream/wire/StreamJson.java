package io.cardiospike.stream.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.model.Explanation;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.records.DeadLetter;
import io.cardiospike.stream.records.DeadLetter.Reason;
import io.cardiospike.stream.records.RrInput;
import io.cardiospike.stream.records.ScoredBeat;
import io.cardiospike.stream.records.ShadowScore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire formats of the streaming job, in one place: parsing {@code rr-events} values (one beat or a burst) and
 * writing {@code rr-scores}, {@code rr-scores-shadow}, {@code rr-alerts} and {@code rr-dlq} values (reasons: {@link DeadLetter.Reason}). Parsing never throws: every problem
 * becomes a reject with a reason, so bad input ends in the dead-letter topic instead of failing the job.
 */
public final class StreamJson {
    /**
     * Event times no device sends: before 2000 (a clock never set, or seconds where milliseconds belong) or after
     * 2100 (microseconds, or an overflow). Times ahead of the job's clock are checked where there is one
     * ({@code RejectRouter}).
     */
    public static final long MIN_TS = 946_684_800_000L; // 2000-01-01T00:00:00Z
    public static final long MAX_TS = 4_102_444_800_000L; // 2100-01-01T00:00:00Z

    /** Bounds that keep one record from blowing up state or memory. */
    public static final int MAX_BURST_BEATS = 10_000;
    public static final int MAX_PATIENT_ID_LENGTH = 200;
    /**
     * A dead letter keeps at most this much of the raw key and value (characters each), so that it always fits in a
     * Kafka record (1 MB by default) whatever came in; {@code origin} still names the whole record in {@code rr-events}.
     */
    public static final int MAX_RAW_CHARS = 65_536;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory FACTORY = MAPPER.getFactory();

    private StreamJson() {}

    /** Parses one {@code rr-events} record into its beats, or into a single reject. */
    public static List<RrInput> parseEvent(byte[] key, byte[] value, String origin) {
        String rawKey = key == null ? null : new String(key, StandardCharsets.UTF_8);
        if (value == null || value.length == 0) {
            return List.of(RrInput.reject(Reason.MALFORMED_JSON, "empty value", null, rawKey, text(value), origin));
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(value);
        } catch (IOException e) {
            return List.of(RrInput.reject(Reason.MALFORMED_JSON, "not valid JSON", null, rawKey, text(value), origin));
        }
        if (root == null || !root.isObject()) {
            return List.of(RrInput.reject(Reason.MALFORMED_JSON, "value is not a JSON object", null, rawKey, text(value),
                    origin));
        }
        JsonNode id = root.get("patient_id");
        String patientId = id != null && id.isTextual() ? id.textValue() : null;
        String problem = null;
        if (id == null || id.isNull()) {
            problem = "patient_id missing";
        } else if (patientId == null || patientId.isBlank()) {
            problem = "patient_id must be a non-empty string";
        } else if (patientId.length() > MAX_PATIENT_ID_LENGTH) {
            problem = "patient_id longer than " + MAX_PATIENT_ID_LENGTH + " characters";
        }
        if (problem != null) {
            return List.of(RrInput.reject(Reason.INVALID_FIELD, problem, null, rawKey, text(value), origin));
        }
        if (rawKey != null && !rawKey.equals(patientId)) {
            return List.of(RrInput.reject(Reason.KEY_MISMATCH, "record key differs from patient_id", patientId, rawKey,
                    text(value), origin));
        }
        JsonNode ts = root.get("ts");
        if (ts == null || ts.isNull()) {
            problem = "ts missing";
        } else if (!ts.isIntegralNumber() || !ts.canConvertToLong() || ts.longValue() <= 0) {
            problem = "ts must be a positive integer (epoch ms)";
        }
        JsonNode rr = root.get("rr_ms");
        if (problem == null) {
            problem = checkRr(rr);
        }
        if (problem != null) {
            return List.of(RrInput.reject(Reason.INVALID_FIELD, problem, patientId, rawKey, text(value), origin));
        }
        long t = ts.longValue();
        if (t < MIN_TS) {
            return List.of(RrInput.reject(Reason.IMPLAUSIBLE_TS, "ts before 2000-01-01: a device clock never set, or "
                    + "seconds instead of milliseconds", patientId, rawKey, text(value), origin));
        }
        if (!rr.isArray()) {
            return t > MAX_TS ? List.of(RrInput.reject(Reason.IMPLAUSIBLE_TS, TS_AFTER_2100, patientId, rawKey, text(value),
                    origin)) : List.of(RrInput.beat(patientId, t, rr.doubleValue()));
        }
        List<RrInput> beats = new ArrayList<>(rr.size());
        for (int k = 0; k < rr.size(); k++) {
            double v = rr.get(k).doubleValue();
            if (k > 0) {
                t += Math.round(Math.min(v, MAX_TS)); // RR k is the interval that ends at beat k (CardioSpike)
            }
            if (t > MAX_TS) { // the whole record: its beats are either all scored or all in the DLQ
                return List.of(RrInput.reject(Reason.IMPLAUSIBLE_TS, TS_AFTER_2100 + " (within the burst)", patientId, rawKey,
                        text(value), origin));
            }
            beats.add(RrInput.beat(patientId, t, v));
        }
        return beats;
    }

    private static final String TS_AFTER_2100 = "ts after 2100-01-01: microseconds instead of milliseconds?";

    /** The raw value as text, decoded only for a dead letter (a valid beat never needs it). */
    private static String text(byte[] value) {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    private static String checkRr(JsonNode rr) {
        if (rr == null || rr.isNull()) {
            return "rr_ms missing";
        }
        if (rr.isArray()) {
            if (rr.isEmpty()) {
                return "rr_ms burst is empty";
            }
            if (rr.size() > MAX_BURST_BEATS) {
                return "rr_ms burst longer than " + MAX_BURST_BEATS + " beats";
            }
            for (JsonNode v : rr) {
                if (!isPositiveNumber(v)) {
                    return "rr_ms burst values must be positive numbers";
                }
            }
            return null;
        }
        return isPositiveNumber(rr) ? null : "rr_ms must be a positive number or an array of them";
    }

    private static boolean isPositiveNumber(JsonNode v) {
        return v.isNumber() && Double.isFinite(v.doubleValue()) && v.doubleValue() > 0;
    }

    /** A single beat as an {@code rr-events} value (the replay producer's and the DLQ's form of a beat). */
    public static byte[] event(String patientId, long ts, double rrMs) {
        return write(g -> {
            g.writeStringField("patient_id", patientId);
            g.writeNumberField("ts", ts);
            writeRr(g, "rr_ms", rrMs);
        });
    }

    public static byte[] score(ScoredBeat s) {
        return write(g -> {
            g.writeStringField("patient_id", s.patientId);
            g.writeNumberField("ts", s.ts);
            writeRr(g, "rr_ms", s.rrMs);
            g.writeNumberField("proba", s.proba);
            g.writeBooleanField("anomaly", s.anomaly);
            g.writeBooleanField("artifact", s.artifact);
            g.writeStringField("model_version", s.modelVersion);
        });
    }

    /**
     * An {@code rr-scores-shadow} value: the beat, then each model's version, probability and flag,
     * {@code {"patient_id":..,"ts":..,"rr_ms":..,"artifact":..,"live":{"model_version":..,"proba":..,"anomaly":..},
     * "shadow":{...}}}.
     */
    public static byte[] shadowScore(ShadowScore s) {
        return write(g -> {
            g.writeStringField("patient_id", s.patientId);
            g.writeNumberField("ts", s.ts);
            writeRr(g, "rr_ms", s.rrMs);
            g.writeBooleanField("artifact", s.artifact);
            writeModelScore(g, "live", s.liveModelVersion, s.liveProba, s.liveAnomaly);
            writeModelScore(g, "shadow", s.shadowModelVersion, s.shadowProba, s.shadowAnomaly);
        });
    }

    private static void writeModelScore(JsonGenerator g, String field, String version, double proba, boolean anomaly)
            throws IOException {
        g.writeObjectFieldStart(field);
        g.writeStringField("model_version", version);
        g.writeNumberField("proba", proba);
        g.writeBooleanField("anomaly", anomaly);
        g.writeEndObject();
    }

    public static byte[] alert(AnomalyAlert a) {
        return write(g -> {
            g.writeStringField("alert_id", a.alertId);
            g.writeStringField("status", a.status);
            g.writeStringField("patient_id", a.patientId);
            g.writeNumberField("start_ts", a.startTs);
            g.writeNumberField("end_ts", a.endTs);
            g.writeNumberField("beats", a.beats);
            g.writeNumberField("max_proba", a.maxProba);
            g.writeNumberField("mean_proba", a.meanProba);
            g.writeStringField("model_version", a.modelVersion);
            g.writeBooleanField("suppressed", a.suppressed);
            if (a.explanation != null) {
                g.writeFieldName("explanation");
                g.writeRawValue(a.explanation);
            }
        });
    }

    /** An {@link Explanation} as the JSON text an open alert carries. */
    public static String explanation(Explanation e) {
        try {
            return MAPPER.writeValueAsString(e.json());
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    public static byte[] deadLetter(DeadLetter d) {
        boolean truncated = isLong(d.rawKey) || isLong(d.rawValue);
        return write(g -> {
            g.writeStringField("reason", d.reason.code);
            g.writeStringField("detail", d.detail);
            g.writeStringField("patient_id", d.patientId);
            g.writeStringField("raw_key", cut(d.rawKey));
            g.writeStringField("raw_value", cut(d.rawValue));
            g.writeStringField("origin", d.origin);
            if (truncated) {
                g.writeBooleanField("raw_truncated", true);
            }
        });
    }

    private static boolean isLong(String s) {
        return s != null && s.length() > MAX_RAW_CHARS;
    }

    /** {@code s} cut to {@link #MAX_RAW_CHARS}. */
    static String cut(String s) {
        return isLong(s) ? s.substring(0, MAX_RAW_CHARS) : s;
    }

    public static JsonNode read(byte[] json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whole RR values stay integers on the wire ({@code 812}, not {@code 812.0}). */
    private static void writeRr(JsonGenerator g, String field, double rr) throws IOException {
        if (rr == Math.rint(rr) && Math.abs(rr) < 1e15) {
            g.writeNumberField(field, (long) rr);
        } else {
            g.writeNumberField(field, rr);
        }
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] write(Fields fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(160);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
