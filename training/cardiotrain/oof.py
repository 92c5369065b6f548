"""The bundle's out-of-fold predictions (`oof.npz`): what `promote` compares two bundles on, beat for beat.

One row per training beat, in the export's order (recordings in order of first appearance in the training CSV, each
recording's beats in time order, as `bin/cardiospike export-dataset` writes them):
  patient    the beat's patient id (str)
  fold       its outer fold (-1: not evaluated, e.g. cv.max_outer)
  proba      the stack's honest out-of-fold probability in the protocol the bundle's threshold was fit on: the
             shipped protocol (single refits, `cv.refit_check`), else the inner models' means
and as 0-d strings: `protocol` (which of the two), `training_data_sha256`, `labels_sha256` (a digest of the labels
in this order, so a reader that rebuilds them from the training CSV knows its rows line up). No RR value, time or
label is stored: the training data stays outside the repository, and `promote --input TRAIN.csv` supplies the labels.
Derived from the training data all the same, so the repository never holds one (`.gitignore`): the manifest names
its sha256 (`oof_sha256`), not among the `files` every copy of the bundle must have.
"""
from __future__ import annotations

import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "oof.npz"
SHA256 = "oof_sha256"   # its manifest key
SHIPPED = "shipped protocol (refit check)"
INNER_MEANS = "inner models' means"


@dataclass
class Oof:
    patient: np.ndarray   # (N,) str
    fold: np.ndarray      # (N,) int
    proba: np.ndarray     # (N,) float64
    protocol: str
    training_data_sha256: str
    labels_sha256: str


def labels_digest(y: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(y, dtype=np.int8).tobytes()).hexdigest()


def write(path: Path, patient, fold, proba, protocol: str, training_data_sha256: str, y) -> None:
    np.savez_compressed(path, patient=np.asarray([str(p) for p in patient]),
                        fold=np.asarray(fold, dtype=np.int8), proba=np.asarray(proba, dtype=np.float64),
                        protocol=np.asarray(protocol), training_data_sha256=np.asarray(str(training_data_sha256)),
                        labels_sha256=np.asarray(labels_digest(y)))


def load(path: Path) -> Oof:
    with np.load(path, allow_pickle=False) as z:
        return Oof(z["patient"], z["fold"].astype(np.int64), z["proba"], str(z["protocol"]),
                   str(z["training_data_sha256"]), str(z["labels_sha256"]))


def training_labels(csv_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(patient, y) of a labelled training CSV in the export's order: recordings in order of first appearance, each
    one's rows stably sorted by time (io.cardiospike.rr.RrCsv). Raises ValueError on a CSV it cannot read."""
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh)
        header = [h.strip().strip('"').strip().lower() for h in next(rows, [])]
        missing = [c for c in ("id", "time", "y") if c not in header]
        if missing:
            raise ValueError(f"{csv_path}: header lacks {', '.join(missing)} (expected id,time,x,y)")
        i_id, i_time, i_y = header.index("id"), header.index("time"), header.index("y")
        beats: dict[str, list[tuple[float, int, int]]] = {}
        for n, r in enumerate(rows):
            if not r or all(not v.strip() for v in r):
                continue
            f = [v.strip().strip('"').strip() for v in r]
            try:
                beats.setdefault(f[i_id], []).append((float(f[i_time]), n, int(float(f[i_y]))))
            except (ValueError, IndexError):
                raise ValueError(f"{csv_path}:{n + 2}: not a labelled beat (id,time,x,y)") from None
    patient, y = [], []
    for pid, rec in beats.items():
        rec.sort(key=lambda b: (b[0], b[1]))
        patient += [pid] * len(rec)
        y += [b[2] for b in rec]
    return np.asarray(patient), np.asarray(y, dtype=np.int8)


def from_raw_scores(raw_npz: Path, manifest: dict) -> dict:
    """The bundle's OOF predictions rebuilt from a training run's raw scores (`cv.oof_out=FILE.npz`, which holds the
    labels and stays outside the repository): stacked honestly as training does, with the manifest's stacker inputs,
    C and patients never fit on. Returns write()'s arguments."""
    from .stack import honest_stack
    cfg = manifest["config"]
    z = np.load(raw_npz, allow_pickle=True)
    shipped = "refit_lgbm" in z.files
    lgbm, cnn = (z["refit_lgbm"], z["refit_cnn"]) if shipped else (z["lgbm"], z["cnn"])
    cols = [lgbm, cnn] + ([z["artifact"]] if cfg["stack"]["use_artifact"] else [])
    Z = np.column_stack(cols).astype(np.float64)
    y, fold_of, ids = z["y"], z["fold_of"], z["ids"]
    excluded = sorted(str(v) for v in (cfg["data"].get("train_exclude") or []))
    fit = (y >= 0) & ~np.isin(ids.astype(str), excluded)
    ev = fold_of >= 0
    proba = np.full(len(y), np.nan)
    proba[ev] = honest_stack(Z[ev], y[ev], fold_of[ev], float(cfg["stack"]["C"]), (ev & fit)[ev])
    return {"patient": ids, "fold": fold_of, "proba": proba, "protocol": SHIPPED if shipped else INNER_MEANS,
            "training_data_sha256": manifest["training_data"]["sha256"], "y": y}


def main(argv: list[str] | None = None) -> int:
    """python -m cardiotrain.oof BUNDLE RAW.npz: give BUNDLE (e.g. one trained before bundles carried oof.npz) its
    out-of-fold predictions from a training run of the same config on the same data (`cv.oof_out=RAW.npz`), and
    name them in its manifest (`oof_sha256`). The model files and model_version stay as they are."""
    import argparse
    import json

    from .metrics import prf
    from .promote import sha256_file
    ap = argparse.ArgumentParser(prog="python -m cardiotrain.oof", description=main.__doc__)
    ap.add_argument("bundle", type=Path, help="the bundle directory (required)")
    ap.add_argument("raw", type=Path, help="the raw scores a training run saved with cv.oof_out=FILE (required)")
    args = ap.parse_args(argv)
    mf = args.bundle / "manifest.json"
    manifest = json.loads(mf.read_text())
    rebuilt = from_raw_scores(args.raw, manifest)
    if len(rebuilt["y"]) != int(manifest["training_data"]["rows"]):
        print(f"{args.raw}: {len(rebuilt['y'])} beats, but {args.bundle} was trained on "
              f"{manifest['training_data']['rows']}", file=sys.stderr)
        return 2
    write(args.bundle / FILE, **rebuilt)
    manifest[SHA256] = sha256_file(args.bundle / FILE)
    mf.write_text(json.dumps(manifest, indent=2) + "\n")
    ev = (rebuilt["fold"] >= 0) & (rebuilt["y"] >= 0)
    f1 = prf(rebuilt["y"][ev], rebuilt["proba"][ev] >= float(manifest["threshold"]))["f1"]
    print(f"{args.bundle / FILE}: {int(ev.sum())} beats out of fold ({rebuilt['protocol']}), stack F1 {f1:.4f} at the "
          f"bundle's threshold {float(manifest['threshold']):.4f}; {manifest['model_version']}'s manifest names it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
