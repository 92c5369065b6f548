package io.cardiospike.stream.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardiospike.stream.records.AnomalyAlert;
import java.time.Instant;

/**
 * A closed alert as a FHIR R4 {@code Observation} (JSON, built with Jackson; HAPI FHIR's R4 parser and validator
 * check it in the tests). The coding, documented in {@code docs/streaming.md}:
 * <ul>
 *   <li>{@code code}: {@value #CODE_SYSTEM} {@code rr-anomaly-episode} (no LOINC or SNOMED code names an RR-rhythm
 *       anomaly episode of this model); category {@code procedure};</li>
 *   <li>{@code subject}: a logical reference by identifier ({@value #PATIENT_SYSTEM}, the stream's patient id), since
 *       a device's id need not be a FHIR id;</li>
 *   <li>{@code effectivePeriod}: the episode's first and last anomalous beat;</li>
 *   <li>{@code component}: {@code max-probability} and {@code mean-probability} (UCUM {@code 1}) and {@code beat-count}
 *       (integer);</li>
 *   <li>{@code device}: the model, by identifier ({@value #MODEL_SYSTEM}, the bundle's {@code model_version});</li>
 *   <li>{@code id} and {@code identifier}: the alert's {@code alert_id} ({@code urn:uuid:...}), so a replay upserts.</li>
 * </ul>
 */
public final class FhirAlerts {
    public static final String CODE_SYSTEM = "https://cardiospike.io/fhir/CodeSystem/rr-anomaly";
    public static final String PATIENT_SYSTEM = "https://cardiospike.io/fhir/patient-id";
    public static final String MODEL_SYSTEM = "https://cardiospike.io/fhir/model-version";

    private static final ObjectMapper JSON = new ObjectMapper();

    private FhirAlerts() {}

    public static byte[] observation(AnomalyAlert a) {
        ObjectNode o = JSON.createObjectNode();
        o.put("resourceType", "Observation");
        o.put("id", a.alertId);
        o.putArray("identifier").addObject().put("system", "urn:ietf:rfc:3986").put("value", "urn:uuid:" + a.alertId);
        o.put("status", "final");
        o.putArray("category").addObject().putArray("coding").addObject()
                .put("system", "http://terminology.hl7.org/CodeSystem/observation-category").put("code", "procedure")
                .put("display", "Procedure");
        ObjectNode code = o.putObject("code");
        coding(code, "rr-anomaly-episode", "RR-interval anomaly episode");
        code.put("text", "RR-interval anomaly episode (CardioSpike)");
        o.putObject("subject").putObject("identifier").put("system", PATIENT_SYSTEM).put("value", a.patientId);
        o.putObject("effectivePeriod").put("start", Instant.ofEpochMilli(a.startTs).toString())
                .put("end", Instant.ofEpochMilli(a.endTs).toString());
        o.putObject("device").put("display", "CardioSpike model " + a.modelVersion).putObject("identifier")
                .put("system", MODEL_SYSTEM).put("value", a.modelVersion);
        ArrayNode components = o.putArray("component");
        probability(components.addObject(), "max-probability", "Highest beat probability", a.maxProba);
        probability(components.addObject(), "mean-probability", "Mean beat probability", a.meanProba);
        ObjectNode count = components.addObject();
        coding(count.putObject("code"), "beat-count", "Anomalous beats");
        count.put("valueInteger", a.beats);
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void probability(ObjectNode component, String code, String display, double value) {
        coding(component.putObject("code"), code, display);
        component.putObject("valueQuantity").put("value", value).put("unit", "probability")
                .put("system", "http://unitsofmeasure.org").put("code", "1");
    }

    private static void coding(ObjectNode concept, String code, String display) {
        concept.putArray("coding").addObject().put("system", CODE_SYSTEM).put("code", code).put("display", display);
    }
}
