import subprocess
import sys

import pytest
from omegaconf.errors import ConfigKeyError

from conftest import TRAINING
from cardiotrain.config import load_config


def test_defaults_and_dotted_overrides():
    cfg = load_config(["data.dir=/d", "cnn.epochs=7", "lgbm.num_leaves=15", "seed=5", "cv.outer_folds=4"])
    assert cfg.data.dir == "/d" and cfg.cnn.epochs == 7 and cfg.lgbm.num_leaves == 15
    assert cfg.seed == 5 and cfg.cv.outer_folds == 4 and cfg.cv.inner_folds == 3
    assert cfg.threads <= 2


def test_preset_then_cli_precedence():
    cfg = load_config(["preset=quick", "cnn.epochs=9"])
    assert cfg.preset == "quick" and cfg.cv.outer_folds == 3   # from quick.yaml
    assert cfg.cnn.epochs == 9                                 # CLI beats preset


def test_unknown_key_rejected():
    with pytest.raises(ConfigKeyError):
        load_config(["cnn.epoch=3"])


def test_cfg_flag_prints_resolved_config():
    r = subprocess.run([sys.executable, "-m", "cardiotrain.train", "--cfg", "data.dir=/some/export",
                        "cnn.gru_hidden=24", "preset=tiny"], cwd=TRAINING, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "dir: /some/export" in r.stdout and "gru_hidden: 24" in r.stdout and "outer_folds: 2" in r.stdout


def test_missing_data_dir_fails():
    r = subprocess.run([sys.executable, "-m", "cardiotrain.train"], cwd=TRAINING, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "data.dir" in r.stderr
