package io.cardiospike.cli;

import io.cardiospike.api.ApiServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", description = "Serve the REST scoring API (/api/v1, /docs) and the dashboard (/).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "8080", description = "TCP port, 0 = any free port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "interface to bind (default loopback; 0.0.0.0 exposes patient data to the network)")
    String host;

    @Option(names = "--model", defaultValue = "${env:CARDIOSPIKE_MODEL:-models}", description = "model bundle directory (default ${DEFAULT-VALUE}; env CARDIOSPIKE_MODEL)")
    Path model;

    @Option(names = "--data", description = "CSV of recordings (id,time,x) for the dashboard to list")
    Path data;

    @Option(names = "--bootstrap-servers", description = "Kafka HOST:PORT; enables the live view of rr-scores/rr-alerts")
    String bootstrapServers;

    @Mixin KafkaConfigOption kafkaConfig;

    @Override
    public Integer call() throws Exception {
        ApiServer.Options options = ApiServer.Options.defaults().host(host).port(port).modelDir(model).dataFile(data)
                .kafka(bootstrapServers == null ? null : kafkaConfig.connect(bootstrapServers));
        ApiServer server;
        try {
            server = ApiServer.start(options);
        } catch (io.javalin.util.JavalinBindException e) {
            throw new UserException("cannot listen on " + host + ":" + port + " (in use?); try --port");
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new UserException("--bootstrap-servers " + bootstrapServers + ": " + e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "serve-shutdown"));
        System.err.printf("serving model %s: dashboard %s  API docs %sdocs  (Ctrl-C stops)%n",
                options.modelDir(), server.url(), server.url());
        stopped.await();
        return 0;
    }
}
