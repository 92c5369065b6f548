package io.cardiospike.model;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What an anomaly episode is, the one definition behind the API's episodes and the streaming job's alerts: a run of
 * consecutive anomalous beats ({@link EnsembleScorer#isAnomalous}) of one recording, or of one segment of a patient's
 * stream (its beats between two pauses). An anomalous beat opens an episode when none is open and extends the open
 * one otherwise; the first beat that is not anomalous closes it, and so does the end of the recording or segment.
 *
 * <p>A tracker follows one recording or segment, its scored beats in time order. The episode is the caller's own
 * record (beat indices in a recording; times in the stream, which keeps an open one in keyed state between scoring
 * calls), so a tracker can take up an episode left open by earlier beats of the segment.
 *
 * @param <E> the caller's record of an episode
 */
public final class EpisodeTracker<E extends EpisodeTracker.Episode> {
    /** The caller's record of an episode, told each of its beats in order. */
    public interface Episode {
        /**
         * Takes one more beat of the episode.
         *
         * @param at    the beat's index in its recording, or its time
         * @param proba the beat's anomaly probability
         */
        void add(long at, double proba);
    }

    private final Supplier<E> newEpisode;
    private final Consumer<E> onOpen;
    private final Consumer<E> onClose;
    private E open;

    /**
     * @param open       the episode left open by earlier beats of the same recording or segment, or null
     * @param newEpisode an empty record for an episode that opens
     * @param onOpen     told of an episode as it opens, its first beat added
     * @param onClose    told of an episode as it closes, all its beats added
     */
    public EpisodeTracker(E open, Supplier<E> newEpisode, Consumer<E> onOpen, Consumer<E> onClose) {
        this.open = open;
        this.newEpisode = newEpisode;
        this.onOpen = onOpen;
        this.onClose = onClose;
    }

    /** The next scored beat; true if it opened, extended or closed an episode. */
    public boolean beat(long at, double proba, boolean anomalous) {
        if (!anomalous) {
            return end();
        }
        boolean opens = open == null;
        if (opens) {
            open = newEpisode.get();
        }
        open.add(at, proba);
        if (opens) {
            onOpen.accept(open);
        }
        return true;
    }

    /** The recording or segment ends: an open episode closes. True if one did. */
    public boolean end() {
        if (open == null) {
            return false;
        }
        E closed = open;
        open = null;
        onClose.accept(closed);
        return true;
    }

    /** The episode open now, or null. */
    public E open() {
        return open;
    }
}
