package io.cardiospike.stream.wire;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import io.cardiospike.stream.records.AnomalyAlert;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Quantity;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A closed alert as FHIR R4: HAPI FHIR's R4 parser reads it back, and its validator finds no error. */
class FhirAlertsTest {
    static FhirContext fhir;
    static FhirValidator validator;

    @BeforeAll
    static void validator() {
        fhir = FhirContext.forR4();
        ValidationSupportChain support = new ValidationSupportChain(fhir.getValidationSupport(),
                new InMemoryTerminologyServerValidationSupport(fhir), new CommonCodeSystemsTerminologyService(fhir));
        validator = fhir.newValidator().registerValidatorModule(new FhirInstanceValidator(support));
    }

    @Test
    void aClosedAlertIsAValidObservationWithTheAlertsFigures() {
        AnomalyAlert alert = new AnomalyAlert(AnomalyAlert.CLOSED, "icu-7/bed 3", 1_700_000_412_000L,
                1_700_000_415_300L, 5, 0.97, 0.93, "cs-20261124-2b08d1fd");
        String json = new String(FhirAlerts.observation(alert), StandardCharsets.UTF_8);

        ValidationResult result = validator.validateWithResult(json);
        List<SingleValidationMessage> errors = result.getMessages().stream()
                .filter(m -> m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL)
                .toList();
        assertThat(errors).as("validation errors of %s", json).isEmpty();

        Observation o = fhir.newJsonParser().parseResource(Observation.class, json);
        assertThat(o.getIdElement().getIdPart()).isEqualTo(alert.alertId);
        assertThat(o.getStatus()).isEqualTo(Observation.ObservationStatus.FINAL);
        assertThat(o.getCode().getCodingFirstRep().getSystem()).isEqualTo(FhirAlerts.CODE_SYSTEM);
        assertThat(o.getCode().getCodingFirstRep().getCode()).isEqualTo("rr-anomaly-episode");
        assertThat(o.getSubject().getIdentifier().getValue()).isEqualTo("icu-7/bed 3");
        assertThat(o.getEffectivePeriod().getStart().getTime()).isEqualTo(alert.startTs);
        assertThat(o.getEffectivePeriod().getEnd().getTime()).isEqualTo(alert.endTs);
        assertThat(o.getDevice().getIdentifier().getValue()).isEqualTo(alert.modelVersion);
        assertThat(((Quantity) o.getComponent().get(0).getValue()).getValue().doubleValue()).isEqualTo(0.97);
        assertThat(((Quantity) o.getComponent().get(1).getValue()).getValue().doubleValue()).isEqualTo(0.93);
        assertThat(o.getComponent().get(2).getValueIntegerType().getValue()).isEqualTo(5);
    }

    @Test
    void theValidatorCatchesABrokenObservation() {
        String json = new String(FhirAlerts.observation(new AnomalyAlert(AnomalyAlert.CLOSED, "p1", 0, 1, 2, 0.5, 0.5,
                "v1")), StandardCharsets.UTF_8).replace("\"status\":\"final\"", "\"status\":\"done\"");
        assertThat(validator.validateWithResult(json).getMessages())
                .anyMatch(m -> m.getSeverity() == ResultSeverityEnum.ERROR);
    }
}
