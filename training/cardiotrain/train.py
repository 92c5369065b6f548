"""Nested patient-grouped CV of LightGBM + CardioNet, honest stacking, final refit and bundle export.

    cd training && python -m cardiotrain.train data.dir=/path/to/export out=../bundles/NAME [golden.dir=...]
                   [preset=quick] [key=value ...] [--cfg]
"""
from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from . import bundle
from . import oof as oof_file
from .artifacts import Artifacts
from .config import parse_cli, resolve_path, to_yaml
from .data import load_export
from .folds import InnerFold, make_folds
from .metrics import average_precision, best_threshold, prf

log = logging.getLogger("cardiotrain")
MODELS = ("lgbm", "cnn", "stack")


def setup_logging() -> None:
    if not log.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        log.addHandler(h)
        log.setLevel(logging.INFO)
        log.propagate = False


def cross_validate(cfg: DictConfig, ex, artifacts=None) -> dict:
    """Nested CV. Returns OOF raw scores (lgbm margin, cnn logit), fold assignment, best iterations/epochs.
    With `artifacts` (S3), every inner model is checkpointed there and the folds' figures and the log follow
    each outer fold."""
    import torch
    from .cnn import predict_logits, resolve_device, set_determinism, train_net
    from .lgbm import margins, train_lgbm

    seed, threads = int(cfg.seed), int(cfg.threads)
    device = resolve_device(cfg.device)
    set_determinism(seed, threads, device)
    y, groups = ex.y, ex.ids
    center = int(ex.meta["past_beats"])
    fold_seed = seed if cfg.cv.fold_seed is None else int(cfg.cv.fold_seed)
    folds = make_folds(y, groups, int(cfg.cv.outer_folds), int(cfg.cv.inner_folds), fold_seed)
    if cfg.cv.max_outer:
        folds = folds[: int(cfg.cv.max_outer)]
    n = ex.n
    fit_ok = fit_rows(cfg, ex)
    oof = {"lgbm": np.full(n, np.nan), "cnn": np.full(n, np.nan)}
    fold_of = np.full(n, -1, dtype=np.int64)
    refit_oof = {"lgbm": np.full(n, np.nan), "cnn": np.full(n, np.nan)} if cfg.cv.refit_check else None
    best_its, best_eps, fold_info = [], [], []
    t_lgb = t_cnn = t_refit = 0.0
    for of in tqdm(folds, desc="outer folds", unit="fold", dynamic_ncols=True):
        k = of.index
        lg_sum, cn_sum = np.zeros(len(of.test)), np.zeros(len(of.test))
        fold_its, fold_eps = [], []
        for j, inner in enumerate(of.inner):
            inner = InnerFold(inner.train[fit_ok[inner.train]], inner.val[fit_ok[inner.val]])
            s = seed + 1000 * (k + 1) + j
            t0 = time.perf_counter()
            b, it = train_lgbm(cfg.lgbm, ex.features, y, inner.train, inner.val, seed=s, threads=threads,
                               feature_names=ex.meta["feature_names"])
            lg_sum += margins(b, ex.features[of.test], num_iteration=it)
            t1 = time.perf_counter()
            net, ep, _ = train_net(cfg.cnn, ex.windows, y, inner.train, inner.val, seed=s, center=center,
                                   desc=f"cnn {k}.{j}", ids=groups, device=device)
            cn_sum += predict_logits(net, ex.windows[of.test], int(cfg.cnn.eval_batch)).astype(np.float64)
            t2 = time.perf_counter()
            t_lgb += t1 - t0
            t_cnn += t2 - t1
            fold_its.append(it)
            fold_eps.append(ep)
            log.info("fold %d.%d inner-train=%d rows/%d patients inner-val=%d rows/%d patients "
                     "lgbm_best_iter=%d cnn_best_epoch=%d (%.0fs lgbm, %.0fs cnn)", k, j, len(inner.train),
                     len(np.unique(groups[inner.train])), len(inner.val), len(np.unique(groups[inner.val])),
                     it, ep, t1 - t0, t2 - t1)
            if artifacts is not None:
                artifacts.put_torch(f"checkpoints/cnn-{k}.{j}.pt", net)
                artifacts.put_bytes(f"checkpoints/lightgbm-{k}.{j}.txt", b.model_to_string(num_iteration=it).encode())
            del net, b
        oof["lgbm"][of.test] = lg_sum / len(of.inner)
        oof["cnn"][of.test] = cn_sum / len(of.inner)
        best_its += fold_its
        best_eps += fold_eps
        if refit_oof is not None:
            # The bundle ships one refit per model, not the inner models' mean: make that refit here on the outer
            # training patients, so the outer test shows what the shipped protocol achieves.
            t0 = time.perf_counter()
            r = refit_models(cfg, ex, of.train[fit_ok[of.train]], fold_its, fold_eps,
                             seed=seed + 1000 * (k + 1) + 999, desc=f"cnn {k} refit")
            refit_oof["lgbm"][of.test] = margins(r["booster"], ex.features[of.test])
            refit_oof["cnn"][of.test] = predict_logits(r["net"], ex.windows[of.test],
                                                       int(cfg.cnn.eval_batch)).astype(np.float64)
            t_refit += time.perf_counter() - t0
        fold_of[of.test] = k
        yt = y[of.test]
        info = {"fold": k, "test_rows": int(len(of.test)), "test_patients": int(len(np.unique(groups[of.test]))),
                "train_rows": int(len(of.train)), "train_patients": int(len(np.unique(groups[of.train]))),
                "positives": int((yt == 1).sum())}
        fold_info.append(info)
        log.info("outer fold %d: test %d rows/%d patients, AP lgbm=%.4f cnn=%.4f", k, info["test_rows"],
                 info["test_patients"], average_precision(yt, oof["lgbm"][of.test]),
                 average_precision(yt, oof["cnn"][of.test]))
        if artifacts is not None:
            artifacts.put_json("metrics/folds.json", fold_info)
            artifacts.put_log()
    torch.set_num_threads(threads)
    return {"oof": oof, "refit_oof": refit_oof, "fold_of": fold_of, "best_iterations": best_its,
            "best_epochs": best_eps, "folds": fold_info,
            "seconds": {"lgbm_cv": t_lgb, "cnn_cv": t_cnn, "refit_check": t_refit}}


