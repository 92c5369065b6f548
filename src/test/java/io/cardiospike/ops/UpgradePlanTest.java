package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cardiospike.features.FeatureSpec;
import io.cardiospike.model.ModelManifest;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.StreamConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code job upgrade}'s decision, without a cluster: what the running job recorded against the new bundle. */
class UpgradePlanTest {
    static final String JOB = "0123456789abcdef0123456789abcdef";
    static final String OLD_URI = "s3://cardiospike/models/cs-old";
    static final String NEW_URI = "s3://cardiospike/models/cs-new";
    static final String SHADOW_URI = "s3://cardiospike/models/cs-shadow";
    /** As {@code job submit --checkpoint-interval 2s --idle-flush 40s} records them. */
    static final List<String> SUBMITTED = List.of("--bootstrap-servers", "127.0.0.1:9092", "--model-dir", OLD_URI,
            "--parallelism", "2", "--checkpoint-interval", "2s", "--idle-flush", "40s");

    private static ModelManifest manifest(String version, FeatureSpec spec) {
        return new ModelManifest(version, spec, 0.5, "input", "output", null);
    }

    /** The parameters a job submitted with {@code args} and scoring with {@code manifest} records. */
    private static Map<String, String> running(ModelManifest manifest, List<String> args) throws Exception {
        String[] a = args.toArray(String[]::new);
        return new LinkedHashMap<>(JobParameters.of(StreamConfig.fromArgs(a), manifest, a));
    }

    private static Map<String, String> running() throws Exception {
        return running(manifest("cs-old", new FeatureSpec(16, 8)), SUBMITTED);
    }

    private static ClusterBundle next(FeatureSpec spec) {
        return new ClusterBundle(NEW_URI, manifest("cs-new", spec));
    }

    @Test
    void aBundleOfTheSameGeometryIsAcceptedWithTheOptionsMergedIntoTheRecordedArguments() throws Exception {
        UpgradePlan plan = UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--parallelism", "3", "--checkpoint-interval", "1s", "--allowed-lateness", "5s"));

        assertThat(plan.args()).containsExactly("--bootstrap-servers", "127.0.0.1:9092", "--model-dir", NEW_URI,
                "--parallelism", "3", "--checkpoint-interval", "1s", "--idle-flush", "40s",
                "--max-parallelism", "128", "--allowed-lateness", "5s");
        assertThat(plan.jobId()).isEqualTo(JOB);
        assertThat(plan.parallelism()).isEqualTo(3);
        assertThat(plan.previousModelDir()).isEqualTo(OLD_URI);
        assertThat(plan.bundle().uri()).isEqualTo(NEW_URI);
        assertThat(plan.config().modelDir()).isEqualTo(NEW_URI);
        assertThat(plan.config().parallelism()).isEqualTo(3);
        assertThat(plan.config().checkpointInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(plan.config().idleFlushGap()).isEqualTo(Duration.ofSeconds(40));
        assertThat(plan.config().allowedLateness()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void withoutANewParallelismTheRecordedOneStays() throws Exception {
        assertThat(UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)), List.of()).parallelism())
                .isEqualTo(2);
        // the committed bundle, as `job upgrade --model models` loads it
        ModelManifest committed = ModelManifest.load(Path.of("models"));
        UpgradePlan plan = UpgradePlan.decide(JOB, running(committed, List.of("--model-dir", OLD_URI,
                "--parallelism", "4")), new ClusterBundle(NEW_URI, committed), List.of());
        assertThat(plan.parallelism()).isEqualTo(4);
        assertThat(plan.args()).containsExactly("--model-dir", NEW_URI, "--parallelism", "4", "--max-parallelism",
                "128");
    }

