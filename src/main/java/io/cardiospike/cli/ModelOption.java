package io.cardiospike.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --model}: the bundle a command scores with, declared once (a picocli mixin). */
final class ModelOption {
    @Option(names = "--model", paramLabel = "BUNDLE", defaultValue = "${env:CARDIOSPIKE_MODEL:-models}",
            description = "model bundle directory; job and chaos also take a URI such as "
                    + "s3://cardiospike/models/VERSION and upload a directory there (default ${DEFAULT-VALUE}, env "
                    + "CARDIOSPIKE_MODEL; job upgrade: the running job's)")
    String model;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** As given: a directory or a URI. */
    String value() {
        return model;
    }

    Path path() {
        return Path.of(model);
    }

    /** Whether {@code --model} was on the command line (not the default). */
    boolean given() {
        return command.commandLine().getParseResult().hasMatchedOption("--model");
    }
}
