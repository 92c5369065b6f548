"""Distributed Optuna search over patient-grouped CV, on an RDB storage that many workers share.

    bin/cardiospike search --input FILE.csv|--export DIR --model cnn|lgbm|stack --trials N --workers W [--study NAME]
                           [--storage URL] [--dashboard] [--past P --lookahead L] [key=value ...]
    bin/cardiospike search worker --storage URL --study NAME [--input FILE.csv] [--trials N]
    bin/cardiospike search best --study NAME [--storage URL]      # the best trial as key=value overrides

The coordinator (first form) exports the CSV through Java, creates the study once (concurrent first use of a fresh
database races on table creation), records what the workers need in the study's user attributes (model, data and
its sha256, past/lookahead, overrides, trial budget), starts W worker processes and prints every finished trial.
Without --storage it starts the embedded PostgreSQL (pg.py). A worker on another machine joins with the second
form; it re-exports the same CSV (checked by hash) itself.

Objective: pooled out-of-fold F1 at the best threshold over `search.folds` grouped folds; each fold's models
early-stop on one inner grouped split of its own training patients. Patients in data.train_exclude are neither fit
on nor counted. After each fold the trial reports the pooled F1 so far, and the median pruner stops a trial that
trails the others' at the same fold. Parameters are named by their config keys, so the best trial is a list of
overrides for `train`.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Standard library only at the top: `search --help` runs on the system python3, without the venv. numpy, OmegaConf,
# Optuna and the models are imported by the functions that use them.
from .paths import TRAINING_DIR

log = logging.getLogger("cardiotrain")
LAUNCHER = TRAINING_DIR.parent / "bin" / "cardiospike"
MODELS = ("lgbm", "cnn", "stack")
FINISHED = ("COMPLETE", "PRUNED")


# -- search spaces: parameter names are config keys ------------------------------------------------------------
# Each range is widened to hold the configured value, so that the first trial (the baseline) lies inside it.

LGBM_SPACE = {  # key: (low, high, log) for floats and ints
    "lgbm.learning_rate": (0.02, 0.2, True),
    "lgbm.num_leaves": (7, 63, False),
    "lgbm.min_data_in_leaf": (5, 200, True),
    "lgbm.feature_fraction": (0.3, 1.0, False),
    "lgbm.bagging_fraction": (0.5, 1.0, False),
    "lgbm.lambda_l2": (1e-3, 30.0, True),
    "lgbm.lambda_l1": (1e-3, 10.0, True),
    "lgbm.scale_pos_weight": (1.0, 6.0, True),
}
CNN_SPACE = {
    "cnn.lr": (1e-3, 2e-2, True),
    "cnn.weight_decay": (1e-6, 1e-2, True),
    "cnn.dropout": (0.0, 0.4, False),
    "cnn.aux_weight": (0.0, 1.0, False),
    "cnn.batch": [256, 512, 1024],
    # Widths stay small: they set serving time (a BiGRU of 16 per direction -> ~15 us per window, 24 -> ~22;
    # dilated convs of 16 -> ~7). The sequence part's own width joins in space().
    "cnn.branch_channels": [8, 16, 24],
    "cnn.mix_channels": [8, 16, 24],
}
SEQUENCE_WIDTH = {"gru": ("cnn.gru_hidden", [8, 16, 24]), "conv": ("cnn.conv_channels", [8, 16, 24])}


def space(model: str, cfg) -> dict:
    from omegaconf import OmegaConf
    key, widths = SEQUENCE_WIDTH[str(OmegaConf.select(cfg, "cnn.sequence", default="gru"))]
    cnn = CNN_SPACE | {key: widths}
    return {"lgbm": LGBM_SPACE, "cnn": cnn, "stack": LGBM_SPACE | cnn}[model]


def baseline_params(model: str, cfg) -> dict:
    """The configured values, as the first trial: the search starts from what `train` would do."""
    from omegaconf import OmegaConf
    p = {k: OmegaConf.select(cfg, k) for k in space(model, cfg)}
    if "lgbm.lambda_l1" in p:
        p["lgbm.lambda_l1"] = max(float(p["lgbm.lambda_l1"]), 1e-3)   # 0 has no place on a log scale
    return p


def suggest(model: str, trial, cfg) -> dict:
    base = baseline_params(model, cfg)
    out = {}
    for key, dist in space(model, cfg).items():
        v = base[key]
        if isinstance(dist, list):
            out[key] = trial.suggest_categorical(key, sorted(set(dist) | {v}))
        else:
            lo, hi, log_scale = dist
            if isinstance(lo, int) and isinstance(hi, int):
                out[key] = trial.suggest_int(key, min(lo, int(v)), max(hi, int(v)), log=log_scale)
            else:
                out[key] = trial.suggest_float(key, min(lo, float(v)), max(hi, float(v)), log=log_scale)
    return out


def as_overrides(params: dict) -> list[str]:
    return [f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()]


# -- the objective ---------------------------------------------------------------------------------------------

def objective_factory(model: str, cfg, ex):
    import numpy as np
    import optuna
    from omegaconf import OmegaConf
    from .cnn import predict_logits, resolve_device, train_net
    from .folds import make_folds
    from .lgbm import margins, train_lgbm
    from .metrics import best_threshold
    from .stack import honest_stack
    from .train import fit_rows

    seed, threads = int(cfg.seed), int(cfg.threads)
    folds = make_folds(ex.y, ex.ids, int(cfg.search.folds), 3, seed)
    fit = fit_rows(cfg, ex)
    center = int(ex.meta["past_beats"])
    device = resolve_device(cfg.device)
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def pooled_f1(oof: dict, done) -> float:
        ev = done & fit
        if model != "stack":
            return float(best_threshold(ex.y[ev], oof[model][ev])[1])
        fold_of = np.full(ex.n, -1)
        for of in folds:
            fold_of[of.test] = of.index
        if len(np.unique(fold_of[ev])) < 2:   # an honest stacker needs another fold to fit on
            return float(best_threshold(ex.y[ev], oof["cnn"][ev])[1])
        Z = np.column_stack([oof["lgbm"], oof["cnn"], ex.artifact]).astype(np.float64)
        p = honest_stack(Z[ev], ex.y[ev], fold_of[ev], float(cfg.stack.C))
        return float(best_threshold(ex.y[ev], p)[1])

    def objective(trial) -> float:
        trial.set_user_attr("worker", worker)
        params = suggest(model, trial, cfg)
        tcfg = cfg.copy()
        for k, v in params.items():
            OmegaConf.update(tcfg, k, v, merge=False)
        oof = {"lgbm": np.full(ex.n, np.nan), "cnn": np.full(ex.n, np.nan)}
        done = np.zeros(ex.n, dtype=bool)
        its, eps, value = [], [], float("nan")
        for of in folds:
            inner = of.inner[0]
            tr, va = inner.train[fit[inner.train]], inner.val[fit[inner.val]]
            s = seed + 1000 * (of.index + 1)
            if model in ("lgbm", "stack"):
                b, it = train_lgbm(tcfg.lgbm, ex.features, ex.y, tr, va, seed=s, threads=threads)
                oof["lgbm"][of.test] = margins(b, ex.features[of.test], it)
                its.append(int(it))
            if model in ("cnn", "stack"):
                net, ep, _ = train_net(tcfg.cnn, ex.windows, ex.y, tr, va, seed=s, center=center,
                                       desc=f"trial {trial.number} fold {of.index}", ids=ex.ids, device=device)
                oof["cnn"][of.test] = predict_logits(net, ex.windows[of.test], int(tcfg.cnn.eval_batch))
                eps.append(int(ep))
            done[of.test] = True
            value = pooled_f1(oof, done)
            trial.report(value, of.index)
            trial.set_user_attr("folds_done", of.index + 1)
            if of.index < len(folds) - 1 and trial.should_prune():   # the last fold completes the value
                raise optuna.TrialPruned(f"pooled F1 {value:.4f} after fold {of.index}")
        trial.set_user_attr("best_iterations", its)
        trial.set_user_attr("best_epochs", eps)
        return value

    return objective


# -- storage and study -----------------------------------------------------------------------------------------

def storage_of(url: str, cfg=None):
    """RDB storage with heartbeats: a worker killed mid-trial leaves no trial RUNNING for ever; after the grace
    period (search.grace_period) its trial is marked FAIL and queued once more for another worker."""
    heartbeat = int(cfg.search.heartbeat_interval) if cfg is not None else 10
    grace = int(cfg.search.grace_period) if cfg is not None else 40
    import warnings
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    with warnings.catch_warnings():   # heartbeats are "experimental" in Optuna 5.0
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(url, heartbeat_interval=heartbeat, grace_period=grace,
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
                          engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else None)


def pruner(cfg):
    import optuna
    return optuna.pruners.MedianPruner(n_startup_trials=int(cfg.search.pruner_startup), n_warmup_steps=0)


def load_study(storage_url: str, name: str, cfg=None):
    import optuna
    study = optuna.load_study(study_name=name, storage=storage_of(storage_url, cfg),
                              sampler=optuna.samplers.TPESampler(constant_liar=True),
                              pruner=pruner(cfg) if cfg is not None else None)
    return study


def started(study) -> int:
    from optuna.trial import TrialState
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED,
                                                        TrialState.RUNNING, TrialState.WAITING)))


def export(csv: Path, past: int, lookahead: int, into: Path) -> Path:
    """The model inputs, made by Java (`export-dataset`), as `train` makes them."""
    out = into / f"export-p{past}-l{lookahead}"
    r = subprocess.run([str(LAUNCHER), "export-dataset", "--input", str(csv), "--output", str(out),
                        "--past", str(past), "--lookahead", str(lookahead)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"export-dataset failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return out


# -- worker ----------------------------------------------------------------------------------------------------

def run_worker(storage_url: str, name: str, export_dir: Path | None, csv: Path | None, trials: int | None,
               threads: int | None) -> int:
    import optuna
    from optuna.trial import TrialState
    from .bundle import sha256_file
    from .config import load_config
    from .data import load_export
    study = load_study(storage_url, name)
    a = study.user_attrs
    overrides = list(a["overrides"]) + ([f"threads={threads}"] if threads else [])
    cfg = load_config(overrides)
    study = load_study(storage_url, name, cfg)
    target = int(trials or a["trials"])
    with tempfile.TemporaryDirectory(prefix="cardiospike-search-") as tmp:
        if export_dir is None:
            csv = Path(csv or a["input"]).resolve()
            if not csv.is_file():
                raise SystemExit(f"the study's data {a['input']} is not on this machine: give --input FILE.csv")
            if sha256_file(csv) != a["input_sha256"]:
                raise SystemExit(f"{csv} is not the study's data (sha256 differs from {a['input_sha256'][:12]}...)")
            export_dir = export(csv, int(a["past"]), int(a["lookahead"]), Path(tmp))
        ex = load_export(export_dir)
        got = (ex.meta.get("source_sha256"), int(ex.meta["past_beats"]), int(ex.meta["lookahead_beats"]))
        if got != (a["input_sha256"], int(a["past"]), int(a["lookahead"])):
            raise SystemExit(f"{export_dir} is not the study's data: sha256 {str(got[0])[:12]}..., past {got[1]}, "
                             f"lookahead {got[2]} against {a['input_sha256'][:12]}..., {a['past']}, {a['lookahead']}")
        objective = objective_factory(a["model"], cfg, ex)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        while True:
            optuna.storages.fail_stale_trials(study)   # a dead worker's trial: FAIL, and queued again
            if started(study) < target or study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
                study.optimize(objective, n_trials=1, gc_after_trial=True)   # queued ones (a retry) first
            elif study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                time.sleep(int(cfg.search.heartbeat_interval))   # stay until it ends, or is found dead and retried
            else:
                return 0


# -- coordinator -----------------------------------------------------------------------------------------------

def create_study(storage_url: str, name: str, model: str, cfg, overrides: list[str], csv: Path, past: int,
                 lookahead: int, trials: int, source: tuple | None = None):
    """Creates the study (once) or resumes it for `trials` more; the first trial of a new study is the configured
    baseline. Returns (study, the number of trials to reach)."""
    import optuna
    from .bundle import sha256_file
    study = optuna.create_study(study_name=name, storage=storage_of(storage_url, cfg), direction="maximize",
                                load_if_exists=True)
    a = study.user_attrs
    if a:
        if a.get("model") != model:
            raise SystemExit(f"study {name!r} searches {a.get('model')}, not {model}")
        if a.get("overrides") != overrides:
            raise SystemExit(f"study {name!r} was made with {' '.join(a.get('overrides') or []) or 'no overrides'}: "
                             "resume it with the same key=value pairs")
        target = started(study) + trials
        study.set_user_attr("trials", target)
        return study, target
    sha, past, lookahead = source or (sha256_file(csv), past, lookahead)
    for k, v in {"model": model, "input": str(csv), "input_sha256": sha, "past": past,
                 "lookahead": lookahead, "overrides": overrides, "trials": trials,
                 "objective": f"pooled out-of-fold F1, {int(cfg.search.folds)} patient-grouped folds"}.items():
        study.set_user_attr(k, v)
    study.enqueue_trial(baseline_params(model, cfg), user_attrs={"baseline": True})
    return study, trials


def report_progress(study, seen: set, target: int) -> None:
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    new = sorted((t for t in trials if t.number not in seen and t.state.is_finished()),
                 key=lambda t: t.datetime_complete or t.datetime_start)
    done = [t for t in trials if t.number in seen and t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    for t in new:
        seen.add(t.number)
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done.append(t)
        best = max((d for d in done if d.state == TrialState.COMPLETE), key=lambda d: d.value, default=None)
        best_txt = f"best {best.value:.4f} (trial {best.number})" if best else "no complete trial yet"
        if t.state == TrialState.COMPLETE:
            what = f"F1 {t.value:.4f}"
        elif t.state == TrialState.PRUNED:
            last = max(t.intermediate_values) if t.intermediate_values else None
            what = f"pruned after fold {last} (F1 {t.intermediate_values[last]:.4f})" if last is not None \
                else "pruned"
        else:
            what = t.state.name.lower()
        secs = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start \
            else float("nan")
        print(f"trial {t.number:3d} {what:<36} {secs:6.0f}s worker {t.user_attrs.get('worker', '?'):<24} "
              f"[{len(done)}/{target} finished, {best_txt}]", flush=True)


def coordinate(args, overrides: list[str]) -> int:
    import optuna
    from . import pg
    from .config import load_config
    from .train import setup_logging

    setup_logging()
    if args.model not in MODELS:
        raise SystemExit(f"--model must be one of {', '.join(MODELS)}")
    cfg = load_config(overrides)   # fails early on a mistyped key
    if args.export:   # made elsewhere (e.g. carried to a GPU machine without Java): its meta names the CSV
        meta = json.loads((Path(args.export) / "meta.json").read_text())
        csv, source = Path(meta["source_file"]), (meta["source_sha256"], meta["past_beats"], meta["lookahead_beats"])
    else:
        csv, source = Path(args.input).resolve(), None
        if not csv.is_file():
            raise SystemExit(f"no such file: {csv}")
    if args.listen and args.storage:
        raise SystemExit("--listen opens the embedded PostgreSQL to other machines; with --storage there is none")
    storage_url = args.storage or pg.ensure_local(listen=args.listen)
    print(f"storage: {pg.remote_url() if args.listen else storage_url}", flush=True)
    name = args.study or f"{args.model}-{csv.stem}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    study, target = create_study(storage_url, name, args.model, cfg, overrides, csv, args.past, args.lookahead,
                                 args.trials, source)
    print(f"study: {name} ({args.model}, {args.trials} trials, {args.workers} workers)", flush=True)
    if args.listen:
        print(f"more workers, from other machines: PGPASSWORD=\"$(cat {pg.password_file()})\" bin/cardiospike search "
              f"worker --storage {pg.remote_url()} --study {name} (the password file's content, copied there)",
              file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # clean up the workers and the dashboard
    dashboard = start_dashboard(storage_url, args.dashboard_port) if args.dashboard else None
    threads = args.threads or max(1, (os.cpu_count() or 2) // args.workers)
    procs, seen = [], {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    with tempfile.TemporaryDirectory(prefix="cardiospike-search-") as tmp:
        export_dir = Path(args.export).resolve() if args.export else export(csv, args.past, args.lookahead, Path(tmp))
        logs = Path(args.logs or tmp) / name
        logs.mkdir(parents=True, exist_ok=True)
        for i in range(args.workers):
            logf = open(logs / f"worker-{i}.log", "w")
            procs.append((subprocess.Popen(
                [sys.executable, "-m", "cardiotrain.search", "worker", "--storage", storage_url, "--study", name,
                 "--export", str(export_dir), "--trials", str(target), "--threads", str(threads)],
                cwd=TRAINING_DIR, stdout=logf, stderr=subprocess.STDOUT), logf))
        log.info("%d workers started (%d threads each), logs in %s", args.workers, threads, logs)
        try:
            while any(p.poll() is None for p, _ in procs):
                report_progress(study, seen, target)
                time.sleep(2)
            report_progress(study, seen, target)
        finally:
            for p, f in procs:
                if p.poll() is None:
                    p.terminate()
                f.close()
            if dashboard is not None and sys.exc_info()[0] is not None:
                dashboard.terminate()
        failed = [i for i, (p, _) in enumerate(procs) if p.returncode != 0]
        for i in failed:
            tail = (logs / f"worker-{i}.log").read_text(errors="replace")[-3000:]
            print(f"worker {i} failed (exit {procs[i][0].returncode}):\n{tail}", file=sys.stderr)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        print("no trial completed", file=sys.stderr)
        return 1
    best = max(complete, key=lambda t: t.value)
    workers = {t.user_attrs.get("worker") for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    print(f"best trial {best.number}: F1 {best.value:.4f} over {int(cfg.search.folds)} grouped folds "
          f"({len(workers)} workers); train with: bin/cardiospike train --input {csv} --from-study {name}"
          + ("" if args.storage is None else f" --storage {storage_url}"), file=sys.stderr, flush=True)
    print(" ".join(as_overrides(best.params)), flush=True)
    if dashboard is not None:
        print(f"the dashboard serves until Ctrl-C", file=sys.stderr, flush=True)
        try:
            dashboard.wait()
        finally:
            dashboard.terminate()
    return 1 if failed else 0


def start_dashboard(storage_url: str, port: int):
    exe = Path(sys.executable).with_name("optuna-dashboard")
    proc = subprocess.Popen([str(exe), storage_url, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"dashboard: http://127.0.0.1:{port}/", flush=True)
    return proc


def best_overrides(storage_url: str, name: str) -> list[str]:
    try:
        study = load_study(storage_url, name)
    except KeyError:
        raise SystemExit(f"no study {name!r} in {storage_url}") from None
    try:
        return as_overrides(study.best_trial.params)
    except ValueError:
        raise SystemExit(f"study {name!r} has no complete trial yet") from None


SUBCOMMANDS = ("search", "worker", "best")


def parser(sub: str) -> argparse.ArgumentParser:
    """The options of `search`, `search worker` or `search best`, each with its default (standard library only)."""
    what = {"search": "Distributed Optuna search over patient-grouped CV. key=value pairs override "
                      "training/conf/config.yaml (bin/cardiospike train --help lists the keys and their defaults).",
            "worker": "Join a search's study as one more worker process (from any machine).",
            "best": "Print a study's best trial as key=value overrides."}[sub]
    ap = argparse.ArgumentParser(prog=f"cardiospike search{'' if sub == 'search' else ' ' + sub}", description=what,
                                 epilog="also: cardiospike search worker --help, cardiospike search best --help"
                                 if sub == "search" else None)
    ap.add_argument("--storage", metavar="URL", required=(sub == "worker"),
                    help="SQLAlchemy URL of the study's database (" + ("required" if sub == "worker" else
                                                                      "default: the embedded local PostgreSQL") + ")")
    ap.add_argument("--study", metavar="NAME", required=(sub != "search"),
                    help="study name (" + ("default: MODEL-CSVNAME-UTCTIME" if sub == "search" else "required") + ")")
    ap.add_argument("--trials", type=int, metavar="N", required=(sub == "search"),
                    help="trials to run, a resumed study: this many more (required)" if sub == "search" else
                    "the study's trial budget to reach (default: the search's)")
    ap.add_argument("--input", metavar="FILE.csv",
                    help="the labelled CSV (id,time,x,y), exported through Java for the models (default: " +
                    ("none; this or --export" if sub == "search" else "the study's CSV, at its path") + ")")
    ap.add_argument("--threads", type=int, metavar="N", help="threads per worker (default: cores / workers)")
    ap.add_argument("--export", metavar="DIR", help="an export-dataset directory to use instead of exporting the CSV "
                    "(default: none)")
    if sub == "search":
        ap.add_argument("--model", required=True, choices=MODELS,
                        help="what to search: LightGBM, CardioNet or both (required)")
        ap.add_argument("--workers", type=int, default=1, metavar="W",
                        help="worker processes started here (default: %(default)s)")
        ap.add_argument("--past", type=int, default=16, metavar="P",
                        help="beats of past per window (default: %(default)s)")
        ap.add_argument("--lookahead", type=int, default=8, metavar="L",
                        help="beats of lookahead per window (default: %(default)s)")
        ap.add_argument("--dashboard", action="store_true",
                        help="serve optuna-dashboard during and after it (default: off)")
        ap.add_argument("--dashboard-port", type=int, default=8085, metavar="PORT",
                        help="the dashboard's port (default: %(default)s)")
        ap.add_argument("--logs", metavar="DIR", help="directory for the workers' logs (default: a temporary one)")
        ap.add_argument("--listen", metavar="ADDRESS", help="the embedded PostgreSQL also listens here (e.g. "
                        "0.0.0.0) for workers on other machines, with the password of ~/.cache/cardiospike/pg/password "
                        "(default: 127.0.0.1 only)")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    sub = argv[0] if argv and argv[0] in ("worker", "best") else "search"
    rest = argv[1:] if sub != "search" else argv
    ap = parser(sub)
    args, overrides = ap.parse_known_args(rest)
    for o in overrides:
        if o.startswith("-") or "=" not in o:
            ap.error(f"unknown argument {o!r}: options as above, config as key=value")
    if sub == "worker":
        if overrides:
            ap.error("a worker takes the study's config; key=value belongs to the search that created it")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        return run_worker(args.storage, args.study, Path(args.export) if args.export else None,
                          Path(args.input) if args.input else None, args.trials, args.threads)
    if sub == "best":
        from . import pg
        print(" ".join(best_overrides(args.storage or pg.ensure_local(), args.study)))
        return 0
    if bool(args.input) == bool(args.export):
        ap.error("give --input FILE.csv (exported here through Java) or --export DIR")
    if args.workers < 1 or args.trials < 1:
        ap.error("--workers and --trials must be at least 1")
    return coordinate(args, overrides)


if __name__ == "__main__":
    sys.exit(main())
