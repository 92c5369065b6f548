"""The episode figures of `bin/cardiospike evaluate`, on the hand-made case of the Java EvaluationTest (its comment
works every figure out by hand): the report's out-of-fold episodes and the command must agree."""
from __future__ import annotations

import numpy as np
import pytest

from cardiotrain.episodes import episode_figures, report_section, runs

A_LABEL = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]
A_FLAG = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0]
B_LABEL = [0, 0, 1, 1, 1, 0, 0, 1, 1, 1]
B_FLAG = [0, 0, 0, 1, 1, 1, 0, 0, 0, 1]
B_TIME = [0, 500, 1000, 1600, 2200, 2800, 3300, 3800, 4400, 5000]


def hand_made(shuffle: bool = False) -> dict:
    ids = np.array(["a"] * 13 + ["b"] * 10, dtype=object)
    time = np.array([1000 * i for i in range(13)] + B_TIME)
    y, flag = np.array(A_LABEL + B_LABEL), np.array(A_FLAG + B_FLAG)
    if shuffle:  # rows of a recording need not be in time order, nor recordings contiguous
        order = np.random.default_rng(1).permutation(len(ids))
        ids, time, y, flag = ids[order], time[order], y[order], flag[order]
    return episode_figures(ids, time, y, flag, lookahead=2)


def test_runs():
    assert runs(np.array([1, 1, 0, 1, 0, 0, 1])) == [(0, 1), (3, 3), (6, 6)]
    assert runs(np.array([0, 0])) == []


@pytest.mark.parametrize("shuffle", [False, True])
def test_hand_made_case(shuffle):
    f = hand_made(shuffle)
    assert (f["labelled"], f["detected"], f["missed"], f["recall"]) == (4, 3, 1, 0.75)
    assert (f["alerts"], f["labelled_alerts"], f["false_alerts"]) == (5, 4, 1)
    assert f["precision"] == pytest.approx(0.8)
    assert f["hours"] == pytest.approx(17000 / 3.6e6)
    assert f["false_alerts_per_hour"] == pytest.approx(3.6e6 / 17000)
    assert f["alerts_per_detected_episode"] == pytest.approx(4 / 3)
    assert f["split_episodes"] == 1
    want = {"onset_to_first_flag": {"beats": (1, 1.8, 2), "seconds": (1.0, 1.16, 1.2)},
            "onset_to_open_alert": {"beats": (3, 3, 3), "seconds": (1.8, 2.76, 3.0)}}
    for key, units in want.items():
        for unit, (median, p90, mx) in units.items():
            s = f[key][unit]
            assert (s["median"], s["p90"], s["max"]) == pytest.approx((median, p90, mx)), (key, unit)


def test_an_alert_across_two_labelled_episodes_counts_for_both_and_is_not_false():
    f = episode_figures(np.zeros(4), np.arange(4) * 1000, np.array([1, 1, 0, 1]), np.array([0, 1, 1, 1]), 8)
    assert (f["detected"], f["alerts"], f["false_alerts"], f["alerts_per_detected_episode"]) == (2, 1, 0, 1.0)
    assert f["onset_to_open_alert"]["beats"]["max"] == 3  # capped at the recording's last beat


def test_nothing_detected_reads_na():
    f = episode_figures(np.zeros(3), np.arange(3) * 1000, np.array([0, 1, 0]), np.zeros(3), 8)
    assert f["onset_to_first_flag"]["beats"]["median"] is None and f["alerts_per_detected_episode"] is None
    text = "\n".join(report_section(f, "test", 8))
    assert "| detected (recall) | 0 (0.0000) |" in text and "| to the first flagged beat, beats | n/a |" in text
