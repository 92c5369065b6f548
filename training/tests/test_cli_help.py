"""The Python commands' --help runs on the system python3 without the venv: their parsers need only the standard
library, and every option says its default (or that it is required)."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from conftest import TRAINING

HEAVY = ("numpy", "omegaconf", "optuna", "torch", "lightgbm", "sklearn", "onnx", "onnxruntime", "psycopg2")


def test_the_parsers_modules_import_nothing_beyond_the_standard_library():
    # A fresh interpreter (this one has imported them already); the venv's python, where every one is installed.
    code = ("import sys, cardiotrain.search, cardiotrain.promote; "
            f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    r = subprocess.run([sys.executable, "-c", code], cwd=TRAINING, capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    from cardiotrain import promote, search
    return [(f"search {sub}", search.parser(sub)) for sub in search.SUBCOMMANDS] + [("promote", promote.parser())]


@pytest.mark.parametrize("name,parser", parsers(), ids=lambda p: p if isinstance(p, str) else "")
def test_every_option_says_its_default(name, parser):
    options = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    assert options
    for a in options:
        text = parser._get_formatter()._expand_help(a)
        assert "default" in text or "required" in text, f"{name} {a.option_strings or a.dest}: {text}"
        if "%(default)" in (a.help or ""):
            assert str(a.default) in text


def test_search_help_on_the_system_python_without_the_venv():
    r = subprocess.run(["python3", "-m", "cardiotrain.search", "--help"], cwd=TRAINING, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "--dashboard-port PORT" in r.stdout and "(default: 8085)" in r.stdout