    @Test
    void aBundleOfAnotherWindowGeometryIsRefused() throws Exception {
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(12, 8)), List.of()))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("bundle cs-new cannot continue the job's state: window past/lookahead and feature spec "
                        + "12/8 " + FeatureSpec.VERSION + " vs the running job's 16/8 " + FeatureSpec.VERSION
                        + "; the job was left running. Start such a bundle as a new job (job cancel, job submit).");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 4)), List.of()))
                .isInstanceOf(ScoringJobException.class).hasMessageContaining("cannot continue the job's state");
    }

    @Test
    void aJobRunningWithAnotherFeatureSpecIsNotContinued() throws Exception {
        Map<String, String> running = running();
        running.put(JobParameters.FEATURE_SPEC, "fs-0");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running, next(new FeatureSpec(16, 8)), List.of()))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("bundle cs-new cannot continue the job's state: window past/lookahead and feature spec "
                        + "16/8 " + FeatureSpec.VERSION + " vs the running job's 16/8 fs-0; the job was left running. "
                        + "Start such a bundle as a new job (job cancel, job submit).");
    }

    @Test
    void jobOptionsComeInPairs() {
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--checkpoint-interval", "1s", "--idle-flush")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("job options come as --name value pairs: [--checkpoint-interval, 1s, --idle-flush]");
    }

    @Test
    void badOptionValuesAreRefusedBeforeAnythingStops() {
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--checkpoint-interval", "soon")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessageStartingWith("job options [--checkpoint-interval, soon]: ");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--no-such-option", "1")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessageStartingWith("job options [--no-such-option, 1]: ").hasMessageContaining("--no-such-option");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--parallelism", "0")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("job options [--parallelism, 0]: parallelism must be at least 1");
        // the transaction timeout must exceed the checkpoint interval: checked with the recorded options merged
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--checkpoint-interval", "20min")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("job options [--checkpoint-interval, 20min]: transaction timeout must exceed the "
                        + "checkpoint interval");
    }

    @Test
    void aJobSubmittedBeforeMaxParallelismKeepsItsLegacy128KeyGroups() throws Exception {
        UpgradePlan plan = UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)), List.of());
        assertThat(plan.config().maxParallelism()).isEqualTo(128);
        assertThat(plan.args()).containsSequence("--max-parallelism", "128");
        // and the same number asked for explicitly is no change
        assertThat(UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--max-parallelism", "128", "--parallelism", "3")).config().maxParallelism()).isEqualTo(128);
    }

    @Test
    void aJobSubmittedWithItsKeyGroupsKeepsThem() throws Exception {
        List<String> submitted = List.of("--model-dir", OLD_URI, "--parallelism", "2", "--max-parallelism", "4096");
        UpgradePlan plan = UpgradePlan.decide(JOB, running(manifest("cs-old", new FeatureSpec(16, 8)), submitted),
                next(new FeatureSpec(16, 8)), List.of("--parallelism", "6"));
        assertThat(plan.args()).containsExactly("--model-dir", NEW_URI, "--parallelism", "6", "--max-parallelism",
                "4096");
        assertThat(plan.config().maxParallelism()).isEqualTo(4096);
    }

    @Test
    void aChangeOfKeyGroupsIsRefusedBeforeAnythingStopsNamingTheMigration() throws Exception {
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                List.of("--max-parallelism", "4096")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("the job's state has 128 key groups and the new job would have 4096; a savepoint cannot "
                        + "change its key groups on restore. Stop the job with a savepoint (job savepoint --stop), "
                        + "migrate it (bin/cardiospike job migrate-savepoint --from URI --max-parallelism 4096) and "
                        + "submit from it (job submit --from-savepoint NEW_URI --max-parallelism 4096); the job was "
                        + "left running.");
        List<String> submitted = List.of("--model-dir", OLD_URI, "--max-parallelism", "4096");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(manifest("cs-old", new FeatureSpec(16, 8)),
                submitted), next(new FeatureSpec(16, 8)), List.of("--max-parallelism", "8192")))
                .isInstanceOf(ScoringJobException.class)
                .hasMessageStartingWith("the job's state has 4096 key groups and the new job would have 8192;")
                .hasMessageContaining("bin/cardiospike job migrate-savepoint --from URI --max-parallelism 8192");
    }

    @Test
    void aJobThatRecordedNoArgumentsIsRefused() {
        Map<String, String> notOurs = Map.of(JobParameters.MODEL_DIR, OLD_URI);
        assertThatThrownBy(() -> UpgradePlan.recordedArgs(JOB, notOurs))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("job " + JOB + " records no arguments: was it submitted by bin/cardiospike?");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, notOurs, next(new FeatureSpec(16, 8)), List.of()))
                .isInstanceOf(ScoringJobException.class).hasMessageContaining("records no arguments");
    }

    /** A job submitted with {@code --shadow-model}: its arguments and recorded parameters name the shadow. */
    private static Map<String, String> runningWithShadow() throws Exception {
        List<String> args = new java.util.ArrayList<>(SUBMITTED);
        args.addAll(List.of("--shadow-model-dir", SHADOW_URI));
        String[] a = args.toArray(String[]::new);
        return new LinkedHashMap<>(JobParameters.of(StreamConfig.fromArgs(a), manifest("cs-old", new FeatureSpec(16, 8)),
                manifest("cs-shadow", new FeatureSpec(16, 8)), a));
    }

    private static ClusterBundle shadow(FeatureSpec spec) {
        return new ClusterBundle(SHADOW_URI, manifest("cs-shadow", spec));
    }

    private static UpgradePlan.ShadowChoice choice(String model, boolean drop, boolean promote) {
        return new UpgradePlan.ShadowChoice(model, drop, promote);
    }

    @Test
    void aShadowOfTheSameWindowsIsAddedToTheArguments() throws Exception {
        UpgradePlan.Bundles bundles = UpgradePlan.bundles(JOB, running(), null, choice("shadow-dir", false, false));
        assertThat(bundles).isEqualTo(new UpgradePlan.Bundles(OLD_URI, "shadow-dir"));
        UpgradePlan plan = UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                shadow(new FeatureSpec(16, 8)), List.of());
        assertThat(plan.args()).containsSequence("--shadow-model-dir", SHADOW_URI);
        assertThat(plan.config().shadowModelDir()).isEqualTo(SHADOW_URI);
        assertThat(plan.config().shadowScoresTopic()).isEqualTo("rr-scores-shadow");
        assertThat(plan.shadow().manifest().modelVersion()).isEqualTo("cs-shadow");
        assertThat(plan.dropsShadow()).isFalse();
        assertThat(plan.previousShadowDir()).isNull();
    }

    @Test
    void aShadowOfOtherWindowsIsRefusedBeforeAnythingStops() {
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                shadow(new FeatureSpec(12, 8)), List.of()))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("shadow bundle cs-shadow cannot score from the job's windows: window past/lookahead and "
                        + "feature spec 12/8 " + FeatureSpec.VERSION + " vs the running job's 16/8 "
                        + FeatureSpec.VERSION + "; the job was left running. A shadow must cut the live model's "
                        + "windows.");
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)),
                shadow(new FeatureSpec(16, 4)), List.of()))
                .isInstanceOf(ScoringJobException.class).hasMessageContaining("cannot score from the job's windows");
        // the job's own option would skip the check and the upload
        assertThatThrownBy(() -> UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)), null,
                List.of("--shadow-model-dir", SHADOW_URI)))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("job options [--shadow-model-dir, " + SHADOW_URI + "]: give the shadow bundle as "
                        + "--shadow-model (checked and uploaded), not --shadow-model-dir");
    }

    @Test
    void theRunningShadowStaysUnlessDroppedOrReplaced() throws Exception {
        Map<String, String> running = runningWithShadow();
        assertThat(UpgradePlan.bundles(JOB, running, "new-dir", UpgradePlan.ShadowChoice.KEEP))
                .isEqualTo(new UpgradePlan.Bundles("new-dir", SHADOW_URI));
        assertThat(UpgradePlan.bundles(JOB, running, null, choice("other-shadow", false, false)))
                .isEqualTo(new UpgradePlan.Bundles(OLD_URI, "other-shadow"));
        assertThat(UpgradePlan.bundles(JOB, running, null, choice(null, true, false)))
                .isEqualTo(new UpgradePlan.Bundles(OLD_URI, null));
        UpgradePlan kept = UpgradePlan.decide(JOB, running, next(new FeatureSpec(16, 8)),
                shadow(new FeatureSpec(16, 8)), List.of("--parallelism", "3"));
        assertThat(kept.args()).containsSequence("--shadow-model-dir", SHADOW_URI).containsSequence("--model-dir",
                NEW_URI);
        assertThat(kept.dropsShadow()).isFalse();
        assertThat(kept.previousShadowDir()).isEqualTo(SHADOW_URI);

        UpgradePlan dropped = UpgradePlan.decide(JOB, running, next(new FeatureSpec(16, 8)), null, List.of());
        assertThat(dropped.args()).containsExactly("--bootstrap-servers", "127.0.0.1:9092", "--model-dir", NEW_URI,
                "--parallelism", "2", "--checkpoint-interval", "2s", "--idle-flush", "40s", "--max-parallelism", "128");
        assertThat(dropped.config().shadowModelDir()).isNull();
        assertThat(dropped.dropsShadow()).as("the shadow's sink state stays behind in the savepoint").isTrue();
        // without a shadow before or after, nothing to drop
        assertThat(UpgradePlan.decide(JOB, running(), next(new FeatureSpec(16, 8)), null, List.of()).dropsShadow())
                .isFalse();
    }

    @Test
    void promotingTheShadowMakesItTheLiveModelWithoutAShadow() throws Exception {
        Map<String, String> running = runningWithShadow();
        UpgradePlan.Bundles bundles = UpgradePlan.bundles(JOB, running, null, choice(null, false, true));
        assertThat(bundles).isEqualTo(new UpgradePlan.Bundles(SHADOW_URI, null));
        UpgradePlan plan = UpgradePlan.decide(JOB, running, new ClusterBundle(SHADOW_URI, manifest("cs-shadow",
                new FeatureSpec(16, 8))), null, List.of());
        assertThat(plan.args()).containsExactly("--bootstrap-servers", "127.0.0.1:9092", "--model-dir", SHADOW_URI,
                "--parallelism", "2", "--checkpoint-interval", "2s", "--idle-flush", "40s", "--max-parallelism", "128");
        assertThat(plan.config().modelDir()).isEqualTo(SHADOW_URI);
        assertThat(plan.dropsShadow()).isTrue();
        assertThat(plan.previousModelDir()).isEqualTo(OLD_URI);
        assertThat(plan.previousShadowDir()).isEqualTo(SHADOW_URI);
        // and a new shadow beside the promoted one
        assertThat(UpgradePlan.bundles(JOB, running, null, choice("next-shadow", false, true)))
                .isEqualTo(new UpgradePlan.Bundles(SHADOW_URI, "next-shadow"));
    }

    @Test
    void aPromotionWithoutAShadowOrWithANewModelIsRefusedBeforeAnythingStops() throws Exception {
        assertThatThrownBy(() -> UpgradePlan.bundles(JOB, running(), null, choice(null, false, true)))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("job " + JOB + " scores without a shadow model: nothing to promote (job upgrade "
                        + "--shadow-model DIR first); the job was left running.");
        Map<String, String> withShadow = runningWithShadow();
        assertThatThrownBy(() -> UpgradePlan.bundles(JOB, withShadow, "models", choice(null, false, true)))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("--promote-shadow makes the running shadow model the live one: give no --model with it; "
                        + "the job was left running.");
        assertThatThrownBy(() -> UpgradePlan.bundles(JOB, withShadow, null, choice("other", true, false)))
                .isInstanceOf(ScoringJobException.class)
                .hasMessage("--shadow-model and --no-shadow contradict each other: give one of them");
    }
}
