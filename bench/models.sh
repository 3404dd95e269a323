#!/usr/bin/env bash
# Forward+backward throughput of convnext_tiny (224 px) and of the cpu-small MSM-TC: cervirisk
# (C++, LibTorch) against the same architectures in Python PyTorch (torchvision's ConvNeXt; the
# MSM-TC written in bench/models_ref.py), same batch and threads, in one run; plus GFLOP/s as a
# fraction of the measured float32 matmul peak. The C++ side is timed as the trainer runs a step
# (the batch split into one part per thread, train/sharded_step.h) and, for reference, as one
# forward + backward over the whole batch on torch's intra-op threads (the computation Python does).
#   bash bench/models.sh [BUILD_DIR]   (env: THREADS=2 ITERS=3 BATCH_CONVNEXT=8 BATCH_MSM=32)
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
ITERS=${ITERS:-3}
BC=${BATCH_CONVNEXT:-8}
BM=${BATCH_MSM:-32}
BIN="$BUILD/bin/bench_models"
[ -x "$BIN" ] || { echo "bench_models not built ($BIN): ninja -C $BUILD bench_models" >&2; exit 1; }
ROUNDS=${ROUNDS:-2}
export OMP_NUM_THREADS=$THREADS
# Sleeping (not spinning) OpenMP workers: on a shared machine, spinning threads that lose their
# core make both sides several times slower and the comparison meaningless.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ARGS="--threads $THREADS --iters $ITERS --batch-convnext $BC --batch-msm $BM"
# Alternate the two sides ROUNDS times and keep each side's best, so a burst of load on the
# machine does not decide the ratio.
OUT=""
for _ in $(seq "$ROUNDS"); do
  OUT+=$("$BIN" $ARGS)$'\n'
  OUT+=$(/usr/bin/python3 bench/models_ref.py $ARGS)$'\n'
done
/usr/bin/python3 - "$OUT" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
best = {}
for r in rows:
    k = (r["impl"], r["what"])
    if r["what"] == "matmul_peak":
        if k not in best or r["gflops"] > best[k]["gflops"]:
            best[k] = r
    elif k not in best or r["per_s"] > best[k]["per_s"]:
        best[k] = r
rows = list(best.values())
peak = next(r["gflops"] for r in rows if r["what"] == "matmul_peak")
print(f"float32 matmul peak: {peak:.1f} GFLOP/s ({rows[0]['threads']} threads)")
print(f"{'model':<18}{'batch':>6}{'cervirisk/s':>13}{'python/s':>10}{'ratio':>7}{'GFLOP/s':>9}{'of peak':>9}"
      f"{'1-part/s':>10}{'ratio':>7}")
for what in ("convnext_tiny", "msm_tc_cpu_small"):
    c = next(r for r in rows if r["what"] == what and r["impl"] == "cpp")
    o = next(r for r in rows if r["what"] == what and r["impl"] == "cpp_1part")
    p = next(r for r in rows if r["what"] == what and r["impl"] == "python")
    print(f"{what:<18}{c['batch']:>6}{c['per_s']:>13.2f}{p['per_s']:>10.2f}{c['per_s'] / p['per_s']:>6.2f}x"
          f"{c['gflops']:>9.1f}{c['gflops'] / peak:>8.0%}{o['per_s']:>10.2f}{o['per_s'] / p['per_s']:>6.2f}x")
print("cervirisk/s: the trainer's step (one part of the batch per thread); 1-part/s: one forward +"
      " backward of the whole batch on torch's intra-op threads, as Python runs it")
PYEOF
