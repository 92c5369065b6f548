"""The bundle's out-of-fold predictions (oof.npz): what they hold (and do not), and that they line up with the
training CSV's beats as Java exports them."""
import json
import shutil

import numpy as np

from cardiotrain import oof
from cardiotrain.bundle import MODEL_FILES
from cardiotrain.data import load_export
from cardiotrain.metrics import prf
from cardiotrain.promote import sha256_file
from conftest import REPO, _launch


def test_a_bundle_carries_its_predictions_and_no_data(tiny_bundle, synth_export):
    out = tiny_bundle["out"]
    m = json.loads((out / "manifest.json").read_text())
    assert m[oof.SHA256] == sha256_file(out / oof.FILE) and oof.FILE not in m["files"]   # Java loads the bundle without it
    with np.load(out / oof.FILE) as z:
        assert sorted(z.files) == ["fold", "labels_sha256", "patient", "proba", "protocol", "training_data_sha256"]
    o = oof.load(out / oof.FILE)
    ex = load_export(synth_export)
    assert np.array_equal(o.patient, ex.ids.astype(str)) and o.labels_sha256 == oof.labels_digest(ex.y)
    assert o.training_data_sha256 == m["training_data"]["sha256"] and o.protocol == oof.SHIPPED
    assert set(np.unique(o.fold)) == {0, 1} and np.all((o.proba > 0) & (o.proba < 1))
    # the predictions the shipped-protocol figure was computed from, at the bundle's threshold
    f1 = prf(ex.y, o.proba >= m["threshold"])["f1"]
    assert abs(f1 - m["cv"]["refit_check"]["stack"]["pooled"]["f1"]) < 1e-12


def test_rebuilt_from_a_runs_raw_scores_they_are_the_same(tiny_bundle, tmp_path, capsys):
    copy = shutil.copytree(tiny_bundle["out"], tmp_path / "bundle")
    (copy / oof.FILE).unlink()
    m = json.loads((copy / "manifest.json").read_text())
    del m[oof.SHA256]
    (copy / "manifest.json").write_text(json.dumps(m))
    assert oof.main([str(copy), str(tiny_bundle["oof"])]) == 0
    assert "manifest names it" in capsys.readouterr().out
    a, b = oof.load(tiny_bundle["out"] / oof.FILE), oof.load(copy / oof.FILE)
    assert np.array_equal(a.patient, b.patient) and np.array_equal(a.fold, b.fold) and a.protocol == b.protocol
    np.testing.assert_allclose(b.proba, a.proba, rtol=0, atol=1e-12)
    again = json.loads((copy / "manifest.json").read_text())
    assert again[oof.SHA256] == sha256_file(copy / oof.FILE)
    assert again["model_version"] == m["model_version"] and again["threshold"] == m["threshold"]


def test_the_training_csv_is_read_in_the_exports_order(tmp_path):
    """Patients interleaved, times out of order: Python's reading gives the labels in Java's export order."""
    rng = np.random.default_rng(5)
    rows = [(f"p{i}", float(t), float(rng.integers(600, 1000)), int(rng.random() < 0.3))
            for i in range(3) for t in range(0, 40_000, 800)]
    rows += [("p1", 801.0, 700.0, 1)]                       # a beat at a time of its own, late in the file
    order = rng.permutation(len(rows))
    csv = tmp_path / "mixed.csv"
    csv.write_text("id,time,x,y\n" + "".join(f"{rows[i][0]},{rows[i][1]:g},{rows[i][2]:g},{rows[i][3]}\n"
                                              for i in order))
    _launch("export-dataset", "--input", str(csv), "--output", str(tmp_path / "export"))
    ex = load_export(tmp_path / "export")
    patient, y = oof.training_labels(csv)
    assert np.array_equal(patient, ex.ids.astype(str)) and np.array_equal(y, ex.y)
    assert len(set(patient[:50])) == 1 != len(set(patient))


def test_the_committed_bundle_names_its_predictions_and_the_repository_holds_none():
    """models/ names the sha256 of its oof.npz (rebuilt from a rerun of its training; docs/models.md), but no
    oof.npz is committed anywhere: they derive from the training data. The model files are all listed."""
    import subprocess
    models = REPO / "models"
    m = json.loads((models / "manifest.json").read_text())
    assert len(m[oof.SHA256]) == 64 and oof.FILE not in m["files"]
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert tracked.strip() and not [f for f in tracked.splitlines() if f.endswith(".npz")]
    assert subprocess.run(["git", "check-ignore", "-q", "models/" + oof.FILE], cwd=REPO).returncode == 0
    assert all(m["files"][f] == sha256_file(models / f) for f in MODEL_FILES)
