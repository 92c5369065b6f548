"""Episode figures of 0/1 flags against 0/1 labels, as `bin/cardiospike evaluate` computes them (docs/evaluation.md):
the report's out-of-fold episodes and the Java command share these definitions, figure for figure.

A labelled episode is a run of consecutive y=1 beats of one recording, an alert episode a run of flagged beats (the
API's episode, the stream's alert). A labelled episode is detected when any of its beats is flagged; an alert episode
with no labelled beat is a false alert. Onset delays run from a detected episode's first beat to its first flagged
beat, and to the `open` alert, emitted `lookahead` beats after that beat (at most at the recording's last beat).
"""
from __future__ import annotations

import numpy as np


def runs(on: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of 1s, both inclusive."""
    on = np.asarray(on).astype(np.int8)
    edges = np.diff(np.concatenate([[0], on, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist()))


def _spread(v: list[float]) -> dict:
    if not v:
        return {"median": None, "p90": None, "max": None}
    a = np.asarray(v, dtype=np.float64)
    return {"median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "max": float(a.max())}


def episode_figures(ids: np.ndarray, time: np.ndarray, y: np.ndarray, flag: np.ndarray, lookahead: int) -> dict:
    """Figures over every recording (`ids`), its beats put in time order (stable); `time` in ms."""
    ids, time, y, flag = (np.asarray(a) for a in (ids, time, y, flag))
    labelled = detected = alerts = false_alerts = split = touches = 0
    hours = 0.0
    first_b, first_s, open_b, open_s = [], [], [], []
    _, first_row = np.unique(ids, return_index=True)
    for rid in ids[np.sort(first_row)]:
        rows = np.flatnonzero(ids == rid)
        rows = rows[np.argsort(time[rows], kind="stable")]
        t, lab, fl = time[rows].astype(np.float64), y[rows].astype(np.int8), flag[rows].astype(np.int8)
        n = len(rows)
        hours += (t[-1] - t[0]) / 3_600_000
        lab_runs, alert_runs = runs(lab), runs(fl)
        alerts += len(alert_runs)
        false_alerts += sum(1 for a, b in alert_runs if not lab[a:b + 1].any())
        labelled += len(lab_runs)
        for a, b in lab_runs:
            hit = np.flatnonzero(fl[a:b + 1])
            if len(hit) == 0:
                continue
            detected += 1
            k = sum(1 for s, e in alert_runs if s <= b and e >= a)
            touches += k
            split += k > 1
            f = a + int(hit[0])
            o = min(f + lookahead, n - 1)
            first_b.append(f - a)
            first_s.append((t[f] - t[a]) / 1000)
            open_b.append(o - a)
            open_s.append((t[o] - t[a]) / 1000)
    return {
        "labelled": labelled, "detected": detected, "missed": labelled - detected,
        "recall": detected / labelled if labelled else 0.0,
        "alerts": alerts, "labelled_alerts": alerts - false_alerts, "false_alerts": false_alerts,
        "hours": hours, "false_alerts_per_hour": false_alerts / hours if hours > 0 else None,
        "precision": (alerts - false_alerts) / alerts if alerts else 0.0,
        "onset_to_first_flag": {"beats": _spread(first_b), "seconds": _spread(first_s)},
        "onset_to_open_alert": {"beats": _spread(open_b), "seconds": _spread(open_s)},
        "alerts_per_detected_episode": touches / detected if detected else None,
        "split_episodes": split,
    }


def _num(v, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def report_section(fig: dict, scores: str, lookahead: int) -> list[str]:
    """report.md's episode section: the figures `bin/cardiospike evaluate` prints, from out-of-fold flags."""
    L = ["", "## Episodes (out of fold)", "",
         f"The {scores} out-of-fold flags (stack probability at or above its threshold), as alert consumers see them; "
         "the definitions are `bin/cardiospike evaluate`'s (docs/evaluation.md), which measures the same on any "
         "labelled CSV.", "",
         "| figure | value |", "|---|---|",
         f"| labelled episodes | {fig['labelled']} |",
         f"| detected (recall) | {fig['detected']} ({fig['recall']:.4f}) |",
         f"| missed | {fig['missed']} |",
         f"| alert episodes | {fig['alerts']} |",
         f"| alerts with no labelled beat (false alerts) | {fig['false_alerts']} |",
         f"| false alerts per patient-hour ({fig['hours']:.2f} h) | {_num(fig['false_alerts_per_hour'], '.3f')} |",
         f"| episode precision | {fig['precision']:.4f} |",
         f"| alerts per detected episode (mean) | {_num(fig['alerts_per_detected_episode'], '.3f')} |",
         f"| detected episodes split into several alerts | {fig['split_episodes']} |", "",
         "| onset delay | median | p90 | max |", "|---|---|---|---|"]
    for key, name in (("onset_to_first_flag", "to the first flagged beat"),
                      ("onset_to_open_alert", f"to the `open` alert (+{lookahead} beats)")):
        for unit in ("beats", "seconds"):
            s = fig[key][unit]
            L.append(f"| {name}, {unit} | {_num(s['median'], '.1f')} | {_num(s['p90'], '.1f')} | "
                     f"{_num(s['max'], '.1f')} |")
    return L
