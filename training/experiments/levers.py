"""Offline measurements, not a product path: what the accuracy levers that need no new model give, in the protocol.

Reads main runs' out-of-fold scores (`cv.oof_out=...npz`; runs on the same folds, `cv.fold_seed`), stacks each
honestly as `train` does (logistic stacker fit on the other outer folds and only on fit rows; the threshold at the
pooled-F1 optimum over the fit rows) and prints, pooled over every patient and without those in --exclude:
  - each run alone, the seed spread and the per-fold spread;
  - the seed ensemble: the runs' LightGBM margins and CardioNet logits averaged, then stacked (what shipping every
    run's models would score, at that many times the scoring cost);
  - run post-processing against lookahead: a beat's decision may wait K more beats (lookahead 8 + K in the stream).
    With K, the rule "fill gaps of up to G beats, then drop runs shorter than M" is exact in a stream when
    K >= G + M - 1. K = 0 also gets hysteresis (a run opens at T_on and continues while >= T_off; causal). Every
    rule's parameters are chosen fold-honestly: on the other folds, then applied to the fold.

  python experiments/levers.py --oof OOF_SEED42.npz OOF_SEED7.npz [--extra 0 1 2 3 5]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.data import recordings  # noqa: E402
from cardiotrain.metrics import best_threshold, prf  # noqa: E402
from cardiotrain.stack import honest_stack  # noqa: E402
from postprocess import runs  # noqa: E402  (this directory: the scripts run as experiments/NAME.py)


def rule(p: np.ndarray, recs, gap: int, min_len: int) -> np.ndarray:
    """Per recording: fill gaps of <= gap beats between flagged runs, then drop runs shorter than min_len."""
    out = p.copy()
    for _, a, b in recs:
        q = out[a:b]
        if gap:
            for s, e in runs(~q):
                if s > 0 and e < len(q) and e - s <= gap:
                    q[s:e] = True
        if min_len > 1:
            for s, e in runs(q):
                if e - s < min_len:
                    q[s:e] = False
    return out


def hysteresis(s: np.ndarray, recs, t_on: float, t_off: float) -> np.ndarray:
    out = np.zeros(len(s), dtype=bool)
    for _, a, b in recs:
        on = False
        for i in range(a, b):
            on = s[i] >= (t_off if on else t_on)
            out[i] = on
    return out


def f1(y, pred, rows):
    return prf(y[rows], pred[rows])["f1"]


def honest_rule(y, s, fold_of, fit, recs, candidates):
    """Each fold decided by the candidate (a function score -> decisions) best on the other folds' fit rows."""
    pred = np.zeros(len(y), dtype=bool)
    decided = [c(s) for c in candidates]
    chosen = []
    for k in np.unique(fold_of[fold_of >= 0]):
        te, other = fold_of == k, (fold_of >= 0) & (fold_of != k) & fit
        best = max(range(len(candidates)), key=lambda i: f1(y, decided[i], other))
        pred[te] = decided[best][te]
        chosen.append(best)
    return pred, chosen


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oof", nargs="+", required=True)
    ap.add_argument("--exclude", nargs="*", default=["132"])
    ap.add_argument("--extra", type=int, nargs="*", default=[0, 1, 2, 3, 5])
    args = ap.parse_args(argv)
    runs_ = [np.load(p, allow_pickle=True) for p in args.oof]
    y, ids, fold_of, art = runs_[0]["y"], runs_[0]["ids"], runs_[0]["fold_of"], runs_[0]["artifact"]
    for r, p in zip(runs_, args.oof):
        if not (np.array_equal(r["ids"], ids) and np.array_equal(r["fold_of"], fold_of)):
            sys.exit(f"{p}: other rows or other folds than {args.oof[0]} (use cv.fold_seed)")
    keep = ~np.isin(ids.astype(str), args.exclude)
    ev = fold_of >= 0
    fit = ev & keep & (y >= 0)
    recs = recordings(ids)

    def stacked(lgbm, cnn):
        return honest_stack(np.c_[lgbm, cnn, art], y, fold_of, fit_rows=fit)

    def report(name, s):
        t = best_threshold(y[fit], s[fit])[0]
        pred = s >= t
        folds = [f1(y, pred, fold_of == k) for k in np.unique(fold_of[ev])]
        print(f"{name:<44} F1 {f1(y, pred, ev):.4f}  without {','.join(args.exclude)} {f1(y, pred, ev & keep):.4f}"
              f"  per fold {' '.join(f'{f:.3f}' for f in folds)}", flush=True)
        return pred, t

    singles = []
    for r, p in zip(runs_, args.oof):
        s = stacked(r["lgbm"], r["cnn"])
        pred, _ = report(f"stack, {Path(p).stem}", s)
        singles.append(f1(y, pred, ev))
    if len(runs_) > 1:
        print(f"{'seed spread (stack F1)':<44} mean {np.mean(singles):.4f}, sd {np.std(singles, ddof=1):.4f}, "
              f"range {min(singles):.4f}-{max(singles):.4f}")
        s = stacked(np.mean([r["lgbm"] for r in runs_], 0), np.mean([r["cnn"] for r in runs_], 0))
        report(f"seed ensemble of {len(runs_)} (scoring cost x{len(runs_)})", s)
    s = stacked(runs_[0]["lgbm"], runs_[0]["cnn"])
    base_pred, t0 = report(f"post-processing base: {Path(args.oof[0]).stem}", s)
    thresholds = np.unique(np.r_[np.quantile(s[fit], np.linspace(0.70, 0.92, 45)), t0])
    coarse = thresholds[::4]   # hysteresis pairs: a coarser grid (its loop is per beat)
    for k in args.extra:
        rules = [(g, m) for g, m in itertools.product(range(0, k + 1), range(1, k + 2)) if g + m - 1 <= k]
        cands = [lambda s, t=t, g=g, m=m: rule(s >= t, recs, g, m) for t in thresholds for g, m in rules]
        names = [f"t={t:.3f} gap<={g} min_run={m}" for t in thresholds for g, m in rules]
        if k == 0:
            pairs = [(a, b) for a in coarse for b in coarse if b < a]
            cands += [lambda s, a=a, b=b: hysteresis(s, recs, a, b) for a, b in pairs]
            names += [f"hysteresis on={a:.3f} off={b:.3f}" for a, b in pairs]
        pred, chosen = honest_rule(y, s, fold_of, fit, recs, cands)
        picks = sorted({names[i] for i in chosen})
        print(f"{'run rules, fold-honest, lookahead 8+' + str(k):<44} F1 {f1(y, pred, ev):.4f}  without "
              f"{','.join(args.exclude)} {f1(y, pred, ev & keep):.4f}  chose: {'; '.join(picks)}", flush=True)


if __name__ == "__main__":
    main()