def fit_rows(cfg, ex) -> np.ndarray:
    """Rows any model, the stacker or a threshold may be fit on: labelled, and not of a patient in
    data.train_exclude (labels that contradict themselves). Excluded patients are still scored in their outer fold
    and counted in every metric."""
    excluded = sorted({str(v) for v in (cfg.data.train_exclude or [])})
    return (ex.y >= 0) & ~np.isin(ex.ids.astype(str), excluded)


def stack_inputs(cfg, ex, lgbm_margin, cnn_logit) -> tuple[list[str], np.ndarray]:
    names = ["lgbm_margin", "cnn_logit"]
    cols = [lgbm_margin, cnn_logit]
    if cfg.stack.use_artifact:
        names.append("artifact_c")
        cols.append(ex.artifact)
    return names, np.column_stack(cols).astype(np.float64)


def threshold_metrics(y: np.ndarray, s: np.ndarray, fold_of: np.ndarray, ev: np.ndarray, fit: np.ndarray) -> dict:
    """One model's scores: the threshold at the pooled-F1 optimum over the fit rows, then P/R/F1 pooled over every
    evaluated row, per fold, with fold-honest thresholds, and over the fit rows only."""
    thr, _ = best_threshold(y[fit], s[fit])
    pooled = prf(y[ev], s[ev] >= thr)
    pooled["ap"] = average_precision(y[ev], s[ev])
    # fold-honest threshold: each fold scored with the threshold that is optimal on the other folds
    honest_pred = np.zeros(len(y), dtype=bool)
    per_fold = []
    for k in np.unique(fold_of[ev]):
        te = fold_of == k
        other = fit & ~te
        t_k = best_threshold(y[other], s[other])[0] if other.any() else thr
        honest_pred[te] = s[te] >= t_k
        r = prf(y[te], s[te] >= thr)
        r.update(fold=int(k), ap=average_precision(y[te], s[te]))
        per_fold.append(r)
    hp = prf(y[ev], honest_pred[ev])
    fit_only = prf(y[fit], s[fit] >= thr)
    fit_only["ap"] = average_precision(y[fit], s[fit])
    return {"threshold": float(thr), "pooled": pooled, "folds": per_fold,
            "pooled_fold_threshold": {k: hp[k] for k in ("f1", "precision", "recall")},
            "pooled_fit_patients": fit_only}


