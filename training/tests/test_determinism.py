import numpy as np

from cardiotrain.config import load_config
from cardiotrain.data import load_export
from cardiotrain.train import cross_validate


def test_same_seed_same_oof(synth_export):
    ex = load_export(synth_export)
    cfg = load_config(["preset=tiny", f"data.dir={synth_export}", "cv.max_outer=1", "cnn.epochs=1"])
    a = cross_validate(cfg, ex)
    b = cross_validate(cfg, ex)
    for m in ("lgbm", "cnn"):
        ev = ~np.isnan(a["oof"][m])
        assert ev.sum() > 0
        assert np.array_equal(a["oof"][m], b["oof"][m], equal_nan=True), m
        assert np.array_equal(a["refit_oof"][m], b["refit_oof"][m], equal_nan=True), m
    assert np.array_equal(a["fold_of"], b["fold_of"])
    assert a["best_iterations"] == b["best_iterations"] and a["best_epochs"] == b["best_epochs"]
