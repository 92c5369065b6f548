"""The distributed search on a real PostgreSQL (the embedded default under ~/.cache/cardiospike/pg): separate worker
processes share one study; the median pruner stops a trailing trial; `train --from-study` trains with the best."""
import json
import subprocess
import uuid

import pytest

from conftest import LAUNCHER

FAST_LGBM = ["lgbm.max_rounds=20", "lgbm.early_stopping=5"]


@pytest.fixture(scope="module")
def synth_csv(tmp_path_factory, synth_export):
    return synth_export.parent / "s.csv"


@pytest.fixture(scope="module")
def lgbm_study(synth_csv):
    name = f"test-lgbm-{uuid.uuid4().hex[:8]}"
    r = subprocess.run([str(LAUNCHER), "search", "--input", str(synth_csv), "--model", "lgbm", "--trials", "6",
                        "--workers", "3", "--study", name, *FAST_LGBM], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    lines = r.stdout.strip().splitlines()
    storage = next(ln.split(" ", 1)[1] for ln in lines if ln.startswith("storage: "))
    return {"name": name, "storage": storage, "stdout": lines, "stderr": r.stderr}


def test_workers_share_one_study_on_postgres(lgbm_study):
    import optuna
    from optuna.trial import TrialState
    assert lgbm_study["storage"].startswith("postgresql")
    study = optuna.load_study(study_name=lgbm_study["name"], storage=lgbm_study["storage"])
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) >= 6
    workers = {t.user_attrs["worker"] for t in finished}
    assert len(workers) >= 2, workers
    assert all(":" in w for w in workers)                        # host:pid
    assert study.trials[0].user_attrs.get("baseline") is True   # the configured values come first
    assert study.user_attrs["model"] == "lgbm" and study.user_attrs["overrides"] == FAST_LGBM
    for t in finished:   # every trial reported as it went: one value per fold done
        n = len(t.intermediate_values)
        assert (n == 3) if t.state == TrialState.COMPLETE else (1 <= n < 3)
    # progress per trial, then the best parameters as key=value overrides
    assert sum(ln.startswith("trial ") for ln in lgbm_study["stdout"]) >= 6
    best = dict(kv.split("=", 1) for kv in lgbm_study["stdout"][-1].split())
    assert set(best) == set(study.best_params) and best["lgbm.num_leaves"] == str(study.best_params["lgbm.num_leaves"])


def test_train_from_study_uses_the_best_trial(lgbm_study, synth_csv, tmp_path):
    import optuna
    best = optuna.load_study(study_name=lgbm_study["name"], storage=lgbm_study["storage"]).best_params
    out = tmp_path / "bundle"
    r = subprocess.run([str(LAUNCHER), "train", "--input", str(synth_csv), "--from-study", lgbm_study["name"],
                        "--out", str(out), "preset=tiny", "cv.refit_check=false"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    lgbm = json.loads((out / "manifest.json").read_text())["config"]["lgbm"]
    assert lgbm["num_leaves"] == best["lgbm.num_leaves"]
    assert lgbm["learning_rate"] == pytest.approx(best["lgbm.learning_rate"], rel=1e-5)
    assert lgbm["max_rounds"] == 20   # the preset's keys the study does not set stay (tiny: 20)


def test_a_trial_trailing_the_others_is_pruned_after_its_first_fold(synth_export):
    import optuna
    from optuna.distributions import FloatDistribution
    from cardiotrain import pg
    from cardiotrain.config import load_config
    from cardiotrain.data import load_export
    from cardiotrain.search import LGBM_SPACE, objective_factory, pruner, suggest

    cfg = load_config(FAST_LGBM + ["threads=1"])
    study = optuna.create_study(study_name=f"test-prune-{uuid.uuid4().hex[:8]}", storage=pg.ensure_local(),
                                direction="maximize", pruner=pruner(cfg))
    # two earlier trials that scored a perfect F1 at every fold: any real trial trails them at fold 0
    probe = optuna.create_study(direction="maximize")
    params = suggest("lgbm", probe.ask(), cfg)
    dists = probe.trials[0].distributions
    for _ in range(2):
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=1.0,
                                                  intermediate_values={0: 1.0, 1: 1.0, 2: 1.0}))
    study.optimize(objective_factory("lgbm", cfg, load_export(synth_export)), n_trials=1)
    t = study.trials[-1]
    assert t.state == optuna.trial.TrialState.PRUNED
    assert list(t.intermediate_values) == [0] and t.intermediate_values[0] < 1.0
    assert isinstance(dists["lgbm.learning_rate"], FloatDistribution) and len(LGBM_SPACE) == len(dists)


