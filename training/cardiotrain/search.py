"""Optuna search of LightGBM hyperparameters over patient-grouped CV.

    cd training && python -m cardiotrain.search data.dir=/path/to/export [search.trials=20] [search.folds=3]
                   [search.out=/tmp/cs-search.json] [key=value ...]

Objective: pooled out-of-fold F1 (best threshold) over `search.folds` grouped folds; each fold's model
early-stops on a grouped validation split carved from its own training patients (the test fold is never
used for stopping). Patients in data.train_exclude are neither fit on nor counted in the objective. Prints
the best parameters as key=value overrides for cardiotrain.train.
"""
from __future__ import annotations

import json
import logging
import sys
import time

import numpy as np
from omegaconf import OmegaConf

from .config import load_config, resolve_path
from .data import load_export
from .folds import make_folds
from .metrics import best_threshold

log = logging.getLogger("cardiotrain")


def objective_factory(cfg, ex, folds):
    from .lgbm import margins, train_lgbm
    from .train import fit_rows

    fit = fit_rows(cfg, ex)

    def objective(trial):
        lc = OmegaConf.to_container(cfg.lgbm)
        lc.update(
            learning_rate=trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
            num_leaves=trial.suggest_int("num_leaves", 7, 63),
            min_data_in_leaf=trial.suggest_int("min_data_in_leaf", 5, 200, log=True),
            feature_fraction=trial.suggest_float("feature_fraction", 0.3, 1.0),
            bagging_fraction=trial.suggest_float("bagging_fraction", 0.5, 1.0),
            lambda_l2=trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
            lambda_l1=trial.suggest_float("lambda_l1", 1e-3, 10.0, log=True),
            scale_pos_weight=trial.suggest_float("scale_pos_weight", 1.0, 6.0, log=True),
        )
        lc = OmegaConf.create(lc)
        oof = np.full(ex.n, np.nan)
        its = []
        for of in folds:
            inner = of.inner[0]
            b, it = train_lgbm(lc, ex.features, ex.y, inner.train[fit[inner.train]], inner.val[fit[inner.val]],
                               seed=int(cfg.seed), threads=int(cfg.threads))
            oof[of.test] = margins(b, ex.features[of.test], it)
            its.append(it)
        ev = ~np.isnan(oof) & fit
        f1 = best_threshold(ex.y[ev], oof[ev])[1]
        trial.set_user_attr("best_iterations", its)
        return f1

    return objective


def main(argv=None) -> int:
    import optuna
    from .train import setup_logging

    argv = list(sys.argv[1:] if argv is None else argv)
    s_over = [a for a in argv if a.startswith("search.")]
    cfg = load_config([a for a in argv if not a.startswith("search.")])
    scfg = OmegaConf.merge(OmegaConf.create({"trials": 20, "folds": 3, "out": None, "timeout": None}),
                           OmegaConf.from_dotlist([a[len("search."):] for a in s_over]))
    setup_logging()
    ex = load_export(resolve_path(cfg.data.dir))
    folds = make_folds(ex.y, ex.ids, int(scfg.folds), 3, int(cfg.seed))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=int(cfg.seed)))
    study.enqueue_trial({k: cfg.lgbm[k] for k in ("learning_rate", "num_leaves", "min_data_in_leaf",
                                                  "feature_fraction", "bagging_fraction", "lambda_l2",
                                                  "scale_pos_weight")} | {"lambda_l1": 1e-3})
    t0 = time.perf_counter()
    study.optimize(objective_factory(cfg, ex, folds), n_trials=int(scfg.trials),
                   timeout=scfg.timeout, show_progress_bar=True,
                   callbacks=[lambda st, tr: log.info("trial %d F1=%.4f best=%.4f", tr.number, tr.value, st.best_value)])
    best = study.best_trial
    res = {"best_f1": best.value, "params": best.params, "best_iterations": best.user_attrs.get("best_iterations"),
           "trials": len(study.trials), "seconds": time.perf_counter() - t0, "data": str(cfg.data.dir)}
    if scfg.out:
        resolve_path(scfg.out).write_text(json.dumps(res, indent=2) + "\n")
    log.info("best pooled OOF F1 %.4f after %d trials (%.0fs)", best.value, len(study.trials), res["seconds"])
    print(" ".join(f"lgbm.{k}={v:.6g}" if isinstance(v, float) else f"lgbm.{k}={v}" for k, v in best.params.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