def evaluate(cfg, ex, cv: dict) -> dict:
    """Honest stacked OOF, thresholds (pooled-F1-optimal on OOF) and per-fold / pooled P/R/F1, for the inner
    models' means and, with the refit check, for the shipped protocol; the bundle's stacker and threshold."""
    from .episodes import episode_figures
    from .stack import fit_stacker, honest_stack

    fold_of = cv["fold_of"]
    ev = fold_of >= 0
    fit = ev & fit_rows(cfg, ex)   # stacker and thresholds: fit rows only; metrics: every evaluated row
    y = ex.y
    C = float(cfg.stack.C)

    def stacked(lgbm_margin, cnn_logit):
        names, Z = stack_inputs(cfg, ex, lgbm_margin, cnn_logit)
        p = np.full(ex.n, np.nan)
        p[ev] = honest_stack(Z[ev], y[ev], fold_of[ev], C, fit[ev])
        return names, Z, {"lgbm": lgbm_margin, "cnn": cnn_logit, "stack": p}

    names, Z, scores = stacked(cv["oof"]["lgbm"], cv["oof"]["cnn"])
    res = {m: threshold_metrics(y, scores[m], fold_of, ev, fit) for m in MODELS}
    refit, ship_Z, ship_threshold = None, Z, res["stack"]["threshold"]
    if cv.get("refit_oof") is not None:
        # The bundle ships single refits, whose scores spread a little differently from the inner models' means:
        # its stacker and threshold are fit on the refit check's scores, made the way the bundle's models are
        # (+0.0014 and +0.0019 pooled F1 in the shipped protocol on two seeds, see experiments.md).
        _, ship_Z, r_scores = stacked(cv["refit_oof"]["lgbm"], cv["refit_oof"]["cnn"])
        refit = {m: threshold_metrics(y, r_scores[m], fold_of, ev, fit) for m in MODELS}
        ship_threshold = refit["stack"]["threshold"]
    final_stacker = fit_stacker(ship_Z[fit], y[fit], C)
    final_stacker["features"] = names
    # Episodes as alert consumers see them (bin/cardiospike evaluate's figures): the shipped protocol's flags when
    # the refit check ran, else the inner models' means'.
    ep_scores, ep_threshold = (r_scores["stack"], refit["stack"]["threshold"]) if refit else \
        (scores["stack"], res["stack"]["threshold"])
    episodes = episode_figures(ex.ids[ev], ex.time[ev], y[ev], ep_scores[ev] >= ep_threshold,
                               int(ex.meta["lookahead_beats"]))
    episodes["scores"] = "shipped protocol's (refit check)" if refit else "inner models' means'"
    # The bundle keeps these flags' probabilities (oof.npz): promote compares two bundles on them, beat for beat.
    oof = {"proba": ep_scores, "protocol": oof_file.SHIPPED if refit else oof_file.INNER_MEANS}
    return {"metrics": res, "refit": refit, "scores": scores, "stacker": final_stacker, "threshold": ship_threshold,
            "stack_features": names, "evaluated": ev, "episodes": episodes, "oof": oof}


