package io.cardiospike.stream;

/**
 * Entry point of the job jar ({@code flink run target/cardiospike-job.jar ...}, {@code bin/cardiospike job submit}).
 * It touches no Flink class before the arguments ask for the job, so
 * {@code java -cp target/cardiospike-job.jar io.cardiospike.stream.ScoringJob --help} works without Flink (which the
 * jar leaves to the cluster); the pipeline itself is {@link ScoringPipeline}.
 */
public final class ScoringJob {
    public static final String JOB_NAME = "cardiospike-scoring";

    private ScoringJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            new picocli.CommandLine(new StreamConfig.Options()).usage(System.out);
            return;
        }
        ScoringPipeline.submit(args);
    }
}
