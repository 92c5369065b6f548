import numpy as np

from cardiotrain.stack import fit_stacker, honest_stack, sigmoid, stack_logit


def test_honest_stack_fits_each_fold_on_the_other_folds_fit_rows():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 2, n)
    Z = np.column_stack([y + rng.normal(0, 1, n), rng.normal(0, 1, n)])
    fold_of = np.arange(n) % 3
    fit_rows = np.arange(n) % 5 != 0
    got = honest_stack(Z, y, fold_of, fit_rows=fit_rows)
    for k in range(3):
        te = fold_of == k
        st = fit_stacker(Z[~te & fit_rows], y[~te & fit_rows])
        np.testing.assert_allclose(got[te], sigmoid(stack_logit(st, Z[te])), atol=1e-12)
    # a stacker fit on all rows, the test fold's included, is another stacker
    assert not np.allclose(got, honest_stack(Z, y, np.zeros(n, int)))
