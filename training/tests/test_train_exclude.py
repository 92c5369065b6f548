"""data.train_exclude: an excluded patient is never fit on (no model, no early stopping, no stacker, no threshold)
but is still scored out of fold and counted in the metrics."""
import numpy as np

import cardiotrain.cnn
import cardiotrain.lgbm
from cardiotrain.config import load_config
from cardiotrain.data import load_export
from cardiotrain.train import cross_validate, evaluate, fit_rows


def test_excluded_patient_is_scored_but_never_fit_on(synth_export, monkeypatch):
    ex = load_export(synth_export)
    patient = ex.ids[0]
    rows = ex.ids == patient
    cfg = load_config(["preset=tiny", f"data.dir={synth_export}", "cnn.epochs=1", f"data.train_exclude=[{patient}]"])
    fit = fit_rows(cfg, ex)
    assert not fit[rows].any() and fit[~rows].all()

    seen = []
    real_lgbm, real_net = cardiotrain.lgbm.train_lgbm, cardiotrain.cnn.train_net

    def lgbm_spy(lcfg, X, y, train_idx, val_idx=None, **kw):
        seen.extend([train_idx, val_idx])
        return real_lgbm(lcfg, X, y, train_idx, val_idx, **kw)

    def net_spy(ncfg, W, y, train_idx, val_idx, **kw):
        seen.extend([train_idx, val_idx])
        return real_net(ncfg, W, y, train_idx, val_idx, **kw)

    monkeypatch.setattr(cardiotrain.lgbm, "train_lgbm", lgbm_spy)
    monkeypatch.setattr(cardiotrain.cnn, "train_net", net_spy)
    cv = cross_validate(cfg, ex)
    # both models per inner fold (train and val) and, for the refit check, per outer fold (train only)
    assert len(seen) == 2 * 2 * cfg.cv.outer_folds * (cfg.cv.inner_folds + 1)
    for idx in seen:
        assert idx is None or not rows[idx].any(), "an excluded patient's beats were used for fitting"
    for scores in (cv["oof"], cv["refit_oof"]):
        assert np.isfinite(scores["lgbm"][rows]).all() and np.isfinite(scores["cnn"][rows]).all()

    ev = evaluate(cfg, ex, cv)
    assert np.isfinite(ev["scores"]["stack"][rows]).all()
    pooled = ev["metrics"]["stack"]["pooled"]
    assert pooled["tp"] + pooled["fn"] == int((ex.y == 1).sum()), "metrics must count every patient"
