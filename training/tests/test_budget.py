"""The alert budget's rule (cardiotrain.budget); the Java side is checked against it through golden.json."""
import numpy as np

from cardiotrain.budget import apply_budget, budget_from_labels, flags_in_recording


def test_at_most_max_flagged_in_any_window():
    rng = np.random.default_rng(3)
    cand = rng.random(500) < 0.4
    flags = flags_in_recording(cand, 5, 40)
    assert not (flags & ~cand).any()                 # only candidates are flagged
    counts = np.convolve(flags.astype(int), np.ones(40, dtype=int))[: len(flags)]
    assert counts.max() == 5                         # the budget binds, and is never exceeded
    # causal and greedy: a candidate is refused only when the window before it already holds 5 flags
    for i in np.flatnonzero(cand & ~flags):
        assert flags[max(0, i - 39):i].sum() == 5


def test_budget_frees_up_as_flags_leave_the_window():
    cand = np.ones(12, dtype=bool)
    # 2 flags per 4 beats: beats 0, 1 flagged; 2, 3 refused; 4 sees only beat 1 in its window (1..3), and so on
    assert flags_in_recording(cand, 2, 4).astype(int).tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]
    assert flags_in_recording(cand, 12, 12).all()


def test_recordings_have_their_own_budget():
    ids = np.array([7] * 6 + [8] * 4)
    cand = np.ones(10, dtype=bool)
    flags = apply_budget(cand, ids, {"max_flagged": 3, "window_beats": 100})
    assert flags.astype(int).tolist() == [1, 1, 1, 0, 0, 0, 1, 1, 1, 0]


def test_budget_from_labels_uses_only_the_given_rows():
    ids = np.array([1] * 5 + [2] * 8 + [3] * 3)
    y = np.array([1, 1, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0] + [1, 1, 1])
    rows = np.ones(16, dtype=bool)
    assert budget_from_labels(ids, y, rows) == {"max_flagged": 3, "window_beats": 8}
    rows[13:] = False                                # recording 3 not fit on
    assert budget_from_labels(ids, y, rows) == {"max_flagged": 2, "window_beats": 8}
