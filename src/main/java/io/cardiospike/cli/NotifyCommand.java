package io.cardiospike.cli;

import com.sun.net.httpserver.HttpServer;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.kafka.KafkaOptions;
import io.cardiospike.notify.AlertFormat;
import io.cardiospike.notify.AlertNotifier;
import io.cardiospike.notify.DeliveryPolicy;
import io.cardiospike.notify.NotifyMetrics;
import io.cardiospike.notify.WebhookDelivery;
import io.cardiospike.notify.WebhookSignature;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code notify}: the committed alerts to a webhook or a FHIR server, at least once, signed, with retries
 * ({@link AlertNotifier}; the manual is docs/notify.md). This class only reads the command line.
 */
@Command(name = "notify", description = "Deliver rr-alerts to a webhook (signed JSON) or a FHIR server, at least once.")
final class NotifyCommand implements Callable<Integer> {
    static final Duration STATUS_EVERY = Duration.ofSeconds(10);

    @Option(names = "--webhook", required = true, paramLabel = "URL",
            description = "where alerts go: the receiver's URL (json), or the FHIR server's base URL (fhir)")
    String webhook;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "shared secret (the file's text, trimmed) for the X-CardioSpike-Signature header "
                    + "(default: none, requests unsigned)")
    Path secretFile;

    @Option(names = "--format", defaultValue = "json", paramLabel = "json|fhir",
            description = "json: POST each record as is; fhir: PUT each closed alert's FHIR R4 Observation to "
                    + "{base}/Observation/{alert_id} (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--group", defaultValue = "cardiospike-notify", paramLabel = "NAME",
            description = "Kafka consumer group; its committed offsets are where a restart resumes "
                    + "(default ${DEFAULT-VALUE})")
    String group;

    @Option(names = "--topic", defaultValue = "rr-alerts", paramLabel = "NAME",
            description = "alerts to deliver (default ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--undelivered-topic", defaultValue = "rr-alerts-undelivered", paramLabel = "NAME",
            description = "where records given up go, with the last error; created if missing "
                    + "(default ${DEFAULT-VALUE})")
    String undeliveredTopic;

    @Option(names = "--from-beginning",
            description = "a new group starts at the topic's start (default: only alerts committed from now on)")
    boolean fromBeginning;

    @Option(names = "--include-suppressed",
            description = "deliver alerts the job's alert hold marked \"suppressed\": true too (default: skip them)")
    boolean includeSuppressed;

    @Option(names = "--timeout", defaultValue = "10s", paramLabel = "DURATION",
            description = "one attempt's limit, to connect and to the answer's headers (default ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--give-up", defaultValue = "24h", paramLabel = "DURATION",
            description = "a record still failing this long after its first attempt goes to the undelivered topic "
                    + "(default ${DEFAULT-VALUE})")
    String giveUp;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "serve Prometheus metrics at http://HOST:PORT/metrics, 0 for any free port (default: none)")
    Integer metricsPort;

    @Mixin KafkaOptions kafkaOptions;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // every input is checked before waiting for a broker
        URI target = target(webhook);
        AlertFormat alertFormat = format(format);
        DeliveryPolicy policy = DeliveryPolicy.of(positive("--timeout", timeout), duration("--give-up", giveUp));
        Optional<WebhookSignature> signature = secretFile == null ? Optional.empty() : Optional.of(secret(secretFile));
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new UserException("--metrics-port " + metricsPort
                    + ": not a TCP port; give 1-65535, or 0 for any free port");
        }
        PrintWriter err = spec.commandLine().getErr();
        KafkaConnection kafka = ClientHost.localCluster(kafkaOptions).connect();
        NotifyMetrics metrics = new NotifyMetrics();
        // the address without path or query: a webhook URL often carries a token
        err.println("notify: " + topic + " (group " + group + ", read_committed) -> " + (alertFormat == AlertFormat.FHIR
                ? "PUT Observation" : "POST") + " " + target.getScheme() + "://" + target.getAuthority()
                + (signature.isPresent() ? ", signed" : ""));
        if (signature.isEmpty()) {
            err.println("notify: no --secret-file: requests carry no " + WebhookSignature.HEADER + " header");
        }
        HttpServer metricsServer = null;
        CountDownLatch done = new CountDownLatch(1);
        ScheduledExecutorService status = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "notify-status");
            t.setDaemon(true);
            return t;
        });
        AlertNotifier.Settings settings = new AlertNotifier.Settings(topic, undeliveredTopic, group, fromBeginning,
                includeSuppressed, alertFormat, target);
        try (AlertNotifier notifier = new AlertNotifier(kafka, settings, new WebhookDelivery(signature,
                policy.timeout()), policy, metrics, err)) {
            if (metricsPort != null) {
                metricsServer = metrics.serve(metricsPort);
                err.println("metrics: http://127.0.0.1:" + metricsServer.getAddress().getPort() + "/metrics");
            }
            status.scheduleAtFixedRate(() -> err.println(metrics.statusLine()), STATUS_EVERY.toMillis(),
                    STATUS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            Thread stop = new Thread(() -> {
                try {
                    notifier.close();
                    done.await(5, TimeUnit.SECONDS); // the last status line is printed before the JVM halts
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "notify-stop");
            Runtime.getRuntime().addShutdownHook(stop);
            notifier.run();
        } finally {
            status.shutdownNow();
            if (metricsServer != null) {
                metricsServer.stop(0);
            }
            err.println(metrics.statusLine());
            err.flush();
            done.countDown();
        }
        return 0;
    }

    private static URI target(String url) throws UserException {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // the message below
        }
        throw new UserException("--webhook: not an http:// or https:// URL");
    }

    private static AlertFormat format(String value) throws UserException {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "json" -> AlertFormat.JSON;
            case "fhir" -> AlertFormat.FHIR;
            default -> throw new UserException("--format " + value + ": give json or fhir");
        };
    }

    private static WebhookSignature secret(Path file) throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new UserException("--secret-file " + file + ": no such file");
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw new UserException("--secret-file " + file + ": empty");
        }
        return new WebhookSignature(text); // the secret itself is never printed
    }

    private static Duration duration(String option, String value) throws UserException {
        try {
            return TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException e) {
            throw new UserException(option + " " + value + ": not a duration; e.g. 10s, 2min, 24h");
        }
    }

    private static Duration positive(String option, String value) throws UserException {
        Duration d = duration(option, value);
        if (d.isZero() || d.isNegative()) {
            throw new UserException(option + " " + value + ": must be more than 0");
        }
        return d;
    }
}
