package io.cardiospike.cli;

import picocli.CommandLine.Option;

/** {@code --shadow-model}: a second bundle the streaming job scores every beat with beside the live one (a mixin). */
final class ShadowModelOption {
    @Option(names = "--shadow-model", paramLabel = "BUNDLE",
            description = "also score every beat with this bundle (directory, uploaded, or URI) into rr-scores-shadow, "
                    + "never into rr-scores or alerts; it must cut the live model's windows (default: none; job "
                    + "upgrade: the running job's)")
    String model;

    /** As given (a directory or a URI), or null. */
    String value() {
        return model;
    }
}
