"""Offline comparison, not a product path: the best peer's whole-record tagger, under our nested CV and the stream's
truncation.

The peer's recipe, as far as it is known: a residual 1-D U-Net (depth 3, 16/32/64 channels) trained on random 32-beat
crops with BCE + Dice loss, run on the whole record, three of them averaged per fold, 10 folds. Here:
  --mode whole    each recording scored in one pass (every beat sees the whole record, future included: not
                  streamable; the peer's setting);
  --mode stream   each beat scored from the window of --past beats before it and --lookahead after it, scaled by that
                  window alone, as the stream would see it.
Inputs per segment (crop, window or record), scaled by the segment's own median and IQR: robust z, 10*log(x/median),
10*step/median, the artifact flag, (x-800)/200, from the Java export's cleaned RR (`rr_c`). Patients in --exclude are
never fit on. Folds: a main run's (`--oof`, then the tagger is also stacked with that run's LightGBM and CardioNet), or
--folds K patient-grouped folds of our own. Each fold trains --taggers U-Nets, each early-stopped on a different
held-out fifth of the fold's training patients; their mean scores the fold.

  python experiments/unet.py --export EXPORT_DIR --oof OOF.npz --mode whole|stream [--folds 10] [--epochs 60]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cardiotrain.data import load_export, recordings  # noqa: E402
from cardiotrain.folds import make_folds  # noqa: E402
from cardiotrain.metrics import average_precision, best_threshold  # noqa: E402
from cardiotrain.stack import honest_stack  # noqa: E402

CHANNELS = 5


def segment_channels(v: np.ndarray, art: np.ndarray) -> np.ndarray:
    """(..., T) RR and artifact flags -> (..., C, T), scaled by each segment's own median and IQR."""
    med = np.median(v, axis=-1, keepdims=True)
    q75, q25 = np.percentile(v, [75, 25], axis=-1, keepdims=True)
    iqr = q75 - q25 + 1e-3 * med + 1
    step = np.concatenate([np.zeros_like(v[..., :1]), np.diff(v, axis=-1)], axis=-1)
    return np.stack([np.clip((v - med) / iqr, -10, 10), 10 * np.log(v / med), 10 * step / med, art,
                     (v - 800) / 200], axis=-2).astype(np.float32)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, k: int = 5):
        super().__init__()
        self.c1, self.b1 = nn.Conv1d(cin, cout, k, padding=k // 2), nn.BatchNorm1d(cout)
        self.c2, self.b2 = nn.Conv1d(cout, cout, k, padding=k // 2), nn.BatchNorm1d(cout)
        self.skip = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        return F.relu(self.b2(self.c2(h)) + self.skip(x))


class UNet(nn.Module):
    """Residual 1-D U-Net, depth 3 (16/32/64), one logit per beat."""

    def __init__(self, widths=(16, 32, 64)):
        super().__init__()
        self.enc = nn.ModuleList()
        cin = CHANNELS
        for w in widths:
            self.enc.append(ResBlock(cin, w))
            cin = w
        self.mid = ResBlock(cin, cin)
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for w in reversed(widths):
            self.up.append(nn.ConvTranspose1d(cin, w, 2, stride=2))
            self.dec.append(ResBlock(2 * w, w))
            cin = w
        self.head = nn.Conv1d(cin, 1, 1)
        self.div = 2 ** len(widths)

    def forward(self, x):                     # (B, C, T) -> (B, T)
        t = x.shape[-1]
        pad = (-t) % self.div
        x = F.pad(x, (0, pad), mode="replicate") if pad else x
        skips = []
        for e in self.enc:
            x = e(x)
            skips.append(x)
            x = F.max_pool1d(x, 2)
        x = self.mid(x)
        for up, dec, s in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), s], dim=1))
        return self.head(x)[:, 0, :t]


def loss_fn(logits, target, mask, dice: bool):
    bce = F.binary_cross_entropy_with_logits(logits[mask], target[mask])
    if not dice:
        return bce
    p = torch.sigmoid(logits) * mask
    t = target * mask
    return bce + 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)


