package io.cardiospike.cli;

import io.cardiospike.stream.JobTuningOptions;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.migration.SavepointMigration;
import io.cardiospike.ops.ClusterBundle;
import io.cardiospike.ops.Installation;
import io.cardiospike.ops.ScoringJobClient;
import io.cardiospike.ops.ScoringJobException;
import io.cardiospike.ops.UpgradePlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code job submit|status|savepoint|upgrade|cancel|migrate-savepoint}: the scoring job on the cluster of
 * {@code cluster start}, through {@link ScoringJobClient}. Bundles and checkpoints live in the cluster's object store.
 */
@Command(name = "job", description = "Submit, inspect, savepoint, upgrade or cancel the scoring job on the cluster, or "
        + "migrate a savepoint to other key groups.",
        subcommands = {JobCommand.Submit.class, JobCommand.Status.class, JobCommand.Savepoint.class,
                JobCommand.Upgrade.class, JobCommand.Cancel.class, JobCommand.MigrateSavepoint.class})
final class JobCommand {
    /** The options that name the cluster and the job to act on. */
    static final class Target {
        @Mixin ClusterCommand.Dir dir;

        @Option(names = "--job-id", description = "the job to act on (default: the one running scoring job)")
        String jobId;

        /** The service for the cluster in {@code --cluster-dir}; progress lines go to stderr. */
        ScoringJobClient connect() throws IOException {
            return new ScoringJobClient(dir.load(), Installation.current(), System.err::println);
        }

        /** The job named by --job-id, else the single running scoring job. */
        String job(ScoringJobClient jobs) throws IOException, ScoringJobException {
            return jobId != null ? jobId : jobs.runningJob();
        }
    }

    @Command(name = "submit", description = "Submit the scoring job; prints its id. The job's other options (topics, "
            + "--group-id, --alerts-fhir-topic, --kafka-config, ...) pass on to it: see java -cp "
            + "target/cardiospike-job.jar io.cardiospike.stream.ScoringJob --help.")
    static final class Submit implements Callable<Integer> {
        @Mixin Target target;

        @Mixin ModelOption model;

        @Mixin ShadowModelOption shadow;

        @Mixin JobTuningOptions tuning;

        @Option(names = "--jar", description = "job jar (default: this installation's target/cardiospike-job.jar)")
        Path jar;

        @Option(names = "--from-savepoint", description = "restore from this savepoint or retained checkpoint; its key "
                + "groups must be the job's --max-parallelism (else: job migrate-savepoint)")
        String savepoint;

