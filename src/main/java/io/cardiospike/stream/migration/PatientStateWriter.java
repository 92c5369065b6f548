package io.cardiospike.stream.migration;

import io.cardiospike.stream.functions.PatientScorer;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.PatientStateSerializer;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.api.output.SnapshotUtils;
import org.apache.flink.state.api.output.TaggedOperatorSubtaskState;
import org.apache.flink.state.api.runtime.VoidTriggerable;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Writes the scorer's state into the new savepoint, keyed by patient under the new key groups, exactly where the
 * scorer keeps it: ValueStates {@code patient} and {@code episode}, the timers in the scorer's own timer service
 * {@link PatientScorer#TIMERS} (not the {@code "user-timers"} a {@code KeyedStateBootstrapFunction} would write, which
 * the scorer does not read), and the input clock's stalls as its union operator state. A bootstrap operator of the
 * State Processor API's kind ({@code KeyedStateBootstrapOperator}): at the end of its input it snapshots itself into
 * the savepoint directory. Its task never fires a timer (no watermark reaches it, and its processing time never
 * fires), so every timer is written as read.
 */
final class PatientStateWriter extends AbstractStreamOperator<TaggedOperatorSubtaskState>
        implements OneInputStreamOperator<MigratedPatient, TaggedOperatorSubtaskState>, BoundedOneInput {
    private static final long serialVersionUID = 1L;

    private final long checkpointId;
    private final long timestamp;
    private final Path savepointPath;

    private transient ValueState<PatientState> patients;
    private transient ValueState<Episode> episodes;
    private transient TypeSerializer<Episode> episodeSerializer;
    private transient ValueState<Long> alertHolds;
    private transient ValueState<Episode> shadowEpisodes;
    private transient InternalTimerService<VoidNamespace> timers;
    private transient ListState<long[]> flow;
    private transient DataInputDeserializer input;

    PatientStateWriter(long checkpointId, long timestamp, Path savepointPath) {
        this.checkpointId = checkpointId;
        this.timestamp = timestamp;
        this.savepointPath = savepointPath;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        flow = context.getOperatorStateStore().getUnionListState(PatientScorer.inputFlowState());
    }

    @Override
    public void open() throws Exception {
        super.open();
        patients = getPartitionedState(PatientScorer.patientState());
        ValueStateDescriptor<Episode> episode = PatientScorer.episodeState();
        episodes = getPartitionedState(episode); // initialises the descriptor's serializer
        episodeSerializer = episode.getSerializer();
        alertHolds = getPartitionedState(PatientScorer.alertHoldState());
        shadowEpisodes = getPartitionedState(PatientScorer.shadowEpisodeState());
        timers = getInternalTimerService(PatientScorer.TIMERS, VoidNamespaceSerializer.INSTANCE,
                VoidTriggerable.instance());
        input = new DataInputDeserializer();
    }

    @Override
    public void processElement(StreamRecord<MigratedPatient> element) throws Exception {
        MigratedPatient m = element.getValue();
        if (m.flowEntry != null) {
            flow.add(m.flowEntry); // union state: every subtask of the restored scorer gets every entry
            return;
        }
        if (m.state != null) {
            input.setBuffer(m.state);
            patients.update(PatientStateSerializer.INSTANCE.deserialize(input));
        }
        if (m.episode != null) {
            input.setBuffer(m.episode);
            episodes.update(episodeSerializer.deserialize(input));
        }
        if (m.alertHoldEnd != null) {
            alertHolds.update(m.alertHoldEnd);
        }
        if (m.shadowEpisode != null) {
            input.setBuffer(m.shadowEpisode);
            shadowEpisodes.update(episodeSerializer.deserialize(input)); // the same POJO serializer as the live one's
        }
        for (long t : m.eventTimers) {
            timers.registerEventTimeTimer(VoidNamespace.INSTANCE, t);
        }
        for (long t : m.processingTimers) {
            timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, t);
        }
    }

    @Override
    public void endInput() throws Exception {
        Configuration job = getContainingTask().getJobConfiguration();
        TaggedOperatorSubtaskState state = SnapshotUtils.snapshot(checkpointId, this,
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), timestamp,
                CheckpointingOptions.getCheckpointingMode(job), CheckpointingOptions.isUnalignedCheckpointEnabled(job),
                getContainingTask().getConfiguration().getConfiguration(), savepointPath);
        output.collect(new StreamRecord<>(state));
    }
}
