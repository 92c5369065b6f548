"""Promotion: the committed bundle (models/) is replaced only by a bundle that beats it in the same protocol.

    bin/cardiospike promote BUNDLE_DIR [--into DIR]      # DIR defaults to the committed models/

Same protocol: the same training data (sha256), the same outer and inner folds (count and seed), the same patients
kept out of fitting, and the shipped-protocol check on or off in both. The figure is the stack's pooled
out-of-fold F1 over every patient: in the shipped protocol (single refits, `cv.refit_check`) when both bundles
have it, else the inner models' means. Only a strictly higher figure promotes; the answer names both figures.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .paths import REPO

BUNDLE_FILES = ("cardionet.onnx", "lightgbm.txt", "stacker.json", "manifest.json", "report.md", "pr_curve.png",
                "golden.json")


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


def decide(candidate: Path, current: Path) -> tuple[bool, str]:
    new = json.loads((candidate / "manifest.json").read_text())
    if not (current / "manifest.json").is_file():
        return True, f"{new['model_version']}: no bundle in {current} yet"
    old = json.loads((current / "manifest.json").read_text())
    p_new, p_old = protocol(new), protocol(old)
    differ = [k for k in p_new if p_new[k] != p_old[k]]
    if differ:
        return False, ("not the same protocol, so not comparable: " +
                       "; ".join(f"{k} {p_new[k]} against {p_old[k]}" for k in differ))
    name, f_new = figure(new)
    _, f_old = figure(old)
    line = (f"{name}: {new['model_version']} {f_new:.4f} (lookahead {new['lookahead_beats']}) against "
            f"{old['model_version']} {f_old:.4f} (lookahead {old['lookahead_beats']})")
    return f_new > f_old, line


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="cardiospike promote", description="Replace the committed bundle (models/) "
                                 "with BUNDLE only if BUNDLE beats it in the same protocol; the answer names both "
                                 "figures (exit 1: not promoted).")
    ap.add_argument("bundle", type=Path, metavar="BUNDLE", help="a bundle directory written by bin/cardiospike train "
                    "(required)")
    ap.add_argument("--into", type=Path, default=REPO / "models", metavar="DIR",
                    help="the bundle to replace (default: models/ of this clone)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    missing = [f for f in BUNDLE_FILES if not (args.bundle / f).is_file()]
    if missing:
        print(f"{args.bundle} is not a complete bundle: {', '.join(missing)} missing", file=sys.stderr)
        return 2
    ok, why = decide(args.bundle, args.into)
    if not ok:
        print(f"not promoted: {why}", file=sys.stderr)
        return 1
    old_version = (json.loads((args.into / "manifest.json").read_text())["model_version"]
                   if (args.into / "manifest.json").is_file() else None)
    args.into.mkdir(parents=True, exist_ok=True)
    for f in BUNDLE_FILES:
        shutil.copy2(args.bundle / f, args.into / f)
    print(f"promoted into {args.into}: {why}")
    if args.into.resolve() == (REPO / "models").resolve() and old_version:
        pin_deployment(old_version, json.loads((args.into / "manifest.json").read_text())["model_version"])
    return 0


def pin_deployment(old: str, new: str) -> None:
    """The production FlinkDeployment runs the committed bundle by version (ProductionFilesTest checks it)."""
    path = REPO / "k8s" / "flinkdeployment.yaml"
    if path.is_file() and old in (text := path.read_text()):
        path.write_text(text.replace(old, new))
        print(f"{path.relative_to(REPO)}: model {old} -> {new}")


if __name__ == "__main__":
    sys.exit(main())
