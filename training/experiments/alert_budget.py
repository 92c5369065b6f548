"""Offline check of the alert budget (cardiotrain/budget.py) on a main run's out-of-fold scores.

Reads `cv.oof_out=...npz`, stacks both protocols' scores honestly as train.py does, and prints the stack's pooled
F1 without and with the budget (each outer fold decided with the budget of the other folds' recordings), with
fold-honest thresholds, and without the patients in --exclude; then the labelled beats per recording against its
length, which is where the budget comes from.

  python experiments/alert_budget.py --oof OOF.npz
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.data import recordings  # noqa: E402
from cardiotrain.stack import honest_stack  # noqa: E402
from cardiotrain.train import budget_metrics, threshold_metrics  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oof", required=True, help="npz written by cv.oof_out")
    ap.add_argument("--exclude", default="132", help="comma-separated patient ids never fit on (data.train_exclude)")
    args = ap.parse_args()
    d = np.load(args.oof)
    y, fold_of, ids = d["y"].astype(int), d["fold_of"], d["ids"]
    excluded = np.isin(ids.astype(str), [v for v in args.exclude.split(",") if v])
    ev = fold_of >= 0
    fit = ev & (y >= 0) & ~excluded
    for prefix, name in (("", "inner models' means"), ("refit_", "shipped protocol")):
        if prefix + "lgbm" not in d.files:
            continue
        Z = np.column_stack([d[prefix + "lgbm"], d[prefix + "cnn"], d["artifact"]])
        s = np.full(len(y), np.nan)
        s[ev] = honest_stack(Z[ev], y[ev], fold_of[ev], 1.0, fit[ev])
        plain = threshold_metrics(y, s, fold_of, ev, fit)
        budget = budget_metrics(y, s, plain["threshold"], fold_of, ev, fit, ids)
        print(f"{name}: stack F1 {plain['pooled']['f1']:.4f} -> with the budget {budget['pooled']['f1']:.4f} "
              f"(P {budget['pooled']['precision']:.4f}, R {budget['pooled']['recall']:.4f}); fold-honest thresholds "
              f"{plain['pooled_fold_threshold']['f1']:.4f} -> {budget['pooled_fold_threshold']['f1']:.4f}; without "
              f"--exclude {plain['pooled_fit_patients']['f1']:.4f} -> {budget['pooled_fit_patients']['f1']:.4f}; "
              "budgets per fold " + ", ".join(f"{f['max_flagged']}/{f['window_beats']}" for f in budget["folds"]))
    lengths = np.array([b - a for _, a, b in recordings(ids)])
    labelled = np.array([int((y[a:b] == 1).sum()) for _, a, b in recordings(ids)])
    print(f"{len(lengths)} recordings: labelled beats {labelled.min()}-{labelled.max()} (median "
          f"{np.median(labelled):.0f}), length {lengths.min()}-{lengths.max()}, correlation "
          f"{np.corrcoef(lengths, labelled)[0, 1]:.2f}")
    for lo, hi in ((0, 200), (200, 800), (800, 10**9)):
        m = (lengths >= lo) & (lengths < hi)
        if m.any():
            print(f"  length {lo}-{hi if hi < 10**9 else 'max'}: {m.sum()} recordings, labelled beats "
                  f"{labelled[m].min()}-{labelled[m].max()} (median {np.median(labelled[m]):.0f})")


if __name__ == "__main__":
    main()
