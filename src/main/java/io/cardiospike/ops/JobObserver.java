package io.cardiospike.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardiospike.stream.JobParameters;
import io.cardiospike.stream.ScoringJob;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Observe: the scoring job as Flink's REST API shows it (which one runs, its state, recorded parameters, checkpoints,
 * the TaskManagers its tasks run on). Reads only; {@link ScoringJobClient} acts on what it sees.
 */
public final class JobObserver {
    private final FlinkRest rest;

    public JobObserver(FlinkRest rest) {
        this.rest = rest;
    }

    /** Observes the Flink cluster whose REST API is at {@code restUrl}. */
    public JobObserver(String restUrl) {
        this(new FlinkRest(restUrl));
    }

    /** The one running scoring job's id; none or several is the user's to sort out. */
    public String runningScoringJob() throws IOException, ScoringJobException {
        List<FlinkRest.Job> running = rest.jobs().stream()
                .filter(j -> j.name().equals(ScoringJob.JOB_NAME) && j.state().equals("RUNNING")).toList();
        if (running.size() != 1) {
            throw new ScoringJobException(running.isEmpty() ? "no running scoring job on " + rest.baseUrl()
                    + " (submit one: bin/cardiospike job submit)"
                    : running.size() + " scoring jobs are running: name one with --job-id "
                    + running.stream().map(FlinkRest.Job::id).toList());
        }
        return running.get(0).id();
    }

    /** What the job recorded about itself when submitted ({@link JobParameters}). */
    public Map<String, String> parameters(String id) throws IOException {
        return rest.jobParameters(id);
    }

    public JobStatus status(String id) throws IOException {
        JsonNode job = rest.job(id);
        Map<String, String> params = rest.jobParameters(id);
        int parallelism = 0;
        for (JsonNode v : job.path("vertices")) {
            parallelism = Math.max(parallelism, v.path("parallelism").asInt());
        }
        JsonNode checkpoints = rest.checkpoints(id);
        JsonNode counts = checkpoints.path("counts");
        JsonNode duration = checkpoints.path("summary").path("end_to_end_duration");
        return new JobStatus(id, job.path("state").asText(), params.getOrDefault(JobParameters.MODEL_VERSION, "?"),
                params.getOrDefault(JobParameters.MODEL_DIR, "?"), params.get(JobParameters.SHADOW_MODEL_VERSION),
                params.get(JobParameters.SHADOW_MODEL_DIR), parallelism, latest(checkpoints),
                new JobStatus.Checkpoints(counts.path("completed").asLong(), counts.path("failed").asLong(),
                        duration.path("min").asLong(), duration.path("p50").asDouble(), duration.path("max").asLong()));
    }

    /** The job's last completed checkpoint; none yet, or none known when the REST API does not answer now. */
    public Optional<JobStatus.Checkpoint> lastCheckpoint(String id) {
        try {
            return latest(rest.checkpoints(id));
        } catch (IOException e) {
            return Optional.empty(); // REST busy: no figure this time
        }
    }

    /**
     * A gauge of every subtask of the operator whose name contains {@code operator}, in subtask order; -1 for a
     * subtask that does not report it yet.
     */
    public List<Long> subtaskGauge(String id, String operator, String gauge) throws IOException {
        List<Long> values = new java.util.ArrayList<>();
        for (JsonNode v : rest.job(id).path("vertices")) {
            if (!v.path("name").asText().contains(operator)) {
                continue;
            }
            for (int i = 0; i < v.path("parallelism").asInt(); i++) {
                long value = -1;
                for (JsonNode m : rest.get("/jobs/" + id + "/vertices/" + v.path("id").asText() + "/subtasks/" + i
                        + "/metrics?get=" + operator + "." + gauge)) {
                    value = m.path("value").asLong(-1);
                }
                values.add(value);
            }
            break;
        }
        return values;
    }

    /**
     * The metrics of the operator whose name contains {@code operator} that end with {@code suffix}, each summed over
     * its subtasks, then added up ({@code largest}: the largest instead, for a figure the metrics share, such as
     * RocksDB's block cache across column families); -1 when no such operator runs.
     */
    public double operatorMetric(String id, String operator, String suffix, boolean largest) throws IOException {
        for (JsonNode v : rest.job(id).path("vertices")) {
            if (!v.path("name").asText().contains(operator)) {
                continue;
            }
            String base = "/jobs/" + id + "/vertices/" + v.path("id").asText() + "/subtasks/metrics";
            List<String> names = new java.util.ArrayList<>();
            for (JsonNode m : rest.get(base)) {
                if (m.path("id").asText().endsWith(suffix)) {
                    names.add(m.path("id").asText());
                }
            }
            double total = 0;
            if (!names.isEmpty()) {
                for (JsonNode m : rest.get(base + "?agg=sum&get=" + String.join(",", names))) {
                    double value = m.path("sum").asDouble();
                    total = largest ? Math.max(total, value) : total + value;
                }
            }
            return total;
        }
        return -1;
    }

