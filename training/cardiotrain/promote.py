"""Promotion by evidence: the committed bundle (models/) is replaced only by a bundle that beats it, on the same beats,
by more than the patients' spread.

    bin/cardiospike promote BUNDLE_DIR --input TRAIN.csv [--reason TEXT] [--into DIR]   # DIR: models/ by default

Same protocol: the same training data (sha256), the same outer and inner folds (count and seed), the same patients
kept out of fitting, and the shipped-protocol check on or off in both. Each bundle carries its stack's out-of-fold
probability per training beat (oof.npz; in the shipped protocol, single refits, when `cv.refit_check` ran); the
labels come from TRAIN.csv. The gain is the candidate's pooled F1 minus the current one's, each at its own
threshold, on the same beats; its 95 % confidence interval comes from a bootstrap over patients (patients drawn
with replacement, all their beats with them). An interval above zero promotes; one that includes zero promotes
only with --reason TEXT (recorded in the manifest); one below zero never does. `bin/cardiospike evaluate` on
TRAIN.csv is printed for both bundles: in-sample figures, for beats and episodes.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

from .paths import REPO, sha256_file

BUNDLE_FILES = ("cardionet.onnx", "lightgbm.txt", "stacker.json", "manifest.json", "report.md", "pr_curve.png",
                "golden.json")
OOF_FILE = "oof.npz"      # cardiotrain.oof.FILE (that module needs numpy; --help must not)
OOF_SHA256 = "oof_sha256"  # cardiotrain.oof.SHA256
RESAMPLES = 2000
SEED = 0
LAUNCHER = REPO / "bin" / "cardiospike"


class Refused(Exception):
    """Not promoted; `code` is the exit status (1: the evidence or the bundles say no, 2: the input is wrong)."""
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def protocol(manifest: dict) -> dict:
    c = manifest.get("config", {})
    cv = c.get("cv", {})
    seed = c.get("seed")
    return {"training data sha256": manifest["training_data"]["sha256"],
            "outer folds": manifest["cv"]["outer_folds"], "inner folds": manifest["cv"]["inner_folds"],
            "fold seed": seed if cv.get("fold_seed") is None else cv["fold_seed"],
            "patients never fit on": sorted(str(p) for p in (c.get("data", {}).get("train_exclude") or [])),
            "shipped-protocol check": "refit_check" in manifest["cv"]}


def figure(manifest: dict) -> tuple[str, float]:
    cv = manifest["cv"]
    if "refit_check" in cv:
        return "shipped-protocol stack F1", float(cv["refit_check"]["stack"]["pooled"]["f1"])
    return "stack F1 (inner models' means)", float(cv["stack"]["pooled"]["f1"])


def paired_gain(y, patient, new_flag, old_flag, resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """Pooled F1 of two sets of decisions on the same labelled beats, and the gain new - old with a 95 % percentile
    interval from a bootstrap over patients: each resample draws as many patients as there are, with replacement,
    and pools their beats' counts (a patient drawn twice counts twice)."""
    import numpy as np
    y = np.asarray(y).astype(bool)
    _, p = np.unique(np.asarray(patient), return_inverse=True)
    n_pat = int(p.max()) + 1

    def counts(flag):
        flag = np.asarray(flag).astype(bool)
        return np.stack([np.bincount(p, weights=(y & flag), minlength=n_pat),
                         np.bincount(p, weights=(~y & flag), minlength=n_pat),
                         np.bincount(p, weights=(y & ~flag), minlength=n_pat)])   # tp, fp, fn per patient

    def f1(c):   # c: (3, ...) pooled tp, fp, fn
        denom = 2 * c[0] + c[1] + c[2]
        return np.where(denom > 0, 2 * c[0] / np.maximum(denom, 1e-12), 0.0)

    new, old = counts(new_flag), counts(old_flag)
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n_pat, size=(resamples, n_pat))
    times = np.bincount((np.arange(resamples)[:, None] * n_pat + drawn).ravel(),
                        minlength=resamples * n_pat).reshape(resamples, n_pat).astype(np.float64)
    gains = f1(new @ times.T) - f1(old @ times.T)
    lo, hi = np.percentile(gains, [2.5, 97.5])
    f_new, f_old = float(f1(new.sum(axis=1))), float(f1(old.sum(axis=1)))
    return {"f1_new": f_new, "f1_old": f_old, "gain": f_new - f_old, "ci": [float(lo), float(hi)],
            "patients": n_pat, "beats": int(len(y)), "resamples": resamples, "seed": seed}


