package io.cardiospike.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cardiospike.local.EmbeddedKafka;
import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.rr.Recording;
import io.cardiospike.stream.functions.PatientScorer;
import io.cardiospike.stream.migration.KeyGroups;
import io.cardiospike.stream.migration.SavepointMigration;
import io.cardiospike.stream.records.Episode;
import io.cardiospike.stream.records.PatientState;
import io.cardiospike.stream.records.PatientStateSerializer;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code job migrate-savepoint}'s program against a real job: a job with 128 key groups replays part of six patients
 * (one stopped in the middle of an anomaly episode) and stops with a savepoint; the savepoint is migrated to 4096 key
 * groups; every patient's state and episodes (the live model's and a shadow model's) in the new savepoint equal the
 * old byte for byte, every idle check is
 * there, every operator is recorded under 4096, and a job of 4096 restored from it scores the rest of the replay: all
 * beats once, as the batch scorer scores the whole recordings, each episode one "open" and one "closed" alert. The old
 * savepoint is refused to a job of 4096.
 */
class SavepointMigrationIT {
    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static Path shadowBundle;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        shadowBundle = io.cardiospike.model.BundleCopies.reweighted(dir.resolve("shadow-bundle"), "cs-shadow-mig");
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    static StreamConfig config(int maxParallelism) {
        return StreamConfig.fromArgs("--bootstrap-servers", kafka.bootstrapServers(),
                "--input-topic", "mig-events", "--scores-topic", "mig-scores", "--alerts-topic", "mig-alerts",
                "--dlq-topic", "mig-dlq", "--alerts-fhir-topic", "mig-alerts-fhir",
                "--model-dir", TestBundle.DIR.toString(), "--parallelism", "2",
                "--max-parallelism", Integer.toString(maxParallelism),
                "--checkpoint-dir", dir.resolve("checkpoints").toString(), "--checkpoint-interval", "1s",
                "--idle-flush", "12s", "--allowed-lateness", "2s", "--alert-hold", "1h",
                "--shadow-model-dir", shadowBundle.toString(), "--shadow-scores-topic", "mig-scores-shadow",
                "--group-id", "mig", "--transactional-id-prefix", "mig", "--transaction-timeout", "1min");
    }

    /** A patient's state as the savepoint holds it, serialized with the state's own serializers. */
    public static final class Saved {
        public String id;
        public byte[] state;
        public byte[] episode;
        public Long alertHoldEnd;
        public byte[] shadowEpisode;

        public Saved() {}
    }

    /** Reads the scorer's keyed state with the State Processor API's own reader (not the migration's). */
    static final class SavedReader extends KeyedStateReaderFunction<String, Saved> {
        private transient ValueState<PatientState> patients;
        private transient ValueState<Episode> episodes;
        private transient TypeSerializer<Episode> episodeSerializer;
        private transient ValueState<Long> alertHolds;
        private transient ValueState<Episode> shadowEpisodes;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            patients = getRuntimeContext().getState(PatientScorer.patientState());
            episodes = getRuntimeContext().getState(PatientScorer.episodeState());
            episodeSerializer = TypeInformation.of(Episode.class).createSerializer(new SerializerConfigImpl());
            alertHolds = getRuntimeContext().getState(PatientScorer.alertHoldState());
            shadowEpisodes = getRuntimeContext().getState(PatientScorer.shadowEpisodeState());
        }

        @Override
        public void readKey(String key, Context ctx, Collector<Saved> out) throws Exception {
            Saved s = new Saved();
            s.id = key;
            PatientState p = patients.value();
            Episode e = episodes.value();
            s.state = p == null ? null : bytes(PatientStateSerializer.INSTANCE, p);
            s.episode = e == null ? null : bytes(episodeSerializer, e);
            s.alertHoldEnd = alertHolds.value();
            Episode shadow = shadowEpisodes.value();
            s.shadowEpisode = shadow == null ? null : bytes(episodeSerializer, shadow);
            out.collect(s);
        }

