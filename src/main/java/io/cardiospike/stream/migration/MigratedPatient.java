package io.cardiospike.stream.migration;

/**
 * One patient of the scorer's keyed state on its way from the old savepoint to the new one ({@link PatientStateReader}
 * to {@link PatientStateWriter}), or ({@link #flowEntry} set) one entry of the scorer's union operator state. The state
 * travels as the bytes its own serializer wrote, so the new savepoint holds exactly what the old one held. A Flink
 * POJO.
 */
public class MigratedPatient {
    /** The key (the patient id); {@code ""} for a {@link #flowEntry}. */
    public String patientId;
    /** {@code PatientState} as {@code PatientStateSerializer} writes it; null if the patient has none. */
    public byte[] state;
    /** The open {@code Episode} as the state's POJO serializer writes it; null if none. */
    public byte[] episode;
    /** The shadow model's open {@code Episode} ({@code shadow-episode} state), written like {@link #episode}; null if none. */
    public byte[] shadowEpisode;
    /** The end of the patient's last alerted episode ({@code alert-hold} state); null if none. */
    public Long alertHoldEnd;
    /** The patient's timers in the scorer's {@code patient-timers} service. */
    public long[] eventTimers;
    public long[] processingTimers;
    /** Non-null: not a patient, but one entry of the input clock's stalls ({@code PatientScorer.inputFlowState}). */
    public long[] flowEntry;

    public MigratedPatient() {}

    static MigratedPatient flowEntry(long[] entry) {
        MigratedPatient m = new MigratedPatient();
        m.patientId = "";
        m.flowEntry = entry;
        return m;
    }
}
