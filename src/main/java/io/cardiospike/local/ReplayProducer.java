package io.cardiospike.local;

import io.cardiospike.stream.wire.StreamJson;
import io.cardiospike.kafka.KafkaConnection;
import io.cardiospike.rr.Recording;
import io.cardiospike.rr.SyntheticRr;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ObjLongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends beats to {@code rr-events} as a fleet of wearables would: one JSON beat per record, keyed by patient id,
 * all patients interleaved by time. The beats come from recordings ({@link #interleave}: ts = base epoch + the
 * recording's time) or from endless synthetic patients ({@link #syntheticFleet}). Pacing: by event time at
 * {@code speed} (1 = real time, infinite = as fast as possible), or at a fixed {@code rate} of events per second.
 */
public final class ReplayProducer implements AutoCloseable {
    /** Base epoch of replayed recordings: their time column is ms from here. */
    public static final long REPLAY_BASE_EPOCH_MS = 1_700_000_000_000L;

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final double speed;
    private final double ratePerSecond;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile Exception firstFailure;
    private volatile boolean stopped;

    public record Event(String patientId, long ts, double rrMs) {}

    /** {@code ratePerSecond > 0} paces by count and ignores {@code speed}. */
    public ReplayProducer(String bootstrapServers, String topic, double speed, double ratePerSecond) {
        this(KafkaConnection.plain(bootstrapServers), topic, speed, ratePerSecond);
    }

    public ReplayProducer(KafkaConnection kafka, String topic, double speed, double ratePerSecond) {
        this.producer = new KafkaProducer<>(kafka.clientConfig(Map.of(
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                // Ride out a broker restart: keep retrying (idempotence keeps retries from duplicating) for minutes,
                // and block a send while the broker is away rather than failing it.
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10 * 60_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 10 * 60_000,
                ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000)),
                new StringSerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.speed = speed;
        this.ratePerSecond = ratePerSecond;
    }

    public ReplayProducer(String bootstrapServers, String topic, double speed) {
        this(bootstrapServers, topic, speed, 0);
    }

    /** All beats of the recordings, interleaved by time (ties in input-row order). */
    public static List<Event> interleave(List<Recording> recordings, long baseEpochMs) {
        List<int[]> order = new ArrayList<>(); // {recording, beat}
        for (int r = 0; r < recordings.size(); r++) {
            for (int i = 0; i < recordings.get(r).size(); i++) {
                order.add(new int[] {r, i});
            }
        }
        order.sort(Comparator.<int[]>comparingDouble(o -> recordings.get(o[0]).time()[o[1]])
                .thenComparingInt(o -> recordings.get(o[0]).inputRows()[o[1]]));
        List<Event> events = new ArrayList<>(order.size());
        for (int[] o : order) {
            Recording rec = recordings.get(o[0]);
            events.add(new Event(rec.id(), replayTs(rec.time()[o[1]], baseEpochMs), rec.rr()[o[1]]));
        }
        return events;
    }

    /**
     * The base epoch that gives the recordings' earliest beat the event time {@code startTs}: a replay shifted as a
     * whole, its spacing kept ({@code produce --start-ts}).
     */
    public static long baseEpochForStart(List<Recording> recordings, long startTs) {
        long first = Long.MAX_VALUE;
        for (Recording r : recordings) {
            for (double t : r.time()) {
                first = Math.min(first, Math.round(t));
            }
        }
        return first == Long.MAX_VALUE ? startTs : startTs - first;
    }

    /** The event time a replayed beat gets. */
    public static long replayTs(double time, long baseEpochMs) {
        return baseEpochMs + Math.round(time);
    }

    /**
     * Endless synthetic patients ({@code patient-0001}...), in event-time order from {@code startEpochMs}. Each
     * patient's next beat is drawn ahead, so the queue is ordered by the time that beat really has (its RR after
     * the previous one: a 40 s RR artifact must not jump ahead of the other patients).
     */
    public static Iterator<Event> syntheticFleet(int patients, long seed, long startEpochMs) {
        SyntheticRr.Patient[] gens = new SyntheticRr.Patient[patients];
        SyntheticRr.Beat[] upcoming = new SyntheticRr.Beat[patients];
        String[] ids = new String[patients];
        long[] upcomingTs = new long[patients];
        PriorityQueue<Integer> due = new PriorityQueue<>(Comparator.comparingLong((Integer p) -> upcomingTs[p]));
        for (int p = 0; p < patients; p++) {
            gens[p] = new SyntheticRr.Patient(seed * 1_000_003L + p);
            ids[p] = String.format("patient-%04d", p + 1);
            upcoming[p] = gens[p].next();
            // staggered within a second, so patients neither beat in lockstep nor start hours apart in a big fleet
            upcomingTs[p] = startEpochMs + p * 37L % 1000;
            due.add(p);
        }
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Event next() {
                int p = due.poll();
                Event e = new Event(ids[p], upcomingTs[p], upcoming[p].rrMs());
                upcoming[p] = gens[p].next();
                upcomingTs[p] += Math.max(1, Math.round(upcoming[p].rrMs())); // a beat comes its RR after the last
                due.add(p);
                return e;
            }
        };
    }

    /**
     * Sends up to {@code maxEvents} (all if not positive) until the iterator ends or {@link #stop}; {@code onSent}
     * gets each event and its sequence number right after it was handed to the producer.
     */
    public void send(Iterator<Event> events, long maxEvents, ObjLongConsumer<Event> onSent)
            throws InterruptedException {
        long startNanos = System.nanoTime(), firstTs = Long.MIN_VALUE;
        for (long seq = 0; events.hasNext() && !stopped && (maxEvents <= 0 || seq < maxEvents); seq++) {
            Event e = events.next();
            if (firstTs == Long.MIN_VALUE) {
                firstTs = e.ts();
            }
            if (ratePerSecond > 0) {
                waitUntil(startNanos + (long) (seq * 1e9 / ratePerSecond));
            } else if (!Double.isInfinite(speed)) {
                waitUntil(startNanos + (long) ((e.ts() - firstTs) * 1e6 / speed));
            }
            producer.send(new ProducerRecord<>(topic, e.patientId(), StreamJson.event(e.patientId(), e.ts(), e.rrMs())),
                    (metadata, error) -> {
                        if (error == null) {
                            acknowledged.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                            firstFailure = firstFailure == null ? error : firstFailure;
                        }
                    });
            sent.incrementAndGet();
            if (onSent != null) {
                onSent.accept(e, seq);
            }
        }
        producer.flush();
    }

    public void send(List<Event> events, ObjLongConsumer<Event> onSent) throws InterruptedException {
        send(events.iterator(), 0, onSent);
    }

    private static void waitUntil(long dueNanos) throws InterruptedException {
        long wait = dueNanos - System.nanoTime();
        if (wait > 1_000_000) {
            Thread.sleep(wait / 1_000_000);
        }
    }

    public long sent() {
        return sent.get();
    }

    /** Events the broker acknowledged (acks=all). */
    public long acknowledged() {
        return acknowledged.get();
    }

    /** Events the producer gave up on (after its retries); {@link #firstFailure} says why. */
    public long failed() {
        return failed.get();
    }

    public Exception firstFailure() {
        return firstFailure;
    }

    public void stop() {
        stopped = true;
    }

    @Override
    public void close() {
        producer.close();
    }
}
