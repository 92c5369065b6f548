"""The whole-record tagger comparison (experiments/whole_record.py): the causal tagger must really be causal up
to its lookahead, or its figure in experiments.md would compare a model that peeks further than the stream can."""
from __future__ import annotations

import importlib.util

import numpy as np
import torch

from conftest import TRAINING

_spec = importlib.util.spec_from_file_location("whole_record", TRAINING / "experiments" / "whole_record.py")
wr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wr)


def _experiment(mode: str, n: int = 120, look: int = 8):
    rng = np.random.default_rng(0)
    rr = 800 + 40 * rng.standard_normal(n)
    ids = np.zeros(n, dtype=np.int64)
    X = wr.record_channels(rr, np.zeros(n), ids)
    return wr.Experiment(X, np.zeros(n, dtype=np.int8), mode, look, epochs=1), X


def _scores(exp, net, X):
    exp.X = X
    return exp.predict(net, [(0, 0, len(X))])


def test_causal_tagger_sees_exactly_lookahead_beats_ahead():
    torch.manual_seed(0)
    exp, X = _experiment("causal")
    net = wr.Tagger(causal=True)
    before = _scores(exp, net, X)
    changed = X.copy()
    changed[60:] += 3.0                      # change every beat from 60 on
    after = _scores(exp, net, changed)
    assert len(before) == len(X)
    np.testing.assert_allclose(before[:52], after[:52], atol=1e-6)   # beats 0..51 see at most beat 59
    assert np.abs(before[52:] - after[52:]).min() > 0                 # beat 52 already sees beat 60


def test_bidirectional_tagger_sees_the_whole_recording():
    torch.manual_seed(0)
    exp, X = _experiment("bi")
    net = wr.Tagger(causal=False)
    changed = X.copy()
    changed[20:] += 3.0                      # 10 beats past beat 10: beyond the convolutions and any lookahead
    assert abs(_scores(exp, net, X)[10] - _scores(exp, net, changed)[10]) > 1e-6
