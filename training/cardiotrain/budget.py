"""The alert budget: at most `max_flagged` flagged beats among any `window_beats` consecutive beats of a recording.

Why: CardioSpike's annotators labelled a bounded number of beats per recording. Every training recording has
18-81 labelled beats whatever its length (32-3,661 beats), so a recording in which the models flag hundreds of
beats is not labelled that way (patient 132: the motif throughout, labels only on its last 120 beats). Both
limits come from the training labels. The rule is causal (a beat is flagged if it is at or above the threshold
and fewer than `max_flagged` of the recording's previous `window_beats - 1` beats were flagged), so the stream
applies it exactly as the batch scorer does; io.cardiospike.model.AlertBudget is the Java side, checked against
this one through golden.json.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .data import recordings


def budget_from_labels(ids: np.ndarray, y: np.ndarray, rows: np.ndarray) -> dict:
    """The budget of the labelled recordings in `rows` (a boolean mask): their most labelled beats and most beats."""
    max_flagged, window = 0, 0
    for _, a, b in recordings(ids):
        r = rows[a:b]
        if r.any():
            max_flagged = max(max_flagged, int((y[a:b][r] == 1).sum()))
            window = max(window, int(r.sum()))
    return {"max_flagged": max_flagged, "window_beats": window}


def flags_in_recording(candidates: np.ndarray, max_flagged: int, window_beats: int) -> np.ndarray:
    """Flags of one recording, in beat order, from its candidates (beats at or above the threshold)."""
    out = np.zeros(len(candidates), dtype=bool)
    recent: deque[int] = deque()   # indices of the flags among the last window_beats - 1 beats
    for i, c in enumerate(candidates):
        while recent and recent[0] <= i - window_beats:
            recent.popleft()
        if c and len(recent) < max_flagged:
            out[i] = True
            recent.append(i)
    return out


def apply_budget(candidates: np.ndarray, ids: np.ndarray, budget: dict) -> np.ndarray:
    """Flags of every recording (contiguous runs of one id, rows in time order)."""
    out = np.zeros(len(candidates), dtype=bool)
    for _, a, b in recordings(ids):
        out[a:b] = flags_in_recording(np.asarray(candidates[a:b], dtype=bool), int(budget["max_flagged"]),
                                      int(budget["window_beats"]))
    return out
