"""Training artifacts on a real object store (s3proxy): CARDIOSPIKE_ARTIFACTS=s3://bucket/prefix."""
import json

import pytest


@pytest.fixture
def s3_env(s3proxy, monkeypatch):
    for k, v in {"AWS_ENDPOINT_URL": s3proxy, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local-secret",
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
                 "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}.items():
        monkeypatch.setenv(k, v)
    import boto3
    return boto3.client("s3", endpoint_url=s3proxy)


def _objects(client, prefix):
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="artifacts", Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = o["Key"]
    return out


def test_training_writes_checkpoints_metrics_logs_report_and_bundle_to_s3(s3_env, synth_export, tmp_path,
                                                                            monkeypatch):
    from cardiotrain.config import load_config
    from cardiotrain.train import run

    monkeypatch.setenv("CARDIOSPIKE_ARTIFACTS", "s3://artifacts/runs")
    out = tmp_path / "bundle-s3"
    res = run(load_config(["preset=tiny", f"data.dir={synth_export}", f"out={out}", "cv.refit_check=false"]))
    objs = _objects(s3_env, "runs/bundle-s3/")
    # 2 outer x 2 inner folds: every inner model, then the final refit
    for k in range(2):
        for j in range(2):
            assert f"checkpoints/cnn-{k}.{j}.pt" in objs and f"checkpoints/lightgbm-{k}.{j}.txt" in objs
    assert {"checkpoints/cnn-final.pt", "checkpoints/lightgbm-final.txt", "metrics/folds.json",
            "metrics/metrics.json", "logs/train.log", "report/report.md", "report/pr_curve.png"} <= set(objs)

    def body(name):
        return s3_env.get_object(Bucket="artifacts", Key=objs[name])["Body"].read()

    for f in out.iterdir():   # the bundle, byte for byte
        assert body(f"bundle/{f.name}") == f.read_bytes(), f.name
    metrics = json.loads(body("metrics/metrics.json"))
    assert metrics["model_version"] == res["model_version"]
    assert metrics["cv"]["stack"]["pooled"]["f1"] == pytest.approx(res["metrics"]["stack"]["pooled"]["f1"])
    assert [f["fold"] for f in json.loads(body("metrics/folds.json"))] == [0, 1]
    log = body("logs/train.log").decode()
    assert "outer fold 1" in log and f"bundle {res['model_version']} written" in log
    import lightgbm as lgb
    assert lgb.Booster(model_str=body("checkpoints/lightgbm-final.txt").decode()).num_trees() > 0


def test_an_unreachable_bucket_fails_before_training(s3_env, synth_export, tmp_path, monkeypatch):
    from cardiotrain.config import load_config
    from cardiotrain.train import run

    monkeypatch.setenv("CARDIOSPIKE_ARTIFACTS", "s3://no-such-bucket/runs")
    with pytest.raises(RuntimeError, match="no-such-bucket"):
        run(load_config(["preset=tiny", f"data.dir={synth_export}", f"out={tmp_path / 'b'}"]))
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_the_store_taken_away_mid_run_loses_no_artifact(synth_export, tmp_path):
    """SIGKILL the object store after the first checkpoint, bring it back once an upload has failed: training goes on,
    and what failed is written when the store is back."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time
    from conftest import TRAINING, start_s3proxy

    store = tmp_path / "s3"
    (store / "data" / "artifacts").mkdir(parents=True)
    proc, endpoint = start_s3proxy(store)
    port = int(endpoint.rsplit(":", 1)[1])
    env = os.environ | {"CARDIOSPIKE_ARTIFACTS": "s3://artifacts/runs", "AWS_ENDPOINT_URL": endpoint,
                        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local-secret",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
                        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}
    out = tmp_path / "bundle-outage"
    train = subprocess.Popen([sys.executable, "-m", "cardiotrain.train", "preset=tiny", f"data.dir={synth_export}",
                              f"out={out}", "cv.outer_folds=3", "cnn.epochs=6", "cnn.patience=6",
                              "cv.refit_check=false"], cwd=TRAINING, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(train.stderr), daemon=True)
    reader.start()
    first = store / "data" / "artifacts" / "runs" / "bundle-outage" / "checkpoints" / "cnn-0.0.pt"
    deadline = time.monotonic() + 300
    while not first.exists():
        assert train.poll() is None and time.monotonic() < deadline, "".join(lines)[-3000:]
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)   # the store is away
    proc.wait()
    while not any("not written yet" in ln for ln in lines):
        assert train.poll() is None and time.monotonic() < deadline, "".join(lines)[-3000:]
        time.sleep(0.1)
    proc, _ = start_s3proxy(store, port)   # back, same port, same files
    try:
        assert train.wait(timeout=600) == 0, "".join(lines)[-3000:]
        reader.join(timeout=10)
        written = {p.relative_to(store / "data" / "artifacts" / "runs" / "bundle-outage").as_posix()
                   for p in (store / "data" / "artifacts" / "runs" / "bundle-outage").rglob("*") if p.is_file()}
        for k in range(3):
            for j in range(2):
                assert f"checkpoints/cnn-{k}.{j}.pt" in written and f"checkpoints/lightgbm-{k}.{j}.txt" in written
        for f in out.iterdir():
            assert (store / "data" / "artifacts" / "runs" / "bundle-outage" / "bundle" / f.name).read_bytes() \
                == f.read_bytes(), f.name
        log = (store / "data" / "artifacts" / "runs" / "bundle-outage" / "logs" / "train.log").read_text()
        assert "not written yet" in log and "artifacts written to" in log
    finally:
        proc.terminate()
        proc.wait(timeout=30)
