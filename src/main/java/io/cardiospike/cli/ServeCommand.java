package io.cardiospike.cli;

import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.api.ApiServer;
import io.cardiospike.api.BearerTokens;
import java.nio.file.Path;
import java.time.Duration;
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
            description = "interface to bind (default ${DEFAULT-VALUE}, loopback; 0.0.0.0 exposes patient data to the "
                    + "network)")
    String host;

    @Mixin ModelOption model;

    @Option(names = "--data", description = "CSV of recordings (id,time,x) for the dashboard to list")
    Path data;

    @Mixin KafkaOptions kafkaOptions;

    @Option(names = "--auth-token-file", paramLabel = "FILE",
            description = "bearer tokens, one a line (blank lines and # comments ignored), read once at start: /api/* "
                    + "then answers 401 without 'Authorization: Bearer <token>'; /health, the pages and /openapi.json "
                    + "stay open (default: none, no authentication)")
    Path authTokenFile;

    @Option(names = "--max-concurrent-requests", paramLabel = "N", defaultValue = "256",
            description = "requests in progress at once, event streams included; beyond, 503 with Retry-After at "
                    + "once (default ${DEFAULT-VALUE})")
    int maxConcurrentRequests;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "a connection silent this long is closed, a request body stalled this long answered 408 "
                    + "(default ${DEFAULT-VALUE})")
    int idleTimeoutSeconds;

    @Option(names = "--body-memory", paramLabel = "MIB", defaultValue = "64",
            description = "MiB of request bodies all requests together may hold in memory (the first 64 KiB of each "
                    + "not counted); beyond, 503 with Retry-After (default ${DEFAULT-VALUE}, at least 5)")
    int bodyMemoryMib;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new UserException("--port " + port + ": not a TCP port; give 1-65535, or 0 for any free port");
        }
        if (maxConcurrentRequests < 1) {
            throw new UserException("--max-concurrent-requests must be at least 1");
        }
        if (idleTimeoutSeconds < 1) {
            throw new UserException("--idle-timeout must be at least 1 second");
        }
        if (bodyMemoryMib * 1024L * 1024 < ApiServer.MAX_BODY_BYTES) {
            throw new UserException("--body-memory must be at least 5 (MiB): one body may be 5 MiB");
        }
        ApiServer.Options options = ApiServer.Options.builder().host(host).port(port).modelDir(model.path()).dataFile(data)
                .kafka(kafkaOptions.given() ? kafkaOptions.connect() : null)
                .authTokenFile(authTokenFile).maxConcurrentRequests(maxConcurrentRequests)
                .idleTimeout(Duration.ofSeconds(idleTimeoutSeconds)).bodyMemoryBytes(bodyMemoryMib * 1024L * 1024)
                .build();
        ApiServer server;
        try {
            server = ApiServer.start(options);
        } catch (BearerTokens.TokenFileException e) {
            throw new UserException(e.getMessage()); // names the file and line, never a token
        } catch (io.javalin.util.JavalinBindException e) {
            throw new UserException("cannot listen on " + host + ":" + port + " (in use?); try --port");
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new UserException("--bootstrap-servers " + kafkaOptions.bootstrapServers() + ": " + e.getMessage());
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
