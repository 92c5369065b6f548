"""CardioNet: multi-kernel Conv1d -> a sequence part (dilated convolutions or a BiGRU) -> attention pooling
(+ centre step) -> MLP -> one logit."""
from __future__ import annotations

import copy
import io
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from .metrics import average_precision


class DilatedConvs(nn.Module):
    """The non-recurrent sequence part: 'same'-padded Conv1d(k=3) layers with dilations 1, 2, 4, ..., each with a
    ReLU and a residual connection where the widths match. (B, M, W) -> (B, W, C). With the 9-wide first conv,
    dilations 1/2/4 see 23 beats around each position, nearly the whole 25-beat window. Why not a GRU: ONNX
    Runtime steps a GRU one beat at a time, which made it two thirds of CardioNet's serving time
    (docs/performance.md); convolutions run every position at once."""

    def __init__(self, in_channels: int, channels: int, dilations=(1, 2, 4)):
        super().__init__()
        if not dilations:
            raise ValueError("cnn.conv_dilations must name at least one layer")
        self.layers = nn.ModuleList(
            nn.Conv1d(in_channels if i == 0 else channels, channels, 3, padding=int(d), dilation=int(d))
            for i, d in enumerate(dilations))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            z = F.relu(layer(h))
            h = z + h if z.shape == h.shape else z
        return h.transpose(1, 2)