def read_oof(bundle: Path, manifest: dict):
    from . import oof
    path = bundle / OOF_FILE
    # bundles trained before 2026-12-04 (evening) listed it among their files
    named = manifest.get(OOF_SHA256) or manifest.get("files", {}).get(OOF_FILE)
    if named is None:
        raise Refused(f"{bundle} ({manifest['model_version']}) has no out-of-fold predictions ({OOF_FILE}), the "
                      "evidence promote compares: retrain it with bin/cardiospike train (every bundle it writes "
                      "carries them)")
    if not path.is_file():
        raise Refused(f"{path} is not here (a clone never has it: it derives from the training data); rebuild it "
                      f"with bin/cardiospike train --input TRAIN.csv --out DIR cv.oof_out=RAW.npz, then python -m "
                      f"cardiotrain.oof {bundle} RAW.npz (docs/models.md)", 2)
    if named != sha256_file(path):
        raise Refused(f"{path}: not the {OOF_FILE} its manifest names (mixed bundle?)", 2)
    return oof.load(path)


def evidence(candidate: Path, new: dict, current: Path, old: dict, input_csv: Path | None) -> dict:
    """The paired comparison of the two bundles' out-of-fold decisions; raises Refused."""
    import numpy as np
    from . import oof
    p_new, p_old = protocol(new), protocol(old)
    differ = [k for k in p_new if p_new[k] != p_old[k]]
    if differ:
        raise Refused("not the same protocol, so not comparable: " +
                      "; ".join(f"{k} {p_new[k]} against {p_old[k]}" for k in differ))
    o_new, o_old = read_oof(candidate, new), read_oof(current, old)
    sha = new["training_data"]["sha256"]
    if input_csv is None:
        raise Refused(f"--input TRAIN.csv is required: the labelled training data both bundles were cross-validated "
                      f"on ({new['training_data'].get('file')}, sha256 {sha[:16]}...)", 2)
    if not input_csv.is_file():
        raise Refused(f"--input {input_csv}: no such file", 2)
    if sha256_file(input_csv) != sha:
        raise Refused(f"--input {input_csv} is not the data both bundles were trained on (their manifests name "
                      f"{new['training_data'].get('file')}, sha256 {sha[:16]}...)", 2)
    try:
        patient, y = oof.training_labels(input_csv)
    except ValueError as e:
        raise Refused(str(e), 2) from None
    for d, o in ((candidate, o_new), (current, o_old)):
        if (len(o.patient) != len(y) or not np.array_equal(o.patient, patient)
                or o.labels_sha256 != oof.labels_digest(y)):
            raise Refused(f"{d / OOF_FILE} does not line up with the beats of {input_csv}", 2)
    if not np.array_equal(o_new.fold, o_old.fold) or o_new.protocol != o_old.protocol:
        raise Refused("not the same protocol, so not comparable: the out-of-fold predictions come from other folds "
                      f"or scores ({o_new.protocol} against {o_old.protocol})")
    ev = (o_new.fold >= 0) & (y >= 0) & np.isfinite(o_new.proba) & np.isfinite(o_old.proba)
    res = paired_gain(y[ev], patient[ev], o_new.proba[ev] >= float(new["threshold"]),
                      o_old.proba[ev] >= float(old["threshold"]))
    res["protocol"] = o_new.protocol
    return res


