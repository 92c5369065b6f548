"""Where things are: standard library only, so that the command-line parsers (and their --help) need no venv."""
from __future__ import annotations

from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent.parent
REPO = TRAINING_DIR.parent
