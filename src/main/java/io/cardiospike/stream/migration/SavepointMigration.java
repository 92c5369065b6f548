package io.cardiospike.stream.migration;

import io.cardiospike.stream.ScoringPipeline;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.functions.PatientScorer;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.StateObjectCollection;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.OperatorStreamStateHandle;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.StreamStateHandle;
import org.apache.flink.runtime.state.memory.ByteStreamStateHandle;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.SavepointWriterOperatorFactory;
import org.apache.flink.state.api.StateBootstrapTransformation;
import org.apache.flink.state.api.input.KeyedStateInputFormat;
import org.apache.flink.state.api.input.SourceBuilder;
import org.apache.flink.state.api.runtime.MutableConfig;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Rewrites a savepoint of the scoring job for another number of key groups ({@code --max-parallelism}): a Flink batch
 * program of the State Processor API, in the job jar ({@code bin/cardiospike job migrate-savepoint} runs it on the
 * cluster). The old savepoint is only read.
 *
 * <p>What is carried, and how:
 * <ul>
 *   <li>The scorer's keyed state ({@code score-patients}: every patient's {@code patient}, {@code episode} and {@code alert-hold}
 *   ValueStates and its idle-check timers in the timer service {@code patient-timers}) is read a patient at a time
 *   ({@link PatientStateReader}) and written again, keyed by patient under the new key groups, into the same states
 *   and the same timer service ({@link PatientStateWriter}), byte for byte as the serializers wrote it. The timers
 *   are carried as they are found, event- and processing-time, rather than rebuilt from
 *   {@code PatientState.idleTimerAt}: that covers the idle checks of state written by older versions too (processing
 *   time, and the {@code eventTimerAt} ones).</li>
 *   <li>The scorer's union operator state (the input clock's stalls) is read and written into the new scorer's
 *   operator state, each entry once: a restore gives every subtask the union, as before.</li>
 *   <li>Every other operator's state (the Kafka source's splits and offsets and its enumerator's state, the input
 *   clock, the sinks' writers and committers) is operator state, not keyed: it does not depend on key groups. Flink
 *   still refuses to restore an operator's state recorded under another max parallelism, so these are re-homed: their
 *   subtask states and coordinator state unchanged, recorded under the new max parallelism. They go through a
 *   metadata file of their own ({@value #REHOMED}/_metadata in the target, their state inline in it) that the
 *   {@link SavepointWriter} then takes as its existing savepoint, so the migration is one batch job.</li>
 * </ul>
 * The new savepoint keeps the old one's checkpoint id (the Kafka sinks' transactional ids go on from it).
 */
public final class SavepointMigration {
    public static final String JOB_NAME = "cardiospike-migrate-savepoint";
    /** Where in the target the re-homed operators' metadata goes (a few KB; the savepoint does not read it). */
    static final String REHOMED = "rehomed-operators";

    private SavepointMigration() {}

    /** The new savepoint's default location: a sibling of {@code from}, {@code <from>-kg<N>}. */
    public static String defaultTarget(String from, int maxParallelism) {
        String dir = from.replaceAll("/+$", "");
        if (dir.endsWith("/_metadata")) {
            dir = dir.substring(0, dir.length() - "/_metadata".length());
        }
        return dir + "-kg" + maxParallelism;
    }

    /**
     * Adds the migration of {@code from} into {@code to} with {@code maxParallelism} key groups to {@code env} (a
     * batch environment), to run with its next {@code execute}. Checks the savepoint, and writes the re-homed
     * operators' metadata, first; an argument that cannot work is an {@link IllegalArgumentException}.
     */
    public static void build(StreamExecutionEnvironment env, String from, String to, int maxParallelism)
            throws IOException {
        if (maxParallelism < 1 || maxParallelism > StreamConfig.UPPER_MAX_PARALLELISM) {
            throw new IllegalArgumentException("--max-parallelism must be between 1 and "
                    + StreamConfig.UPPER_MAX_PARALLELISM + ", not " + maxParallelism);
        }
        Path target = new Path(to);
        if (target.getFileSystem().exists(new Path(target, "_metadata"))) {
            throw new IllegalArgumentException(to + " holds a savepoint already: give another --to");
        }
        CheckpointMetadata source = SavepointLoader.loadSavepointMetadata(from);
        OperatorState scorer = KeyGroups.scorerState(source, from);
        if (scorer.getMaxParallelism() == maxParallelism) {
            throw new IllegalArgumentException(from + " has " + maxParallelism + " key groups already: nothing to "
                    + "migrate");
        }
        List<OperatorState> others = new ArrayList<>();
        for (OperatorState op : source.getOperatorStates()) {
            if (!op.getOperatorID().equals(scorer.getOperatorID())) {
                others.add(rehome(op, maxParallelism));
            }
        }
        if (others.isEmpty()) {
            throw new IllegalArgumentException(from + " holds only the scorer's state: not a savepoint of the job");
        }
        String rehomed = to.replaceAll("/+$", "") + "/" + REHOMED;
        Path rehomedMetadata = new Path(rehomed, "_metadata");
        FileSystem fs = rehomedMetadata.getFileSystem();
        try (FSDataOutputStream out = fs.create(rehomedMetadata, FileSystem.WriteMode.OVERWRITE)) {
            Checkpoints.storeCheckpointMetadata(new CheckpointMetadata(source.getCheckpointId(), others,
                    source.getMasterStates(), source.getCheckpointProperties()), new DataOutputStream(out));
        }

        // The job's own backend: each reading and writing task keeps its key-group range on disk, not on the heap.
        StateBackend backend = new EmbeddedRocksDBStateBackend();
        OperatorIdentifier scorerId = OperatorIdentifier.forUid(ScoringPipeline.SCORER_UID);
        TypeInformation<MigratedPatient> type = TypeInformation.of(MigratedPatient.class);
        DataStream<MigratedPatient> patients = readPatients(env, scorer, backend);
        DataStream<MigratedPatient> flow = SavepointReader.read(env, from, backend)
                .readUnionState(scorerId, PatientScorer.inputFlowState().getName(),
                        org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO)
                .map(MigratedPatient::flowEntry).returns(type).name("read input stalls");
        long checkpointId = source.getCheckpointId();
        SavepointWriterOperatorFactory writer = (timestamp, path) ->
                SimpleOperatorFactory.of(new PatientStateWriter(checkpointId, timestamp, path));
        StateBootstrapTransformation<MigratedPatient> scorerState = OperatorTransformation
                .bootstrapWith(patients.union(flow), checkpointId)
                .keyBy(m -> m.patientId, Types.STRING)
                .transform(writer);
        SavepointWriter.fromExistingSavepoint(env, rehomed, backend)
                .withOperator(scorerId, scorerState)
                .write(to);
    }

    /**
     * Every patient of the scorer's keyed state in {@code savepoint}, as the migration reads it: state and episode
     * bytes, and the timers of the scorer's timer service.
     */
    public static DataStream<MigratedPatient> readPatients(StreamExecutionEnvironment env, String savepoint)
            throws IOException {
        return readPatients(env, KeyGroups.scorerState(SavepointLoader.loadSavepointMetadata(savepoint), savepoint),
                new EmbeddedRocksDBStateBackend());
    }

    private static DataStream<MigratedPatient> readPatients(StreamExecutionEnvironment env, OperatorState scorer,
                                                            StateBackend backend) throws IOException {
        return SourceBuilder.fromFormat(env, new KeyedStateInputFormat<>(scorer, backend,
                        MutableConfig.of(env.getConfiguration()), new PatientStateReader(), env.getConfig()),
                TypeInformation.of(MigratedPatient.class)).name("read patients");
    }

    /** {@link #build} and run it here; returns {@code to}. What the tests call. */
    public static String migrate(StreamExecutionEnvironment env, String from, String to, int maxParallelism)
            throws Exception {
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        build(env, from, to, maxParallelism);
        env.execute(JOB_NAME);
        return to;
    }

    /**
     * {@code op} recorded under {@code maxParallelism}: the same subtask and coordinator states, their bytes inline
     * (operator state is small: splits, offsets, transactions). Only operator state can be re-homed so; keyed state
     * (other than the scorer's, migrated apart) is refused.
     */
    static OperatorState rehome(OperatorState op, int maxParallelism) throws IOException {
        if (op.isFullyFinished()) {
            throw new IllegalArgumentException("operator " + name(op) + " had finished when the savepoint was taken: "
                    + "not a savepoint of the running job");
        }
        OperatorState out = new OperatorState(op.getOperatorName().orElse(null), op.getOperatorUid().orElse(null),
                op.getOperatorID(), op.getParallelism(), maxParallelism);
        for (Map.Entry<Integer, OperatorSubtaskState> e : op.getSubtaskStates().entrySet()) {
            OperatorSubtaskState s = e.getValue();
            if (s.getManagedKeyedState().hasState() || s.getRawKeyedState().hasState()) {
                throw new IllegalArgumentException("operator " + name(op) + " has keyed state: only the scorer's "
                        + "keyed state can be migrated");
            }
            if (s.getInputChannelState().hasState() || s.getResultSubpartitionState().hasState()) {
                throw new IllegalArgumentException("operator " + name(op) + " has in-flight data (an unaligned "
                        + "checkpoint): migrate a savepoint (job savepoint) instead");
            }
            out.putState(e.getKey(), OperatorSubtaskState.builder()
                    .setManagedOperatorState(inline(s.getManagedOperatorState()))
                    .setRawOperatorState(inline(s.getRawOperatorState()))
                    .build());
        }
        if (op.getCoordinatorState() != null) {
            out.setCoordinatorState(op.getCoordinatorState()); // the Kafka source's enumerator: inline already
        }
        return out;
    }

    private static StateObjectCollection<OperatorStateHandle> inline(StateObjectCollection<OperatorStateHandle> handles)
            throws IOException {
        List<OperatorStateHandle> out = new ArrayList<>();
        for (OperatorStateHandle h : handles) {
            StreamStateHandle data = h.getDelegateStateHandle();
            if (!(data instanceof ByteStreamStateHandle)) {
                byte[] bytes;
                try (FSDataInputStream in = data.openInputStream()) {
                    bytes = in.readAllBytes();
                }
                data = new ByteStreamStateHandle(data.getStreamStateHandleID().getKeyString(), bytes);
            }
            out.add(new OperatorStreamStateHandle(h.getStateNameToPartitionOffsets(), data));
        }
        return new StateObjectCollection<>(out);
    }

    private static String name(OperatorState op) {
        return op.getOperatorUid().or(op::getOperatorName).orElse(op.getOperatorID().toHexString());
    }

    /** The program's command line. */
    @Command(name = "migrate-savepoint", mixinStandardHelpOptions = true,
            description = "Rewrite a savepoint of the scoring job for another number of key groups.")
    static final class Options implements Callable<Integer> {
        @Option(names = "--from", required = true, description = "the savepoint (or retained checkpoint) to migrate")
        String from;

        @Option(names = "--to", description = "where the new savepoint goes (default: <from>-kg<N>)")
        String to;

        @Option(names = "--max-parallelism", required = true, description = "the new savepoint's key groups")
        int maxParallelism;

        @Override
        public Integer call() throws Exception {
            String target = to != null ? to : defaultTarget(from, maxParallelism);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setRuntimeMode(RuntimeExecutionMode.BATCH);
            build(env, from, target, maxParallelism);
            env.execute(JOB_NAME);
            return 0;
        }
    }

    /**
     * Entry point on the cluster: {@code --from URI --max-parallelism N [--to URI]}. Submitted through the REST API the
     * job runs detached: {@code job migrate-savepoint} waits for it.
     */
    public static void main(String[] args) throws Exception {
        CommandLine cli = new CommandLine(new Options());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            throw e;
        });
        int exit = cli.execute(args);
        if (exit != 0) {
            throw new IllegalArgumentException("migrate-savepoint " + String.join(" ", args) + ": see --help");
        }
    }
}