        private static <T> byte[] bytes(TypeSerializer<T> serializer, T value) throws java.io.IOException {
            DataOutputSerializer out = new DataOutputSerializer(256);
            serializer.serialize(value, out);
            return out.getCopyOfBuffer();
        }
    }

    static StreamExecutionEnvironment batch() {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
        env.setRuntimeMode(org.apache.flink.api.common.RuntimeExecutionMode.BATCH);
        return env;
    }

    /** What a savepoint holds, as lines: patient states, timers, the input stalls. */
    static final class Contents {
        final Map<String, String> states = new TreeMap<>();
        final Map<String, String> timers = new TreeMap<>();
        final List<String> flow = new ArrayList<>();
    }

    /**
     * Lines {@code "<tag> state <patient> <state bytes> <alert hold> <episode bytes> <shadow episode bytes>"}, {@code "<tag> timers <patient> ..."} and
     * {@code "<tag> flow - <entry>"} of {@code savepoint}.
     */
    static org.apache.flink.streaming.api.datastream.DataStream<String> contents(StreamExecutionEnvironment env,
            String tag, String savepoint) throws Exception {
        SavepointReader reader = SavepointReader.read(env, savepoint, new EmbeddedRocksDBStateBackend());
        OperatorIdentifier scorer = OperatorIdentifier.forUid(ScoringPipeline.SCORER_UID);
        var states = reader.readKeyedState(scorer, new SavedReader(), org.apache.flink.api.common.typeinfo.Types.STRING,
                        TypeInformation.of(Saved.class))
                .map(p -> tag + " state " + p.id + " " + b64(p.state) + " " + (p.alertHoldEnd == null ? "-"
                        : p.alertHoldEnd.toString()) + " " + b64(p.episode) + " " + b64(p.shadowEpisode))
                .returns(String.class);
        var flow = reader.readUnionState(scorer, PatientScorer.inputFlowState().getName(),
                        PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO)
                .map(entry -> tag + " flow - " + java.util.Arrays.toString(entry)).returns(String.class);
        var timers = SavepointMigration.readPatients(env, savepoint).map(p -> {
            PatientState state = PatientStateSerializer.INSTANCE.deserialize(
                    new org.apache.flink.core.memory.DataInputDeserializer(p.state));
            return tag + " timers " + p.patientId + " idle=" + state.idleTimerAt + " event="
                    + java.util.Arrays.toString(p.eventTimers) + " processing="
                    + java.util.Arrays.toString(p.processingTimers);
        }).returns(String.class);
        return states.union(flow, timers);
    }

    private static String b64(byte[] b) {
        return b == null ? "-" : Base64.getEncoder().encodeToString(b);
    }

    @Test
    void aSavepointOf128KeyGroupsMigratedTo4096RestoresEveryPatientAndTheJobGoesOnAsIfUninterrupted()
            throws Exception {
        long started = System.nanoTime();
        StreamConfig old = config(ScoringPipeline.LEGACY_MAX_PARALLELISM);
        StreamConfig next = config(4096);
        kafka.createTopics(1, old.inputTopic());
        kafka.createTopics(2, old.scoresTopic(), old.alertsTopic(), old.dlqTopic(), old.alertsFhirTopic(),
                old.shadowScoresTopic());
        List<Recording> recordings = StreamJobIT.testRecordings(0, 6);

        // Cut the replay in the middle of the longest anomaly episode (batch labels), late enough that the part of it
        // before the cut is scored (the window's lookahead and the lateness): that patient's episode is open then.
        EnsembleScorer scorer = TestBundle.scorer();
        int lookahead = scorer.spec().lookaheadBeats();
        Recording cutRec = null;
        int bestStart = 0, bestLength = 0;
        for (Recording rec : recordings) {
            int[] y = scorer.decide(scorer.scoreRecording(rec.rr()).proba());
            for (int i = 0, run = 0; i < y.length; i++) {
                run = y[i] == 1 ? run + 1 : 0;
                if (run > bestLength) {
                    bestLength = run;
                    bestStart = i - run + 1;
                    cutRec = rec;
                }
            }
        }
        assertThat(bestLength).as("an anomaly episode to stop in").isGreaterThanOrEqualTo(3);
        // At the cut a beat is released once the patient's clock is 2 s (the lateness) past it, and its window is
        // cut once `lookahead` beats follow it: stop where the last scored beat is in the middle of the episode.
        int middle = bestStart + bestLength / 2;
        int cutBeat = middle;
        while (lastScored(cutRec, cutBeat, lookahead) < middle) {
            cutBeat++;
        }
        long cutTs = ReplayProducer.replayTs(cutRec.time()[cutBeat], ReplayProducer.REPLAY_BASE_EPOCH_MS);
        String openPatient = cutRec.id();
        String openAlert = io.cardiospike.stream.records.AnomalyAlert.alertId(openPatient,
                ReplayProducer.replayTs(cutRec.time()[bestStart], ReplayProducer.REPLAY_BASE_EPOCH_MS),
                scorer.modelVersion());
        List<ReplayProducer.Event> events = ReplayProducer.interleave(recordings, ReplayProducer.REPLAY_BASE_EPOCH_MS);
        List<ReplayProducer.Event> before = events.stream().filter(e -> e.ts() <= cutTs).toList();
        List<ReplayProducer.Event> after = events.stream().filter(e -> e.ts() > cutTs).toList();

        JobClient first = LocalJob.start(old, null);
        boolean firstStopped = false;
        JobClient second = null;
        try (StreamJobIT.Outputs out = new StreamJobIT.Outputs(old);
             ReplayProducer producer = new ReplayProducer(old.bootstrapServers(), old.inputTopic(),
                     Double.POSITIVE_INFINITY)) {
            producer.send(before, null);
            StreamJobIT.await("the open alert of " + openPatient, 60_000, () -> out.alerts.stream()
                    .anyMatch(a -> a.path("alert_id").asText().equals(openAlert)));
            // at once: the episode must still be open (a patient silent for the idle-flush gap ends its segment)
            String savepoint128 = first.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get();
            firstStopped = true;
            int scoredBefore = out.scoreCount();
            assertThat(out.alerts).filteredOn(a -> a.path("alert_id").asText().equals(openAlert))
                    .extracting(a -> a.path("status").asText()).as("the episode stopped in").containsExactly("open");
            System.err.printf("replay cut at %s beat %d; %d of %d beats scored; savepoint %s (%.1f s)%n", openPatient,
                    cutBeat, scoredBefore, events.size(), savepoint128, (System.nanoTime() - started) / 1e9);

            // The old savepoint cannot restore into a job of 4096: refused before it starts, saying what to do.
            assertThatThrownBy(() -> LocalJob.start(next, Path.of(URI.create(savepoint128))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(KeyGroups.restoreRefusal(Path.of(URI.create(savepoint128)).toUri().toString(), 128,
                            4096))
                    .hasMessageContaining("bin/cardiospike job migrate-savepoint --from ");

            String savepoint4096 = SavepointMigration.defaultTarget(savepoint128, 4096);
            long migrating = System.nanoTime();
            SavepointMigration.migrate(batch(), savepoint128, savepoint4096, 4096);
            System.err.printf("migrated to %s in %.1f s%n", savepoint4096, (System.nanoTime() - migrating) / 1e9);

            // Every operator under 4096 key groups; the checkpoint id goes on.
            var oldMeta = SavepointLoader.loadSavepointMetadata(savepoint128);
            var newMeta = SavepointLoader.loadSavepointMetadata(savepoint4096);
            assertThat(newMeta.getCheckpointId()).isEqualTo(oldMeta.getCheckpointId());
            assertThat(newMeta.getOperatorStates()).extracting(OperatorState::getOperatorID)
                    .containsExactlyInAnyOrderElementsOf(oldMeta.getOperatorStates().stream()
                            .map(OperatorState::getOperatorID).toList());
            assertThat(newMeta.getOperatorStates()).allSatisfy(o -> assertThat(o.getMaxParallelism()).isEqualTo(4096));
            assertThat(oldMeta.getOperatorStates()).allSatisfy(o -> assertThat(o.getMaxParallelism()).isEqualTo(128));
            OperatorState oldSource = oldMeta.getOperatorStates().stream().filter(o -> o.getCoordinatorState() != null)
                    .findFirst().orElseThrow();
            OperatorState newSource = newMeta.getOperatorStates().stream()
                    .filter(o -> o.getOperatorID().equals(oldSource.getOperatorID())).findFirst().orElseThrow();
            assertThat(newSource.getCoordinatorState().getData()).as("the Kafka source's enumerator state")
                    .isEqualTo(oldSource.getCoordinatorState().getData());
            assertThat(KeyGroups.of(savepoint4096)).isEqualTo(4096);

            // What both savepoints hold, read in one batch job: every patient's state and open episode (the State
            // Processor API's own reader), the input clock's stalls, and every patient's timers (the migration's
            // reader: the scorer's timer service).
            Contents was = new Contents(), is = new Contents();
            StreamExecutionEnvironment env = batch();
            org.apache.flink.streaming.api.datastream.DataStream<String> all = contents(env, "old", savepoint128)
                    .union(contents(env, "new", savepoint4096));
            for (String line : all.executeAndCollect(1_000_000)) {
                String[] f = line.split(" ", 4);
                Contents c = f[0].equals("old") ? was : is;
                switch (f[1]) {
                    case "state" -> c.states.put(f[2], f[3]);
                    case "timers" -> c.timers.put(f[2], f[3]);
                    default -> c.flow.add(f[3]);
                }
            }
            assertThat(was.states).hasSize(recordings.size());
            assertThat(is.states).isEqualTo(was.states);
            assertThat(was.states.get(openPatient).split(" ")[2]).as("the open episode").isNotEqualTo("-");
            assertThat(was.states.values()).as("a shadow episode open").anyMatch(line -> !line.split(" ")[3].equals("-"));
            assertThat(was.states.values()).as("patients in an --alert-hold")
                    .anyMatch(line -> !line.split(" ")[1].equals("-"));
            assertThat(is.flow).isNotEmpty().containsExactlyInAnyOrderElementsOf(was.flow);
            assertThat(is.timers).isEqualTo(was.timers).hasSize(recordings.size());
            // each patient's one timer: its idle check, on the input clock
            assertThat(is.timers.values()).allSatisfy(t -> assertThat(t).matches("idle=(-?\\d+) event=\\[\\1\\] processing=\\[\\]"));

            // A job of 4096 key groups from the migrated savepoint scores the rest as if it had never stopped.
            second = LocalJob.start(next, Path.of(URI.create(savepoint4096)));
            producer.send(after, null);
            StreamJobIT.await("all scores", 90_000, () -> out.scoreCount() >= events.size());
            Thread.sleep(2_500); // a few more checkpoints: nothing else may arrive
            assertThat(out.scoreCount()).isEqualTo(events.size());
            StreamJobIT.assertMatchesBatch(recordings, out);
            assertThat(out.deadLetters).isEmpty();
            System.err.printf("all %d beats scored once, as the batch scorer does (%.1f s in all)%n", events.size(),
                    (System.nanoTime() - started) / 1e9);
        } finally {
            if (second != null) {
                LocalJob.stop(second, java.time.Duration.ofSeconds(30));
            }
            if (!firstStopped) {
                LocalJob.stop(first, java.time.Duration.ofSeconds(30));
            }
        }
    }

    /** The last beat of {@code rec} scored when its beat {@code cut} is its newest (2 s lateness). */
    static int lastScored(Recording rec, int cut, int lookahead) {
        int released = cut;
        while (released >= 0 && rec.time()[released] > rec.time()[cut] - 2000) {
            released--;
        }
        return released - lookahead;
    }

}
