"""Reads a Java export-dataset directory. Python never recomputes features: it only loads these arrays."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Export:
    dir: Path
    meta: dict
    ids: np.ndarray        # (N,) recording/patient id (int64 when numeric, else str)
    time: np.ndarray       # (N,) int64
    x: np.ndarray          # (N,) raw RR, float64
    y: np.ndarray          # (N,) int8, -1 = unlabelled
    artifact: np.ndarray   # (N,) float64 (0/1)
    features: np.ndarray   # (N, F) float64
    windows: np.ndarray    # (N, 2, W) float32

    @property
    def n(self) -> int:
        return len(self.y)


def _as_ids(col: list[str]) -> np.ndarray:
    try:
        return np.array([int(v) for v in col], dtype=np.int64)
    except ValueError:
        return np.array(col, dtype=object)


def load_export(d: str | Path, mmap: bool = False) -> Export:
    d = Path(d)
    for f in ("beats.csv", "features.npy", "windows.npy", "meta.json"):
        if not (d / f).exists():
            raise FileNotFoundError(f"export dir {d} lacks {f} (run bin/cardiospike export-dataset)")
    meta = json.loads((d / "meta.json").read_text())
    with open(d / "beats.csv", newline="") as fh:
        rd = csv.reader(fh)
        header = next(rd)
        cols = {h: i for i, h in enumerate(header)}
        for need in ("id", "time", "x", "y", "artifact"):
            if need not in cols:
                raise ValueError(f"{d}/beats.csv lacks column {need!r} (has {header})")
        rows = list(rd)
    ids = _as_ids([r[cols["id"]] for r in rows])
    time = np.array([int(float(r[cols["time"]])) for r in rows], dtype=np.int64)
    x = np.array([float(r[cols["x"]]) for r in rows], dtype=np.float64)
    y = np.array([int(float(r[cols["y"]])) if r[cols["y"]] != "" else -1 for r in rows], dtype=np.int8)
    art = np.array([float(r[cols["artifact"]]) for r in rows], dtype=np.float64)
    mode = "r" if mmap else None
    feats = np.load(d / "features.npy", mmap_mode=mode)
    wins = np.load(d / "windows.npy", mmap_mode=mode)
    n = len(rows)
    w = int(meta["window"])
    if feats.shape != (n, len(meta["feature_names"])):
        raise ValueError(f"features.npy shape {feats.shape} != ({n}, {len(meta['feature_names'])})")
    if wins.shape != (n, int(meta["channels"]), w):
        raise ValueError(f"windows.npy shape {wins.shape} != ({n}, {meta['channels']}, {w})")
    if w != int(meta["past_beats"]) + 1 + int(meta["lookahead_beats"]):
        raise ValueError("meta.window != past_beats + 1 + lookahead_beats")
    if int(meta.get("rows", n)) != n:
        raise ValueError(f"meta.rows={meta.get('rows')} but beats.csv has {n} rows")
    if feats.dtype != np.float64 or wins.dtype != np.float32:
        raise ValueError(f"unexpected dtypes features={feats.dtype} windows={wins.dtype}")
    return Export(d, meta, ids, time, x, y, art, np.asarray(feats), np.asarray(wins))


def recordings(ids: np.ndarray) -> list[tuple[object, int, int]]:
    """Contiguous runs of the same id: [(id, start, stop)] in file order."""
    out = []
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            out.append((ids[start].item() if hasattr(ids[start], "item") else ids[start], start, i))
            start = i
    return out
