#!/usr/bin/env bash
# Preprocessing throughput per patient: load .nii.gz image + mask, whole-image normalisation,
# in-plane resampling, multi-scale crops (the pipeline of src/imaging/roi.h), ours vs the same
# algorithm in nibabel + numpy + scipy.ndimage (scripts/preprocess_reference.py), on the same
# files in the same run. Files: synthetic pelvis-sized T2 volumes written by nibabel
# (512 x 512 x 28 int16, 0.6 x 0.6 x 4 mm, oblique) with a tumour mask.
# Usage: bench/imaging.sh BUILD_DIR [N_PATIENTS]
set -euo pipefail
BUILD=${1:-build}
N=${2:-8}
cd "$(dirname "$0")/.."
BIN="$BUILD/bin/bench_imaging"
[ -x "$BIN" ] || { echo "bench/imaging.sh: $BIN not built (ninja -C $BUILD bench_imaging)"; exit 1; }
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" - "$TMP" "$N" <<'PYEOF'
import sys, numpy as np, nibabel as nib
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.RandomState(1)
shape, zooms = (512, 512, 28), np.array([0.6, 0.6, 4.0])
i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
for p in range(n):
    x, y = i * zooms[0], j * zooms[1]
    body = ((x - 150) / 120) ** 2 + ((y - 160) / 95) ** 2 < 1
    base = np.where(body, 380.0, 6.0) + np.where(body, 50 * np.sin(x / 7.0 + p) * np.cos(y / 11.0), 0)
    vol = np.empty(shape, np.int16)
    mask = np.zeros(shape, np.uint8)
    cx, cy, cz = 150 + rng.uniform(-20, 20), 150 + rng.uniform(-20, 20), rng.uniform(40, 70)
    r = rng.uniform(12, 25)
    for k in range(shape[2]):
        z = k * zooms[2]
        t = ((x - cx) / r) ** 2 + ((y - cy) / (0.8 * r)) ** 2 + ((z - cz) / r) ** 2 < 1
        sl = base + rng.normal(0, 12, shape[:2]) + np.where(t, 300, 0)
        vol[:, :, k] = np.clip(sl, 0, 4000).astype(np.int16)
        mask[:, :, k] = t
    a = np.eye(4)
    c, s = np.cos(0.1), np.sin(0.1)
    a[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag(zooms)
    a[:3, 3] = [-150, -120, -60 + p]
    nib.save(nib.Nifti1Image(vol, a), "%s/img%02d.nii.gz" % (out, p))
    nib.save(nib.Nifti1Image(mask, a), "%s/mask%02d.nii.gz" % (out, p))
PYEOF
ARGS=()
for ((p = 0; p < N; p++)); do ARGS+=("$TMP/img$(printf %02d $p).nii.gz" "$TMP/mask$(printf %02d $p).nii.gz"); done
CORES=$(nproc)
# warm the page cache for both tools
cat "$TMP"/*.nii.gz > /dev/null
PY_S=$("$PY" scripts/preprocess_reference.py "${ARGS[@]}")
OURS_1=$("$BIN" 1 "${ARGS[@]}" 2>/dev/null)
OURS_N=$("$BIN" "$CORES" "${ARGS[@]}" 2>/dev/null)
OURS_Z=$(CERV_BENCH_ZLIB=1 "$BIN" 1 "${ARGS[@]}" 2>/dev/null)
"$PY" - "$PY_S" "$OURS_1" "$OURS_N" "$OURS_Z" "$CORES" "$N" <<'PYEOF'
import sys
py, o1, on, oz = [list(map(float, a.split())) for a in sys.argv[1:5]]
cores, n = int(sys.argv[5]), int(sys.argv[6])
print("preprocessing (load .nii.gz + normalise + resample + multi-scale crops), %d patients 512x512x28 int16" % n)
print("  %-40s %9s %9s   %s" % ("", "wall ms", "CPU ms", "ratio (wall / CPU) vs Python"))
print("  %-40s %9.1f %9.1f" % ("nibabel + scipy.ndimage (1 process)", py[0] * 1e3, py[1] * 1e3))
print("  %-40s %9.1f %9.1f   %.1fx / %.1fx" % ("cervirisk, 1 worker", o1[0] * 1e3, o1[1] * 1e3, py[0] / o1[0], py[1] / o1[1]))
print("  %-40s %9.1f %9.1f   %.1fx / %.1fx" % ("cervirisk, 1 worker, zlib only", oz[0] * 1e3, oz[1] * 1e3, py[0] / oz[0], py[1] / oz[1]))
print("  %-40s %9.1f %9.1f   %.1fx (wall, throughput)" % ("cervirisk, %d workers (std::thread)" % cores, on[0] * 1e3, on[1] * 1e3, py[0] / on[0]))
print("  (CPU = user + sys of the process; the wall-clock figures depend on what else runs on the machine)")
PYEOF
