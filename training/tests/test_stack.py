import numpy as np

from cardiotrain.stack import fit_stacker, honest_stack, sigmoid, stack_logit


def test_honest_stack_fits_on_the_other_folds_and_scores_the_given_inputs():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 2, n)
    Z = np.column_stack([y + rng.normal(0, 1, n), rng.normal(0, 1, n)])
    Z_refit = 0.5 * Z + 1.0
    fold_of = np.arange(n) % 3
    own = honest_stack(Z, y, fold_of)
    refit = honest_stack(Z, y, fold_of, Z_scored=Z_refit)
    for k in range(3):
        te = fold_of == k
        st = fit_stacker(Z[~te], y[~te])
        np.testing.assert_allclose(own[te], sigmoid(stack_logit(st, Z[te])), atol=1e-12)
        np.testing.assert_allclose(refit[te], sigmoid(stack_logit(st, Z_refit[te])), atol=1e-12)
    assert not np.allclose(own, refit)
