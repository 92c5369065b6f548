package io.cardiospike.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.functions.PatientScorer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Observe: where a recovery's time went. After a fault, follows the job on the leading JobManager until its tasks run
 * again and a checkpoint completed after that, then reads the phases from the timestamps Flink keeps: when the failure
 * was noticed (the job's exception history, or for a JobManager failover the new leader's job), the job scheduled
 * again, every task's slot (DEPLOYING), every task started (INITIALIZING) and running (RUNNING), and, from the
 * scorer's own gauges, when its keyed state was restored and its model loaded; the sinks initialize first, in the same
 * span as the restore (their Kafka transactions). Reads only.
 */
public final class RecoveryProbe {
    static final Duration POLL = Duration.ofMillis(500);
    static final String SCORER = "score-patients";
    /**
     * A job seen running with no failure is said to have ridden the fault out only once a checkpoint completed this
     * long after it: a cut link is noticed only when the heartbeat (10 s) or the ZooKeeper session (6 s) times out.
     */
    static final Duration SETTLE = Duration.ofSeconds(15);

    private final FlinkRest rest;

    public RecoveryProbe(FlinkRest rest) {
        this.rest = rest;
    }

    /**
     * A recovery, as epoch ms, {@code -1} where a phase did not happen (the job may ride out a fault without
     * failing) or was not seen. {@code attempts}: failures of the job since the fault (a restart may fail again while
     * the broker is still down).
     */
    public record Recovery(long faultMs, long noticedMs, int attempts, long scheduledMs, long slotsMs,
                           long deployedMs, long stateReadyMs, long modelReadyMs, long runningMs, long checkpointMs) {
        /** Whether the job failed and restarted because of the fault. */
        public boolean restarted() {
            return runningMs >= 0;
        }

        /** The fault to all of the job's tasks running again; -1 if it never stopped. */
        public long runningAgainMs() {
            return runningMs < 0 ? -1 : runningMs - faultMs;
        }

        /** One line: each phase's share, in order. */
        public String phases(long firstCommitMs) {
            List<String> out = new ArrayList<>();
            if (restarted()) {
                add(out, "detection", faultMs, noticedMs);
                add(out, "restart delay" + (attempts > 1 ? " (" + attempts + " attempts)" : ""), noticedMs, scheduledMs);
                add(out, "slots", scheduledMs, slotsMs);
                add(out, "deploy", slotsMs, deployedMs);
                add(out, "state restore and sinks' Kafka transactions", deployedMs, stateReadyMs);
                add(out, "model load", stateReadyMs, modelReadyMs);
                add(out, "tasks running", modelReadyMs >= 0 ? modelReadyMs : deployedMs, runningMs);
                out.add(String.format(Locale.ROOT, "= running again %.1f s", runningAgainMs() / 1e3));
            } else {
                out.add("the job kept running");
            }
            long from = restarted() ? runningMs : faultMs;
            add(out, "next checkpoint", from, checkpointMs);
            add(out, "first commit", checkpointMs >= 0 ? checkpointMs : from, firstCommitMs);
            return String.join(", ", out);
        }

        private static void add(List<String> out, String what, long from, long to) {
            if (from >= 0 && to >= 0) {
                out.add(String.format(Locale.ROOT, "%s %.1f s", what, Math.max(0, to - from) / 1e3));
            }
        }
    }

    /**
     * Waits (at most {@code timeout}) until job {@code jobId} runs with every task started after {@code faultMs} or
     * never stopped, and a checkpoint completed after that, then reads the recovery: without the checkpoint if none
     * came in time; null if the job was not seen restarted, nor running past a checkpoint {@link #SETTLE} after the
     * fault, in time. REST errors while the JobManagers fail over are waited out.
     */
    public Recovery await(String jobId, long faultMs, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Recovery last = null;
        boolean settled = false;
        while (System.nanoTime() < deadline) {
            try {
                JsonNode checkpoints = rest.checkpoints(jobId).path("history");
                last = read(jobId, faultMs, checkpoints);
                settled = last.restarted() || latestCheckpoint(checkpoints) >= faultMs + SETTLE.toMillis();
                if (last.checkpointMs() >= 0 && settled && (!last.restarted() || last.modelReadyMs() >= 0
                        || System.nanoTime() > deadline - POLL.toNanos() * 40)) {
                    return last; // the gauges come with Flink's metric fetcher: waited for up to the last 20 s
                }
            } catch (IOException e) {
                // no leader yet, or the job not recovered on it: keep asking
            }
            Thread.sleep(POLL.toMillis());
        }
        return settled ? last : null; // a job not restarted yet, nor past a checkpoint after the fault: nothing known
    }