def refit_models(cfg, ex, rows: np.ndarray, best_iterations: list[int], best_epochs: list[int], seed: int,
                 desc: str = "cnn final") -> dict:
    """One LightGBM and one CardioNet fit on `rows`, sized by inner CV: the mean best iteration (capped at
    lgbm.max_rounds) and the median best epoch. The bundle's models are made this way; so are the refit check's."""
    from .cnn import resolve_device, train_net
    from .lgbm import train_lgbm

    threads = int(cfg.threads)
    n_rounds = max(int(min(round(float(np.mean(best_iterations))), int(cfg.lgbm.max_rounds))), 1)
    n_epochs = max(int(np.ceil(np.median(best_epochs))), 1)
    t0 = time.perf_counter()
    booster, _ = train_lgbm(cfg.lgbm, ex.features, ex.y, rows, None, seed=seed, threads=threads,
                            num_rounds=n_rounds, feature_names=ex.meta["feature_names"])
    t1 = time.perf_counter()
    net, _, _ = train_net(cfg.cnn, ex.windows, ex.y, rows, None, seed=seed, center=int(ex.meta["past_beats"]),
                          epochs=n_epochs, desc=desc, leave=False, ids=ex.ids, device=resolve_device(cfg.device))
    t2 = time.perf_counter()
    return {"booster": booster, "net": net, "lgbm_rounds": n_rounds, "cnn_epochs": n_epochs,
            "seconds": {"lgbm_final": t1 - t0, "cnn_final": t2 - t1}}


def fit_final(cfg, ex, cv: dict, artifacts=None) -> dict:
    import torch
    from .cnn import resolve_device, set_determinism

    seed, threads = int(cfg.seed), int(cfg.threads)
    rows = np.flatnonzero(fit_rows(cfg, ex))
    set_determinism(seed, threads, resolve_device(cfg.device))
    final = refit_models(cfg, ex, rows, cv["best_iterations"], cv["best_epochs"], seed)
    log.info("final refit on %d rows/%d patients: lgbm %d rounds (%.0fs), cnn %d epochs (%.0fs)", len(rows),
             len(np.unique(ex.ids[rows])), final["lgbm_rounds"], final["seconds"]["lgbm_final"], final["cnn_epochs"],
             final["seconds"]["cnn_final"])
    if artifacts is not None:
        artifacts.put_torch("checkpoints/cnn-final.pt", final["net"])
        artifacts.put_bytes("checkpoints/lightgbm-final.txt", final["booster"].model_to_string().encode())
    torch.set_num_threads(threads)
    return final


def run(cfg: DictConfig) -> dict:
    setup_logging()
    out = resolve_path(cfg.out)
    if out == bundle.REPO / "models":
        raise SystemExit("the committed bundle changes only when a bundle beats it: train into a new directory, then "
                         "bin/cardiospike promote DIR")
    artifacts = Artifacts.from_env(run=out.name)
    if artifacts is None:
        return _run(cfg, None)
    log.info("training artifacts go to %s", artifacts.uri)
    with tempfile.NamedTemporaryFile(prefix="cardiospike-train-", suffix=".log") as tmp:
        handler = logging.FileHandler(tmp.name)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        artifacts.log_path = Path(tmp.name)
        try:
            return _run(cfg, artifacts)
        finally:
            log.removeHandler(handler)
            handler.close()
            artifacts.put_log()
            artifacts.flush()


