package io.cardiospike.notify;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.records.AnomalyAlert;
import io.cardiospike.stream.wire.FhirAlerts;
import java.net.URI;
import java.util.Optional;

/**
 * What a record of {@code rr-alerts} becomes on the wire. {@link #JSON}: the record's value as is, POSTed to the
 * webhook. {@link #FHIR}: a closed alert's FHIR R4 Observation (the job's own {@link FhirAlerts} coding), PUT to
 * {@code {base}/Observation/{alert_id}}: FHIR's update-as-create, idempotent by the id the Observation already has, so
 * a redelivery overwrites the same resource on any server that accepts client ids; a conditional create
 * ({@code If-None-Exist}) would need the server to search by identifier first, which not every server supports and
 * two concurrent creates can both pass.
 */
public enum AlertFormat {
    JSON, FHIR;

    /** One request's method, address, content type and body. */
    public record Payload(String method, URI uri, String contentType, byte[] body) {}

    /** The request for an alert, or empty when this format does not deliver it (FHIR: open alerts). */
    Optional<Payload> payload(URI target, JsonNode alert, byte[] raw) {
        if (this == JSON) {
            return Optional.of(new Payload("POST", target, "application/json", raw));
        }
        if (!AnomalyAlert.CLOSED.equals(alert.path("status").asText())) {
            return Optional.empty();
        }
        String base = target.toString().replaceAll("/+$", "");
        return Optional.of(new Payload("PUT", URI.create(base + "/Observation/" + alert.path("alert_id").asText()),
                "application/fhir+json", FhirAlerts.observation(anomalyAlert(alert))));
    }

    /** The record as the job's POJO (the fields FhirAlerts reads). */
    static AnomalyAlert anomalyAlert(JsonNode v) {
        AnomalyAlert a = new AnomalyAlert();
        a.alertId = v.path("alert_id").asText();
        a.status = v.path("status").asText();
        a.patientId = v.path("patient_id").asText();
        a.startTs = v.path("start_ts").asLong();
        a.endTs = v.path("end_ts").asLong();
        a.beats = v.path("beats").asInt();
        a.maxProba = v.path("max_proba").asDouble();
        a.meanProba = v.path("mean_proba").asDouble();
        a.modelVersion = v.path("model_version").asText();
        return a;
    }
}
