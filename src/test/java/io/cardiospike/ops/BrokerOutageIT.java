package io.cardiospike.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.cardiospike.local.LocalJob;
import io.cardiospike.local.ReplayAudit;
import io.cardiospike.local.ReplayProducer;
import io.cardiospike.local.TopicReader;
import io.cardiospike.model.EnsembleScorer;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.rr.SyntheticRr;
import io.cardiospike.stream.StreamConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker outage longer than the idle flush, with the job's default options: the silence is the infrastructure's,
 * not the patients', so no segment ends, and every committed score equals the batch scorer's (issue 31, item 1).
 */
class BrokerOutageIT {
    @TempDir
    Path dir;

    @Test
    void aBrokerDownForLongerThanTheIdleFlushEndsNoPatientsSegment() throws Exception {
        BrokerProcess brokers = new BrokerProcess(dir, "rr-events", "rr-scores", "rr-alerts", "rr-dlq");
        Process broker = brokers.start();
        StreamConfig config = StreamConfig.builder().bootstrapServers(brokers.bootstrapServers())
                .checkpointDir(dir.resolve("checkpoints").toString()).build();
        Duration outage = config.idleFlushGap().multipliedBy(2).plusSeconds(5);
        KafkaConnection kafka = config.kafka();
        ReplayAudit audit = new ReplayAudit();
        // ~8 min of recording at 12 times real time: 40 s of sending, the broker down from the first score for 25 s.
        List<ReplayProducer.Event> events = ReplayProducer.interleave(
                SyntheticRr.recordings(4, 600, 600, 20261203L), ReplayProducer.REPLAY_BASE_EPOCH_MS);
        JobClient job = LocalJob.start(config, null);
        ExecutorService sending = Executors.newSingleThreadExecutor();
        try (EnsembleScorer scorer = EnsembleScorer.open(Path.of("models"));
             TopicReader reader = new TopicReader(kafka, List.of(config.scoresTopic(), config.alertsTopic(),
                     config.dlqTopic()), false, r -> audit.received(r.topic(), r.value(), config, 0));
             ReplayProducer producer = new ReplayProducer(kafka, config.inputTopic(), 12, 0)) {
            Future<?> sent = sending.submit(() -> {
                producer.send(events, (e, seq) -> audit.sent(e, System.currentTimeMillis()));
                return null;
            });
            // the outage starts once the job scores (about 12 s in on a quiet machine), while beats are still sent
            long firstScoreBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            do {
                Thread.sleep(1_000);
            } while (audit.scoredBeats() == 0 && System.nanoTime() < firstScoreBy);
            assertThat(audit.scoredBeats()).as("the job scores before the outage").isPositive();
            assertThat(sent.isDone()).as("beats still being sent when the broker goes down").isFalse();
            broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            Thread.sleep(outage.toMillis());
            broker = brokers.start();
            sent.get(5, TimeUnit.MINUTES);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            while (audit.scoredBeats() < events.size() && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            Thread.sleep(config.checkpointInterval().toMillis() + 2_000); // a duplicate would come with the next commit
            ReplayAudit.Report report = audit.check(scorer);
            assertThat(report.sent()).isEqualTo(events.size());
            assertThat(report.committed()).as("every beat committed").isEqualTo(events.size());
            assertThat(report.mismatched()).as("scores that differ from the batch scorer's").isZero();
            assertThat(report.clean()).as("%s", report).isTrue();
        } finally {
            sending.shutdownNow();
            LocalJob.stop(job, Duration.ofSeconds(15));
            broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
