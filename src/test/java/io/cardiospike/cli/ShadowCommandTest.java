package io.cardiospike.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardiospike.local.EmbeddedKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shadow report} against a real broker (EmbeddedKafka): the ten beats of {@code ShadowComparisonTest} written
 * to {@code rr-scores-shadow} in transactions as the job writes them, p1's two hours ago and p2's now, beside an
 * aborted transaction, a record of another format and a transaction left open.
 */
class ShadowCommandTest {
    private static final String TOPIC = "rr-scores-shadow";

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** A record of the topic's format, as the job writes it (model versions cs-live and cs-shadow). */
    private static String beat(String patient, long ts, double rr, double live, boolean liveFlag, double shadow,
                               boolean shadowFlag) {
        return String.format(Locale.ROOT, "{\"patient_id\":\"%s\",\"ts\":%d,\"rr_ms\":%s,\"artifact\":%b,"
                        + "\"live\":{\"model_version\":\"cs-live\",\"proba\":%s,\"anomaly\":%b},"
                        + "\"shadow\":{\"model_version\":\"cs-shadow\",\"proba\":%s,\"anomaly\":%b}}",
                patient, ts, rr, rr > 2000, live, liveFlag, shadow, shadowFlag);
    }

    private static KafkaProducer<String, String> producer(String servers, String transactionalId) {
        KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId),
                new StringSerializer(), new StringSerializer());
        p.initTransactions();
        return p;
    }

    private static void send(KafkaProducer<String, String> p, long recordTs, String key, String value) {
        p.send(new ProducerRecord<>(TOPIC, null, recordTs, key, value));
    }

    @Test
    void comparesTheCommittedRecordsOfTheTopicOnly(@TempDir Path dir) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            // the producer's timestamps, not the broker's (this broker stamps records itself), to write the past
            try (Admin admin = kafka.admin()) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1).configs(Map.of(
                        "message.timestamp.type", "CreateTime")))).all().get();
            }
            String servers = kafka.bootstrapServers();
            long now = System.currentTimeMillis(), twoHoursAgo = now - 2 * 3_600_000L;
            try (KafkaProducer<String, String> job = producer(servers, "shadow-test");
                 KafkaProducer<String, String> open = producer(servers, "shadow-test-open")) {
                job.beginTransaction();
                send(job, twoHoursAgo, "p1", beat("p1", 1000, 1000, 0.90, true, 0.80, true));
                send(job, twoHoursAgo, "p1", beat("p1", 2000, 1000, 0.70, true, 0.30, false));
                send(job, twoHoursAgo, "p1", beat("p1", 3000, 1000, 0.20, false, 0.10, false));
                send(job, twoHoursAgo, "p1", beat("p1", 4000, 1000, 0.10, false, 0.60, true));
                send(job, twoHoursAgo, "p1", beat("p1", 5000, 1000, 0.95, true, 0.20, false));
                send(job, twoHoursAgo, "p1", beat("p1", 30000, 1000, 0.80, true, 0.70, true));
                job.commitTransaction();
                job.beginTransaction(); // scores of a job that failed before its checkpoint: never committed
                send(job, now, "p3", beat("p3", 1000, 800, 0.99, true, 0.99, true));
                send(job, now, "p3", beat("p3", 1800, 800, 0.99, true, 0.01, false));
                job.flush();
                job.abortTransaction();
                job.beginTransaction();
                send(job, now, "p2", beat("p2", 1000, 800, 0.10, false, 0.10, false));
                send(job, now, "p2", beat("p2", 1800, 800, 0.30, false, 0.55, true));
                send(job, now, "p2", beat("p2", 2600, 800, 0.40, false, 0.65, true));
                send(job, now, "p2", beat("p2", 22600, 20000, 0.20, false, 0.75, true));
                send(job, now, "p9", "{\"patient_id\":\"p9\",\"ts\":1,\"proba\":0.5}");
                job.commitTransaction();
                // a transaction still open when the report runs: not waited for, not read
                open.beginTransaction();
                send(open, now, "p4", beat("p4", 1000, 800, 0.99, true, 0.01, false));
                open.flush();

                Run all = run("shadow", "report", "--bootstrap-servers", servers, "--examples", "2");
                assertThat(all.exit()).as(all.err()).isZero();
                assertThat(all.err()).isEqualTo("read 11 records of rr-scores-shadow; 1 of them not in its format "
                        + "(skipped)\n");
                assertThat(all.out()).isEqualTo("""
                        live cs-live vs shadow cs-shadow: 10 beats of 2 patients
                                                           live       shadow
                          flagged beats                 40.000%      60.000%
                          mean probability               0.4650       0.4750
                          episodes                            3            4
                          episodes only it raises             1            2
                          agreement 40.000%, mean |Δp| 0.3000; label flips: 2 beats flagged by live only, 4 by shadow only
                          only live   p1 5000..5000, 1 beats, max proba live 0.950 shadow 0.200
                          only shadow p2 1800..22600, 3 beats, max proba live 0.400 shadow 0.750
                        """);

                Run json = run("shadow", "report", "--bootstrap-servers", servers, "--json", "--since", "1h");
                assertThat(json.exit()).as(json.err()).isZero();
                assertThat(json.err()).isEqualTo("read 5 records of rr-scores-shadow of the last 1h; 1 of them not in "
                        + "its format (skipped)\n");
                JsonNode pair = new ObjectMapper().readTree(json.out()).path("pairs").path(0);
                assertThat(pair.path("beats").asLong()).as(json.out()).isEqualTo(4); // p2's only
                assertThat(pair.path("patients").asInt()).isEqualTo(1);
                assertThat(pair.path("live").path("flagged_beats").asLong()).isZero();
                assertThat(pair.path("shadow").path("flagged_beats").asLong()).isEqualTo(3);
                assertThat(pair.path("shadow").path("episodes_only_it_raises").asInt()).isEqualTo(1);
                assertThat(pair.path("mean_abs_delta").asDouble()).isCloseTo((0 + 0.25 + 0.25 + 0.55) / 4,
                        within(1e-12));
                assertThat(pair.path("examples")).hasSize(1);

                Run none = run("shadow", "report", "--bootstrap-servers", servers, "--since", "1ms");
                assertThat(none.exit()).as(none.err()).isZero();
                assertThat(none.out()).isEqualTo("no shadow scores\n");
                open.abortTransaction();
            }
        }
    }

    @Test
    void aTopicThatIsNotThereOrABadDurationIsOneLine(@TempDir Path dir) throws Exception {
        Run badSince = run("shadow", "report", "--since", "soon", "--bootstrap-servers", "127.0.0.1:1");
        assertThat(badSince.exit()).isEqualTo(2);
        assertThat(badSince.err()).isEqualTo("error: --since soon: not a positive duration; e.g. 30min, 1h, 2d\n");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            Run missing = run("shadow", "report", "--bootstrap-servers", kafka.bootstrapServers());
            assertThat(missing.exit()).isEqualTo(2);
            assertThat(missing.err()).isEqualTo("error: topic rr-scores-shadow does not exist: no job has scored "
                    + "with a shadow model there (bin/cardiospike job submit|upgrade --shadow-model DIR)\n");
        }
    }
}