class CardioNet(nn.Module):
    def __init__(self, in_channels: int, window: int, center: int, branch_channels: int = 16,
                 kernels=(3, 5, 7, 9), mix_channels: int = 32, gru_hidden: int = 32, mlp_hidden: int = 32,
                 dropout: float = 0.1, aux_offsets=(), sequence: str = "gru", conv_channels: int = 16,
                 conv_dilations=(1, 2, 4)):
        super().__init__()
        self.window, self.center = int(window), int(center)
        self.aux_offsets = tuple(int(o) for o in aux_offsets)
        self.branches = nn.ModuleList(
            nn.Conv1d(in_channels, branch_channels, int(k), padding=int(k) // 2) for k in kernels)
        cat = branch_channels * len(kernels)
        self.norm = nn.BatchNorm1d(cat)
        self.mix = nn.Conv1d(cat, mix_channels, 1)
        if sequence == "gru":
            self.gru = nn.GRU(mix_channels, gru_hidden, batch_first=True, bidirectional=True)
            width = 2 * gru_hidden
        elif sequence == "conv":
            self.convs = DilatedConvs(mix_channels, conv_channels, tuple(conv_dilations))
            width = conv_channels
        else:
            raise ValueError(f"cnn.sequence must be gru or conv, not {sequence!r}")
        self.sequence = sequence
        self.att = nn.Linear(width, 1)
        self.head = nn.Sequential(nn.Linear(2 * width, mlp_hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(mlp_hidden, 1))
        # Training-only tagger: the sequence output at centre+offset predicts that neighbour's label (run edges
        # are where most errors are). Not exported: serving sees the same graph either way.
        self.aux = nn.Linear(width, 1) if self.aux_offsets else None

    def run_sequence(self, h: torch.Tensor) -> torch.Tensor:
        """(B, M, W) after the mix -> (B, W, width)."""
        if self.sequence == "gru":
            return self.gru(h.transpose(1, 2))[0]                    # (B, W, 2H)
        return self.convs(h)                                         # (B, W, C)

    def encode(self, windows: torch.Tensor) -> torch.Tensor:
        h = torch.cat([b(windows) for b in self.branches], dim=1)   # (B, 4C, W) 'same' padding
        h = F.relu(self.norm(h))
        return self.run_sequence(F.relu(self.mix(h)))

    def score(self, o: torch.Tensor) -> torch.Tensor:
        a = torch.softmax(self.att(o).squeeze(-1), dim=1)            # (B, W) attention over time
        pooled = torch.sum(o * a.unsqueeze(-1), dim=1)               # (B, 2H)
        centre = o[:, self.center, :]                                # (B, 2H) output at the scored beat
        return self.head(torch.cat([pooled, centre], dim=1)).squeeze(-1)   # (B,) logit

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.score(self.encode(windows))

    def forward_with_aux(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logit (B,), neighbour logits (B, len(aux_offsets)))."""
        o = self.encode(windows)
        pos = [self.center + off for off in self.aux_offsets]
        return self.score(o), self.aux(o[:, pos, :]).squeeze(-1)


def build_net(ccfg, channels: int, window: int, center: int) -> CardioNet:
    return CardioNet(channels, window, center, int(ccfg.branch_channels), tuple(ccfg.kernels),
                     int(ccfg.mix_channels), int(ccfg.gru_hidden), int(ccfg.mlp_hidden), float(ccfg.dropout),
                     tuple(ccfg.aux_offsets), str(ccfg.get("sequence", "gru")), int(ccfg.get("conv_channels", 16)),
                     tuple(ccfg.get("conv_dilations", (1, 2, 4))))


def resolve_device(name: str = "auto") -> torch.device:
    """`device=cpu|cuda|auto`: auto is cuda where a GPU exists. Bundles are exported and checked on the CPU either
    way; CUDA kernels round differently, so a GPU run is repeatable on its own device, not bit-identical to CPU."""
    name = str(name or "auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device={name} but torch sees no CUDA device here: use device=cpu (or auto)")
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"device must be cpu, cuda or auto, not {name!r}")
    return torch.device(name)


def set_determinism(seed: int, threads: int, device: torch.device | None = None) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.set_num_threads(max(1, int(threads)))
    if device is not None and device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")   # deterministic cuBLAS
        torch.use_deterministic_algorithms(True, warn_only=True)     # cuDNN's GRU has no deterministic twin
    else:
        torch.use_deterministic_algorithms(True)


@torch.no_grad()
def predict_logits(net: nn.Module, windows: np.ndarray, batch: int = 4096) -> np.ndarray:
    net.eval()
    dev = next(net.parameters()).device
    out = np.empty(len(windows), dtype=np.float32)
    for s in range(0, len(windows), batch):
        out[s:s + batch] = net(torch.from_numpy(np.ascontiguousarray(windows[s:s + batch])).to(dev)).cpu().numpy()
    return out


def _pos_weight(ccfg, y: np.ndarray) -> float:
    if str(ccfg.pos_weight) == "auto":
        pos = float((y == 1).sum())
        return float((len(y) - pos) / max(pos, 1.0))
    return float(ccfg.pos_weight)


def neighbour_labels(y: np.ndarray, ids: np.ndarray, offsets) -> np.ndarray:
    """(N, K) float32: the label of beat i+offset of the same recording, NaN past the recording's edges and for
    unlabelled beats (y = -1); rows are in recording order, as export-dataset writes them."""
    from .data import recordings
    out = np.full((len(y), len(offsets)), np.nan, dtype=np.float32)
    for _, a, b in recordings(ids):
        for k, off in enumerate(offsets):
            lo, hi = max(a, a - off), min(b, b - off)          # i with a <= i+off < b
            if lo < hi:
                out[lo:hi, k] = y[lo + off:hi + off]
    out[out < 0] = np.nan
    return out


def train_net(ccfg, windows: np.ndarray, y: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray | None,
              seed: int, center: int, epochs: int | None = None, desc: str = "cnn", leave: bool = False,
              ids: np.ndarray | None = None, device: torch.device | str = "cpu"):
    """Train one CardioNet on windows[train_idx]. With val_idx: keep the best-epoch weights by inner-val
    average precision, stop after `patience` epochs without improvement. Without val_idx: run `epochs`.
    With `cnn.aux_offsets`, the neighbours' labels (from `ids`' recordings) are extra targets weighted by
    `cnn.aux_weight`. Trains on `device` (the whole training split is moved there once); returns
    (net on the CPU, best_epoch (1-based), history)."""
    device = torch.device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_ch, w = windows.shape[1], windows.shape[2]
    net = build_net(ccfg, n_ch, w, center).to(device)
    xt = torch.from_numpy(np.ascontiguousarray(windows[train_idx])).to(device)
    yt = torch.from_numpy(y[train_idx].astype(np.float32)).to(device)
    pos_weight = torch.tensor(_pos_weight(ccfg, y[train_idx]), dtype=torch.float32, device=device)
    crit = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    if net.aux_offsets:
        if ids is None:
            raise ValueError("cnn.aux_offsets needs the recording ids")
        ya = torch.from_numpy(neighbour_labels(y, ids, net.aux_offsets)[train_idx]).to(device)
        aux_weight = float(ccfg.aux_weight)
    opt = torch.optim.AdamW(net.parameters(), lr=float(ccfg.lr), weight_decay=float(ccfg.weight_decay))
    max_ep = int(epochs if epochs is not None else ccfg.epochs)
    steps = max_ep * math.ceil(len(xt) / int(ccfg.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=float(ccfg.lr), total_steps=max(steps, 1),
                                                pct_start=0.15)
    best, best_ep, best_state, bad, hist = -1.0, max_ep, None, 0, []
    bar = tqdm(range(1, max_ep + 1), desc=desc, leave=leave, unit="ep", dynamic_ncols=True)
    for ep in bar:
        net.train()
        perm = torch.randperm(len(xt), generator=gen).to(device)
        tot = 0.0
        for s in range(0, len(perm), int(ccfg.batch)):
            b = perm[s:s + int(ccfg.batch)]
            if len(b) < 2:
                continue
            opt.zero_grad(set_to_none=True)
            if net.aux_offsets:
                logit, aux = net.forward_with_aux(xt[b])
                known = ~torch.isnan(ya[b])
                aux_loss = F.binary_cross_entropy_with_logits(aux[known], ya[b][known], pos_weight=pos_weight)
                loss = crit(logit, yt[b]) + aux_weight * aux_loss
            else:
                loss = crit(net(xt[b]), yt[b])
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(b)
        rec = {"epoch": ep, "loss": tot / len(xt)}
        if val_idx is not None:
            ap = average_precision(y[val_idx], predict_logits(net, windows[val_idx], int(ccfg.eval_batch)))
            rec["val_ap"] = ap
            if ap > best:
                best, best_ep, bad = ap, ep, 0
                best_state = copy.deepcopy(net.state_dict())
            else:
                bad += 1
            bar.set_postfix(loss=f"{rec['loss']:.4f}", ap=f"{ap:.4f}", best=best_ep)
        else:
            bar.set_postfix(loss=f"{rec['loss']:.4f}")
        hist.append(rec)
        if val_idx is not None and ep >= int(ccfg.min_epochs) and bad >= int(ccfg.patience):
            break
    bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    net = net.cpu().eval()
    return net, (best_ep if val_idx is not None else max_ep), hist


class _FusedCardioNet(nn.Module):
    """Inference form of CardioNet: the 4 'same'-padded branches become ONE Conv1d (kernels zero-padded to the
    largest, centred) with the eval-mode BatchNorm folded in. Mathematically identical; fewer ONNX nodes."""

    def __init__(self, net: CardioNet):
        super().__init__()
        kmax = max(b.kernel_size[0] for b in net.branches)
        cin = net.branches[0].in_channels
        cout = sum(b.out_channels for b in net.branches)
        conv = nn.Conv1d(cin, cout, kmax, padding=kmax // 2)
        w = torch.zeros(cout, cin, kmax, dtype=torch.float64)
        bias = torch.zeros(cout, dtype=torch.float64)
        o = 0
        for b in net.branches:
            k = b.kernel_size[0]
            off = (kmax - k) // 2
            w[o:o + b.out_channels, :, off:off + k] = b.weight.detach().double()
            bias[o:o + b.out_channels] = b.bias.detach().double()
            o += b.out_channels
        bn = net.norm
        scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.detach().double() + bn.eps)
        w = w * scale[:, None, None]
        bias = (bias - bn.running_mean.detach().double()) * scale + bn.bias.detach().double()
        with torch.no_grad():
            conv.weight.copy_(w.float())
            conv.bias.copy_(bias.float())
        self.conv, self.mix, self.att, self.head = conv, net.mix, net.att, net.head
        self.sequence, self.center = net.sequence, net.center
        self.gru, self.convs = getattr(net, "gru", None), getattr(net, "convs", None)

    run_sequence = CardioNet.run_sequence

    def forward(self, windows):
        h = F.relu(self.conv(windows))
        o = self.run_sequence(F.relu(self.mix(h)))
        a = torch.softmax(self.att(o).squeeze(-1), dim=1)
        pooled = torch.sum(o * a.unsqueeze(-1), dim=1)
        centre = o[:, self.center, :]
        return self.head(torch.cat([pooled, centre], dim=1)).squeeze(-1)


def export_onnx(net: CardioNet, path: str | Path, channels: int, window: int, opset: int = 17) -> None:
    net.eval()
    if isinstance(net, CardioNet) and all(b.kernel_size[0] % 2 == 1 for b in net.branches):
        net = _FusedCardioNet(copy.deepcopy(net)).eval()
    dummy = torch.zeros(4, channels, window, dtype=torch.float32)
    buf = io.BytesIO()
    import warnings
    with warnings.catch_warnings():   # GRU batch-size warning: h0 is not an input, dynamic batch is tested
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (dummy,), buf, input_names=["windows"], output_names=["logit"],
                          dynamic_axes={"windows": {0: "batch"}, "logit": {0: "batch"}}, opset_version=int(opset),
                          do_constant_folding=True, dynamo=False)
    import onnx
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    model.producer_name = "cardiotrain"
    model.doc_string = "CardioNet: windows float32[batch,2,W] -> logit float32[batch]"
    Path(path).write_bytes(model.SerializeToString())


def ort_session(path: str | Path, threads: int = 1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_logits(sess, windows: np.ndarray, batch: int = 4096) -> np.ndarray:
    out = np.empty(len(windows), dtype=np.float32)
    for s in range(0, len(windows), batch):
        out[s:s + batch] = sess.run(["logit"], {"windows": np.ascontiguousarray(windows[s:s + batch])})[0]
    return out


def check_parity(net: CardioNet, onnx_path: str | Path, windows: np.ndarray, tol: float = 1e-5) -> float:
    """Max |onnx - torch| on `windows`; raises if any logit differs by more than tol * max(1, |torch logit|).
    Why relative beyond 1: float32 rounding grows with the value. A confident conv CardioNet's logits reach -50,
    where torch's own float32 result differs from float64 by 8e-6 and one float32 step is 4e-6."""
    t = predict_logits(net, windows)
    o = ort_logits(ort_session(onnx_path), windows)
    if o.shape != t.shape:
        raise RuntimeError(f"ONNX output shape {o.shape} != torch {t.shape}")
    if not len(t):
        return 0.0
    t, o = t.astype(np.float64), o.astype(np.float64)
    diff = np.abs(o - t)
    allowed = tol * np.maximum(1.0, np.abs(t))
    if not np.all(diff <= allowed):
        i = int(np.argmax(diff - allowed))
        raise RuntimeError(f"ONNX/torch parity failed: |diff| {diff[i]:.3g} at logit {t[i]:.4g} > "
                           f"{tol:g} * max(1, |logit|)")
    return float(diff.max())


def bench_onnx(onnx_path: str | Path, windows: np.ndarray, batch: int = 1024, rounds: int = 30) -> dict:
    """Single-thread ONNX Runtime latency per window for batches of `batch`."""
    sess = ort_session(onnx_path, threads=1)
    reps = int(math.ceil(batch / max(len(windows), 1)))
    xb = np.ascontiguousarray(np.concatenate([windows] * reps)[:batch])
    for _ in range(3):
        sess.run(["logit"], {"windows": xb})
    ts = []
    for _ in range(int(rounds)):
        t0 = time.perf_counter()
        sess.run(["logit"], {"windows": xb})
        ts.append(time.perf_counter() - t0)
    ts = np.array(ts)
    return {"batch": int(batch), "rounds": int(rounds), "us_per_window_median": float(np.median(ts) / batch * 1e6),
            "us_per_window_min": float(ts.min() / batch * 1e6)}
