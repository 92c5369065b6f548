"""Promotion into the committed bundle's place only on evidence: a paired gain over the current bundle, on the same
beats out of fold, whose bootstrap interval over patients lies above zero (or a reason, recorded)."""
import json
import shutil

import numpy as np
import pytest

from cardiotrain import oof
from cardiotrain.promote import decide, evidence, figure, main, paired_gain, sha256_file


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


@pytest.fixture(scope="module")
def train_csv(synth_export):
    return synth_export.parent / "s.csv"   # what conftest exported: the bundles' training data


def _manifest(d):
    return json.loads((d / "manifest.json").read_text())


def _hand_made(source, dest, y, proba, version):
    """A copy of a real bundle whose out-of-fold predictions of the beats labelled `y` are `proba` (threshold 0.5),
    named in its manifest."""
    shutil.copytree(source, dest)
    o = oof.load(source / oof.FILE)
    oof.write(dest / oof.FILE, o.patient, o.fold, proba, o.protocol, o.training_data_sha256, y)
    m = _manifest(dest)
    m.update(model_version=version, threshold=0.5)
    m[oof.SHA256] = sha256_file(dest / oof.FILE)
    (dest / "manifest.json").write_text(json.dumps(m, indent=2))
    return dest


def _flip(y, share, seed):
    """Labels as probabilities (0.9 / 0.1), with `share` of the beats of every patient wrong."""
    wrong = np.random.default_rng(seed).random(len(y)) < share
    return np.where(wrong ^ (y == 1), 0.9, 0.1)


def test_the_bootstrap_over_patients_tells_a_gain_from_noise():
    rng = np.random.default_rng(7)
    patient = np.repeat([f"p{i}" for i in range(30)], 200)
    y = rng.random(len(patient)) < 0.25
    old = np.where(rng.random(len(y)) < 0.15, ~y, y)
    clear = np.where(rng.random(len(y)) < 0.03, ~y, y)            # far fewer errors in every patient
    res = paired_gain(y, patient, clear, old)
    assert res["patients"] == 30 and res["beats"] == 6000 and res["resamples"] == 2000
    assert res["gain"] == pytest.approx(res["f1_new"] - res["f1_old"]) and res["gain"] > 0.1
    assert 0 < res["ci"][0] < res["gain"] < res["ci"][1]
    assert decide(res, None)[0] and not decide({**res, "ci": [-x for x in res["ci"][::-1]]}, "faster")[0]
    noise = old.copy()
    mine = np.flatnonzero(patient == "p3")
    noise[mine] = y[mine]                                          # one patient fixed, one patient spoilt
    theirs = np.flatnonzero(patient == "p4")
    noise[theirs[:60]] = ~y[theirs[:60]]
    res = paired_gain(y, patient, noise, old)
    assert res["ci"][0] < 0 < res["ci"][1]
    assert not decide(res, None)[0] and "--reason" in decide(res, None)[1]
    assert decide(res, "2x faster, accuracy equal")[0]
    assert paired_gain(y, patient, noise, old) == res             # fixed seed
    same = paired_gain(y, patient, old, old)
    assert same["gain"] == 0 and same["ci"] == [0.0, 0.0] and not decide(same, None)[0]


def test_a_clear_gain_is_promoted_and_recorded(two_bundles, train_csv, tmp_path, capsys):
    _, y = oof.training_labels(train_csv)
    into = _hand_made(two_bundles[1], tmp_path / "models", y, _flip(y, 0.3, 1), "cs-test-current")
    cand = _hand_made(two_bundles[1], tmp_path / "cand", y, _flip(y, 0.0, 2), "cs-test-candidate")
    assert main([str(cand), "--into", str(into), "--input", str(train_csv)]) == 0
    out = capsys.readouterr().out
    assert "candidate cs-test-candidate: shipped-protocol stack F1 1.0000" in out
    assert "patients: 2000 resamples" in out and "above zero" in out
    # evaluate of both bundles, one after the other, with headers that say the figures are in-sample
    assert out.count("== bin/cardiospike evaluate --input s.csv") == 2 and out.count("in-sample") == 2
    assert out.count("episodes") >= 2
    m = _manifest(into)
    assert m["model_version"] == "cs-test-candidate" and m[oof.SHA256] == sha256_file(into / oof.FILE)
    p = m["promotion"]
    assert p["against"] == "cs-test-current" and p["reason"] is None and p["patients"] == 12
    assert p["ci"][0] > 0 and p["gain"] > 0 and p["date"].startswith("20")


