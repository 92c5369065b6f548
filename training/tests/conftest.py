"""Shared fixtures. The synthetic data comes from the real Java launcher (bin/cardiospike generate +
export-dataset); if the launcher is missing or fails, the fixtures FAIL (never skip)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parent.parent
REPO = TRAINING.parent
LAUNCHER = REPO / "bin" / "cardiospike"
sys.path.insert(0, str(TRAINING))


def _launch(*args: str, timeout: int = 900) -> None:
    if not (LAUNCHER.is_file() and os.access(LAUNCHER, os.X_OK)):
        pytest.fail(f"launcher {LAUNCHER} is missing or not executable: build the Java side first")
    r = subprocess.run([str(LAUNCHER), *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        pytest.fail(f"{LAUNCHER.name} {' '.join(args)} failed ({r.returncode}):\n{r.stderr[-4000:]}")


@pytest.fixture(scope="session")
def synth_export(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("synth")
    _launch("generate", "--output", str(d / "s.csv"), "--patients", "12", "--seed", "3")
    _launch("export-dataset", "--input", str(d / "s.csv"), "--output", str(d / "export"))
    return d / "export"


@pytest.fixture(scope="session")
def golden_export(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("golden")
    _launch("generate", "--output", str(d / "g.csv"), "--patients", "2", "--min-beats", "150", "--max-beats", "200",
            "--seed", "11")
    _launch("export-dataset", "--input", str(d / "g.csv"), "--output", str(d / "export"))
    return d / "export"


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, synth_export, golden_export):
    """A full (tiny) training run: 2x2 nested CV, 2 epochs, few trees -> bundle dir."""
    from cardiotrain.config import load_config
    from cardiotrain.train import run
    out = tmp_path_factory.mktemp("bundle")
    oof = tmp_path_factory.mktemp("oof") / "oof.npz"
    cfg = load_config(["preset=tiny", f"data.dir={synth_export}", f"golden.dir={golden_export}", f"out={out}",
                       f"cv.oof_out={oof}"])
    res = run(cfg)
    return {"out": out, "cfg": cfg, "result": res, "oof": oof}


def start_s3proxy(basedir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """A real object store: s3proxy (the jar `cluster start` runs, built with the launcher) on a filesystem backend
    under `basedir` (a bucket is a folder there), credentials local / local-secret. Returns (process, endpoint)."""
    import socket
    import time
    import urllib.request

    jars = sorted((REPO / "target" / "cluster" / "s3proxy").glob("s3proxy-*.jar"))
    if not jars:
        pytest.fail("s3proxy jar missing under target/cluster/s3proxy: build with mvn package")
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    (basedir / "data").mkdir(parents=True, exist_ok=True)
    props = basedir / "s3proxy.properties"
    props.write_text("\n".join([
        f"s3proxy.endpoint={endpoint}", "s3proxy.authorization=aws-v2-or-v4", "s3proxy.identity=local",
        "s3proxy.credential=local-secret", "jclouds.provider=filesystem-nio2",
        f"jclouds.filesystem.basedir={basedir / 'data'}", "jclouds.identity=local", "jclouds.credential=local", ""]))
    log = open(basedir / "s3proxy.log", "a")
    proc = subprocess.Popen(["java", "-Xmx256m", "-jar", str(jars[-1]), "--properties", str(props)],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint + "/", timeout=2)
            break
        except urllib.error.HTTPError:
            break   # it answers (403 without credentials)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"s3proxy did not start:\n{(basedir / 's3proxy.log').read_text()[-2000:]}")
            time.sleep(0.3)
    return proc, endpoint


@pytest.fixture(scope="session")
def s3proxy(tmp_path_factory, synth_export):
    """s3proxy with the bucket `artifacts`, for the session. Yields the endpoint URL."""
    d = tmp_path_factory.mktemp("s3")
    (d / "data" / "artifacts").mkdir(parents=True)
    proc, endpoint = start_s3proxy(d)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=30)
