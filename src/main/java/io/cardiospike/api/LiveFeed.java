package io.cardiospike.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import io.cardiospike.kafka.KafkaConnection;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the streaming job's output topics ({@code rr-scores}, {@code rr-alerts}) and keeps, per patient, the last
 * {@code beatsPerPatient} beats and recent alerts in memory for the live view; at most {@code maxPatients} patients
 * (the least recently updated is dropped). From those and {@code rr-scores-shadow}, {@code rr-monitoring} it keeps the
 * models view ({@link ModelsView}). Reads committed records only, from the earliest offset, in its own
 * consumer group without committing, so each server replays what the topics still hold into its buffers.
 *
 * <p>Server-sent-event clients register a {@link Subscriber}; registration and every update happen under one lock,
 * so a subscriber's snapshot and the beats queued after it never overlap or leave a gap.
 */
final class LiveFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);
    static final int ALERTS_PER_PATIENT = 50;
    private static final int SUBSCRIBER_QUEUE = 2_000;
    private static final long PATIENTS_EVERY_MS = 500;

    /** One server-sent event, data already serialised. */
    record Event(String name, String data) {}

    static final Event END = new Event("end", "{}");

    /** A connected page: the patient it follows (or null) and its outgoing events. */
    final class Subscriber {
        final String patient;
        final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(SUBSCRIBER_QUEUE);

        Subscriber(String patient) {
            this.patient = patient;
        }

        private void offer(Event e) {
            if (!queue.offer(e)) {
                // too slow to keep up: end its stream; EventSource reconnects and starts from a fresh snapshot
                queue.clear();
                queue.offer(END);
                subscribers.remove(this);
            }
        }
    }

    private final ObjectMapper json = new ObjectMapper();
    private final String scoresTopic;
    private final String alertsTopic;
    private final String shadowScoresTopic;
    private final String monitoringTopic;
    private final ModelsView models = new ModelsView();
    private final int beatsPerPatient;
    private final int maxPatients;
    private final KafkaConsumer<String, String> consumer;
    private final Thread thread;
    private final Object lock = new Object();
    private final LinkedHashMap<String, PatientBuffer> patients = new LinkedHashMap<>(); // least recently updated first
    private final Set<Subscriber> subscribers = new CopyOnWriteArraySet<>();
    private volatile boolean running = true;
    private long records;
    private long skipped;
    private boolean patientsChanged;
    private long patientsSentAt;

    LiveFeed(KafkaConnection kafka, String scoresTopic, String alertsTopic, String shadowScoresTopic,
             String monitoringTopic, int beatsPerPatient, int maxPatients) {
        this.scoresTopic = scoresTopic;
        this.alertsTopic = alertsTopic;
        this.shadowScoresTopic = shadowScoresTopic;
        this.monitoringTopic = monitoringTopic;
        this.beatsPerPatient = beatsPerPatient;
        this.maxPatients = maxPatients;
        Properties p = new Properties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "cardiospike-dashboard-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "cardiospike-dashboard");
        p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "2000"); // notice topics created after we start
        this.consumer = new KafkaConsumer<>(kafka.clientConfig(p.entrySet().stream().collect(java.util.stream.Collectors
                .toMap(e -> (String) e.getKey(), java.util.Map.Entry::getValue))), new StringDeserializer(),
                new StringDeserializer());
        consumer.subscribe(List.of(scoresTopic, alertsTopic, shadowScoresTopic, monitoringTopic));
        this.thread = new Thread(this::run, "live-feed");
        thread.setDaemon(true);
        thread.start();
    }

    boolean running() {
        return running;
    }

    private void run() {
        try {
            while (running) {
                var batch = consumer.poll(Duration.ofMillis(200));
                synchronized (lock) {
                    Map<String, BeatBatch> beats = new LinkedHashMap<>();
                    for (ConsumerRecord<String, String> r : batch) {
                        records++;
                        try {
                            JsonNode v = json.readTree(r.value());
                            if (r.topic().equals(scoresTopic)) {
                                onScore(v, beats);
                            } else if (r.topic().equals(alertsTopic)) {
                                onAlert(v);
                            } else if (r.topic().equals(shadowScoresTopic)) {
                                models.onShadowScore(v);
                            } else {
                                models.onMonitoring(v);
                            }
                        } catch (JsonProcessingException | IllegalArgumentException | NullPointerException e) {
                            skipped++; // counted, never logged: values carry patient data
                        }
                    }
                    for (BeatBatch b : beats.values()) {
                        Event e = event("beats", b.json());
                        for (Subscriber s : subscribers) {
                            if (b.patientId.equals(s.patient)) {
                                s.offer(e);
                            }
                        }
                    }
                    long now = System.currentTimeMillis();
                    if (patientsChanged && now - patientsSentAt >= PATIENTS_EVERY_MS) {
                        Event e = event("patients", patientsJson());
                        subscribers.forEach(s -> s.offer(e));
                        patientsChanged = false;
                        patientsSentAt = now;
                    }
                }
            }
        } catch (WakeupException e) {
            // close() woke us up
        } catch (RuntimeException e) {
            LOG.error("live feed stopped: {}", e.toString());
        } finally {
            running = false;
            consumer.close(Duration.ofSeconds(2));
            subscribers.forEach(s -> s.offer(END));
        }
    }

    private void onScore(JsonNode v, Map<String, BeatBatch> beats) {
        String id = requiredText(v, "patient_id");
        double ts = requiredNumber(v, "ts"), rr = requiredNumber(v, "rr_ms"), proba = requiredNumber(v, "proba");
        boolean anomaly = flag(v.get("anomaly")), artifact = flag(v.get("artifact"));
        PatientBuffer p = patient(id);
        p.add(ts, rr, proba, anomaly, artifact);
        if (v.hasNonNull("model_version")) {
            p.modelVersion = v.get("model_version").asText();
        }
        models.onScore(p.modelVersion, proba, anomaly);
        beats.computeIfAbsent(id, BeatBatch::new).add(ts, rr, proba, anomaly, artifact);
        patientsChanged = true;
    }

    /**
     * An alert opens, then closes under the same {@code alert_id}: the later record replaces the earlier, and keeps
     * the open one's explanation (only the open record carries one).
     */
    private void onAlert(JsonNode v) {
        String id = requiredText(v, "patient_id");
        PatientBuffer p = patient(id);
        String alertId = v.path("alert_id").asText();
        for (JsonNode a : p.alerts) {
            if (a.path("alert_id").asText().equals(alertId) && a.has("explanation") && !v.has("explanation")
                    && v instanceof ObjectNode o) {
                o.set("explanation", a.get("explanation"));
            }
        }
        boolean known = p.alerts.removeIf(a -> a.path("alert_id").asText().equals(alertId));
        models.onAlert(v);
        p.alerts.addLast(v);
        if (p.alerts.size() > ALERTS_PER_PATIENT) {
            p.alerts.removeFirst();
        }
        if (!known) {
            if (v.path("suppressed").asBoolean(false)) {
                p.heldAlertCount++; // --alert-hold: shown, but it did not page anyone
            } else {
                p.alertCount++;
            }
        }
        Event e = event("alert", v.toString());
        subscribers.forEach(s -> s.offer(e));
        patientsChanged = true;
    }

    private PatientBuffer patient(String id) {
        // re-inserting keeps the map in update order, so eviction drops the least recently updated patient
        PatientBuffer p = patients.remove(id);
        if (p == null) {
            p = new PatientBuffer(id, beatsPerPatient);
            if (patients.size() >= maxPatients) {
                patients.remove(patients.keySet().iterator().next());
            }
        }
        patients.put(id, p);
        return p;
    }

    /** Registers a page; its queue starts with the patient list and, if it follows one, that patient's buffer. */
    Subscriber subscribe(String patient) {
        synchronized (lock) {
            Subscriber s = new Subscriber(patient);
            s.offer(event("patients", patientsJson()));
            if (patient != null) {
                PatientBuffer p = patients.get(patient);
                s.offer(event("snapshot", p != null ? p.json(json) : emptyPatient(patient)));
            }
            if (running) {
                subscribers.add(s);
            } else {
                s.offer(END);
            }
            return s;
        }
    }

    void unsubscribe(Subscriber s) {
        subscribers.remove(s);
    }

    /** Summary of every buffered patient, most recently updated first. */
    String patientsJson() {
        synchronized (lock) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (PatientBuffer p : patients.values()) {
                list.add(0, p.summary());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("patients", list);
            m.put("records", records);
            m.put("skipped", skipped);
            return write(m);
        }
    }

    /** One patient's buffer as JSON, or null when unknown. */
    String patientJson(String id) {
        synchronized (lock) {
            PatientBuffer p = patients.get(id);
            return p == null ? null : p.json(json);
        }
    }

    /** The models view ({@link ModelsView}) as JSON. */
    String modelsJson() {
        synchronized (lock) {
            return models.json(json);
        }
    }

    Map<String, Object> status() {
        synchronized (lock) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("running", running);
            m.put("topics", List.of(scoresTopic, alertsTopic, shadowScoresTopic, monitoringTopic));
            m.put("patients", patients.size());
            m.put("records", records);
            m.put("skipped", skipped);
            m.put("subscribers", subscribers.size());
            return m;
        }
    }

    private String emptyPatient(String id) {
        return new PatientBuffer(id, 1).json(json);
    }

    private Event event(String name, String data) {
        return new Event(name, data);
    }

    private String write(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String requiredText(JsonNode v, String field) {
        JsonNode n = v.get(field);
        if (n == null || n.isNull() || n.asText().isEmpty()) {
            throw new IllegalArgumentException(field);
        }
        return n.asText();
    }

    private static double requiredNumber(JsonNode v, String field) {
        JsonNode n = v.get(field);
        if (n == null || !n.isNumber()) {
            throw new IllegalArgumentException(field);
        }
        return n.doubleValue();
    }

    /** The job may write flags as booleans or 0/1. */
    private static boolean flag(JsonNode n) {
        return n != null && (n.isBoolean() ? n.booleanValue() : n.asInt(0) != 0);
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** New beats of one patient from one poll. */
    private final class BeatBatch {
        final String patientId;
        final List<double[]> rows = new ArrayList<>();

        BeatBatch(String patientId) {
            this.patientId = patientId;
        }

        void add(double ts, double rr, double proba, boolean anomaly, boolean artifact) {
            rows.add(new double[] {ts, rr, proba, anomaly ? 1 : 0, artifact ? 1 : 0});
        }

        String json() {
            int n = rows.size();
            double[] ts = new double[n], rr = new double[n], proba = new double[n];
            int[] anomaly = new int[n], artifact = new int[n];
            for (int i = 0; i < n; i++) {
                double[] r = rows.get(i);
                ts[i] = r[0];
                rr[i] = r[1];
                proba[i] = r[2];
                anomaly[i] = (int) r[3];
                artifact[i] = (int) r[4];
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("patient_id", patientId);
            m.put("ts", ts);
            m.put("rr", rr);
            m.put("proba", proba);
            m.put("anomaly", anomaly);
            m.put("artifact", artifact);
            return write(m);
        }
    }

    /** Ring buffer of one patient's latest beats plus its recent alerts. */
    private static final class PatientBuffer {
        final String id;
        final double[] ts, rr, proba;
        final byte[] anomaly, artifact;
        final ArrayDeque<JsonNode> alerts = new ArrayDeque<>();
        int start, size;
        long totalBeats, anomalous;
        int alertCount;
        int heldAlertCount;
        String modelVersion;

        PatientBuffer(String id, int capacity) {
            this.id = id;
            ts = new double[capacity];
            rr = new double[capacity];
            proba = new double[capacity];
            anomaly = new byte[capacity];
            artifact = new byte[capacity];
        }

        void add(double t, double x, double p, boolean a, boolean art) {
            int cap = ts.length;
            int i = (start + size) % cap;
            if (size == cap) {
                start = (start + 1) % cap;
            } else {
                size++;
            }
            ts[i] = t;
            rr[i] = x;
            proba[i] = p;
            anomaly[i] = (byte) (a ? 1 : 0);
            artifact[i] = (byte) (art ? 1 : 0);
            totalBeats++;
            if (a) {
                anomalous++;
            }
        }

        Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("patient_id", id);
            m.put("beats", totalBeats);
            m.put("anomalous_beats", anomalous);
            m.put("last_ts", size == 0 ? null : ts[(start + size - 1) % ts.length]);
            m.put("alerts", alertCount);
            m.put("held_alerts", heldAlertCount);
            m.put("latest_alert", alerts.peekLast());
            m.put("model_version", modelVersion);
            return m;
        }

        String json(ObjectMapper json) {
            double[] t = new double[size], x = new double[size], p = new double[size];
            int[] a = new int[size], art = new int[size];
            for (int k = 0; k < size; k++) {
                int i = (start + k) % ts.length;
                t[k] = ts[i];
                x[k] = rr[i];
                p[k] = proba[i];
                a[k] = anomaly[i];
                art[k] = artifact[i];
            }
            Map<String, Object> m = summary();
            m.put("ts", t);
            m.put("rr", x);
            m.put("proba", p);
            m.put("anomaly", a);
            m.put("artifact", art);
            m.put("recent_alerts", new ArrayList<>(alerts));
            try {
                return json.writeValueAsString(m);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
