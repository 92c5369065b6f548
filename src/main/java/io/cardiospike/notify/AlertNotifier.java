package io.cardiospike.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardiospike.kafka.KafkaConnection;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Delivers the committed records of {@code rr-alerts} ({@code read_committed}, a consumer group) to a webhook, at
 * least once and in order within a partition: one record at a time, its offset committed only after a 2xx or after it
 * was written to the undelivered topic, so a crash at any point leaves the record to be sent again (receivers dedupe
 * by {@code Idempotency-Key}). A record that keeps failing holds back the ones after it until it is delivered or
 * given up ({@link DeliveryPolicy#giveUp}, counted from its first attempt in this process). While it waits the
 * consumer stays in its group: it polls with its partitions paused, and a partition taken away meanwhile is left to
 * its new owner (from the last committed offset).
 */
public final class AlertNotifier implements AutoCloseable {
    /** Where from and how: the topics, the group, what to skip. */
    public record Settings(String topic, String undeliveredTopic, String group, boolean fromBeginning,
                           boolean includeSuppressed, AlertFormat format, URI target) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

    private final Settings settings;
    private final WebhookDelivery delivery;
    private final DeliveryPolicy policy;
    private final NotifyMetrics metrics;
    private final PrintWriter log;
    private final Clock clock;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final ArrayDeque<ConsumerRecord<String, byte[]>> pending = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closed;

    public AlertNotifier(KafkaConnection kafka, Settings settings, WebhookDelivery delivery, DeliveryPolicy policy,
                         NotifyMetrics metrics, PrintWriter log) throws IOException {
        this.settings = settings;
        this.delivery = delivery;
        this.policy = policy;
        this.metrics = metrics;
        this.log = log;
        this.clock = Clock.systemUTC();
        createUndeliveredTopic(kafka);
        // one attempt may take the whole timeout: the group must not think this consumer dead meanwhile
        int maxPollInterval = (int) Math.max(300_000, policy.timeout().toMillis() * 2 + 60_000);
        consumer = new KafkaConsumer<>(kafka.clientConfig(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, settings.group(),
                ConsumerConfig.CLIENT_ID_CONFIG, "cardiospike-notify",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, settings.fromBeginning() ? "earliest" : "latest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100,
                // a notifier that died gives its partitions up within 10 s, not Kafka's default 45
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000,
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000,
                ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, maxPollInterval)),
                new StringDeserializer(), new ByteArrayDeserializer());
        producer = new KafkaProducer<>(kafka.clientConfig(Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.CLIENT_ID_CONFIG, "cardiospike-notify-undelivered")),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** Delivers until {@link #close}; throws when the undelivered topic cannot be written (nothing is committed then). */
    public void run() throws IOException, InterruptedException {
        try {
            consumer.subscribe(List.of(settings.topic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    pending.removeIf(r -> partitions.contains(partition(r))); // the new owner reads them again
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
            });
            while (!closed) {
                ConsumerRecord<String, byte[]> r = pending.poll();
                if (r == null) {
                    consumer.poll(Duration.ofMillis(200)).forEach(pending::add);
                } else if (consumer.assignment().contains(partition(r))) {
                    handle(r);
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
                producer.close(Duration.ofSeconds(5));
            } finally {
                stopped.countDown();
            }
        }
    }

    private void handle(ConsumerRecord<String, byte[]> r) throws IOException, InterruptedException {
        JsonNode alert = parse(r.value());
        Instant first = clock.instant();
        if (alert == null || !alert.path("alert_id").isTextual() || !alert.path("status").isTextual()) {
            undeliver(r, "not an alert record (JSON with alert_id and status)", 0, first, first);
            return;
        }
        if (!settings.includeSuppressed() && alert.path("suppressed").asBoolean(false)) {
            metrics.skipped.incrementAndGet();
            commit(r);
            return;
        }
        Optional<AlertFormat.Payload> payload = settings.format().payload(settings.target(), alert, r.value());
        if (payload.isEmpty()) {
            metrics.skipped.incrementAndGet();
            commit(r);
            return;
        }
        String key = alert.path("alert_id").asText() + ":" + alert.path("status").asText();
        Instant deadline = first.plus(policy.giveUp());
        for (int attempt = 1; !closed; attempt++) {
            Instant at = clock.instant();
            WebhookDelivery.Outcome outcome = delivery.attempt(payload.get(), key);
            if (outcome instanceof WebhookDelivery.Outcome.Delivered) {
                metrics.delivered(clock.millis() - r.timestamp());
                commit(r);
                return;
            }
            if (outcome instanceof WebhookDelivery.Outcome.Refused refused) {
                undeliver(r, refused.error(), attempt, first, at);
                return;
            }
            WebhookDelivery.Outcome.Retry retry = (WebhookDelivery.Outcome.Retry) outcome;
            int failed = attempt;
            Duration wait = retry.retryAfter().orElseGet(
                    () -> policy.backoff(failed, ThreadLocalRandom.current().nextDouble()));
            if (clock.instant().plus(wait).isAfter(deadline)) {
                undeliver(r, retry.error(), attempt, first, at); // the next try would come after --give-up
                return;
            }
            metrics.retried.incrementAndGet();
            if (!waitPolling(wait, partition(r))) {
                return; // closing, or the partition went to another consumer: not committed, it is sent again
            }
        }
    }

    /** Sleeps {@code wait} while polling with every partition paused; false when closing or {@code tp} was revoked. */
    private boolean waitPolling(Duration wait, TopicPartition tp) {
        long end = System.nanoTime() + wait.toNanos();
        try {
            while (!closed) {
                consumer.pause(consumer.assignment());
                if (!consumer.assignment().contains(tp)) {
                    return false;
                }
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                // records of partitions assigned during the wait come in order after what is pending
                consumer.poll(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(500))))
                        .forEach(pending::add);
            }
            return false;
        } finally {
            consumer.resume(consumer.paused());
        }
    }

    private void commit(ConsumerRecord<String, byte[]> r) {
        try {
            consumer.commitSync(Map.of(partition(r), new OffsetAndMetadata(r.offset() + 1)));
        } catch (CommitFailedException e) {
            // the partition went to another consumer meanwhile: it sends the record again (at least once)
            log.println("notify: offset commit of partition " + r.partition() + " failed (group rebalanced); the "
                    + "record will be sent again");
        }
    }

    /** Writes the record, its error and attempts to the undelivered topic, then commits it. */
    private void undeliver(ConsumerRecord<String, byte[]> r, String error, int attempts, Instant first, Instant last)
            throws IOException, InterruptedException {
        ObjectNode v = JSON.createObjectNode();
        JsonNode original = parse(r.value());
        if (original != null) {
            v.set("record", original);
        } else {
            v.put("record_raw", r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8));
        }
        v.put("error", error);
        v.put("attempts", attempts);
        v.put("first_attempt", first.toString());
        v.put("last_attempt", last.toString());
        v.put("topic", r.topic());
        v.put("partition", r.partition());
        v.put("offset", r.offset());
        try {
            producer.send(new ProducerRecord<>(settings.undeliveredTopic(), r.key(), JSON.writeValueAsBytes(v)))
                    .get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot write to topic " + settings.undeliveredTopic() + ": " + e.getMessage()
                    + " (nothing committed: the record is sent again on the next start)");
        }
        metrics.undelivered.incrementAndGet();
        // partition and offset only: the error is the receiver's status, the record stays in Kafka
        log.println("notify: undelivered after " + attempts + " attempt" + (attempts == 1 ? "" : "s") + " ("
                + error + "): " + r.topic() + " partition " + r.partition() + " offset " + r.offset() + " -> "
                + settings.undeliveredTopic());
        commit(r);
    }

    private void createUndeliveredTopic(KafkaConnection kafka) throws IOException {
        try (Admin admin = Admin.create(kafka.clientConfig(Map.of()))) {
            Set<String> existing = admin.listTopics().names().get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (existing.contains(settings.undeliveredTopic())) {
                return;
            }
            // as many partitions as the alerts, replicated as the broker's default (Kafka's own choice when -1)
            int partitions = existing.contains(settings.topic())
                    ? kafka.partitions(settings.topic(), KAFKA_TIMEOUT) : 1;
            admin.createTopics(List.of(new NewTopic(settings.undeliveredTopic(), Optional.of(partitions),
                    Optional.empty()))).all().get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IOException("cannot create topic " + settings.undeliveredTopic() + ": "
                        + e.getCause().getMessage() + " (create it, or name another with --undelivered-topic)");
            }
        } catch (TimeoutException e) {
            throw new IOException("cannot create topic " + settings.undeliveredTopic() + ": no answer within "
                    + KAFKA_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static JsonNode parse(byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(value);
            return n != null && n.isObject() ? n : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static TopicPartition partition(ConsumerRecord<?, ?> r) {
        return new TopicPartition(r.topic(), r.partition());
    }

    /** Stops: the attempt in flight ends (at most --timeout), nothing more is committed; waits for the consumer. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        if (stopped.getCount() == 0) {
            return; // run() has ended and closed the consumer (the shutdown hook and the command both close)
        }
        consumer.wakeup();
        stopped.await(policy.timeout().toMillis() + 15_000, TimeUnit.MILLISECONDS);
    }
}
