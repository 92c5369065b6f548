import numpy as np
import pytest

from cardiotrain.folds import check_fold, make_folds


def _data(seed=0, patients=30):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 200, size=patients)
    groups = np.repeat(np.arange(patients) * 7 + 100, sizes)
    y = (rng.random(len(groups)) < 0.15).astype(np.int8)
    return y, groups


@pytest.mark.parametrize("outer,inner", [(5, 3), (3, 2), (4, 4)])
def test_no_patient_in_two_roles(outer, inner):
    y, g = _data()
    folds = make_folds(y, g, outer, inner, seed=1)
    assert len(folds) == outer
    seen = set()
    for of in folds:
        te, tr = set(g[of.test]), set(g[of.train])
        assert not te & tr
        assert not te & seen
        seen |= te
        assert len(of.inner) == inner
        inner_val_union = set()
        for f in of.inner:
            assert not set(g[f.train]) & set(g[f.val])
            assert not (set(g[f.train]) | set(g[f.val])) & te
            assert not set(g[f.val]) & inner_val_union
            inner_val_union |= set(g[f.val])
        assert inner_val_union == tr
    assert seen == set(g)


def test_unlabelled_rows_excluded_and_seeded():
    y, g = _data(1)
    y[:50] = -1
    a = make_folds(y, g, 3, 2, seed=7)
    b = make_folds(y, g, 3, 2, seed=7)
    c = make_folds(y, g, 3, 2, seed=8)
    assert all(np.array_equal(x.test, z.test) for x, z in zip(a, b))
    assert any(not np.array_equal(x.test, z.test) for x, z in zip(a, c))
    assert not np.isin(np.arange(50), np.concatenate([f.test for f in a])).any()


def test_check_fold_detects_leak():
    y, g = _data(2)
    of = make_folds(y, g, 3, 2, seed=0)[0]
    leaked = of.test[:1]
    of.train = np.sort(np.concatenate([of.train, leaked]))
    with pytest.raises(AssertionError):
        check_fold(of, g)
