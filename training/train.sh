#!/usr/bin/env bash
# bin/cardiospike train --input TRAIN.csv [--past N] [--lookahead N] [--out DIR] [--work DIR]
#                       [--from-study NAME [--storage URL]] [key=value ...]
# Java exports the model inputs (features, windows) and a golden synthetic recording; Python trains on exactly
# those and writes the bundle to a new directory (default: bundles/<UTC time>/); the committed models/ changes only
# through `bin/cardiospike promote DIR`, when the new bundle beats it in the same protocol. key=value pairs override training/conf/config.yaml; --from-study puts the best trial of a
# `bin/cardiospike search` study before them (later pairs win).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CS="$ROOT/bin/cardiospike"
input="" past=16 lookahead=8 work="" out="" study="" storage=""
overrides=()

usage() {
  cat <<EOF
usage: bin/cardiospike train --input TRAIN.csv [--past N] [--lookahead N] [--out DIR] [--work DIR]
                             [--from-study NAME [--storage URL]] [--cfg] [key=value ...]

Exports the model inputs through Java, trains LightGBM + CardioNet + the stacker in Python (nested CV) and writes
the bundle to a new directory; models/ changes only through bin/cardiospike promote DIR.

options:
  --input FILE        the labelled CSV (id,time,x,y) (required)
  --past N            beats of past per window (default: $past)
  --lookahead N       beats of lookahead per window (default: $lookahead)
  --out DIR           the bundle's directory (default: bundles/<UTC time>/ of this clone)
  --work DIR          where the model inputs are exported (default: a new directory under \${TMPDIR:-/tmp})
  --from-study NAME   start from the best trial of a bin/cardiospike search study (default: none;
                      key=value pairs given here win)
  --storage URL       the study's storage, with --from-study (default: the embedded local PostgreSQL)
  --cfg               print the resolved config (after the export) instead of training (default: off)
  key=value           override training/conf/config.yaml (dotted keys; preset=quick|tiny merges conf/NAME.yaml)
  -h, --help          this help

config keys and their defaults (training/conf/config.yaml):
EOF
  sed 's/^/  /' "$ROOT/training/conf/config.yaml"
}

for a in "$@"; do case "$a" in -h|--help) usage; exit 0 ;; esac; done # before any set-up: help is instant
while [ $# -gt 0 ]; do
  case "$1" in
    --input) input="$2"; shift 2 ;;
    --past) past="$2"; shift 2 ;;
    --lookahead) lookahead="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --from-study) study="$2"; shift 2 ;;
    --storage) storage="$2"; shift 2 ;;
    --cfg) overrides+=("--cfg"); shift ;;
    *) overrides+=("$1"); shift ;;
  esac
done
[ -n "$input" ] || { echo "cardiospike train: --input TRAIN.csv is required (bin/cardiospike train --help lists every option)" >&2; exit 2; }
py="$("$CS" venv)"
if [ -n "$study" ]; then # first, so that a wrong study name fails before the export
  best_line="$(PYTHONPATH="$ROOT/training" "$py" -m cardiotrain.search best --study "$study" ${storage:+--storage "$storage"})"
  read -r -a best <<<"$best_line"
  echo "cardiospike: the best trial of study $study: ${best[*]}" >&2
  overrides=("${best[@]}" "${overrides[@]}")
fi
out="${out:-$ROOT/bundles/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out" && out="$(cd "$out" && pwd)"
echo "cardiospike: the bundle goes to $out" >&2
input="$(cd "$(dirname "$input")" && pwd)/$(basename "$input")"
work="${work:-$(mktemp -d -t cardiospike-train.XXXXXX)}"
mkdir -p "$work"
"$CS" export-dataset --input "$input" --output "$work/data" --past "$past" --lookahead "$lookahead"
"$CS" generate --output "$work/golden.csv" --patients 2 --min-beats 150 --max-beats 200 --seed 11
"$CS" export-dataset --input "$work/golden.csv" --output "$work/golden" --past "$past" --lookahead "$lookahead"
cd "$ROOT/training"
"$py" -m cardiotrain.train data.dir="$work/data" golden.dir="$work/golden" out="$out" "${overrides[@]}"
# The bundle's drift reference (docs/models.md): its training data as the bundle scores it; not for --cfg (no bundle).
if [ -f "$out/manifest.json" ]; then
  "$CS" drift-reference --input "$input" --model "$out"
fi
