"""LightGBM (binary) on the Java features."""
from __future__ import annotations

import lightgbm as lgb
import numpy as np

_NOT_PARAMS = {"max_rounds", "early_stopping", "eval_metric"}


def params(lcfg, seed: int, threads: int) -> dict:
    p = {k: v for k, v in dict(lcfg).items() if k not in _NOT_PARAMS}
    if int(p.get("num_leaves", 31)) > 63:
        raise ValueError("lgbm.num_leaves must be <= 63 (serving speed)")
    p.update(objective="binary", metric=str(lcfg.eval_metric), seed=int(seed), num_threads=int(threads),
             deterministic=True, force_col_wise=True, verbosity=-1, feature_pre_filter=False)
    return p


def train_lgbm(lcfg, X: np.ndarray, y: np.ndarray, train_idx, val_idx=None, seed: int = 0, threads: int = 2,
               num_rounds: int | None = None, feature_names=None):
    """With val_idx: early stopping on inner-val, returns (booster, best_iteration). Without: fixed rounds."""
    p = params(lcfg, seed, threads)
    names = list(feature_names) if feature_names is not None else "auto"
    dtr = lgb.Dataset(X[train_idx], y[train_idx].astype(np.float64), feature_name=names, free_raw_data=True)
    cap = int(lcfg.max_rounds)
    if val_idx is None:
        n = int(min(num_rounds or cap, cap))
        return lgb.train(p, dtr, num_boost_round=n), n
    dva = lgb.Dataset(X[val_idx], y[val_idx].astype(np.float64), reference=dtr)
    b = lgb.train(p, dtr, num_boost_round=cap, valid_sets=[dva], valid_names=["val"],
                  callbacks=[lgb.early_stopping(int(lcfg.early_stopping), first_metric_only=True, verbose=False)])
    best = int(b.best_iteration) if b.best_iteration and b.best_iteration > 0 else b.current_iteration()
    return b, best


def margins(booster: lgb.Booster, X: np.ndarray, num_iteration: int | None = None) -> np.ndarray:
    return np.asarray(booster.predict(X, raw_score=True, num_iteration=num_iteration), dtype=np.float64)
