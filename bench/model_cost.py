"""The bundle's arithmetic per scored beat, counted from the model files (docs/performance.md's limit analysis).

    bin/cardiospike python bench/model_cost.py --model models --export EXPORT_DIR

CardioNet: multiply-accumulates per window, per kind of ONNX node (Conv, GRU, MatMul, Gemm; elementwise ops are counted
apart), from the graph's weight shapes and the window length. LightGBM: tree nodes visited per row, the mean over the
export's rows of the depth of the leaf each tree sends the row to (what one prediction walks).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def cardionet_macs(onnx_path: Path, window: int) -> dict:
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(onnx_path))
    w = {i.name: numpy_helper.to_array(i).shape for i in m.graph.initializer}
    out: dict[str, int] = {}

    def add(name: str, macs: int) -> None:
        out[name] = out.get(name, 0) + macs

    width = None                                      # the sequence part's output width, from the attention score
    for n in m.graph.node:
        if n.op_type == "Conv":
            cout, cin, k = w[n.input[1]]
            dil = next((a.ints[0] for a in n.attribute if a.name == "dilations"), 1)
            add(f"Conv {cin}->{cout} k{k}" + (f" dilation {dil}" if dil > 1 else ""), cout * cin * k * window)
        elif n.op_type == "GRU":
            dirs, gates, inp = w[n.input[1]]          # W: [directions, 3*hidden, input]
            hidden = gates // 3
            per_step = gates * inp + gates * hidden    # input and recurrent matrices
            add(f"GRU bidirectional, hidden {hidden}", dirs * window * per_step)
        elif n.op_type == "MatMul" and n.input[1] in w:
            a, b = w[n.input[1]]
            width = a
            add("attention score", window * a * b)
        elif n.op_type == "Gemm":
            o, i = w[n.input[1]]
            add(f"Gemm {i}->{o}", o * i)
    if width:
        add("attention pooling", window * width)
    return out


def lgbm_node_visits(model_path: Path, X: np.ndarray) -> dict:
    import lightgbm as lgb
    b = lgb.Booster(model_file=str(model_path))
    trees = b.dump_model()["tree_info"]
    depth_of = []                                     # per tree: leaf index -> depth
    for t in trees:
        d = {}

        def walk(node, depth):
            if "leaf_index" in node:
                d[node["leaf_index"]] = depth
            else:
                walk(node["left_child"], depth + 1)
                walk(node["right_child"], depth + 1)
        walk(t["tree_structure"], 0)
        depth_of.append(d)
    leaves = b.predict(X, pred_leaf=True).astype(np.int64)   # (rows, trees)
    depths = np.array([[depth_of[j][leaves[i, j]] for j in range(leaves.shape[1])] for i in range(len(leaves))])
    per_row = depths.sum(axis=1)
    return {"trees": len(trees), "leaves_per_tree_max": max(len(d) for d in depth_of),
            "node_visits_per_row_mean": float(per_row.mean()), "node_visits_per_row_p99": float(np.percentile(per_row, 99)),
            "mean_depth": float(depths.mean())}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models")
    ap.add_argument("--export", required=True, help="bin/cardiospike export-dataset output (rows to walk the trees)")
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args(argv)
    model = Path(args.model)
    manifest = json.loads((model / "manifest.json").read_text())
    window = int(manifest["window"])
    macs = cardionet_macs(model / "cardionet.onnx", window)
    total = sum(macs.values())
    print(f"CardioNet, window {window}: {total:,} multiply-accumulates = {2 * total / 1e6:.3f} MFLOP per window")
    for k, v in macs.items():
        print(f"  {k:<32} {v:>9,} MAC ({v / total:5.1%})")
    X = np.load(Path(args.export) / "features.npy", mmap_mode="r")[: args.rows]
    lg = lgbm_node_visits(model / "lightgbm.txt", np.ascontiguousarray(X))
    print(f"LightGBM: {lg['trees']} trees (up to {lg['leaves_per_tree_max']} leaves), "
          f"{lg['node_visits_per_row_mean']:.0f} node visits per row on mean (p99 {lg['node_visits_per_row_p99']:.0f}; "
          f"mean leaf depth {lg['mean_depth']:.2f})")


if __name__ == "__main__":
    main()
