#!/usr/bin/env bash
# Explanation time per patient, C++ (src/explain) vs the same algorithms in numpy
# (scripts/explain_shap_golden.py) on the same model, data and coalition stream:
# exact group Shapley over 3 groups of 4 features, KernelSHAP with 2M + 2048 = 2072 coalitions
# over 12 features; background of 50 rows; 20 patients. The checksums must agree.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
PATIENTS=${PATIENTS:-20}
ROWS=${ROWS:-50}
ninja -C "$BUILD" bench_explain >/dev/null
cpp=$("$BUILD/bench/bench_explain" "$PATIENTS" "$ROWS")
py=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 - "$PATIENTS" "$ROWS" <<'PY'
import json, sys, time
import numpy as np
sys.path.insert(0, "scripts")
import explain_shap_golden as g
P, B = int(sys.argv[1]), int(sys.argv[2])
i, j = np.meshgrid(np.arange(B), np.arange(12), indexing="ij")
bg = np.sin(1.0 + i * 0.7 + j * 1.3)
i, j = np.meshgrid(np.arange(P), np.arange(12), indexing="ij")
X = np.cos(0.5 + i * 0.9 + j * 0.4)
bw = np.full(B, 1.0 / B)
groups = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
cs = 0.0
t0 = time.perf_counter()
for x in X:
    cs += g.exact_shapley(g.model12, x, bg, bw, "identity", groups)[0].sum()
t1 = time.perf_counter()
for x in X:
    cs += g.kernel_shap(g.model12, x, bg, bw, "identity", 0, 1)[0][0]
t2 = time.perf_counter()
print(json.dumps({"group_ms_per_patient": (t1 - t0) * 1e3 / P, "kernel_ms_per_patient": (t2 - t1) * 1e3 / P, "checksum": cs}))
PY
)
/usr/bin/python3 - "$cpp" "$py" <<'PY'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"explain: {c['patients']} patients, background {c['background']} rows, 12 features (threads: C++ 1, numpy 1)")
print(f"{'method':<34}{'C++ ms/patient':>16}{'numpy ms/patient':>18}{'numpy/C++':>11}")
for k, name in (("group", "exact group Shapley (3 groups)"), ("kernel", "KernelSHAP 2072 coalitions")):
    a, b = c[k + "_ms_per_patient"], p[k + "_ms_per_patient"]
    print(f"{name:<34}{a:>16.3f}{b:>18.3f}{b / a:>10.1f}x")
print(f"checksum C++ {c['checksum']:.10f}  numpy {p['checksum']:.10f}  |diff| {abs(c['checksum'] - p['checksum']):.2e}")
print(f"max |sum(phi) - (f(x) - E f)| (C++ KernelSHAP): {c['max_efficiency_error']:.2e}")
PY
