"""Offline measurement, not a product path: how much of a cross-validated F1 comes from folds not grouped by patient?

Our figures keep every patient's beats in one fold (a model never sees the patient it is scored on), as monitoring a
new patient demands. A protocol that splits beats, not patients, lets a model learn each patient's own rhythm and
labelling from the neighbours of the beats it is tested on. LightGBM (the configured parameters, a fixed number of
rounds) under K folds of each kind, pooled out-of-fold F1 at the best threshold, with and without --exclude:
  patients   StratifiedGroupKFold by patient (ours);
  beats      KFold over shuffled beats;
  blocks     KFold over contiguous blocks of --block beats of each recording.

  python experiments/grouping.py --export EXPORT [--folds 10] [--rounds 250] [--fit-excluded]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold, StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.config import load_config  # noqa: E402
from cardiotrain.data import load_export, recordings  # noqa: E402
from cardiotrain.lgbm import margins, train_lgbm  # noqa: E402
from cardiotrain.metrics import best_threshold  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", required=True)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=250)
    ap.add_argument("--block", type=int, default=50)
    ap.add_argument("--exclude", nargs="*", default=["132"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fit-excluded", action="store_true", help="fit on the --exclude patients too (as the peer did)")
    args = ap.parse_args(argv)
    cfg = load_config([])
    ex = load_export(args.export)
    y, ids = ex.y, ex.ids
    keep = ~np.isin(ids.astype(str), args.exclude)
    idx = np.arange(ex.n)
    blocks = np.zeros(ex.n, dtype=np.int64)
    b0 = 0
    for _, a, b in recordings(ids):
        nb = (np.arange(b - a) // args.block)
        blocks[a:b] = b0 + nb
        b0 += int(nb.max()) + 1
    splits = {
        "patients": StratifiedGroupKFold(args.folds, shuffle=True, random_state=42).split(idx, y, ids),
        "beats": KFold(args.folds, shuffle=True, random_state=42).split(idx),
        "blocks": ((np.flatnonzero(~np.isin(blocks, g)), np.flatnonzero(np.isin(blocks, g)))
                   for g in np.array_split(np.random.default_rng(42).permutation(b0), args.folds)),
    }
    for name, folds in splits.items():
        s = np.full(ex.n, np.nan)
        for k, (tr, te) in enumerate(folds):
            tr = tr if args.fit_excluded else tr[keep[tr]]   # by default the excluded are never fit on
            b, _ = train_lgbm(cfg.lgbm, ex.features, y, tr, None, seed=k, threads=args.threads,
                              num_rounds=args.rounds)
            s[te] = margins(b, ex.features[te])
        print(f"{name:<9} {args.folds} folds: LightGBM pooled F1 {best_threshold(y, s)[1]:.4f}, without "
              f"{','.join(args.exclude)} {best_threshold(y[keep], s[keep])[1]:.4f}", flush=True)


if __name__ == "__main__":
    main()
