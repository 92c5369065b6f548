package io.cardiospike.stream.migration;

import io.cardiospike.stream.functions.PatientScorer;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.PatientStateSerializer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.AbstractRichFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.api.input.operator.StateReaderOperator;
import org.apache.flink.state.api.runtime.SavepointRuntimeContext;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * Reads the scorer's keyed state from a savepoint, a patient at a time: its {@code PatientState} and open
 * {@code Episode} as their serializers wrote them, and its timers in the scorer's own timer service
 * ({@link PatientScorer#TIMERS}). A {@link StateReaderOperator} of its own rather than a
 * {@code KeyedStateReaderFunction}, whose context shows only the timers of the service {@code "user-timers"}.
 *
 * <p>The timers are gathered the way Flink's own reader does: one pass over the timer service when a key-group range
 * is opened, each timer put into a list state of its key (so a range of any size costs no heap), then read back per
 * patient. A key with timers and no state is not a patient: the scorer ignores its timers ({@code onEventTime}
 * returns on no state), and so does this.
 */
final class PatientStateReader extends StateReaderOperator<PatientStateReader.NoFunction, String, VoidNamespace,
        MigratedPatient> {
    private static final long serialVersionUID = 1L;
    /** The namespace of the timers gathered per key (a reader's own state, never written anywhere). */
    private static final String GATHERED = "migration-gathered-timers";

    /** The reader runs no user function. */
    static final class NoFunction extends AbstractRichFunction {
        private static final long serialVersionUID = 1L;
    }

    private transient ValueState<PatientState> patients;
    private transient ValueState<Episode> episodes;
    private transient TypeSerializer<Episode> episodeSerializer;
    private transient ValueState<Long> alertHolds;
    private transient ValueState<Episode> shadowEpisodes;
    private transient ListState<Long> eventTimers;
    private transient ListState<Long> processingTimers;
    private transient DataOutputSerializer buffer;

    PatientStateReader() {
        super(new NoFunction(), Types.STRING, VoidNamespaceSerializer.INSTANCE);
    }

    @Override
    public void open() throws Exception {
        super.open();
        KeyedStateBackend<String> backend = getKeyedStateBackend();
        ValueStateDescriptor<Episode> episode = PatientScorer.episodeState();
        episode.initializeSerializerUnlessSet(getSerializerFactory());
        episodeSerializer = episode.getSerializer();
        patients = backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                PatientScorer.patientState());
        episodes = backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, episode);
        alertHolds = backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                PatientScorer.alertHoldState());
        ValueStateDescriptor<Episode> shadowEpisode = PatientScorer.shadowEpisodeState();
        shadowEpisode.initializeSerializerUnlessSet(getSerializerFactory());
        shadowEpisodes = backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                shadowEpisode);
        eventTimers = backend.getPartitionedState(GATHERED, StringSerializer.INSTANCE,
                new ListStateDescriptor<>("event", LongSerializer.INSTANCE));
        processingTimers = backend.getPartitionedState(GATHERED, StringSerializer.INSTANCE,
                new ListStateDescriptor<>("processing", LongSerializer.INSTANCE));
        InternalTimerService<VoidNamespace> timers = getInternalTimerService(PatientScorer.TIMERS);
        // forEach sets the timer's key as the current one before each call
        timers.forEachEventTimeTimer((namespace, time) -> eventTimers.add(time));
        timers.forEachProcessingTimeTimer((namespace, time) -> processingTimers.add(time));
        buffer = new DataOutputSerializer(1024);
    }

    @Override
    public CloseableIterator<Tuple2<String, VoidNamespace>> getKeysAndNamespaces(SavepointRuntimeContext ctx) {
        KeyedStateBackend<String> backend = getKeyedStateBackend();
        String patient = PatientScorer.patientState().getName();
        String episode = PatientScorer.episodeState().getName();
        // every patient with state; an episode without a patient state (none is written so) would not be lost either
        Stream<String> keys = Stream.concat(backend.getKeys(patient, VoidNamespace.INSTANCE),
                backend.getKeys(episode, VoidNamespace.INSTANCE).filter(this::hasNoPatientState));
        Iterator<String> it = keys.iterator();
        return new CloseableIterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Tuple2<String, VoidNamespace> next() {
                return Tuple2.of(it.next(), VoidNamespace.INSTANCE);
            }

            @Override
            public void close() {
                keys.close();
            }
        };
    }

    private boolean hasNoPatientState(String key) {
        setCurrentKey(key);
        try {
            return patients.value() == null;
        } catch (Exception e) {
            throw new IllegalStateException("reading patient " + key, e);
        }
    }

    @Override
    public void processElement(String key, VoidNamespace namespace, Collector<MigratedPatient> out) throws Exception {
        setCurrentKey(key);
        MigratedPatient m = new MigratedPatient();
        m.patientId = key;
        PatientState state = patients.value();
        m.state = state == null ? null : bytes(PatientStateSerializer.INSTANCE, state);
        Episode episode = episodes.value();
        m.episode = episode == null ? null : bytes(episodeSerializer, episode);
        m.alertHoldEnd = alertHolds.value();
        Episode shadowEpisode = shadowEpisodes.value();
        m.shadowEpisode = shadowEpisode == null ? null : bytes(episodeSerializer, shadowEpisode);
        m.eventTimers = longs(eventTimers.get());
        m.processingTimers = longs(processingTimers.get());
        out.collect(m);
    }

    private <T> byte[] bytes(TypeSerializer<T> serializer, T value) throws java.io.IOException {
        buffer.clear();
        serializer.serialize(value, buffer);
        return buffer.getCopyOfBuffer();
    }

    private static long[] longs(Iterable<Long> values) {
        List<Long> list = new ArrayList<>();
        if (values != null) {
            values.forEach(list::add);
        }
        return list.stream().mapToLong(Long::longValue).sorted().toArray();
    }
}
