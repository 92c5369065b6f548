package io.cardiospike.ops;

import io.cardiospike.features.FeatureSpec;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.ScoringPipeline;
import io.cardiospike.stream.StreamConfig;
import io.cardiospike.stream.migration.KeyGroups;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * Decide, for {@code job upgrade}: whether a new bundle can continue the running job's state, and the arguments the
 * new job runs with: those the running job recorded, with the new bundle and options in place. Refuses
 * before anything stops; reads nothing and changes nothing itself (the running job's parameters and the new bundle
 * are given).
 *
 * @param jobId            the running job
 * @param previousModelDir the running job's bundle (to restore it by hand if the new job does not start)
 * @param bundle           the new job's bundle
 * @param args             the new job's arguments
 * @param parallelism      the new job's parallelism
 * @param config           {@code args} parsed, as the new job will parse them
 */
public record UpgradePlan(String jobId, String previousModelDir, ClusterBundle bundle, List<String> args,
                          int parallelism, StreamConfig config) {
    private static final String MAX_PARALLELISM = "--max-parallelism";

    /**
     * The arguments the job was submitted with, from its recorded parameters; refused for a job that recorded none
     * (one not submitted by {@code bin/cardiospike}).
     */
    public static List<String> recordedArgs(String jobId, Map<String, String> running)
            throws IOException, ScoringJobException {
        List<String> args = JobParameters.args(running);
        if (args.isEmpty()) {
            throw new ScoringJobException("job " + jobId + " records no arguments: was it submitted by bin/cardiospike?");
        }
        return args;
    }

    /**
     * The upgrade of job {@code jobId}, which recorded {@code running}, to {@code next} with {@code jobOptions} changed
     * ({@code --name value} pairs, {@code --parallelism 3} among them; the others stay as submitted). Refused when the saved windows were cut for another geometry or feature spec than {@code next}'s,
     * when the options do not parse, or when they change the key groups ({@code --max-parallelism}: a savepoint
     * restores only into its own number; a job that recorded none ran with
     * {@link ScoringPipeline#LEGACY_MAX_PARALLELISM}, which its new arguments then say).
     */
    public static UpgradePlan decide(String jobId, Map<String, String> running, ClusterBundle next,
                                     List<String> jobOptions)
            throws IOException, ScoringJobException {
        List<String> args = new ArrayList<>(recordedArgs(jobId, running));
        // The saved windows were cut for the running job's geometry and features.
        String geometry = running.get(JobParameters.PAST_BEATS) + "/" + running.get(JobParameters.LOOKAHEAD_BEATS)
                + " " + running.get(JobParameters.FEATURE_SPEC);
        String nextGeometry = next.manifest().spec().pastBeats() + "/" + next.manifest().spec().lookaheadBeats() + " "
                + FeatureSpec.VERSION;
        if (!geometry.equals(nextGeometry)) {
            throw new ScoringJobException("bundle " + next.manifest().modelVersion()
                    + " cannot continue the job's state: "
                    + "window past/lookahead and feature spec " + nextGeometry + " vs the running job's " + geometry
                    + "; the job was left running. Start such a bundle as a new job (job cancel, job submit).");
        }
        set(args, "--model-dir", next.uri());
        // The new job restores the running one's key groups, or nothing: a job submitted before --max-parallelism
        // existed ran with 128 (its arguments do not say so), and a savepoint restores only into its own number.
        if (!args.contains(MAX_PARALLELISM)) {
            set(args, MAX_PARALLELISM, Integer.toString(ScoringPipeline.LEGACY_MAX_PARALLELISM));
        }
        String keyGroups = args.get(args.indexOf(MAX_PARALLELISM) + 1);
        if (jobOptions.size() % 2 != 0) {
            throw new ScoringJobException("job options come as --name value pairs: " + jobOptions);
        }
        for (int i = 0; i < jobOptions.size(); i += 2) {
            set(args, jobOptions.get(i), jobOptions.get(i + 1));
        }
        StreamConfig config;
        int saved;
        try {
            config = StreamConfig.fromArgs(args.toArray(String[]::new));
            saved = Integer.parseInt(keyGroups);
        } catch (CommandLine.ParameterException | IllegalArgumentException e) {
            throw new ScoringJobException("job options " + jobOptions + ": " + e.getMessage());
        }
        if (config.maxParallelism() != saved) {
            throw new ScoringJobException(KeyGroups.upgradeRefusal(saved, config.maxParallelism()));
        }
        return new UpgradePlan(jobId, running.get(JobParameters.MODEL_DIR), next, List.copyOf(args),
                config.parallelism(), config);
    }

    private static void set(List<String> args, String name, String value) {
        int i = args.indexOf(name);
        if (i >= 0 && i + 1 < args.size()) {
            args.set(i + 1, value);
        } else {
            args.add(name);
            args.add(value);
        }
    }
}
