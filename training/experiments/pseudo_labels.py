"""Offline measurement, not a product path: semi-supervised use of the unlabelled recordings (pseudo-labels).

Per outer fold of a main run (`--oof`, its folds and CardioNet scores), fold-honestly: LightGBM (the configured
parameters) is fit on the fold's training patients (patients in --exclude never), early-stopped on a grouped fifth of
them; it scores the unlabelled exports (`--unlabelled`: test.csv, welltory.csv through `export-dataset`); beats it
scores with probability >= --hi become positives and <= --lo negatives; LightGBM is fit again on the training
patients plus those (early stopping on real labels only) and scores the fold. The unlabelled recordings are never in
any fold's test. Prints LightGBM alone and stacked with the run's CardioNet, with and without pseudo-labels.

  python experiments/pseudo_labels.py --export EXPORT --unlabelled EXPORT_TEST EXPORT_WELLTORY --oof OOF.npz
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.config import load_config  # noqa: E402
from cardiotrain.data import load_export  # noqa: E402
from cardiotrain.lgbm import margins, train_lgbm  # noqa: E402
from cardiotrain.metrics import best_threshold, prf  # noqa: E402
from cardiotrain.stack import honest_stack  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", required=True)
    ap.add_argument("--unlabelled", nargs="+", required=True)
    ap.add_argument("--oof", required=True)
    ap.add_argument("--exclude", nargs="*", default=["132"])
    ap.add_argument("--hi", type=float, default=0.9)
    ap.add_argument("--lo", type=float, default=0.1)
    ap.add_argument("--rounds", type=int, default=1, help="pseudo-labelling rounds")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    cfg = load_config([])
    ex = load_export(args.export)
    un = [load_export(d) for d in args.unlabelled]
    oof = np.load(args.oof, allow_pickle=True)
    y, ids, fold_of = ex.y, ex.ids, oof["fold_of"]
    if not np.array_equal(oof["ids"], ids):
        sys.exit("the --oof run belongs to another export")
    XU = np.vstack([u.features for u in un])
    X = np.vstack([ex.features, XU])
    n, nu = ex.n, len(XU)
    keep = ~np.isin(ids.astype(str), args.exclude)
    fit = keep & (y >= 0)
    base, pseudo = np.full(n, np.nan), np.full(n, np.nan)
    rng = np.random.default_rng(0)
    for k in np.unique(fold_of[fold_of >= 0]):
        tr_pat = np.unique(ids[(fold_of != k) & fit])
        val_pat = rng.choice(tr_pat, size=max(1, len(tr_pat) // 5), replace=False)
        tr = np.flatnonzero((fold_of != k) & fit & ~np.isin(ids, val_pat))
        va = np.flatnonzero((fold_of != k) & fit & np.isin(ids, val_pat))
        te = np.flatnonzero(fold_of == k)
        yy = np.r_[y, np.full(nu, -1)].astype(np.float64)
        b, it = train_lgbm(cfg.lgbm, X, yy, tr, va, seed=100 + int(k), threads=args.threads)
        base[te] = margins(b, X[te], it)
        added = 0
        for _ in range(args.rounds):
            pu = 1 / (1 + np.exp(-margins(b, XU, it)))
            yy[n:] = np.where(pu >= args.hi, 1, np.where(pu <= args.lo, 0, -1))
            extra = n + np.flatnonzero(yy[n:] >= 0)
            added = len(extra)
            b, it = train_lgbm(cfg.lgbm, X, yy, np.r_[tr, extra], va, seed=100 + int(k), threads=args.threads)
        pseudo[te] = margins(b, X[te], it)
        print(f"fold {k}: {added} pseudo-labelled beats of {nu} ({int((yy[n:] == 1).sum())} positive)", flush=True)
    ev = fold_of >= 0

    def show(name, s):
        t = best_threshold(y[ev & fit], s[ev & fit])[0]
        p = s >= t
        print(f"{name:<40} F1 {prf(y[ev], p[ev])['f1']:.4f}  without {','.join(args.exclude)} "
              f"{prf(y[ev & keep], p[ev & keep])['f1']:.4f}", flush=True)

    show("LightGBM alone", base)
    show("LightGBM alone, with pseudo-labels", pseudo)
    for name, lg in (("stack", base), ("stack, with pseudo-labels", pseudo)):
        show(name, honest_stack(np.c_[lg, oof["cnn"], oof["artifact"]], y, fold_of, fit_rows=fit & ev))


if __name__ == "__main__":
    main()
