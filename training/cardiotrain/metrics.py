from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    y = np.asarray(y)
    if y.min() == y.max():
        return 0.0
    return float(average_precision_score(y, s))


def prf(y: np.ndarray, pred: np.ndarray) -> dict:
    y = np.asarray(y).astype(bool)
    pred = np.asarray(pred).astype(bool)
    tp = int(np.sum(y & pred))
    fp = int(np.sum(~y & pred))
    fn = int(np.sum(y & ~pred))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"f1": f, "precision": p, "recall": r, "tp": tp, "fp": fp, "fn": fn}


def best_threshold(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Score threshold t maximizing F1 of (s >= t). Returns (t, f1). t is the midpoint between the optimal
    cut score and the next lower one, so it is robust to tiny numeric differences."""
    p, r, th = precision_recall_curve(np.asarray(y).astype(int), s)
    f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)[:-1]
    i = int(np.argmax(f))
    ss = np.unique(s)
    j = np.searchsorted(ss, th[i])
    t = float(th[i]) if j == 0 else float((ss[j] + ss[j - 1]) / 2)
    return t, float(f[i])
