"""Where things are: standard library only, so that the command-line parsers (and their --help) need no venv."""
from __future__ import annotations

import hashlib
from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent.parent
REPO = TRAINING_DIR.parent


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
