package io.cardiospike.stream.records;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * RocksDB holds one {@link PatientState} per patient, read and written for every beat, so its format is written out
 * by hand: only the waiting and retained beats (not the arrays' spare capacity), then the bookkeeping fields. Flink's
 * POJO serializer, which writes whole arrays field by field through reflection, was about 30 % of the scoring
 * thread's Java time in a profile of {@code bench stream}.
 */
public final class PatientStateSerializer extends TypeSerializerSingleton<PatientState> {
    public static final PatientStateSerializer INSTANCE = new PatientStateSerializer();
    private static final long serialVersionUID = 1L;
    /** Room for a few more beats before an array has to grow again. */
    private static final int SPARE = 8;

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
    public TypeSerializerSnapshot<PatientState> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Written into checkpoints with the state; a change of format needs a new snapshot version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<PatientState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
