"""Logistic-regression stacker over [lgbm_margin, cnn_logit, (artifact_c)]."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def fit_stacker(Z: np.ndarray, y: np.ndarray, C: float = 1.0) -> dict:
    lr = LogisticRegression(C=float(C), max_iter=2000)
    lr.fit(Z, y.astype(int))
    return {"coef": [float(c) for c in lr.coef_[0]], "intercept": float(lr.intercept_[0])}


def stack_logit(st: dict, Z: np.ndarray) -> np.ndarray:
    return float(st["intercept"]) + np.asarray(Z, dtype=np.float64) @ np.asarray(st["coef"], dtype=np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def honest_stack(Z: np.ndarray, y: np.ndarray, fold_of: np.ndarray, C: float = 1.0,
                 fit_rows: np.ndarray | None = None) -> np.ndarray:
    """Stacked OOF probability: each outer fold is predicted by a stacker fit on the other folds' OOF
    (only their `fit_rows`, a boolean mask, when given)."""
    fit_rows = np.ones(len(y), dtype=bool) if fit_rows is None else fit_rows
    out = np.full(len(y), np.nan)
    folds = np.unique(fold_of[fold_of >= 0])
    for k in folds:
        te = fold_of == k
        tr = (fold_of >= 0) & ~te & fit_rows
        if tr.sum() == 0:          # single evaluated fold (debug runs): no honest option, fit in-sample
            tr = te & fit_rows
        out[te] = sigmoid(stack_logit(fit_stacker(Z[tr], y[tr], C), Z[te]))
    return out
