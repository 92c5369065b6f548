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
 * Decide, for {@code job upgrade}: whether a new bundle (and a shadow bundle) can continue the running job's state,
 * and the arguments the new job runs with: those the running job recorded, with the new bundles and options in place.
 * Refuses before anything stops; reads nothing and changes nothing itself (the running job's parameters and the new
 * bundles are given).
 *
 * @param jobId            the running job
 * @param previousModelDir the running job's bundle (to restore it by hand if the new job does not start)
 * @param previousShadowDir the running job's shadow bundle, or null
 * @param bundle           the new job's bundle
 * @param shadow           the new job's shadow bundle, or null for none
 * @param args             the new job's arguments
 * @param parallelism      the new job's parallelism
 * @param config           {@code args} parsed, as the new job will parse them
 * @param dropsShadow      whether the running job's shadow goes: its scores sink's state in the savepoint then has no
 *                         operator to restore into, and the new job is run allowing that
 */
public record UpgradePlan(String jobId, String previousModelDir, String previousShadowDir, ClusterBundle bundle,
                          ClusterBundle shadow, List<String> args, int parallelism, StreamConfig config,
                          boolean dropsShadow) {
    private static final String MAX_PARALLELISM = "--max-parallelism";
    private static final String SHADOW_MODEL_DIR = "--shadow-model-dir";

    /**
     * What {@code job upgrade} does with the shadow model: {@code model}, a new one (a directory or URI; null: the
     * running one stays, unless {@code drop}); {@code promote}: the running one becomes the live model (and, without
     * a new {@code model}, the job scores without a shadow).
     */
    public record ShadowChoice(String model, boolean drop, boolean promote) {
        public static final ShadowChoice KEEP = new ShadowChoice(null, false, false);
    }

    /** The bundles (directories or URIs) the new job scores with: {@code shadow} null for none. */
    public record Bundles(String live, String shadow) {}

    /**
     * The bundles after {@code job upgrade --model model} ({@code model} null: not given) with {@code choice}, for job
     * {@code jobId} that recorded {@code running}. Refused: a promotion with a new live model as well, or of a job
     * that scores without a shadow; a new shadow together with dropping it.
     */
    public static Bundles bundles(String jobId, Map<String, String> running, String model, ShadowChoice choice)
            throws ScoringJobException {
        String runningShadow = running.get(JobParameters.SHADOW_MODEL_DIR);
        if (choice.model() != null && choice.drop()) {
            throw new ScoringJobException("--shadow-model and --no-shadow contradict each other: give one of them");
        }
        if (choice.promote()) {
            if (model != null) {
                throw new ScoringJobException("--promote-shadow makes the running shadow model the live one: give no "
                        + "--model with it; the job was left running.");
            }
            if (runningShadow == null) {
                throw new ScoringJobException("job " + jobId + " scores without a shadow model: nothing to promote "
                        + "(job upgrade --shadow-model DIR first); the job was left running.");
            }
            return new Bundles(runningShadow, choice.model());
        }
        return new Bundles(model != null ? model : running.get(JobParameters.MODEL_DIR),
                choice.model() != null ? choice.model() : choice.drop() ? null : runningShadow);
    }

    /** {@link #decide(String, Map, ClusterBundle, ClusterBundle, List)} without a shadow after the upgrade. */
    public static UpgradePlan decide(String jobId, Map<String, String> running, ClusterBundle next,
                                     List<String> jobOptions) throws IOException, ScoringJobException {
        return decide(jobId, running, next, null, jobOptions);
    }

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
     * The upgrade of job {@code jobId}, which recorded {@code running}, to {@code next} and {@code shadow} (null: no
     * shadow model after the upgrade) with {@code jobOptions} changed ({@code --name value} pairs, {@code --parallelism
     * 3} among them; the others stay as submitted). Refused when the saved windows were cut for another geometry or
     * feature spec than {@code next}'s or {@code shadow}'s (a shadow scores from the live model's windows), when the
     * options name a shadow bundle themselves, do not parse, or change the key groups ({@code --max-parallelism}: a savepoint
     * restores only into its own number; a job that recorded none ran with
     * {@link ScoringPipeline#LEGACY_MAX_PARALLELISM}, which its new arguments then say).
     */
    public static UpgradePlan decide(String jobId, Map<String, String> running, ClusterBundle next,
                                     ClusterBundle shadow, List<String> jobOptions)
            throws IOException, ScoringJobException {
        List<String> args = new ArrayList<>(recordedArgs(jobId, running));
        requireContinues(running, next);
        String geometry = runningGeometry(running);
        if (shadow != null && !geometry.equals(geometry(shadow))) {
            throw new ScoringJobException("shadow bundle " + shadow.manifest().modelVersion() + " cannot score from "
                    + "the job's windows: window past/lookahead and feature spec " + geometry(shadow) + " vs the "
                    + "running job's " + geometry + "; the job was left running. A shadow must cut the live model's "
                    + "windows.");
        }
        if (jobOptions.contains(SHADOW_MODEL_DIR)) {
            throw new ScoringJobException("job options " + jobOptions + ": give the shadow bundle as --shadow-model "
                    + "(checked and uploaded), not " + SHADOW_MODEL_DIR);
        }
        set(args, "--model-dir", next.uri());
        boolean dropsShadow = running.containsKey(JobParameters.SHADOW_MODEL_DIR) && shadow == null;
        if (shadow != null) {
            set(args, SHADOW_MODEL_DIR, shadow.uri());
        } else {
            remove(args, SHADOW_MODEL_DIR);
        }
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
        return new UpgradePlan(jobId, running.get(JobParameters.MODEL_DIR),
                running.get(JobParameters.SHADOW_MODEL_DIR), next, shadow, List.copyOf(args), config.parallelism(),
                config, dropsShadow);
    }

    /**
     * Refuses {@code next} as the live bundle of the job that recorded {@code running} when the saved windows were cut
     * for another geometry or feature spec (checked first, before any shadow bundle is looked at).
     */
    public static void requireContinues(Map<String, String> running, ClusterBundle next) throws ScoringJobException {
        String geometry = runningGeometry(running);
        if (!geometry.equals(geometry(next))) {
            throw new ScoringJobException("bundle " + next.manifest().modelVersion()
                    + " cannot continue the job's state: "
                    + "window past/lookahead and feature spec " + geometry(next) + " vs the running job's " + geometry
                    + "; the job was left running. Start such a bundle as a new job (job cancel, job submit).");
        }
    }

    /** The saved windows were cut for the running job's geometry and features. */
    private static String runningGeometry(Map<String, String> running) {
        return running.get(JobParameters.PAST_BEATS) + "/" + running.get(JobParameters.LOOKAHEAD_BEATS) + " "
                + running.get(JobParameters.FEATURE_SPEC);
    }

    /** Window past/lookahead and feature spec, as the running job records them. */
    private static String geometry(ClusterBundle bundle) {
        return bundle.manifest().spec().pastBeats() + "/" + bundle.manifest().spec().lookaheadBeats() + " "
                + FeatureSpec.VERSION;
    }

    private static void remove(List<String> args, String name) {
        int i = args.indexOf(name);
        if (i >= 0) {
            args.subList(i, Math.min(i + 2, args.size())).clear();
        }
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