        @Unmatched List<String> jobOptions = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            try (ScoringJobClient jobs = target.connect()) {
                StreamConfig.Builder job = parsed(jobOptions).tuning(tuning)
                        .bootstrapServers(jobs.cluster().kafkaBootstrap());
                checked(job); // bad values fail here, before the upload
                ClusterBundle bundle = jobs.bundle(model.value());
                ClusterBundle shadowBundle = shadow.value() == null ? null
                        : jobs.shadowBundle(shadow.value(), bundle.manifest());
                if (shadowBundle != null) {
                    job.shadowModelDir(shadowBundle.uri());
                }
                StreamConfig config = job.modelDir(bundle.uri()).build();
                if (savepoint != null) {
                    jobs.requireRestorable(savepoint, config.maxParallelism()); // before the upload
                }
                jobs.createShadowScoresTopic(config);
                String id = jobs.submit(jar, config.toArgs(), config.parallelism(), savepoint);
                System.err.println("job running: model " + bundle.manifest().modelVersion()
                        + (shadowBundle == null ? "" : ", shadow model " + shadowBundle.manifest().modelVersion())
                        + ", parallelism " + config.parallelism() + ", checkpoints to the cluster's " + jobs.checkpointDir() + "; web UI "
                        + jobs.restUrl() + "/#/job/running/" + id);
                System.out.println(id);
            }
            return 0;
        }
    }

    /** A command on one job: the one named by {@code --job-id}, else the running scoring job. */
    abstract static class OnJob implements Callable<Integer> {
        @Mixin Target target;

        abstract void act(ScoringJobClient jobs, String jobId) throws Exception;

        @Override
        public final Integer call() throws Exception {
            try (ScoringJobClient jobs = target.connect()) {
                act(jobs, target.job(jobs));
            }
            return 0;
        }
    }

    @Command(name = "status", description = "The job's id, state, model version (and shadow model's), parallelism "
            + "and last checkpoint.")
    static final class Status extends OnJob {
        @Override
        void act(ScoringJobClient jobs, String jobId) throws Exception {
            System.out.print(jobs.status(jobId).report());
        }
    }

    @Command(name = "savepoint", description = "Take a savepoint of the running job (it keeps running, or with "
            + "--stop ends with it); prints where.")
    static final class Savepoint extends OnJob {
        @Option(names = "--stop", description = "stop the job with the savepoint (Flink's stop-with-savepoint): a job "
                + "restored from it then scores exactly what this one did not, e.g. after job migrate-savepoint")
        boolean stop;

        @Override
        void act(ScoringJobClient jobs, String jobId) throws Exception {
            System.out.println(stop ? jobs.stopWithSavepoint(jobId) : jobs.savepoint(jobId));
        }
    }

    @Command(name = "upgrade", description = "Stop the job with a savepoint and resubmit it from there with a new "
            + "model, shadow model, jar or job options (--name value pairs, e.g. --parallelism 3; see job submit "
            + "--help), or with its shadow model made the live one (--promote-shadow): patients keep their windows "
            + "and open episodes; outputs lose and duplicate nothing. Refusals come before anything stops.")
    static final class Upgrade extends OnJob {
        @Mixin ModelOption model;

        @Mixin ShadowModelOption shadow;

        @Option(names = "--no-shadow", description = "drop the running job's shadow model (default: it stays)")
        boolean noShadow;

        @Option(names = "--promote-shadow", description = "the running job's shadow model becomes its live model; "
                + "without --shadow-model the job then scores without a shadow (default: off)")
        boolean promoteShadow;

        @Option(names = "--jar", description = "new job jar (default: this installation's target/cardiospike-job.jar)")
        Path jar;

        /** Job options to change ({@code --parallelism 3}, {@code --checkpoint-interval 5s}); the others stay. */
        @Unmatched List<String> jobOptions = new ArrayList<>();

        @Override
        void act(ScoringJobClient jobs, String jobId) throws Exception {
            System.out.println(jobs.upgrade(jobId, model.given() ? model.value() : null,
                    new UpgradePlan.ShadowChoice(shadow.value(), noShadow, promoteShadow), jar, jobOptions));
        }
    }

    @Command(name = "cancel", description = "Cancel the job (its last checkpoint is retained in the object store).")
    static final class Cancel extends OnJob {
        @Override
        void act(ScoringJobClient jobs, String jobId) throws Exception {
            jobs.cancel(jobId);
            System.out.println("cancelled " + jobId);
        }
    }

    @Command(name = "migrate-savepoint", description = "Rewrite a savepoint of the scoring job for another number "
            + "of key groups (--max-parallelism), which a savepoint cannot change on restore: every patient's state, "
            + "open episode and idle check, and every other operator's state (Kafka offsets, transactions), carried. "
            + "Runs as a batch job on the cluster; prints the new savepoint's URI. Then: job submit --from-savepoint "
            + "NEW_URI --max-parallelism N.")
    static final class MigrateSavepoint implements Callable<Integer> {
        @Mixin ClusterCommand.Dir dir;

        @Option(names = "--from", required = true, description = "the savepoint (or retained checkpoint) to migrate, "
                + "e.g. s3://cardiospike/savepoints/savepoint-1a2b3c-0123456789ab")
        String from;

        @Option(names = "--max-parallelism", required = true, description = "the new savepoint's key groups: the "
                + "--max-parallelism of the job to restore it (1 to 32768)")
        int maxParallelism;

        @Option(names = "--to", description = "where the new savepoint goes (default: <from>-kg<N>, beside it)")
        String to;

        @Option(names = "--parallelism", defaultValue = "2",
                description = "tasks of the migration job (default ${DEFAULT-VALUE})")
        int parallelism;

        @Option(names = "--jar", description = "job jar (default: this installation's target/cardiospike-job.jar)")
        Path jar;

        @Override
        public Integer call() throws Exception {
            if (maxParallelism < 1 || maxParallelism > StreamConfig.UPPER_MAX_PARALLELISM) {
                throw new UserException("--max-parallelism must be between 1 and "
                        + StreamConfig.UPPER_MAX_PARALLELISM + ", not " + maxParallelism);
            }
            String target = to != null ? to : SavepointMigration.defaultTarget(from, maxParallelism);
            try (ScoringJobClient jobs = new ScoringJobClient(dir.load(), Installation.current(), System.err::println)) {
                System.out.println(jobs.migrateSavepoint(jar, from, target, maxParallelism, parallelism));
            }
            return 0;
        }
    }

    /** The job's own options as a user passed them on; a bad one is named in one line. */
    private static StreamConfig.Builder parsed(List<String> options) throws UserException {
        try {
            return StreamConfig.builder(options);
        } catch (picocli.CommandLine.ParameterException e) {
            throw new UserException("job options " + options + ": " + e.getMessage());
        }
    }

    private static void checked(StreamConfig.Builder job) throws UserException {
        try {
            job.build();
        } catch (IllegalArgumentException e) {
            throw new UserException("job options: " + e.getMessage());
        }
    }
}
