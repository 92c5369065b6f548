"""End-to-end: launcher-generated synthetic export -> tiny nested-CV training -> bundle checks."""
import datetime as _dt
import hashlib
import json
import re

import numpy as np
import torch

from cardiotrain.bundle import MODEL_FILES, model_version, score_with_bundle
from cardiotrain.cnn import ort_logits, ort_session, predict_logits
from cardiotrain.data import load_export, recordings
from cardiotrain.stack import sigmoid


def test_bundle_files(tiny_bundle):
    out = tiny_bundle["out"]
    for f in MODEL_FILES + ("manifest.json", "report.md", "pr_curve.png", "golden.json"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    assert sum(p.stat().st_size for p in out.iterdir()) < 5 * 1024 * 1024


def test_bundle_names_no_path_of_the_training_machine(tiny_bundle):
    out = tiny_bundle["out"]
    for name in ("manifest.json", "report.md"):
        text = (out / name).read_text()
        assert str(tiny_bundle["cfg"].data.dir) not in text and str(out) not in text, name
    assert json.loads((out / "manifest.json").read_text())["config"]["out"].startswith("<outside the repository>/")


def test_manifest(tiny_bundle, synth_export):
    out = tiny_bundle["out"]
    m = json.loads((out / "manifest.json").read_text())
    meta = json.loads((synth_export / "meta.json").read_text())
    assert m["bundle_format"] == 2
    assert re.fullmatch(r"cs-\d{8}-[0-9a-f]{8}", m["model_version"])
    # the version names the model files and the decision rule, the threshold, and changes with either
    day = _dt.date.fromisoformat(m["created_utc"][:10])
    decisions = {"threshold": m["threshold"]}
    assert model_version(m["files"], decisions, day) == m["model_version"]
    assert model_version(m["files"], {**decisions, "threshold": 0.5}, day) != m["model_version"]
    for k in ("feature_spec_version", "past_beats", "lookahead_beats", "window", "channels", "feature_names"):
        assert m[k] == meta[k], k
    assert m["net_input"] == "windows" and m["net_output"] == "logit"
    assert 0.0 < m["threshold"] < 1.0
    for model in ("lgbm", "cnn", "stack"):
        assert set(m["cv"][model]["pooled"]) >= {"f1", "precision", "recall"}
        assert len(m["cv"][model]["folds"]) == 2
        refit = m["cv"]["refit_check"][model]["pooled"]
        assert 0.0 <= refit["f1"] <= 1.0 and 0.0 < refit["ap"] <= 1.0
        # scored by other models than the inner-model means, so not a copy of their figures
        assert refit["ap"] != m["cv"][model]["pooled"]["ap"], model
    # figures of the three models' scores only: decisions are `proba >= threshold`, with nothing to report of their own
    assert set(m["cv"]["refit_check"]) == {"lgbm", "cnn", "stack"}
    assert m["training_data"]["sha256"] == meta["source_sha256"] and m["training_data"]["rows"] == meta["rows"]
    assert set(m["libraries"]) >= {"python", "numpy", "torch", "lightgbm", "onnx", "onnxruntime", "sklearn"}
    for f in MODEL_FILES:
        assert m["files"][f] == hashlib.sha256((out / f).read_bytes()).hexdigest()
    assert m["config"]["cv"]["outer_folds"] == 2
    st = json.loads((out / "stacker.json").read_text())
    assert st["features"][:2] == ["lgbm_margin", "cnn_logit"] and len(st["coef"]) == len(st["features"])
    assert isinstance(st["intercept"], float)


def test_onnx_matches_torch(tiny_bundle, synth_export):
    import onnx
    out = tiny_bundle["out"]
    model = onnx.load(str(out / "cardionet.onnx"))
    assert [i.name for i in model.graph.input] == ["windows"]
    assert [o.name for o in model.graph.output] == ["logit"]
    assert model.opset_import[0].version == 17
    ex = load_export(synth_export)
    net = tiny_bundle["result"]["net"]
    for n in (1, 7, 1024):        # dynamic batch axis
        w = ex.windows[:n]
        o = ort_logits(ort_session(out / "cardionet.onnx"), w)
        assert o.shape == (n,) and o.dtype == np.float32
        np.testing.assert_allclose(o, predict_logits(net, w), atol=1e-5, rtol=0)


def test_golden_consistent(tiny_bundle, golden_export):
    out = tiny_bundle["out"]
    g = json.loads((out / "golden.json").read_text())
    m = json.loads((out / "manifest.json").read_text())
    st = json.loads((out / "stacker.json").read_text())
    assert g["model_version"] == m["model_version"]
    assert set(g) == {"model_version", "feature_spec_version", "source_file", "source_sha256", "tolerance", "recordings"}
    ex = load_export(golden_export)
    recs = recordings(ex.ids)
    assert [r["id"] for r in g["recordings"]] == [r[0] for r in recs] and len(recs) == 2
    sc = score_with_bundle(out, ex.features, ex.windows, ex.artifact)
    for r, (rid, a, b) in zip(g["recordings"], recs):
        assert r["rr"] == [float(v) for v in ex.x[a:b]]
        n = b - a
        assert len(r["lgbm_margin"]) == len(r["cnn_logit"]) == len(r["proba"]) == n
        np.testing.assert_allclose(r["lgbm_margin"], sc["lgbm_margin"][a:b], atol=1e-9)
        np.testing.assert_allclose(r["cnn_logit"], sc["cnn_logit"][a:b], atol=1e-6)
        cols = {"lgbm_margin": np.array(r["lgbm_margin"]), "cnn_logit": np.array(r["cnn_logit"]),
                "artifact_c": ex.artifact[a:b]}
        z = st["intercept"] + sum(c * cols[f] for f, c in zip(st["features"], st["coef"]))
        np.testing.assert_allclose(r["proba"], sigmoid(z), atol=1e-12)
    # the ONNX net reproduces the golden logits from the golden windows
    np.testing.assert_allclose(np.concatenate([r["cnn_logit"] for r in g["recordings"]]),
                               predict_logits(tiny_bundle["result"]["net"], ex.windows), atol=1e-5)


def test_report_mentions_models(tiny_bundle):
    rep = (tiny_bundle["out"] / "report.md").read_text()
    for k in ("lgbm", "cnn", "stack", "us/window", "Per outer fold", "The shipped protocol",
              "Episodes (out of fold)", "| labelled episodes |"):
        assert k in rep


def test_oof_file_holds_both_protocols_scores(tiny_bundle, synth_export):
    ex = load_export(synth_export)
    d = np.load(tiny_bundle["oof"])
    evaluated = d["fold_of"] >= 0
    assert evaluated.all() and len(d["y"]) == ex.n
    for m in ("lgbm", "cnn"):
        assert np.isfinite(d[m]).all() and np.isfinite(d[f"refit_{m}"]).all(), m
        # the refit check's models are other models than the inner ones
        assert not np.allclose(d[m], d[f"refit_{m}"]), m


def test_bundle_stacker_and_threshold_are_fit_on_the_refit_checks_scores(tiny_bundle, synth_export):
    from cardiotrain.stack import fit_stacker
    from cardiotrain.train import fit_rows, stack_inputs
    cfg, out = tiny_bundle["cfg"], tiny_bundle["out"]
    ex = load_export(synth_export)
    d = np.load(tiny_bundle["oof"])
    fit = fit_rows(cfg, ex)
    _, Z_refit = stack_inputs(cfg, ex, d["refit_lgbm"], d["refit_cnn"])
    want = fit_stacker(Z_refit[fit], ex.y[fit], float(cfg.stack.C))
    st = json.loads((out / "stacker.json").read_text())
    np.testing.assert_allclose(st["coef"], want["coef"], rtol=1e-9)
    m = json.loads((out / "manifest.json").read_text())
    assert m["threshold"] == m["cv"]["refit_check"]["stack"]["threshold"]