    private Recovery read(String jobId, long faultMs, JsonNode checkpoints) throws IOException {
        JsonNode job = rest.job(jobId);
        if (!job.path("state").asText().equals("RUNNING")) {
            throw new IOException("not running");
        }
        long scheduled = job.path("timestamps").path("RUNNING").asLong(-1);
        long initializing = job.path("timestamps").path("INITIALIZING").asLong(-1);
        List<Long> failures = new ArrayList<>();
        for (JsonNode e : rest.get("/jobs/" + jobId + "/exceptions?maxExceptions=50").path("exceptionHistory")
                .path("entries")) {
            if (e.path("timestamp").asLong() >= faultMs) {
                failures.add(e.path("timestamp").asLong());
            }
        }
        long noticed = failures.stream().mapToLong(Long::longValue).min().orElse(-1);
        if (noticed < 0 && initializing >= faultMs) {
            noticed = initializing; // a new leader recovered the job: its history starts there
        }
        long slots = -1, deployed = -1, running = -1, stateReady = -1, modelReady = -1;
        boolean allRunning = true;
        for (JsonNode v : job.path("vertices")) {
            String vertex = v.path("id").asText();
            JsonNode times = rest.get("/jobs/" + jobId + "/vertices/" + vertex + "/subtasktimes");
            for (JsonNode s : times.path("subtasks")) {
                JsonNode t = s.path("timestamps");
                long r = t.path("RUNNING").asLong(-1);
                allRunning &= r > 0;
                slots = Math.max(slots, t.path("DEPLOYING").asLong(-1));
                deployed = Math.max(deployed, t.path("INITIALIZING").asLong(-1));
                running = Math.max(running, r);
            }
            if (v.path("name").asText().contains(SCORER) && noticed >= 0) {
                stateReady = gauge(jobId, vertex, v.path("parallelism").asInt(), PatientScorer.STATE_READY_AT);
                modelReady = gauge(jobId, vertex, v.path("parallelism").asInt(), PatientScorer.MODEL_READY_AT);
            }
        }
        if (!allRunning) {
            throw new IOException("tasks not all running");
        }
        boolean restarted = noticed >= 0 && running >= faultMs;
        long from = restarted ? running : faultMs;
        long checkpoint = -1;
        for (JsonNode c : checkpoints) {
            long acked = c.path("latest_ack_timestamp").asLong(-1);
            if (c.path("status").asText().equals("COMPLETED") && c.path("trigger_timestamp").asLong() >= from
                    && (checkpoint < 0 || acked < checkpoint)) {
                checkpoint = acked;
            }
        }
        if (!restarted) {
            return new Recovery(faultMs, -1, failures.size(), -1, -1, -1, -1, -1, -1, checkpoint);
        }
        boolean fresh = stateReady >= slots && modelReady >= stateReady; // not a previous start's
        return new Recovery(faultMs, noticed, Math.max(1, failures.size()), scheduled, slots, deployed,
                fresh ? stateReady : -1, fresh ? modelReady : -1, running, checkpoint);
    }

    /** When the latest completed checkpoint of a checkpoint history was acknowledged; -1 if none. */
    private static long latestCheckpoint(JsonNode checkpoints) {
        long latest = -1;
        for (JsonNode c : checkpoints) {
            if (c.path("status").asText().equals("COMPLETED")) {
                latest = Math.max(latest, c.path("latest_ack_timestamp").asLong(-1));
            }
        }
        return latest;
    }

    /** The latest of a scorer gauge over its subtasks; -1 until Flink's metric fetcher has it. */
    private long gauge(String jobId, String vertex, int parallelism, String name) throws IOException {
        long latest = -1;
        for (int i = 0; i < parallelism; i++) {
            for (JsonNode m : rest.get("/jobs/" + jobId + "/vertices/" + vertex + "/subtasks/" + i + "/metrics?get="
                    + SCORER + "." + name)) {
                latest = Math.max(latest, m.path("value").asLong(-1));
            }
        }
        return latest;
    }
}
