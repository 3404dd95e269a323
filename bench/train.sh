#!/usr/bin/env bash
# Training throughput: C++ trainer (bench_train) vs the same loop in Python PyTorch
# (bench/train_reference.py), same net / data / batch / threads. Usage: bench/train.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
STEPS=${STEPS:-60}
BATCH=${BATCH:-32}
THREADS=${THREADS:-2}
cpp=$("$BUILD/bench/bench_train" "$STEPS" "$BATCH" "$THREADS")
py=$(OMP_NUM_THREADS=$THREADS /usr/bin/python3 bench/train_reference.py "$STEPS" "$BATCH" "$THREADS")
echo "$cpp"
echo "$py"
/usr/bin/python3 - "$cpp" "$py" <<'PY'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"train step throughput (batch {c['batch']}, {c['threads']} threads): C++ {c['steps_per_s']:.2f} steps/s, "
      f"Python {p['steps_per_s']:.2f} steps/s, ratio C++/Python {c['steps_per_s'] / p['steps_per_s']:.2f}")
PY
