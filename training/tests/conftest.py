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
