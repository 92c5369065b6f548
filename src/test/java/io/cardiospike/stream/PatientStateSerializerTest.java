package io.cardiospike.stream;

import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.PatientStateSerializer;
import java.util.Random;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Flink's serializer contract (round trips, copies, snapshot and restore, concurrent use) for the hand-written
 * patient state format, on states with waiting beats, retained beats, grown arrays and empty ones.
 */
class PatientStateSerializerTest extends SerializerTestBase<PatientState> {
    @Override
    protected TypeSerializer<PatientState> createSerializer() {
        return PatientStateSerializer.INSTANCE;
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<PatientState> getTypeClass() {
        return PatientState.class;
    }

    @Override
    protected PatientState[] getTestData() {
        Random random = new Random(5);
        PatientState empty = new PatientState();
        PatientState waiting = new PatientState();
        for (int k = 0; k < 3; k++) {
            waiting.addPending(1_000L * (3 - k), 700 + k);
        }
        waiting.eventTimerAt = 1_000;
        waiting.aheadTs = 7_200_000; // a beat two hours ahead, held
        waiting.aheadRr = 810;
        waiting.lastArrivalMs = 42;
        PatientState grown = new PatientState(); // past the initial capacities, with beats already dropped
        long ts = 0;
        for (int k = 0; k < 100; k++) {
            ts += 600 + random.nextInt(400);
            grown.addPending(ts, 600 + random.nextInt(400));
            grown.release(0);
        }
        for (int k = 0; k < 20; k++) {
            ts += 800;
            grown.addPending(ts, 800);
        }
        grown.nextToScore = 92;
        grown.dropBefore(76);
        grown.idleTimerAt = 123_456;
        PatientState ended = new PatientState();
        ended.addPending(5, 12); // a 12 ms artifact
        ended.release(0);
        ended.endSegment();
        return new PatientState[] {empty, waiting, grown, ended};
    }
}
