package io.cardiospike.ops;

import java.io.IOException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.DirectoryBasedPluginFinder;

/**
 * This JVM's view of the cluster's object store: Flink's filesystems initialised from the cluster's configuration
 * with the same S3 plugin the cluster loads, so a command reads and writes {@code s3://} exactly as the job does.
 */
public final class ClusterStorage {
    private ClusterStorage() {}

    /** Initialises Flink's filesystems (once is enough per JVM; again replaces the configuration). */
    public static Configuration connect(ClusterConfig cluster, Installation installation) throws IOException {
        Configuration conf = GlobalConfiguration.loadConfiguration(cluster.confDir().toString());
        FileSystem.initialize(conf, new DefaultPluginManager(
                new DirectoryBasedPluginFinder(installation.pluginsDir()).findPlugins(),
                CoreOptions.getPluginParentFirstLoaderPatterns(conf)));
        return conf;
    }
}
