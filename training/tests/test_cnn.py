import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from cardiotrain.cnn import build_net, neighbour_labels, train_net


def test_neighbour_labels_stay_inside_each_recording_and_skip_unlabelled_beats():
    y = np.array([0, 1, 1, 0, 1, 0, -1])
    ids = np.array([1, 1, 1, 1, 2, 2, 2])
    got = neighbour_labels(y, ids, [-2, -1, 1, 2])
    nan = np.nan
    want = np.array([[nan, nan, 1, 1],
                     [nan, 0, 1, 0],
                     [0, 1, 0, nan],
                     [1, 1, nan, nan],
                     [nan, nan, 0, nan],   # recording 2 starts: nothing from recording 1 leaks in
                     [nan, 1, nan, nan],   # its next beat is unlabelled
                     [1, 0, nan, nan]], dtype=np.float32)
    np.testing.assert_array_equal(got, want)


def _cfg(aux_offsets):
    return OmegaConf.create({"branch_channels": 4, "kernels": [3, 5], "mix_channels": 4, "gru_hidden": 4,
                             "mlp_hidden": 8, "dropout": 0.0, "epochs": 2, "min_epochs": 1, "patience": 1,
                             "batch": 64, "eval_batch": 256, "lr": 0.01, "weight_decay": 0.0, "pos_weight": "auto",
                             "aux_offsets": aux_offsets, "aux_weight": 0.5})


def _data(n=400, window=9):
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(n, 3, window)).astype(np.float32)
    y = (rng.random(n) < 0.2).astype(np.int64)
    ids = np.repeat(np.arange(4), n // 4)
    return windows, y, ids


def test_aux_targets_train_the_tagger_and_leave_the_scoring_graph_alone():
    windows, y, ids = _data()
    rows = np.arange(len(y))
    net, _, _ = train_net(_cfg([-1, 1]), windows, y, rows, None, seed=1, center=4, ids=ids)
    torch.manual_seed(1)                      # train_net's init: the same seed builds the same starting net
    start = build_net(_cfg([-1, 1]), 3, 9, 4)
    # The tagger learned something (its weights moved off their init) ...
    assert not torch.allclose(net.aux.weight, start.aux.weight)
    # ... but scoring never reads it: forward == the main head of forward_with_aux.
    x = torch.from_numpy(windows[:16])
    with torch.no_grad():
        logit, aux = net.forward_with_aux(x)
        np.testing.assert_allclose(net(x).numpy(), logit.numpy(), rtol=0, atol=0)
    assert aux.shape == (16, 2)


def test_aux_targets_change_training_and_need_ids():
    windows, y, ids = _data()
    rows = np.arange(len(y))
    plain, _, _ = train_net(_cfg([]), windows, y, rows, None, seed=1, center=4)
    aux, _, _ = train_net(_cfg([-1, 1]), windows, y, rows, None, seed=1, center=4, ids=ids)
    assert plain.aux is None
    assert not torch.allclose(plain.head[0].weight, aux.head[0].weight)
    with pytest.raises(ValueError, match="recording ids"):
        train_net(_cfg([-1, 1]), windows, y, rows, None, seed=1, center=4)


@pytest.mark.parametrize("sequence", ["gru", "conv"])
def test_both_sequence_parts_export_to_onnx_within_parity(tmp_path, sequence):
    import onnx
    from cardiotrain.cnn import check_parity, export_onnx
    cfg = OmegaConf.merge(_cfg([-1, 1]), {"sequence": sequence, "conv_channels": 6, "conv_dilations": [1, 2, 4]})
    torch.manual_seed(3)
    net = build_net(cfg, 3, 9, 4).eval()
    with torch.no_grad():                     # eval-mode BatchNorm statistics away from 0/1, so folding them matters
        net.norm.running_mean.uniform_(-0.5, 0.5)
        net.norm.running_var.uniform_(0.5, 2.0)
    path = tmp_path / "net.onnx"
    export_onnx(net, path, 3, 9)
    windows, _, _ = _data()
    assert check_parity(net, path, windows, tol=1e-5) <= 1e-5
    with torch.no_grad():                     # a graph that computes something else fails the check
        net.head[-1].bias += 1e-3
    with pytest.raises(RuntimeError, match="parity failed"):
        check_parity(net, path, windows, tol=1e-5)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert ("GRU" in ops) == (sequence == "gru")
    # the fused graph has one input convolution, plus the mix and the dilated layers for conv
    assert sum(n.op_type == "Conv" for n in onnx.load(str(path)).graph.node) == (2 if sequence == "gru" else 5)


def test_an_unknown_sequence_part_is_refused():
    with pytest.raises(ValueError, match="gru or conv"):
        build_net(OmegaConf.merge(_cfg([]), {"sequence": "lstm"}), 3, 9, 4)