class Experiment:
    def __init__(self, rr, art, y, ids, args):
        self.rr, self.art, self.y, self.a = rr, art, y, args
        self.recs = recordings(ids)

    def crops(self, recs, rng):
        xs, ts = [], []
        L = self.a.crop
        for _, a, b in recs:
            n = b - a
            for _ in range(max(1, n // L)):
                s = a + int(rng.integers(0, max(1, n - L + 1)))
                e = min(s + L, b)
                v, ar, t = self.rr[s:e], self.art[s:e], self.y[s:e].astype(np.float32)
                if e - s < L:   # a recording shorter than a crop: edge-padded, padding masked
                    pad = L - (e - s)
                    v, ar = np.r_[v, np.repeat(v[-1:], pad)], np.r_[ar, np.zeros(pad)]
                    t = np.r_[t, np.full(pad, -1, np.float32)]
                xs.append(segment_channels(v, ar))
                ts.append(t)
        return np.stack(xs), np.stack(ts)

    @torch.no_grad()
    def predict(self, net, recs) -> np.ndarray:
        net.eval()
        out = []
        for _, a, b in recs:
            if self.a.mode == "whole":
                x = segment_channels(self.rr[a:b], self.art[a:b])[None]
                out.append(torch.sigmoid(net(torch.from_numpy(x)))[0].numpy())
            else:   # beat i from the window [i - past, i + lookahead], edge-padded, scaled by itself
                P, L = self.a.past, self.a.lookahead
                v = np.r_[np.repeat(self.rr[a], P), self.rr[a:b], np.repeat(self.rr[b - 1], L)]
                ar = np.r_[np.zeros(P), self.art[a:b], np.zeros(L)]
                idx = np.arange(b - a)[:, None] + np.arange(P + L + 1)[None, :]
                x = segment_channels(v[idx], ar[idx])
                out.append(torch.sigmoid(net(torch.from_numpy(x))[:, P]).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def train(self, train_recs, val_recs, seed):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = UNet()
        opt = torch.optim.AdamW(net.parameters(), self.a.lr, weight_decay=1e-4)
        yv = np.concatenate([self.y[a:b] for _, a, b in val_recs]) == 1
        best, bad = (-1.0, None, 0), 0
        for ep in range(self.a.epochs):
            net.train()
            X, T = self.crops(train_recs, rng)
            perm = rng.permutation(len(X))
            for i in range(0, len(X), self.a.batch):
                b = perm[i:i + self.a.batch]
                xb, tb = torch.from_numpy(X[b]), torch.from_numpy(T[b])
                mask = tb >= 0
                loss = loss_fn(net(xb), tb.clamp(min=0), mask, self.a.loss == "bce+dice")
                opt.zero_grad()
                loss.backward()
                opt.step()
            ap = average_precision(yv, self.predict(net, val_recs))
            if ap > best[0]:
                best, bad = (ap, {k: v.clone() for k, v in net.state_dict().items()}, ep), 0
            else:
                bad += 1
                if bad >= self.a.patience:
                    break
        net.load_state_dict(best[1])
        return net, best[2], best[0]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", required=True)
    ap.add_argument("--oof", help="a main run's cv.oof_out .npz: its folds, and a stack with its scores")
    ap.add_argument("--folds", type=int, help="K patient-grouped folds of our own instead of the --oof run's")
    ap.add_argument("--mode", choices=["whole", "stream"], required=True)
    ap.add_argument("--past", type=int, default=48)
    ap.add_argument("--lookahead", type=int, default=8)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--loss", choices=["bce", "bce+dice"], default="bce+dice")
    ap.add_argument("--taggers", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--patience", type=int, default=12)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--exclude", nargs="*", default=["132"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--save", help="write the tagger's out-of-fold scores to this .npz")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    ex = load_export(args.export, mmap=True)
    y, ids = ex.y, ex.ids
    oof = np.load(args.oof, allow_pickle=True) if args.oof else None
    if oof is not None and not np.array_equal(oof["ids"], ids):
        sys.exit(f"{args.oof} does not belong to the export {args.export}")
    if args.folds:
        fold_of = np.full(ex.n, -1)
        for of in make_folds(y, ids, args.folds, 2, args.seed):
            fold_of[of.test] = of.index
    elif oof is not None:
        fold_of = oof["fold_of"]
    else:
        sys.exit("give --oof or --folds")
    rr = np.asarray(ex.features[:, ex.meta["feature_names"].index("rr_c")], dtype=np.float64)
    exp = Experiment(rr, np.asarray(ex.artifact, dtype=np.float64), y, ids, args)
    recs = exp.recs
    scores = np.full(len(y), np.nan)
    t0 = time.time()
    for k in np.unique(fold_of[fold_of >= 0]):
        test = [r for r in recs if fold_of[r[1]] == k]
        fit = [r for r in recs if fold_of[r[1]] != k and str(r[0]) not in args.exclude]
        perm = np.random.default_rng(int(k)).permutation(len(fit))
        parts = np.array_split(perm, 5)
        preds = []
        for s in range(args.taggers):
            out = set(parts[s % 5].tolist())
            held, rest = [fit[i] for i in perm if i in out], [fit[i] for i in perm if i not in out]
            net, ep, vap = exp.train(rest, held, 1000 * int(k) + s + args.seed)
            preds.append(exp.predict(net, test))
            print(f"fold {k} U-Net {s}: best epoch {ep}, held-out AP {vap:.3f} ({time.time() - t0:.0f}s)",
                  flush=True)
        scores[np.concatenate([np.arange(a, b) for _, a, b in test])] = np.mean(preds, 0)

    keep = ~np.isin(ids.astype(str), args.exclude)
    if args.save:
        np.savez(args.save, ids=ids, y=y, fold_of=fold_of, unet=scores)

    def show(name, s):
        print(f"{name:<34} pooled F1 {best_threshold(y, s)[1]:.4f}   without {args.exclude}: "
              f"{best_threshold(y[keep], s[keep])[1]:.4f}   AP {average_precision(y, s):.4f}", flush=True)

    show(f"U-Net ({args.mode}, {len(np.unique(fold_of))} folds) alone", scores)
    if oof is not None:
        logit = np.log(np.clip(scores, 1e-7, 1 - 1e-7) / np.clip(1 - scores, 1e-7, 1))
        show("CardioNet alone", oof["cnn"])
        base = np.c_[oof["lgbm"], oof["cnn"], oof["artifact"]]
        show("stack LightGBM+CardioNet", honest_stack(base, y, oof["fold_of"], fit_rows=keep))
        show("stack + U-Net", honest_stack(np.c_[base, logit], y, oof["fold_of"], fit_rows=keep))


if __name__ == "__main__":
    main()
