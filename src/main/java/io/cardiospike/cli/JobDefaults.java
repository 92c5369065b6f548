package io.cardiospike.cli;

import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Other defaults for some job options ({@code stream.JobTuningOptions}), for a command that runs the job its own way;
 * picocli shows them in the command's {@code --help}.
 */
abstract class JobDefaults implements IDefaultValueProvider {
    private final Map<String, String> defaults;

    JobDefaults(Map<String, String> defaults) {
        this.defaults = Map.copyOf(defaults);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        return arg instanceof OptionSpec option ? defaults.get(option.longestName()) : null;
    }
}