def evaluate_text(bundle: Path, input_csv: Path) -> tuple[bool, str]:
    """bin/cardiospike evaluate of one bundle on the training data: (ran, its summary or its error)."""
    r = subprocess.run([str(LAUNCHER), "evaluate", "--input", str(input_csv), "--model", str(bundle), "--worst", "5"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return False, (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
    return True, r.stdout.rstrip()


def print_evidence(res: dict, name: str, new: dict, old: dict, input_csv: Path) -> None:
    print(f"evidence on the same {res['beats']} beats of {res['patients']} patients ({input_csv.name}), out of fold "
          f"({res['protocol']}):")
    for who, m, f in (("candidate", new, res["f1_new"]), ("current  ", old, res["f1_old"])):
        stated = figure(m)[1]
        note = f"; report.md says {stated:.4f}: these predictions come from a rerun" if abs(stated - f) > 5e-5 else ""
        print(f"  {who} {m['model_version']}: {name} {f:.4f} (threshold {float(m['threshold']):.4f}, lookahead "
              f"{m['lookahead_beats']}{note})")
    lo, hi = res["ci"]
    print(f"  paired gain {res['gain']:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}] (bootstrap over the {res['patients']} "
          f"patients: {res['resamples']} resamples, seed {res['seed']})")


def decide(res: dict, reason: str | None) -> tuple[bool, str]:
    lo, hi = res["ci"]
    ci = f"gain {res['gain']:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}]"
    if lo > 0:
        return True, f"{ci}: above zero"
    if hi < 0:
        return False, f"{ci}: the candidate is worse"
    if reason:
        return True, f"{ci} includes zero; the reason given: {reason}"
    return False, (f"{ci} includes zero: the evidence cannot tell it from noise; to promote it anyway, say why with "
                   "--reason TEXT (e.g. \"2x faster, accuracy equal\"), recorded in the manifest")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="cardiospike promote",
        description="Replace the committed bundle (models/) with BUNDLE only if, on the same training beats out of "
                    "fold, its F1 gain has a 95% bootstrap confidence interval (over patients) above zero, or one "
                    "that includes zero and --reason is given; prints the evidence and bin/cardiospike evaluate of "
                    "both bundles (exit 1: not promoted, 2: wrong input).")
    ap.add_argument("bundle", type=Path, metavar="BUNDLE", help="a bundle directory written by bin/cardiospike train "
                    "(required)")
    ap.add_argument("--input", type=Path, metavar="TRAIN.csv",
                    help="the labelled training data (id,time,x,y) both bundles were trained on, checked against "
                         "their manifests' sha256 (required when DIR holds a bundle)")
    ap.add_argument("--reason", metavar="TEXT",
                    help="promote a gain whose interval includes zero, for this reason, recorded in the manifest "
                         "(e.g. \"2x faster, accuracy equal\") (default: none)")
    ap.add_argument("--into", type=Path, default=REPO / "models", metavar="DIR",
                    help="the bundle to replace (default: models/ of this clone)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    missing = [f for f in BUNDLE_FILES if not (args.bundle / f).is_file()]
    if missing:
        print(f"{args.bundle} is not a complete bundle: {', '.join(missing)} missing", file=sys.stderr)
        return 2
    new = json.loads((args.bundle / "manifest.json").read_text())
    promotion = None
    if not (args.into / "manifest.json").is_file():
        why = f"{new['model_version']}: no bundle in {args.into} yet"
        old_version = None
    else:
        old = json.loads((args.into / "manifest.json").read_text())
        old_version = old["model_version"]
        try:
            res = evidence(args.bundle, new, args.into, old, args.input)
        except Refused as e:
            print(f"not promoted: {e}", file=sys.stderr)
            return e.code
        print_evidence(res, figure(new)[0], new, old, args.input)
        ran = {}
        for who, d, m in (("candidate", args.bundle, new), ("current", args.into, old)):
            print(f"\n== bin/cardiospike evaluate --input {args.input.name}, {who} {m['model_version']} (in-sample: "
                  "the beats it was trained on, so better than on unseen patients) ==")
            ran[who], text = evaluate_text(d, args.input)
            print(text)
        print(flush=True)
        if not ran["candidate"]:
            print(f"not promoted: bin/cardiospike evaluate cannot score {args.bundle}", file=sys.stderr)
            return 1
        ok, why = decide(res, args.reason)
        if not ok:
            print(f"not promoted: {why}", file=sys.stderr)
            return 1
        promotion = {"reason": args.reason, "gain": res["gain"], "ci": res["ci"], "patients": res["patients"],
                     "beats": res["beats"], "f1": {"candidate": res["f1_new"], "current": res["f1_old"]},
                     "resamples": res["resamples"], "against": old_version,
                     "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()}
    args.into.mkdir(parents=True, exist_ok=True)
    for f in BUNDLE_FILES + (OOF_FILE,):
        if (args.bundle / f).is_file():
            shutil.copy2(args.bundle / f, args.into / f)
        else:
            (args.into / f).unlink(missing_ok=True)   # the old bundle's evidence is not the new one's
    if promotion is not None:
        new["promotion"] = promotion
        (args.into / "manifest.json").write_text(json.dumps(new, indent=2) + "\n")
    print(f"promoted into {args.into}: {why}")
    if args.into.resolve() == (REPO / "models").resolve() and old_version:
        pin_deployment(old_version, new["model_version"])
    return 0


def pin_deployment(old: str, new: str) -> None:
    """The production FlinkDeployment runs the committed bundle by version (ProductionFilesTest checks it)."""
    path = REPO / "k8s" / "flinkdeployment.yaml"
    if path.is_file() and old in (text := path.read_text()):
        path.write_text(text.replace(old, new))
        print(f"{path.relative_to(REPO)}: model {old} -> {new}")


if __name__ == "__main__":
    sys.exit(main())
