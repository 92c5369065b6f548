package io.cardiospike.stream.records;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * RocksDB holds one {@link PatientState} per patient, read and written for every beat, so its format is written out
 * by hand: only the waiting and retained beats (not the arrays' spare capacity), then the bookkeeping fields. Flink's
 * POJO serializer, which writes whole arrays field by field through reflection, was about 30 % of the scoring
 * thread's Java time in a profile of {@code bench stream}.
 *
 * <p>Formats, by {@link Snapshot} version: 3 (2026-11-24 to 5a1ca3c) ends with {@code eventTimerAt}; 4 adds the beat held
 * ahead. A savepoint in format 3 is migrated on restore (Flink reads it with {@link #LEGACY}, writes format 4).
 */
public final class PatientStateSerializer extends TypeSerializerSingleton<PatientState> {
    public static final PatientStateSerializer INSTANCE = new PatientStateSerializer(Snapshot.CURRENT);
    /** Reads format 3 (before the beat held ahead); only used to migrate old state. */
    public static final PatientStateSerializer LEGACY = new PatientStateSerializer(3);
    private static final long serialVersionUID = 2L;
    /** Room for a few more beats before an array has to grow again. */
    private static final int SPARE = 8;

    private final int format;

    private PatientStateSerializer(int format) {
        this.format = format;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public PatientState createInstance() {
        return new PatientState();
    }

    @Override
    public PatientState copy(PatientState from) {
        PatientState to = new PatientState();
        to.pendingTs = from.pendingTs.clone();
        to.pendingRr = from.pendingRr.clone();
        to.pendingCount = from.pendingCount;
        to.segTs = from.segTs.clone();
        to.segRr = from.segRr.clone();
        to.segBase = from.segBase;
        to.segLen = from.segLen;
        to.segSeen = from.segSeen;
        to.nextToScore = from.nextToScore;
        to.lastReleasedTs = from.lastReleasedTs;
        to.lastArrivalMs = from.lastArrivalMs;
        to.idleTimerAt = from.idleTimerAt;
        to.eventTimerAt = from.eventTimerAt;
        to.aheadTs = from.aheadTs;
        to.aheadRr = from.aheadRr;
        return to;
    }

    @Override
    public PatientState copy(PatientState from, PatientState reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(PatientState s, DataOutputView out) throws IOException {
        writeBeats(out, s.pendingTs, s.pendingRr, s.pendingCount);
        writeBeats(out, s.segTs, s.segRr, s.segLen);
        out.writeInt(s.segBase);
        out.writeInt(s.segSeen);
        out.writeInt(s.nextToScore);
        out.writeLong(s.lastReleasedTs);
        out.writeLong(s.lastArrivalMs);
        out.writeLong(s.idleTimerAt);
        out.writeLong(s.eventTimerAt);
        if (format >= 4) {
            out.writeLong(s.aheadTs);
            out.writeDouble(s.aheadRr);
        }
    }

    @Override
    public PatientState deserialize(DataInputView in) throws IOException {
        PatientState s = new PatientState();
        s.pendingCount = in.readInt();
        s.pendingTs = new long[s.pendingCount + SPARE];
        s.pendingRr = new double[s.pendingCount + SPARE];
        readBeats(in, s.pendingTs, s.pendingRr, s.pendingCount);
        s.segLen = in.readInt();
        s.segTs = new long[s.segLen + SPARE];
        s.segRr = new double[s.segLen + SPARE];
        readBeats(in, s.segTs, s.segRr, s.segLen);
        s.segBase = in.readInt();
        s.segSeen = in.readInt();
        s.nextToScore = in.readInt();
        s.lastReleasedTs = in.readLong();
        s.lastArrivalMs = in.readLong();
        s.idleTimerAt = in.readLong();
        s.eventTimerAt = in.readLong();
        if (format >= 4) {
            s.aheadTs = in.readLong();
            s.aheadRr = in.readDouble();
        }
        return s;
    }

    /** A count, then that many (time, RR) pairs. */
    private static void writeBeats(DataOutputView out, long[] ts, double[] rr, int count) throws IOException {
        out.writeInt(count);
        for (int k = 0; k < count; k++) {
            out.writeLong(ts[k]);
            out.writeDouble(rr[k]);
        }
    }

    /** Reads the pairs {@link #writeBeats} wrote after its count into arrays of room for them. */
    private static void readBeats(DataInputView in, long[] ts, double[] rr, int count) throws IOException {
        for (int k = 0; k < count; k++) {
            ts[k] = in.readLong();
            rr[k] = in.readDouble();
        }
    }

    @Override
    public PatientState deserialize(PatientState reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PatientStateSerializer other && other.format == format;
    }

    @Override
    public int hashCode() {
        return format;
    }

    /** Keeps the singletons singletons across Java serialization (Flink ships serializers that way). */
    private Object readResolve() {
        return format == Snapshot.CURRENT ? INSTANCE : LEGACY;
    }

    @Override
    public TypeSerializerSnapshot<PatientState> snapshotConfiguration() {
        return new Snapshot(format);
    }

    /**
     * Written into checkpoints with the state: its version is the state's format. A change of format needs a new
     * version, a serializer that reads the old one, and a restore test (PatientScorerTest restores format 3).
     */
    public static final class Snapshot implements TypeSerializerSnapshot<PatientState> {
        static final int CURRENT = 4;
        private int format;

        /** Instantiated by Flink on restore, then told the written version ({@link #readSnapshot}). */
        public Snapshot() {
            this(CURRENT);
        }

        Snapshot(int format) {
            this.format = format;
        }

        @Override
        public int getCurrentVersion() {
            return format;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {} // the version says it all

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
            if (readVersion != 3 && readVersion != CURRENT) {
                throw new IOException("patient state format " + readVersion + " is unknown to this version");
            }
            format = readVersion;
        }

        @Override
        public TypeSerializer<PatientState> restoreSerializer() {
            return format == CURRENT ? INSTANCE : LEGACY;
        }

        @Override
        public TypeSerializerSchemaCompatibility<PatientState> resolveSchemaCompatibility(
                TypeSerializerSnapshot<PatientState> oldSnapshot) {
            if (!(oldSnapshot instanceof Snapshot old)) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            return old.format == format ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
    }
}
