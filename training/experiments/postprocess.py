"""Offline check, not a product path: would run-length rules on the stack's per-beat decisions help?

Reads a main run's out-of-fold scores (`cv.oof_out=...npz`), stacks them honestly as the bundle does, then grids
over: the decision threshold, dropping predicted runs shorter than MIN beats unless their peak reaches KEEP (then they
are grown to MIN beats instead), and filling gaps of up to GAP beats between runs. The grid is scored on the same
scores it is chosen on, so its best cell is an in-sample, optimistic figure. Also prints how far predicted run
edges sit from the labelled ones at the plain threshold (runs matched one to one, patients in --exclude left out).

  python experiments/postprocess.py --oof OOF.npz
"""
from __future__ import annotations

import argparse
import collections
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.data import recordings  # noqa: E402
from cardiotrain.metrics import best_threshold, prf  # noqa: E402
from cardiotrain.stack import honest_stack  # noqa: E402


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True, end exclusive."""
    d = np.diff(np.r_[0, flags.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def apply_rules(p: np.ndarray, s: np.ndarray, min_len: int, keep: float, gap: int) -> np.ndarray:
    """One recording's decisions after gap filling, then the minimum run length."""
    p = p.copy()
    for a, b in runs(~p):
        if a > 0 and b < len(p) and b - a <= gap:
            p[a:b] = True
    for a, b in runs(p):
        if b - a < min_len:
            if s[a:b].max() >= keep:
                lo = max(0, min((a + b) // 2 - min_len // 2, len(p) - min_len))
                p[lo:lo + min_len] = True
            else:
                p[a:b] = False
    return p


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oof", required=True, help="a main run's cv.oof_out .npz")
    ap.add_argument("--exclude", type=int, nargs="*", default=[132], help="patient ids never fit on")
    args = ap.parse_args(argv)
    oof = np.load(args.oof, allow_pickle=True)
    y, ids = oof["y"], oof["ids"]
    keep_rows = ~np.isin(ids, args.exclude)
    s = honest_stack(np.c_[oof["lgbm"], oof["cnn"], oof["artifact"]], y, oof["fold_of"], fit_rows=keep_rows)
    truth, recs = y == 1, recordings(ids)

    def decide(t, min_len, keep, gap):
        out = s >= t
        for _, a, b in recs:
            out[a:b] = apply_rules(out[a:b], s[a:b], min_len, keep, gap)
        return out

    grid = itertools.product([0.40, 0.45, 0.50], [1, 3, 4, 5, 6], [0.6, 0.7, 0.8, 0.9, 1.01], [0, 1, 2, 3])
    cells = sorted(((prf(truth, p)["f1"], prf(truth[keep_rows], p[keep_rows])["f1"], *c)
                    for c in grid for p in [decide(*c)]), reverse=True)
    t_plain, f_plain = best_threshold(y, s)
    print(f"plain threshold {t_plain:.3f}: pooled F1 {f_plain:.4f}")
    for c in cells[:5]:
        print("pooled F1 %.4f (without excluded %.4f)  threshold %.2f min %d keep %.2f gap %d" % c)

    start, end = collections.Counter(), collections.Counter()
    for pid, a, b in recs:
        if pid in args.exclude:
            continue
        pred_runs = runs(s[a:b] >= t_plain)
        for r0, r1 in runs(truth[a:b]):
            hit = [(p0, p1) for p0, p1 in pred_runs if p0 < r1 and p1 > r0]
            if len(hit) == 1:
                start[int(hit[0][0] - r0)] += 1
                end[int(hit[0][1] - r1)] += 1
    print("predicted minus labelled run start (offset: runs), within ±3:", {k: start[k] for k in range(-3, 4)})
    print("predicted minus labelled run end   (offset: runs), within ±3:", {k: end[k] for k in range(-3, 4)})


if __name__ == "__main__":
    main()