def test_a_study_is_resumed_only_with_its_own_config(lgbm_study, synth_csv):
    r = subprocess.run([str(LAUNCHER), "search", "--input", str(synth_csv), "--model", "lgbm", "--trials", "1",
                        "--study", lgbm_study["name"], "lgbm.max_rounds=30"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode != 0 and "resume it with the same key=value pairs" in r.stderr


def test_a_worker_killed_mid_trial_loses_no_trial(synth_export, synth_csv):
    """SIGKILL one of two workers while its trial runs: after the grace period the survivor marks that trial FAIL,
    runs it again, and the study still reaches its trial count. Two trials for two workers, so the survivor has
    already reached the count when it finds the dead trial (the retry must still run)."""
    import os
    import signal
    import sys
    import time
    import optuna
    from optuna.trial import TrialState
    from cardiotrain import pg
    from cardiotrain.config import TRAINING_DIR, load_config
    from cardiotrain.search import create_study, space

    overrides = ["preset=tiny", "search.folds=2", "search.heartbeat_interval=1", "search.grace_period=5",
                 "cnn.epochs=4", "cnn.patience=4"]
    storage, name = pg.ensure_local(), f"test-kill-{uuid.uuid4().hex[:8]}"
    cfg = load_config(overrides)
    create_study(storage, name, "cnn", cfg, overrides, synth_csv, 16, 8, 2)
    cmd = [sys.executable, "-m", "cardiotrain.search", "worker", "--storage", storage, "--study", name,
           "--export", str(synth_export), "--threads", "1"]
    victim, survivor = (subprocess.Popen(cmd, cwd=TRAINING_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        for _ in range(2))
    study = optuna.load_study(study_name=name, storage=storage)
    deadline = time.monotonic() + 120
    while not any(t.state == TrialState.RUNNING and t.user_attrs.get("worker", "").endswith(f":{victim.pid}")
                  and len(t.params) == len(space("cnn", cfg)) for t in study.get_trials(deepcopy=False)):   # training
        assert time.monotonic() < deadline and victim.poll() is None, "the victim never ran a trial"
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert survivor.wait(timeout=600) == 0
    trials = study.get_trials(deepcopy=False)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.user_attrs["worker"] for t in failed] == [f"{os.uname().nodename}:{victim.pid}"]
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(retried) == 1 and retried[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert retried[0].params == failed[0].params and len(failed[0].params) == len(space("cnn", cfg))   # the same trial
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) == 2
    assert not [t for t in trials if t.state == TrialState.RUNNING]


def test_a_search_on_a_carried_export_with_sqlite_storage(synth_export, tmp_path):
    """The GPU machine's form: no Java there, so the export travels; the study lives in a SQLite file that comes back
    (`train --from-study NAME --storage sqlite:///...` then reads it here)."""
    import optuna
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    r = subprocess.run([str(LAUNCHER), "search", "--export", str(synth_export), "--storage", storage, "--model",
                        "lgbm", "--trials", "2", "--workers", "1", "--study", "carried", *FAST_LGBM],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    study = optuna.load_study(study_name="carried", storage=storage)
    assert len([t for t in study.trials if t.state.is_finished()]) == 2
    assert study.user_attrs["input"] == "s.csv" and len(study.user_attrs["input_sha256"]) == 64
    r = subprocess.run([str(LAUNCHER), "search", "best", "--study", "carried", "--storage", storage],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "lgbm.num_leaves=" in r.stdout


def test_the_embedded_storage_takes_workers_from_other_machines_only_with_its_password(synth_export, synth_csv):
    """--listen: the embedded PostgreSQL also listens on this machine's own address, where (unlike 127.0.0.1) the
    role's password is required. A worker reaches it through the URL printed for other machines, as one there would."""
    import os
    import optuna
    from cardiotrain import pg
    from cardiotrain.config import load_config
    from cardiotrain.search import create_study

    pg.ensure_local(listen="0.0.0.0")
    remote = pg.remote_url()
    assert "@127." not in remote and "@localhost" not in remote, remote
    name = f"test-remote-{uuid.uuid4().hex[:8]}"
    create_study(pg.ensure_local(), name, "lgbm", load_config(FAST_LGBM), FAST_LGBM, synth_csv, 16, 8, 1)
    worker = [str(LAUNCHER), "search", "worker", "--storage", remote, "--study", name, "--export", str(synth_export)]
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    refused = subprocess.run(worker, capture_output=True, text=True, timeout=300, env=env)
    assert refused.returncode != 0 and "password" in refused.stderr
    password = pg.password_file().read_text().strip()
    joined = subprocess.run(worker, capture_output=True, text=True, timeout=300, env=env | {"PGPASSWORD": password})
    assert joined.returncode == 0, joined.stderr[-3000:]
    trials = optuna.load_study(study_name=name, storage=pg.ensure_local()).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE]
    assert oct(pg.password_file().stat().st_mode & 0o777) == "0o600"
    assert password not in remote and password not in joined.stderr + joined.stdout + refused.stderr
