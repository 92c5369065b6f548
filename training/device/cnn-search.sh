#!/usr/bin/env bash
# A CardioNet search on a lent GPU machine, prepared to run there as one short command (the `device` tool: it runs
# in a copy of this tree, with no network, and brings back what is written under $OUT).
#
# Here, first:  bin/cardiospike export-dataset --input ../shared/data/train.csv --output .device/export
# Then run:     training/device/cnn-search.sh        with carry [".device"], timeout under the device time left
# Back here:    bin/cardiospike train --input ../shared/data/train.csv --from-study cnn-gpu \
#                 --storage sqlite:///<the fetched folder>/study.db
#
# The machine has no Java, so the export travels; the study is a SQLite file under $OUT (the search takes any
# SQLAlchemy URL). It needs a Python there with torch (CUDA), optuna, lightgbm, omegaconf and scikit-learn: the
# check below names what is missing instead of failing half-way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py="${PYTHON:-python3}"
out="${OUT:?the device tool sets OUT}"
"$py" - <<'PY'
import importlib.util, sys
missing = [m for m in ("torch", "optuna", "lightgbm", "omegaconf", "sklearn", "tqdm") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing on this machine: {', '.join(missing)}")
import torch
if not torch.cuda.is_available():
    sys.exit("torch sees no CUDA device here")
print(f"GPU: {torch.cuda.get_device_name(0)}", flush=True)
PY
exec "$py" -m cardiotrain.search --export ../.device/export --storage "sqlite:///$out/study.db" --model cnn \
  --trials "${TRIALS:-24}" --workers "${WORKERS:-2}" --study "${STUDY:-cnn-gpu}" --logs "$out/logs" \
  device=cuda threads=2 "$@"