def test_a_noise_level_gain_needs_a_reason(two_bundles, train_csv, tmp_path, capsys):
    patient, y = oof.training_labels(train_csv)
    current = _flip(y, 0.2, 3)
    better = current.copy()
    first = np.flatnonzero(patient == patient[0])
    better[first] = np.where(y[first] == 1, 0.9, 0.1)   # one patient's beats all right, another's a little worse
    last = np.flatnonzero(patient == patient[-1])[:20]
    better[last] = np.where(y[last] == 1, 0.1, 0.9)
    into = _hand_made(two_bundles[1], tmp_path / "models", y, current, "cs-test-current")
    cand = _hand_made(two_bundles[1], tmp_path / "cand", y, better, "cs-test-candidate")
    before = (into / "manifest.json").read_bytes()
    assert main([str(cand), "--into", str(into), "--input", str(train_csv)]) == 1
    said = capsys.readouterr()
    assert "includes zero" in said.err and "--reason TEXT" in said.err and "paired gain" in said.out
    assert (into / "manifest.json").read_bytes() == before
    reason = "2x faster, accuracy equal"
    assert main([str(cand), "--into", str(into), "--input", str(train_csv), "--reason", reason]) == 0
    p = _manifest(into)["promotion"]
    assert p["reason"] == reason and p["against"] == "cs-test-current"
    assert p["ci"][0] < 0 < p["ci"][1] and p["patients"] == 12


def test_trained_bundles_are_compared_on_their_own_predictions(two_bundles, train_csv, tmp_path, capsys):
    into = tmp_path / "models"
    assert main([str(two_bundles[1]), "--into", str(into)]) == 0            # nothing there yet: no evidence needed
    assert "promotion" not in _manifest(into)
    first = (into / "manifest.json").read_bytes()
    res = evidence(two_bundles[2], _manifest(two_bundles[2]), into, _manifest(into), train_csv)
    # the predictions each bundle carries give back the figure its training reported
    assert res["f1_new"] == pytest.approx(figure(_manifest(two_bundles[2]))[1], abs=1e-12)
    assert res["f1_old"] == pytest.approx(figure(_manifest(two_bundles[1]))[1], abs=1e-12)
    accepted = decide(res, None)[0]
    assert main([str(two_bundles[2]), "--into", str(into), "--input", str(train_csv)]) == (0 if accepted else 1)
    said = capsys.readouterr()
    assert "shipped-protocol stack F1" in said.out and "report.md says" not in said.out
    winner = two_bundles[2] if accepted else two_bundles[1]
    assert _manifest(into)["model_version"] == _manifest(winner)["model_version"]
    assert accepted or (into / "manifest.json").read_bytes() == first


def test_a_bundle_without_out_of_fold_predictions_is_refused(two_bundles, train_csv, tmp_path, capsys):
    into = shutil.copytree(two_bundles[1], tmp_path / "models")
    old = shutil.copytree(two_bundles[2], tmp_path / "old")
    (old / oof.FILE).unlink()
    m = _manifest(old)
    del m[oof.SHA256]
    (old / "manifest.json").write_text(json.dumps(m))
    assert main([str(old), "--into", str(into), "--input", str(train_csv)]) == 1
    err = capsys.readouterr().err
    assert "no out-of-fold predictions (oof.npz)" in err and "retrain it with bin/cardiospike train" in err
    assert _manifest(into)["model_version"] == _manifest(two_bundles[1])["model_version"]


def test_the_training_data_is_required_and_checked(two_bundles, train_csv, golden_export, tmp_path, capsys):
    into = shutil.copytree(two_bundles[1], tmp_path / "models")
    assert main([str(two_bundles[2]), "--into", str(into)]) == 2
    assert "--input TRAIN.csv is required" in capsys.readouterr().err
    changed = tmp_path / "s.csv"
    lines = train_csv.read_text().splitlines()
    changed.write_text("\n".join(lines[:-1]) + "\n")                  # one beat fewer
    for wrong in (changed, golden_export.parent / "g.csv"):
        assert main([str(two_bundles[2]), "--into", str(into), "--input", str(wrong)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is not the data both bundles were trained on" in err
    assert _manifest(into)["model_version"] == _manifest(two_bundles[1])["model_version"]


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


def test_a_current_bundle_whose_predictions_are_not_here_names_how_to_rebuild_them(two_bundles, train_csv, tmp_path,
                                                                                   capsys):
    """A clone's models/: its manifest names oof.npz, the repository does not carry it."""
    into = shutil.copytree(two_bundles[1], tmp_path / "models")
    (into / oof.FILE).unlink()
    assert main([str(two_bundles[2]), "--into", str(into), "--input", str(train_csv)]) == 2
    err = capsys.readouterr().err
    assert f"{into / oof.FILE} is not here" in err and f"python -m cardiotrain.oof {into} RAW.npz" in err
    assert not (into / oof.FILE).exists() and _manifest(into)["model_version"] == _manifest(two_bundles[1])["model_version"]
