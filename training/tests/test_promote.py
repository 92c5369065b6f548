"""Promotion into the committed bundle's place only when a bundle beats it in the same protocol."""
import json
import shutil

import pytest

from cardiotrain.promote import figure, main


@pytest.fixture(scope="module")
def two_bundles(tmp_path_factory, synth_export, golden_export):
    """Two real tiny trainings on the same folds, with other model seeds."""
    from cardiotrain.config import load_config
    from cardiotrain.train import run
    out = {}
    for seed in (1, 2):
        d = tmp_path_factory.mktemp(f"b{seed}")
        run(load_config(["preset=tiny", f"data.dir={synth_export}", f"golden.dir={golden_export}", f"out={d}",
                         f"seed={seed}", "cv.fold_seed=42"]))
        out[seed] = d
    return out


def _f1(d):
    return figure(json.loads((d / "manifest.json").read_text()))[1]


def test_only_a_better_bundle_replaces_the_current_one(two_bundles, tmp_path, capsys):
    into = tmp_path / "models"
    assert main([str(two_bundles[1]), "--into", str(into)]) == 0            # nothing there yet
    first = (into / "manifest.json").read_bytes()
    better = _f1(two_bundles[2]) > _f1(two_bundles[1])
    assert main([str(two_bundles[2]), "--into", str(into)]) == (0 if better else 1)
    now = json.loads((into / "manifest.json").read_text())["model_version"]
    winner = two_bundles[2] if better else two_bundles[1]
    assert now == json.loads((winner / "manifest.json").read_text())["model_version"]
    assert (into / "manifest.json").read_bytes() != first if better else (into / "manifest.json").read_bytes() == first
    said = capsys.readouterr()
    assert "shipped-protocol stack F1" in said.out + said.err


def test_a_bundle_of_another_protocol_is_refused(two_bundles, tmp_path, capsys):
    into = tmp_path / "models"
    shutil.copytree(two_bundles[1], into)
    other = tmp_path / "other"
    shutil.copytree(two_bundles[2], other)
    m = json.loads((other / "manifest.json").read_text())
    m["cv"]["outer_folds"] = 10   # as if cross-validated on other folds
    (other / "manifest.json").write_text(json.dumps(m))
    assert main([str(other), "--into", str(into)]) == 1
    assert "not the same protocol" in capsys.readouterr().err
    assert json.loads((into / "manifest.json").read_text())["cv"]["outer_folds"] == 2


def test_training_refuses_to_write_into_the_committed_bundle(synth_export):
    from cardiotrain.config import load_config
    from cardiotrain.train import run
    with pytest.raises(SystemExit, match="promote"):
        run(load_config(["preset=tiny", f"data.dir={synth_export}", "out=../models"]))
