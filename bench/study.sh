#!/usr/bin/env bash
# End-to-end study time (cervirisk demo: synth 445 patients + study of all six cpu-small
# variants) with its breakdown from run.json (preprocess, text pretraining, train/<variant>,
# evaluate), and the training-step throughput against the equivalent Python PyTorch loop
# (bench/train.sh). Usage: bench/study.sh BUILD_DIR   (PATIENTS=445 THREADS=2 by default)
set -euo pipefail
BUILD=${1:-build}
PATIENTS=${PATIENTS:-445}
THREADS=${THREADS:-2}
OUT=${OUT:-$(mktemp -d)/demo}
export OMP_WAIT_POLICY=PASSIVE
start=$(date +%s.%N)
"$BUILD/bin/cervirisk" --threads "$THREADS" demo --out "$OUT" --patients "$PATIENTS" | tail -n 20
end=$(date +%s.%N)
/usr/bin/python3 - "$OUT/run/run.json" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r.get("timings_s", {})
print(f"demo wall time (synth + study): {float(sys.argv[3]) - float(sys.argv[2]):.1f} s")
for k in sorted(t):
    print(f"  {k:22s} {t[k]:8.1f} s")
PY
if [ -x "$BUILD/bench/bench_train" ]; then THREADS=$THREADS bash bench/train.sh "$BUILD"; fi
