"""Offline comparison, not a product path: does a sequence tagger over whole recordings beat the windowed CardioNet?

Two taggers over every beat of a recording (4 conv branches k=3/5/7/9 -> 1x1 mix -> GRU -> MLP per beat):
  bi      bidirectional over the whole recording: sees all of the past and all of the future (not streamable);
  causal  forward-only convolutions and GRU with unlimited past; the output at beat t scores beat t-LOOKAHEAD
          (streamable with a GRU state per patient, like the windowed model's lookahead).
Each outer fold of a main run's out-of-fold scores (`cv.oof_out=...npz`, same folds, patients in `--exclude` never
fit on) gets two taggers (one grouped 80/20 split each way, early stopping on the held-out AP); their mean scores it.
Prints pooled F1 alone and stacked with that run's LightGBM and CardioNet scores.

The per-recording input channels are computed here from the Java export's cleaned RR (`rr_c`): fine for a comparison,
but a shipped version would have to take them from the Java side like every other model input. They are scaled by
the whole recording's median and IQR in both modes, so the causal figure is if anything flattered (a stream would
use a running median).

  python experiments/whole_record.py --export EXPORT_DIR --oof OOF.npz --mode causal --lookahead 8 --epochs 100
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.data import load_export, recordings  # noqa: E402
from cardiotrain.metrics import average_precision, best_threshold  # noqa: E402
from cardiotrain.stack import honest_stack  # noqa: E402

CHANNELS = 5
CROP = 192       # training crop length (beats); scoring runs over whole recordings


def record_channels(rr: np.ndarray, artifact: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per beat: robust z against the recording's median/IQR, 10*log(x/median), 10*step/median, artifact, x."""
    X = np.zeros((len(rr), CHANNELS), np.float32)
    for _, a, b in recordings(ids):
        v = rr[a:b]
        med = np.median(v)
        iqr = np.subtract(*np.percentile(v, [75, 25])) + 1e-3 * med + 1
        X[a:b, 0] = np.clip((v - med) / iqr, -10, 10)
        X[a:b, 1] = 10 * np.log(v / med)
        X[a:b, 2] = 10 * np.r_[0, np.diff(v)] / med
        X[a:b, 3] = artifact[a:b]
        X[a:b, 4] = (v - 800) / 200
    return X