    /** The completed checkpoints (not savepoints) triggered since {@code sinceMs}, oldest first, as the API lists them. */
    public List<JsonNode> completedCheckpoints(String id, long sinceMs) throws IOException {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (JsonNode c : rest.checkpoints(id).path("history")) {
            if (c.path("status").asText().equals("COMPLETED") && !c.path("is_savepoint").asBoolean()
                    && c.path("trigger_timestamp").asLong() >= sinceMs) {
                out.add(c);
            }
        }
        out.sort((a, b) -> Long.compare(a.path("id").asLong(), b.path("id").asLong()));
        return out;
    }

    /** The TaskManagers (resource ids) that run some task of the job now. */
    public Set<String> taskManagersOf(String id) throws IOException {
        return rest.taskManagersOf(id);
    }

    /** Whether the leading JobManager knows job {@code id}, in any state. */
    public boolean exists(String id) throws IOException {
        return state(id).isPresent();
    }

    /**
     * Whether job {@code id} runs or will run again: known to the leading JobManager and not globally terminal (a
     * job restarting, or recovered by a new leader, will run).
     */
    public boolean runsOrWillRun(String id) throws IOException {
        return state(id).filter(s -> !GLOBALLY_TERMINAL.contains(s)).isPresent();
    }

    private static final Set<String> GLOBALLY_TERMINAL = Set.of("FINISHED", "CANCELED", "FAILED");

    /** The job's state on the leading JobManager; none if it does not know the job. */
    private Optional<String> state(String id) throws IOException {
        try {
            return Optional.of(rest.job(id).path("state").asText());
        } catch (FlinkRest.Failure e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * Until the job and all its tasks run. A job that failed, was cancelled or finished instead, or is not running
     * within {@code timeout}, is the user's to look at.
     */
    public void awaitRunning(String id, Duration timeout) throws IOException, InterruptedException,
            ScoringJobException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode job = rest.job(id);
            String state = job.path("state").asText();
            boolean tasksRunning = job.path("vertices").size() > 0;
            for (JsonNode v : job.path("vertices")) {
                tasksRunning &= v.path("status").asText().equals("RUNNING");
            }
            if (state.equals("RUNNING") && tasksRunning) {
                return;
            }
            if (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED")) {
                throw new ScoringJobException("job " + id + " is " + state + ": see " + rest.baseUrl()
                        + "/#/job/completed/" + id + "/exceptions");
            }
            Thread.sleep(200);
        }
        throw new ScoringJobException("job " + id + " not running within " + minutes(timeout));
    }

    /**
     * Until a batch job has finished. One that failed or was cancelled, or runs on after {@code timeout}, is refused
     * in one line: its root cause, and where to read more.
     */
    public void awaitFinished(String id, Duration timeout) throws IOException, InterruptedException,
            ScoringJobException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String state = rest.job(id).path("state").asText();
            if (state.equals("FINISHED")) {
                return;
            }
            if (state.equals("FAILED") || state.equals("CANCELED")) {
                String cause = rest.get("/jobs/" + id + "/exceptions").path("root-exception").asText("");
                String line = cause.lines().findFirst().orElse("").trim();
                throw new ScoringJobException("job " + id + " " + state + (line.isEmpty() ? "" : ": " + line)
                        + " (see " + rest.baseUrl() + "/#/job/completed/" + id + "/exceptions)");
            }
            Thread.sleep(500);
        }
        throw new ScoringJobException("job " + id + " not finished within " + minutes(timeout) + "; it runs on: see "
                + rest.baseUrl() + "/#/job/running/" + id);
    }

    private static String minutes(Duration d) {
        return d.toMinutes() == 1 ? "1 minute" : d.toMinutes() + " minutes";
    }

    private static Optional<JobStatus.Checkpoint> latest(JsonNode checkpoints) {
        JsonNode last = checkpoints.path("latest").path("completed");
        if (last.isMissingNode() || last.isNull()) {
            return Optional.empty();
        }
        return Optional.of(new JobStatus.Checkpoint(last.path("id").asLong(),
                Instant.ofEpochMilli(last.path("latest_ack_timestamp").asLong()),
                last.path("end_to_end_duration").asLong(), last.path("checkpointed_size").asLong(),
                last.path("state_size").asLong(), last.path("external_path").asText()));
    }
}
