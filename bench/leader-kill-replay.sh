#!/usr/bin/env bash
# Issue 31's independent check: the leading JobManager SIGKILLed (its pid from `cluster status`) while a replay
# streams through a job submitted with default options; every committed score compared with `score`'s.
#   bench/leader-kill-replay.sh RECORDINGS.csv [SPEED] [KILL_AFTER_S]     (starts and stops a fresh local cluster)
set -euo pipefail
CSV="$(realpath "$1")"; SPEED="${2:-12}"; KILL_AFTER="${3:-25}"
CS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/cardiospike"
WORK="$(mktemp -d)"; cd "$WORK"; echo "working in $WORK"
"$CS" score --input "$CSV" --output batch.csv 2>/dev/null
"$CS" cluster start --fresh > start.out 2>&1
trap '"$CS" cluster stop >/dev/null 2>&1' EXIT
"$CS" job submit --model "$(dirname "$CS")/../models" > submit.out 2>&1
"$CS" produce --input "$CSV" --speed "$SPEED" > produce.out 2>&1 &
PRODUCER=$!
sleep "$KILL_AFTER"
LEADER=$("$CS" cluster status | awk '/ leader$/ {print $3}')
echo "SIGKILL the leading JobManager, pid $LEADER"; kill -9 "$LEADER"
wait $PRODUCER
sleep 60 # the last beats wait for the idle flush and the next checkpoint
"$CS" consume --topic rr-scores --from-beginning --max-idle 30s > scores.jsonl 2> consume.err
python3 - <<'PY'
import csv, json
batch = {(r['id'], int(float(r['time']))): float(r['proba']) for r in csv.DictReader(open('batch.csv'))}
got, dups = {}, 0
for line in open('scores.jsonl'):
    d = json.loads(line)
    k = (str(d['patient_id']), int(d['ts']) - 1700000000000)  # produce's ts = 1700000000000 + time
    dups += k in got
    got[k] = float(d['proba'])
missing = sum(k not in got for k in batch)
differ = [abs(batch[k] - got[k]) for k in batch if k in got and abs(batch[k] - got[k]) > 1e-6]
print(f"batch beats {len(batch)}, committed {len(got)}, duplicated {dups}, missing {missing}, differing {len(differ)}"
      f" (max |dp| {max(differ, default=0):.6f})")
PY
