package io.cardiospike.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * The body of {@code POST /api/v1/predict}, validated strictly: 400 when it is not one JSON object, 422 when a field
 * is missing, null, of the wrong type, empty or not finite, 413 when the sequence exceeds {@code maxBeats}.
 * Unknown fields are ignored so clients may send extra metadata.
 */
record PredictRequest(String study, double[] sequence) {
    static final int MAX_STUDY_CHARS = 200;

    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    static PredictRequest parse(byte[] body, int maxBeats) {
        JsonNode root;
        try {
            root = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("unreadable body: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw ApiException.badRequest("empty body: expected a JSON object {\"study\": ..., \"sequence\": [...]}");
        }
        if (!root.isObject()) {
            throw ApiException.badRequest("expected a JSON object {\"study\": ..., \"sequence\": [...]}, got "
                    + kind(root));
        }
        JsonNode study = root.get("study");
        if (study == null) {
            throw ApiException.invalid("study", "missing field 'study' (string)");
        }
        if (!study.isTextual()) {
            throw ApiException.invalid("study", "field 'study' must be a string, got " + kind(study));
        }
        String id = study.asText();
        // characters as JSON Schema counts them (code points), as the OpenAPI document states the limit
        if (id.isEmpty() || id.codePointCount(0, id.length()) > MAX_STUDY_CHARS) {
            throw ApiException.invalid("study", "field 'study' must be 1 to " + MAX_STUDY_CHARS + " characters");
        }
        JsonNode seq = root.get("sequence");
        if (seq == null) {
            throw ApiException.invalid("sequence", "missing field 'sequence' (array of RR intervals in ms)");
        }
        if (!seq.isArray()) {
            throw ApiException.invalid("sequence", "field 'sequence' must be an array of numbers, got " + kind(seq));
        }
        if (seq.isEmpty()) {
            throw ApiException.invalid("sequence", "field 'sequence' is empty: send at least one RR interval");
        }
        if (seq.size() > maxBeats) {
            throw ApiException.tooLarge("sequence has " + seq.size() + " beats, the limit is " + maxBeats
                    + "; split the recording", maxBeats);
        }
        double[] rr = new double[seq.size()];
        for (int i = 0; i < rr.length; i++) {
            JsonNode v = seq.get(i);
            String field = "sequence[" + i + "]";
            if (!v.isNumber()) {
                throw ApiException.invalid(field, field + " must be a number (RR in ms), got " + kind(v));
            }
            rr[i] = v.doubleValue();
            if (!Double.isFinite(rr[i])) {
                throw ApiException.invalid(field, field + " is not a finite number");
            }
        }
        return new PredictRequest(id, rr);
    }

    private static String kind(JsonNode n) {
        return n.isNull() ? "null" : n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