def _run(cfg: DictConfig, artifacts) -> dict:
    t_start = time.perf_counter()
    data_dir = resolve_path(cfg.data.dir)
    out = resolve_path(cfg.out)
    golden_dir = resolve_path(cfg.golden.dir) if cfg.golden.dir else None
    ex = load_export(data_dir)
    labelled = ex.y >= 0
    log.info("data %s: %d rows, %d patients, %d labelled, %d positive, %d features, window %d (past %d, lookahead %d)",
             data_dir, ex.n, len(np.unique(ex.ids)), int(labelled.sum()), int((ex.y == 1).sum()),
             ex.features.shape[1], ex.windows.shape[2], ex.meta["past_beats"], ex.meta["lookahead_beats"])
    golden = load_export(golden_dir) if golden_dir else None
    if golden is not None:
        for key in ("past_beats", "lookahead_beats", "window", "channels", "feature_names", "feature_spec_version"):
            if golden.meta[key] != ex.meta[key]:
                raise ValueError(f"golden export differs from training export in {key}")
    excluded = ~fit_rows(cfg, ex) & labelled
    log.info("train_exclude %s: %d rows of %d patients never fit on (still evaluated)",
             list(cfg.data.train_exclude), int(excluded.sum()), len(np.unique(ex.ids[excluded])))
    cv = cross_validate(cfg, ex, artifacts)
    if cfg.cv.oof_out:
        refit_oof = {f"refit_{m}": s for m, s in (cv["refit_oof"] or {}).items()}
        np.savez(resolve_path(cfg.cv.oof_out), ids=ex.ids, time=ex.time, y=ex.y, x=ex.x, artifact=ex.artifact,
                 fold_of=cv["fold_of"], **cv["oof"], **refit_oof)
    ev = evaluate(cfg, ex, cv)
    for m in MODELS:
        r = ev["metrics"][m]
        log.info("OOF %-5s pooled F1=%.4f P=%.4f R=%.4f AP=%.4f (threshold %.4f); fold-honest-threshold F1=%.4f; "
                 "without train_exclude patients F1=%.4f; per-fold F1 %s", m, r["pooled"]["f1"],
                 r["pooled"]["precision"], r["pooled"]["recall"], r["pooled"]["ap"], r["threshold"],
                 r["pooled_fold_threshold"]["f1"], r["pooled_fit_patients"]["f1"],
                 " ".join(f"{f['f1']:.4f}" for f in r["folds"]))
    for m in MODELS if ev["refit"] else ():
        r = ev["refit"][m]
        log.info("refit check %-5s pooled F1=%.4f P=%.4f R=%.4f AP=%.4f (threshold %.4f); fold-honest-threshold "
                 "F1=%.4f; without train_exclude patients F1=%.4f", m, r["pooled"]["f1"], r["pooled"]["precision"],
                 r["pooled"]["recall"], r["pooled"]["ap"], r["threshold"], r["pooled_fold_threshold"]["f1"],
                 r["pooled_fit_patients"]["f1"])
    t_cv = time.perf_counter() - t_start
    final = fit_final(cfg, ex, cv, artifacts)
    res = bundle.write_bundle(cfg, out, ex, golden, cv, ev, final, timings={"cv_total": t_cv, "start": t_start})
    log.info("bundle %s written to %s (%.0fs total)", res["model_version"], out, time.perf_counter() - t_start)
    if artifacts is not None:
        artifacts.put_json("metrics/metrics.json", {"model_version": res["model_version"], "cv": ev["metrics"],
                                                    "refit_check": ev["refit"], "folds": cv["folds"]})
        for name in ("report.md", "pr_curve.png"):
            artifacts.put_file(f"report/{name}", out / name)
        artifacts.put_dir("bundle", out)
        log.info("artifacts written to %s", artifacts.uri)
    res.update(net=final["net"], booster=final["booster"], metrics=ev["metrics"])
    return res


def main(argv: list[str] | None = None) -> int:
    cfg, show = parse_cli(argv)
    if show:
        sys.stdout.write(to_yaml(cfg))
        return 0
    OmegaConf.to_container(cfg, throw_on_missing=True)  # e.g. data.dir=??? must be given
    run(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