class Tagger(nn.Module):
    def __init__(self, causal: bool, branch: int = 16, mix: int = 32, hidden: int = 32):
        super().__init__()
        self.causal = causal
        self.convs = nn.ModuleList(nn.Conv1d(CHANNELS, branch, k) for k in (3, 5, 7, 9))
        self.bn = nn.BatchNorm1d(4 * branch)
        self.mix = nn.Conv1d(4 * branch, mix, 1)
        self.gru = nn.GRU(mix, hidden, batch_first=True, bidirectional=not causal)
        self.head = nn.Sequential(nn.Linear(hidden * (1 if causal else 2), 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:      # (B, T, C) -> (B, T) logits
        x = x.transpose(1, 2)
        outs = []
        for conv in self.convs:
            k = conv.kernel_size[0]
            pad = (k - 1, 0) if self.causal else ((k - 1) // 2, k // 2)   # causal: only past beats
            outs.append(conv(nn.functional.pad(x, pad, mode="replicate")))
        z = torch.relu(self.mix(torch.relu(self.bn(torch.cat(outs, 1))))).transpose(1, 2)
        o, _ = self.gru(z)
        return self.head(o).squeeze(-1)


class Experiment:
    def __init__(self, X: np.ndarray, y: np.ndarray, mode: str, lookahead: int, epochs: int):
        self.X, self.y, self.mode, self.epochs = X, y, mode, epochs
        self.look = lookahead if mode == "causal" else 0

    def seq(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """A recording's inputs and targets; causal: LOOKAHEAD edge beats appended, targets delayed by as many."""
        x, t = self.X[a:b], self.y[a:b].astype(np.float32)
        if self.look:
            x = np.r_[x, np.repeat(x[-1:], self.look, 0)]
            t = np.r_[np.full(self.look, -1, np.float32), t]
        return x, t

    def predict(self, net: Tagger, recs) -> np.ndarray:
        net.eval()
        out = []
        with torch.no_grad():
            for _, a, b in recs:
                s = torch.sigmoid(net(torch.from_numpy(self.seq(a, b)[0])[None]))[0].numpy()
                out.append(s[self.look:])
        return np.concatenate(out) if out else np.zeros(0)

    def train(self, train_recs, val_recs, seed: int) -> tuple[Tagger, int, float]:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = Tagger(self.mode == "causal")
        opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
        data = [self.seq(a, b) for _, a, b in train_recs]
        yv = np.concatenate([self.y[a:b] for _, a, b in val_recs]) == 1
        best = (-1.0, None, 0)
        for ep in range(self.epochs):
            net.train()
            crops = []
            for x, t in data:
                for _ in range(max(1, len(x) // CROP)):
                    s = rng.integers(0, max(1, len(x) - CROP + 1))
                    crops.append((x[s:s + CROP], t[s:s + CROP]))
            rng.shuffle(crops)
            for i in range(0, len(crops), 32):
                batch = crops[i:i + 32]
                T = max(len(c[0]) for c in batch)
                xb = np.zeros((len(batch), T, CHANNELS), np.float32)
                tb = np.full((len(batch), T), -1, np.float32)
                for j, (x, t) in enumerate(batch):
                    xb[j, :len(x)], tb[j, :len(t)] = x, t
                logits, target = net(torch.from_numpy(xb)), torch.from_numpy(tb)
                m = target >= 0       # padding, delayed starts and unlabelled beats carry no loss
                loss = nn.functional.binary_cross_entropy_with_logits(logits[m], target[m],
                                                                      pos_weight=torch.tensor(2.0))
                opt.zero_grad()
                loss.backward()
                opt.step()
            ap = average_precision(yv, self.predict(net, val_recs))
            if ap > best[0]:
                best = (ap, {k: v.clone() for k, v in net.state_dict().items()}, ep)
        net.load_state_dict(best[1])
        return net, best[2], best[0]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", required=True, help="bin/cardiospike export-dataset output (labelled)")
    ap.add_argument("--oof", required=True, help="a main run's cv.oof_out .npz (folds, LightGBM and CardioNet scores)")
    ap.add_argument("--mode", choices=["bi", "causal"], required=True)
    ap.add_argument("--lookahead", type=int, default=8, help="causal mode: beats of future the tagger may see")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--exclude", type=int, nargs="*", default=[132], help="patient ids never fit on")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    ex = load_export(args.export, mmap=True)
    oof = np.load(args.oof, allow_pickle=True)
    y, ids, fold_of = oof["y"], oof["ids"], oof["fold_of"]
    if len(y) != ex.n or not np.array_equal(ids, ex.ids):
        sys.exit(f"{args.oof} does not belong to the export {args.export} (other rows or order)")
    rr_clean = np.asarray(ex.features[:, ex.meta["feature_names"].index("rr_c")])
    exp = Experiment(record_channels(rr_clean, ex.artifact, ex.ids), y, args.mode,
                     args.lookahead, args.epochs)
    recs = recordings(ids)
    scores = np.full(len(y), np.nan)
    t0 = time.time()
    for k in np.unique(fold_of[fold_of >= 0]):
        test = [r for r in recs if fold_of[r[1]] == k]
        fit = [r for r in recs if fold_of[r[1]] != k and r[0] not in args.exclude]
        perm = np.random.default_rng(k).permutation(len(fit))
        nv = len(fit) // 5
        held, rest = [fit[i] for i in perm[:nv]], [fit[i] for i in perm[nv:]]
        # two taggers: fit on `rest`, stop on `held`; then fit on `held` + most of `rest`, stop on the remainder
        splits = [(rest, held), (held + rest[nv:], rest[:nv])]
        preds = []
        for s, (tr, va) in enumerate(splits):
            net, ep, vap = exp.train(tr, va, 100 * int(k) + s)
            preds.append(exp.predict(net, test))
            print(f"fold {k} tagger {s}: best epoch {ep}, held-out AP {vap:.3f} ({time.time() - t0:.0f}s)", flush=True)
        scores[np.concatenate([np.arange(a, b) for _, a, b in test])] = np.mean(preds, 0)

    keep = ~np.isin(ids, args.exclude)
    logit = np.log(scores / np.clip(1 - scores, 1e-9, None) + 1e-9)

    def show(name, s):
        f = best_threshold(y, s)[1]
        f_keep = best_threshold(y[keep], s[keep])[1]
        print(f"{name:<28} pooled F1 {f:.4f}   without {args.exclude}: {f_keep:.4f}")

    show(f"{args.mode} tagger alone", scores)
    show("CardioNet alone", oof["cnn"])
    show("LightGBM alone", oof["lgbm"])
    base = np.c_[oof["lgbm"], oof["cnn"], oof["artifact"]]
    show("stack LightGBM+CardioNet", honest_stack(base, y, fold_of, fit_rows=keep))
    show("stack + tagger", honest_stack(np.c_[base, logit], y, fold_of, fit_rows=keep))


if __name__ == "__main__":
    main()
