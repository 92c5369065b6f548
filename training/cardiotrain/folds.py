"""Patient-grouped nested cross-validation folds."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold


@dataclass
class InnerFold:
    train: np.ndarray   # row indices into the full dataset
    val: np.ndarray


@dataclass
class OuterFold:
    index: int
    train: np.ndarray
    test: np.ndarray
    inner: list[InnerFold] = field(default_factory=list)


def _split(idx: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, seed: int):
    n_groups = len(np.unique(groups[idx]))
    if n_groups < k:
        raise ValueError(f"cannot make {k} grouped folds from {n_groups} patients")
    skf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    strat = (y[idx] > 0).astype(int)
    for tr, te in skf.split(np.zeros(len(idx)), strat, groups[idx]):
        yield idx[tr], idx[te]


def make_folds(y: np.ndarray, groups: np.ndarray, outer: int, inner: int, seed: int,
               rows: np.ndarray | None = None) -> list[OuterFold]:
    """Outer folds over `rows` (default: all labelled rows), then inner folds within each outer-train.
    Every split is grouped by patient and stratified on the anomaly label; shuffles are seeded."""
    if rows is None:
        rows = np.flatnonzero(y >= 0)
    folds = []
    for k, (tr, te) in enumerate(_split(rows, y, groups, outer, seed)):
        of = OuterFold(k, np.sort(tr), np.sort(te))
        for itr, iva in _split(of.train, y, groups, inner, seed + 1000 + k):
            of.inner.append(InnerFold(np.sort(itr), np.sort(iva)))
        check_fold(of, groups)
        folds.append(of)
    check_outer_partition(folds, rows, groups)
    return folds


def _g(groups, idx):
    return set(np.unique(groups[idx]).tolist())


def check_fold(of: OuterFold, groups: np.ndarray) -> None:
    """No patient may play two roles: outer-train vs outer-test, inner-train vs inner-val (and neither
    inner split may touch the outer-test)."""
    test_g = _g(groups, of.test)
    assert not (_g(groups, of.train) & test_g), f"outer fold {of.index}: patient in both train and test"
    for j, f in enumerate(of.inner):
        tr_g, va_g = _g(groups, f.train), _g(groups, f.val)
        assert not (tr_g & va_g), f"fold {of.index}.{j}: patient in both inner-train and inner-val"
        assert not ((tr_g | va_g) & test_g), f"fold {of.index}.{j}: outer-test patient inside inner split"
        assert len(np.intersect1d(f.train, f.val)) == 0
        assert set(np.concatenate([f.train, f.val]).tolist()) == set(of.train.tolist())


def check_outer_partition(folds: list[OuterFold], rows: np.ndarray, groups: np.ndarray) -> None:
    allt = np.concatenate([f.test for f in folds])
    assert len(allt) == len(rows) and set(allt.tolist()) == set(rows.tolist()), "outer tests must partition rows"
    seen: dict = {}
    for f in folds:
        for g in _g(groups, f.test):
            assert g not in seen, f"patient {g} in the test split of folds {seen[g]} and {f.index}"
            seen[g] = f.index
