package io.cardiospike.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cardiospike.model.EpisodeTracker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The live model against its shadow, from the beats of {@code rr-scores-shadow} (each scored by both): per pair of
 * model versions, each model's flagged-beat rate and mean probability, how often they agree, the mean |Δp|, the beats
 * only one of them flags, and the episodes only one of them raises, with examples. Episodes are the job's
 * ({@link EpisodeTracker}: consecutive flagged beats of a segment; a pause longer than the idle-flush gap, beyond what
 * the beat's own RR explains, ends a segment); an episode of one model is shared when an episode of the other overlaps
 * it in time for the same patient. Beats come a patient at a time in time order, as the topic holds them (keyed by
 * patient). Used by {@code shadow report} and the dashboard ({@link Report#toJson()}).
 */
public final class ShadowComparison {
    /** One model's score of a beat. */
    public record Score(String modelVersion, double proba, boolean anomaly) {}

    /** One record of {@code rr-scores-shadow}: a beat scored by the live model and by the shadow. */
    public record Beat(String patientId, long ts, double rrMs, boolean artifact, Score live, Score shadow) {
        /** A record's JSON value; a value without the fields of the topic's format is refused. */
        public static Beat fromJson(JsonNode v) {
            JsonNode live = v.path("live"), shadow = v.path("shadow");
            if (!v.path("patient_id").isTextual() || !v.path("ts").canConvertToLong() || !live.isObject()
                    || !shadow.isObject()) {
                throw new IllegalArgumentException("not an rr-scores-shadow record: " + abbreviated(v));
            }
            return new Beat(v.get("patient_id").asText(), v.get("ts").asLong(), v.path("rr_ms").asDouble(),
                    v.path("artifact").asBoolean(), score(live, v), score(shadow, v));
        }

        private static Score score(JsonNode s, JsonNode record) {
            if (!s.path("model_version").isTextual() || !s.path("proba").isNumber()
                    || !s.path("anomaly").isBoolean()) {
                throw new IllegalArgumentException("not an rr-scores-shadow record: " + abbreviated(record));
            }
            return new Score(s.get("model_version").asText(), s.get("proba").asDouble(), s.get("anomaly").asBoolean());
        }

        private static String abbreviated(JsonNode v) {
            String s = v.toString();
            return s.length() > 120 ? s.substring(0, 120) + "..." : s;
        }
    }

    /** One model's figures over the beats of a pair. */
    public record ModelFigures(String modelVersion, long flaggedBeats, double flaggedRate, double meanProba,
                               int episodes, int episodesOnlyItRaises) {}

    /**
     * An episode only one model raises: which ({@code "live"} or {@code "shadow"}), whose, when (its first and last
     * beat), its beats, and both models' highest probability over them.
     */
    public record Example(String raisedBy, String patientId, long startTs, long endTs, int beats, double liveMaxProba,
                          double shadowMaxProba) {}

    /**
     * The comparison of one live model with one shadow model over {@code beats} beats of {@code patients} patients
     * ({@code fromTs} to {@code toTs}): {@code agreement} is the share of beats both flag or both leave,
     * {@code meanAbsDelta} the mean |shadow - live| probability, {@code flaggedByLiveOnly} the beats the live model
     * flags and the shadow does not (a label flip to normal if the shadow went live), {@code flaggedByShadowOnly} the
     * other way.
     */
    public record Pair(ModelFigures live, ModelFigures shadow, long beats, int patients, long fromTs, long toTs,
                       double agreement, double meanAbsDelta, long flaggedByLiveOnly, long flaggedByShadowOnly,
                       List<Example> examples) {}

    /** Every pair of model versions seen, in the order their first beat came. */
    public record Report(List<Pair> pairs) {
        private static final ObjectMapper JSON = new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT);

        /** As JSON ({@code {"pairs": [{"live": {...}, "shadow": {...}, "beats": ..., ...}]}}), snake_case names. */
        public String toJson() {
            try {
                return JSON.writeValueAsString(this);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e); // records of numbers and strings always serialize
            }
        }

        /** As {@code shadow report} prints it: a block per pair. */
        public String text() {
            if (pairs.isEmpty()) {
                return String.format("no shadow scores%n");
            }
            StringBuilder out = new StringBuilder();
            for (Pair p : pairs) {
                out.append(String.format(Locale.ROOT, "live %s vs shadow %s: %,d beats of %d patients%n",
                        p.live().modelVersion(), p.shadow().modelVersion(), p.beats(), p.patients()));
                out.append(String.format(Locale.ROOT, "  %-24s %12s %12s%n", "", "live", "shadow"));
                out.append(String.format(Locale.ROOT, "  %-24s %11.3f%% %11.3f%%%n", "flagged beats",
                        100 * p.live().flaggedRate(), 100 * p.shadow().flaggedRate()));
                out.append(String.format(Locale.ROOT, "  %-24s %12.4f %12.4f%n", "mean probability",
                        p.live().meanProba(), p.shadow().meanProba()));
                out.append(String.format(Locale.ROOT, "  %-24s %12d %12d%n", "episodes", p.live().episodes(),
                        p.shadow().episodes()));
                out.append(String.format(Locale.ROOT, "  %-24s %12d %12d%n", "episodes only it raises",
                        p.live().episodesOnlyItRaises(), p.shadow().episodesOnlyItRaises()));
                out.append(String.format(Locale.ROOT, "  agreement %.3f%%, mean |Δp| %.4f; label flips: %,d beats "
                                + "flagged by live only, %,d by shadow only%n", 100 * p.agreement(), p.meanAbsDelta(),
                        p.flaggedByLiveOnly(), p.flaggedByShadowOnly()));
                for (Example e : p.examples()) {
                    out.append(String.format(Locale.ROOT, "  only %-6s %s %d..%d, %d beats, max proba live %.3f "
                                    + "shadow %.3f%n", e.raisedBy(), e.patientId(), e.startTs(), e.endTs(), e.beats(),
                            e.liveMaxProba(), e.shadowMaxProba()));
                }
            }
            return out.toString();
        }
    }

    private final long idleFlushMs;
    private final int examples;
    private final Map<List<String>, Tally> pairs = new LinkedHashMap<>();

    /**
     * @param idleFlush the job's {@code --idle-flush}: a pause longer than this ends a patient's segment
     * @param examples  at most this many examples of episodes only one model raises, per pair
     */
    public ShadowComparison(Duration idleFlush, int examples) {
        if (examples < 0) {
            throw new IllegalArgumentException("examples must not be negative");
        }
        this.idleFlushMs = idleFlush.toMillis();
        this.examples = examples;
    }

    /** The next beat; a patient's beats in time order. */
    public void add(Beat beat) {
        pairs.computeIfAbsent(List.of(beat.live().modelVersion(), beat.shadow().modelVersion()), Tally::new).add(beat);
    }

    /** The comparison so far (episodes still open count as raised); more beats may be added afterwards. */
    public Report report() {
        return new Report(pairs.values().stream().map(Tally::pair).toList());
    }

    /** An episode as one model raises it, with both models' highest probability over its beats. */
    private static final class Span implements EpisodeTracker.Episode {
        final String patientId;
        long startTs;
        long endTs;
        int beats;
        double liveMax;
        double shadowMax;

        Span(String patientId) {
            this.patientId = patientId;
        }

        @Override
        public void add(long ts, double proba) {
            if (beats++ == 0) {
                startTs = ts;
            }
            endTs = ts;
        }

        void scores(Beat b) {
            liveMax = Math.max(liveMax, b.live().proba());
            shadowMax = Math.max(shadowMax, b.shadow().proba());
        }

        boolean overlaps(Span other) {
            return startTs <= other.endTs && other.startTs <= endTs;
        }

        Example example(String raisedBy) {
            return new Example(raisedBy, patientId, startTs, endTs, beats, liveMax, shadowMax);
        }
    }

    /** Adds to {@code into} each of {@code episodes} that none of {@code others} overlaps. */
    private static void unshared(List<Span> episodes, List<Span> others, String raisedBy, List<Example> into) {
        for (Span e : episodes) {
            if (others.stream().noneMatch(e::overlaps)) {
                into.add(e.example(raisedBy));
            }
        }
    }

    /** One patient's episodes under each model, and where its segment stands. */
    private static final class Patient {
        final List<Span> liveEpisodes = new ArrayList<>();
        final List<Span> shadowEpisodes = new ArrayList<>();
        final EpisodeTracker<Span> live;
        final EpisodeTracker<Span> shadow;
        long lastTs;
        boolean seen;

        Patient(String id) {
            live = new EpisodeTracker<>(null, () -> new Span(id), liveEpisodes::add, e -> {});
            shadow = new EpisodeTracker<>(null, () -> new Span(id), shadowEpisodes::add, e -> {});
        }
    }

    /** The running sums of one pair of model versions. */
    private final class Tally {
        final String liveVersion;
        final String shadowVersion;
        final Map<String, Patient> patients = new LinkedHashMap<>();
        long beats;
        long liveFlagged;
        long shadowFlagged;
        long agreeing;
        long liveOnly;
        long shadowOnly;
        double liveSum;
        double shadowSum;
        double absDeltaSum;
        long fromTs = Long.MAX_VALUE;
        long toTs = Long.MIN_VALUE;

        Tally(List<String> versions) {
            liveVersion = versions.get(0);
            shadowVersion = versions.get(1);
        }

        void add(Beat b) {
            boolean l = b.live().anomaly(), s = b.shadow().anomaly();
            beats++;
            liveFlagged += l ? 1 : 0;
            shadowFlagged += s ? 1 : 0;
            agreeing += l == s ? 1 : 0;
            liveOnly += l && !s ? 1 : 0;
            shadowOnly += s && !l ? 1 : 0;
            liveSum += b.live().proba();
            shadowSum += b.shadow().proba();
            absDeltaSum += Math.abs(b.shadow().proba() - b.live().proba());
            fromTs = Math.min(fromTs, b.ts());
            toTs = Math.max(toTs, b.ts());

            Patient p = patients.computeIfAbsent(b.patientId(), Patient::new);
            // the job's pause rule: time the beat's own RR does not explain ends the segment, and its episodes
            if (p.seen && b.ts() - p.lastTs - b.rrMs() > idleFlushMs) {
                p.live.end();
                p.shadow.end();
            }
            p.seen = true;
            p.lastTs = b.ts();
            p.live.beat(b.ts(), b.live().proba(), l);
            p.shadow.beat(b.ts(), b.shadow().proba(), s);
            if (p.live.open() != null && l) {
                p.live.open().scores(b);
            }
            if (p.shadow.open() != null && s) {
                p.shadow.open().scores(b);
            }
        }

        Pair pair() {
            int liveEpisodes = 0, shadowEpisodes = 0;
            List<Example> only = new ArrayList<>();
            for (Patient p : patients.values()) {
                liveEpisodes += p.liveEpisodes.size();
                shadowEpisodes += p.shadowEpisodes.size();
                unshared(p.liveEpisodes, p.shadowEpisodes, "live", only);
                unshared(p.shadowEpisodes, p.liveEpisodes, "shadow", only);
            }
            long liveOnlyEpisodes = only.stream().filter(e -> e.raisedBy().equals("live")).count();
            // the most confident disagreements first: the raising model's highest probability
            List<Example> shown = only.stream()
                    .sorted(Comparator.comparingDouble((Example e) -> -(e.raisedBy().equals("live")
                            ? e.liveMaxProba() : e.shadowMaxProba())).thenComparingLong(Example::startTs))
                    .limit(examples).toList();
            double n = Math.max(beats, 1);
            return new Pair(
                    new ModelFigures(liveVersion, liveFlagged, liveFlagged / n, liveSum / n, liveEpisodes,
                            (int) liveOnlyEpisodes),
                    new ModelFigures(shadowVersion, shadowFlagged, shadowFlagged / n, shadowSum / n, shadowEpisodes,
                            (int) (only.size() - liveOnlyEpisodes)),
                    beats, patients.size(), fromTs, toTs, agreeing / n, absDeltaSum / n, liveOnly, shadowOnly, shown);
        }
    }
}
