"""Bundle writer: lightgbm.txt, cardionet.onnx, stacker.json, oof.npz, manifest.json, report.md, pr_curve.png,
golden.json."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import platform
import time
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from . import oof
from .config import resolve_path
from .data import recordings
from .episodes import report_section
from .paths import REPO, sha256_file

log = logging.getLogger("cardiotrain")
MODEL_FILES = ("cardionet.onnx", "lightgbm.txt", "stacker.json")
# The number io.cardiospike.model.ModelManifest reads, which refuses any other: a new one only for a change that
# reader cannot take (a field it reads), never for dropping a field it ignores.
BUNDLE_FORMAT = 2



def portable_config(cfg) -> dict:
    """The resolved config with no path of the training machine in it (the bundle is committed and shipped):
    an absolute path inside the repository becomes relative to it, one outside keeps only its last part."""
    def portable(v):
        if isinstance(v, dict):
            return {k: portable(x) for k, x in v.items()}
        if isinstance(v, list):
            return [portable(x) for x in v]
        if isinstance(v, str) and v.startswith("/"):
            p = Path(v)
            return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else f"<outside the repository>/{p.name}"
        return v
    container = cfg if isinstance(cfg, dict) else OmegaConf.to_container(cfg, resolve=True)
    return portable(container)


def model_version(files: dict[str, str], decisions: dict, when: _dt.date | None = None) -> str:
    """Names what the bundle outputs: the model files' hashes and the decision rule (`proba >= threshold`); the other
    files of the bundle (oof.npz) are evidence about the models, not part of them."""
    when = when or _dt.datetime.now(_dt.timezone.utc).date()
    models = "".join(f"{k}:{files[k]}\n" for k in sorted(files) if k in MODEL_FILES)
    text = models + json.dumps(decisions, sort_keys=True)
    return f"cs-{when.strftime('%Y%m%d')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def library_versions() -> dict:
    import lightgbm
    import onnx
    import onnxruntime
    import sklearn
    import torch
    return {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "lightgbm": lightgbm.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
            "sklearn": sklearn.__version__}


def score_with_bundle(out: Path, features: np.ndarray, windows: np.ndarray, artifact: np.ndarray) -> dict:
    """Scores using ONLY the bundle files (what Java reproduces)."""
    import lightgbm as lgb
    from .cnn import ort_logits, ort_session
    from .stack import sigmoid
    booster = lgb.Booster(model_file=str(out / "lightgbm.txt"))
    lm = np.asarray(booster.predict(features, raw_score=True), dtype=np.float64)
    cl = ort_logits(ort_session(out / "cardionet.onnx", 1), windows).astype(np.float64)
    st = json.loads((out / "stacker.json").read_text())
    cols = {"lgbm_margin": lm, "cnn_logit": cl, "artifact_c": np.asarray(artifact, dtype=np.float64)}
    z = float(st["intercept"]) + sum(float(c) * cols[f] for f, c in zip(st["features"], st["coef"]))
    return {"lgbm_margin": lm, "cnn_logit": cl, "proba": sigmoid(z)}


def write_golden(out: Path, golden, version: str) -> dict:
    sc = score_with_bundle(out, golden.features, golden.windows, golden.artifact)
    recs = []
    for rid, a, b in recordings(golden.ids):
        recs.append({"id": rid, "rr": [float(v) for v in golden.x[a:b]],
                     "lgbm_margin": [float(v) for v in sc["lgbm_margin"][a:b]],
                     "cnn_logit": [float(v) for v in sc["cnn_logit"][a:b]],
                     "proba": [float(v) for v in sc["proba"][a:b]]})
    doc = {"model_version": version, "feature_spec_version": golden.meta["feature_spec_version"],
           "source_file": golden.meta.get("source_file"), "source_sha256": golden.meta.get("source_sha256"),
           "tolerance": 1e-5, "recordings": recs}
    (out / "golden.json").write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def pr_plot(path: Path, y: np.ndarray, scores: dict, metrics: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve
    fig, ax = plt.subplots(figsize=(6, 5), dpi=90)
    for m, s in scores.items():
        p, r, _ = precision_recall_curve(y, s)
        mt = metrics[m]
        ax.plot(r, p, lw=1.4, label=f"{m} (AP {mt['pooled']['ap']:.3f}, F1 {mt['pooled']['f1']:.3f})")
        ax.plot([mt["pooled"]["recall"]], [mt["pooled"]["precision"]], "o", ms=6, color=ax.lines[-1].get_color())
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.set_title("Out-of-fold precision-recall (dots: chosen thresholds)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _row(name, r):
    return f"| {name} | {r['f1']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} | {r.get('ap', float('nan')):.4f} |"


def _refit_section(refit: dict | None) -> list[str]:
    if refit is None:
        return []
    L = ["", "## The shipped protocol (`cv.refit_check`)", "",
         "The bundle ships one refit per model (LightGBM for the mean inner best iteration, CardioNet for the median "
         "inner best epoch), not the mean of the inner models that the figures above score. Here each outer fold "
         "is scored by such a refit on its training patients and stacked by a stacker fit on the other folds' "
         "refit scores; thresholds at the pooled-F1 optimum of these scores. The bundle's stacker and threshold "
         "are fit the same way, on all folds' refit scores: this is the level to expect on patients the bundle "
         "has never seen.", "",
         "| model | F1 | precision | recall | AP | F1, fold-honest thresholds | F1 without `train_exclude` |",
         "|---|---|---|---|---|---|---|"]
    for k in ("lgbm", "cnn", "stack"):
        r = refit[k]
        L.append(_row(k, r["pooled"]) + f" {r['pooled_fold_threshold']['f1']:.4f} | {r['pooled_fit_patients']['f1']:.4f} |")
    L += ["", "Thresholds: " + ", ".join(f"{k} {refit[k]['threshold']:.4f}" for k in ("lgbm", "cnn", "stack"))]
    return L


def _spread(name: str, values: list[float]) -> str:
    v = np.asarray(values, dtype=np.float64)
    sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return f"{name} {v.min():.4f}-{v.max():.4f} (sd {sd:.4f})"


def _sequence_part(ccfg) -> str:
    if ccfg.get("sequence", "gru") == "conv":
        return f"dilated convs {ccfg.conv_channels} ch, dilations {list(ccfg.conv_dilations)}"
    return f"BiGRU {ccfg.gru_hidden}"


def write_report(path: Path, cfg, ex, cv, ev, manifest: dict, notes: str | None) -> None:
    m = ev["metrics"]
    L = [f"# CardioSpike model bundle {manifest['model_version']}", "",
         f"Training data: `{manifest['training_data']['file']}` ({manifest['training_data']['rows']} beats, "
         f"{manifest['training_data']['patients']} patients, sha256 `{manifest['training_data']['sha256'][:16]}...`); "
         f"feature spec `{manifest['feature_spec_version']}`, past {manifest['past_beats']} / lookahead "
         f"{manifest['lookahead_beats']} beats (window {manifest['window']}).", "",
         f"Nested patient-grouped CV: {cfg.cv.outer_folds} outer x {cfg.cv.inner_folds} inner folds "
         f"(StratifiedGroupKFold, seed {cfg.seed}). Outer-test scores = mean of the inner models' raw scores; "
         "stack = logistic regression fit on the other outer folds' OOF (honest). Thresholds maximize pooled OOF F1 "
         "over the patients fit on.",
         "", "## Pooled out-of-fold", "", "| model | F1 | precision | recall | AP |", "|---|---|---|---|---|"]
    for k in ("lgbm", "cnn", "stack"):
        L.append(_row(k, m[k]["pooled"]))
    L += ["", "Thresholds (on raw score / stack probability): " + ", ".join(
        f"{k} {m[k]['threshold']:.4f}" for k in ("lgbm", "cnn", "stack")),
          "", "Fold-honest thresholds (each fold thresholded at the optimum of the other folds), pooled F1: " +
          ", ".join(f"{k} {m[k]['pooled_fold_threshold']['f1']:.4f}" for k in ("lgbm", "cnn", "stack")), "",
          "Patients never fit on (`data.train_exclude`, labels that contradict themselves): "
          f"{', '.join(str(v) for v in cfg.data.train_exclude) or 'none'}. They are scored out of fold and counted "
          "in every figure above and below; the stacker and thresholds are fit without them. Pooled F1 over the "
          "other patients only: " +
          ", ".join(f"{k} {m[k]['pooled_fit_patients']['f1']:.4f}" for k in ("lgbm", "cnn", "stack")),
          *_refit_section(ev["refit"]),
          *(report_section(ev["episodes"], ev["episodes"]["scores"], int(manifest["lookahead_beats"]))
            if ev.get("episodes") else []),
          "", "## Per outer fold (pooled threshold)", "",
          "| fold | patients | beats | lgbm F1 | lgbm P | lgbm R | cnn F1 | cnn P | cnn R | stack F1 | stack P | stack R |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, fi in enumerate(cv["folds"]):
        cells = []
        for k in ("lgbm", "cnn", "stack"):
            f = m[k]["folds"][i]
            cells += [f"{f['f1']:.4f}", f"{f['precision']:.4f}", f"{f['recall']:.4f}"]
        L.append(f"| {fi['fold']} | {fi['test_patients']} | {fi['test_rows']} | " + " | ".join(cells) + " |")
    L += ["", "Per-fold spread of F1: " + "; ".join(_spread(k, [f["f1"] for f in m[k]["folds"]])
                                                  for k in ("lgbm", "cnn", "stack")) +
          ". The seed spread (other model seeds on the same folds) is in the settings tried below "
          "(`experiments/levers.py`)."]
    st = manifest["stacker"]
    L += ["", "## Final models", "",
          f"- LightGBM: {manifest['final']['lgbm_rounds']} rounds (mean inner best iteration; inner best: "
          f"{cv['best_iterations']}), num_leaves {cfg.lgbm.num_leaves}, lr {cfg.lgbm.learning_rate}",
          f"- CardioNet: {manifest['final']['cnn_epochs']} epochs (median inner best epoch; inner best: "
          f"{cv['best_epochs']}), {manifest['final']['cnn_params']} parameters, branches {list(cfg.cnn.kernels)} x "
          f"{cfg.cnn.branch_channels} ch, mix {cfg.cnn.mix_channels}, " + _sequence_part(cfg.cnn),
          f"- Stacker: proba = sigmoid({st['intercept']:.4f} + " +
          " + ".join(f"{c:.4f}*{f}" for f, c in zip(st['features'], st['coef'])) + f"), threshold {manifest['threshold']:.4f}",
          f"- ONNX parity vs torch: max |diff| {manifest['onnx_parity_max_abs']:.2e}",
          "", "## Timing", "",
          f"- ONNX Runtime, 1 thread, batch {manifest['timing']['onnx']['batch']}: "
          f"{manifest['timing']['onnx']['us_per_window_median']:.2f} us/window (median), "
          f"{manifest['timing']['onnx']['us_per_window_min']:.2f} (best)",
          f"- LightGBM predict, 1 thread: {manifest['timing']['lgbm_us_per_row']:.2f} us/row",
          f"- Wall time: CV {manifest['timing']['cv_seconds']:.0f} s (lgbm {manifest['timing']['lgbm_cv_seconds']:.0f}, "
          f"cnn {manifest['timing']['cnn_cv_seconds']:.0f}, refit check "
          f"{manifest['timing']['refit_check_seconds']:.0f}), final refit {manifest['timing']['final_seconds']:.0f} s, "
          f"total {manifest['timing']['total_seconds']:.0f} s on {manifest['timing']['threads']} threads",
          "", "## Configuration", "", "```yaml", OmegaConf.to_yaml(OmegaConf.create(portable_config(cfg))).rstrip(),
          "```", ""]
    if notes:
        L += ["## Settings tried", "", notes.rstrip(), ""]
    path.write_text("\n".join(L))


def bench_lgbm(path: Path, X: np.ndarray, rows: int = 4096) -> float:
    import lightgbm as lgb
    b = lgb.Booster(model_file=str(path))
    Xs = np.ascontiguousarray(X[:rows])
    b.predict(Xs, raw_score=True, num_threads=1)
    t0 = time.perf_counter()
    b.predict(Xs, raw_score=True, num_threads=1)
    return (time.perf_counter() - t0) / len(Xs) * 1e6


def _device(cfg) -> str:
    from .cnn import resolve_device
    return str(resolve_device(cfg.device))


def write_bundle(cfg, out: Path, ex, golden, cv, ev, final, timings) -> dict:
    from .cnn import bench_onnx, check_parity, export_onnx
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("golden.json",):
        (out / stale).unlink(missing_ok=True)
    meta = ex.meta
    final["booster"].save_model(str(out / "lightgbm.txt"))
    export_onnx(final["net"], out / "cardionet.onnx", int(meta["channels"]), int(meta["window"]), int(cfg.cnn.onnx_opset))
    rng = np.random.default_rng(int(cfg.seed))
    sample = np.sort(rng.choice(ex.n, size=min(ex.n, 8192), replace=False))
    par_w = ex.windows[sample] if golden is None else np.concatenate([ex.windows[sample], golden.windows])
    parity = check_parity(final["net"], out / "cardionet.onnx", par_w, float(cfg.cnn.parity_tol))
    st = {"features": ev["stacker"]["features"], "coef": ev["stacker"]["coef"], "intercept": ev["stacker"]["intercept"]}
    (out / "stacker.json").write_text(json.dumps(st, indent=2) + "\n")
    files = {f: sha256_file(out / f) for f in MODEL_FILES}
    version = model_version(files, {"threshold": float(ev["threshold"])})
    # Named by the manifest beside the model files, not among them: derived from the training data, it stays out of
    # the repository, so a committed bundle loads without it.
    oof.write(out / oof.FILE, ex.ids, cv["fold_of"], ev["oof"]["proba"], ev["oof"]["protocol"],
              meta.get("source_sha256"), ex.y)
    oof_sha256 = sha256_file(out / oof.FILE)
    onnx_t = bench_onnx(out / "cardionet.onnx", ex.windows[: max(int(cfg.bench.batch), 1)], int(cfg.bench.batch),
                        int(cfg.bench.rounds))
    lgbm_us = bench_lgbm(out / "lightgbm.txt", ex.features)
    # consistency: bundle-only scoring of a sample must equal what the training process believes
    sc = score_with_bundle(out, ex.features[sample[:2048]], ex.windows[sample[:2048]], ex.artifact[sample[:2048]])
    ref = final["booster"].predict(ex.features[sample[:2048]], raw_score=True)
    if not np.allclose(sc["lgbm_margin"], ref, atol=1e-9):
        raise RuntimeError("lightgbm.txt reload does not reproduce the trained booster")
    metrics = ev["metrics"]
    cvm = {k: {"threshold": metrics[k]["threshold"], "pooled": metrics[k]["pooled"], "folds": metrics[k]["folds"],
               "pooled_fold_threshold": metrics[k]["pooled_fold_threshold"],
               "pooled_fit_patients": metrics[k]["pooled_fit_patients"]} for k in metrics}
    cvm["outer_folds"] = int(cfg.cv.outer_folds)
    cvm["inner_folds"] = int(cfg.cv.inner_folds)
    cvm["fold_sizes"] = cv["folds"]
    cvm["best_iterations"] = cv["best_iterations"]
    cvm["best_epochs"] = cv["best_epochs"]
    if ev["refit"] is not None:
        cvm["refit_check"] = ev["refit"]
    if ev.get("episodes") is not None:
        cvm["episodes"] = ev["episodes"]
    total = time.perf_counter() - timings["start"]
    n_params = int(sum(p.numel() for p in final["net"].parameters()))
    manifest = {
        "bundle_format": BUNDLE_FORMAT,
        "model_version": version,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "feature_spec_version": meta["feature_spec_version"],
        "past_beats": int(meta["past_beats"]), "lookahead_beats": int(meta["lookahead_beats"]),
        "window": int(meta["window"]), "channels": int(meta["channels"]),
        "feature_names": list(meta["feature_names"]),
        "net_input": "windows", "net_output": "logit",
        "threshold": float(ev["threshold"]),
        "stacker": st,
        "cv": cvm,
        "final": {"lgbm_rounds": final["lgbm_rounds"], "cnn_epochs": final["cnn_epochs"], "cnn_params": n_params},
        "onnx_parity_max_abs": parity,
        "timing": {"onnx": onnx_t, "lgbm_us_per_row": lgbm_us, "cv_seconds": timings["cv_total"],
                   "lgbm_cv_seconds": cv["seconds"]["lgbm_cv"], "cnn_cv_seconds": cv["seconds"]["cnn_cv"],
                   "refit_check_seconds": cv["seconds"]["refit_check"],
                   "final_seconds": final["seconds"]["lgbm_final"] + final["seconds"]["cnn_final"],
                   "total_seconds": total, "threads": int(cfg.threads), "device": _device(cfg)},
        "training_data": {"file": meta.get("source_file"), "sha256": meta.get("source_sha256"),
                          "rows": int(meta.get("rows", ex.n)), "patients": int(meta.get("patients", len(np.unique(ex.ids))))},
        "libraries": library_versions(),
        "files": files,
        oof.SHA256: oof_sha256,
        "config": portable_config(cfg),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    evm = ev["evaluated"]
    pr_plot(out / "pr_curve.png", ex.y[evm], {k: ev["scores"][k][evm] for k in ("lgbm", "cnn", "stack")}, metrics)
    notes_p = resolve_path(cfg.report.notes) if cfg.report.notes else None
    notes = notes_p.read_text() if notes_p and notes_p.exists() else None
    write_report(out / "report.md", cfg, ex, cv, ev, manifest, notes)
    if golden is not None:
        write_golden(out, golden, version)
    log.info("ONNX %.2f us/window (1 thread, batch %d), LightGBM %.2f us/row, parity %.1e", onnx_t["us_per_window_median"],
             onnx_t["batch"], lgbm_us, parity)
    return {"model_version": version, "out": str(out), "manifest": manifest}
