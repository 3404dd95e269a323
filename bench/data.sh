#!/usr/bin/env bash
# The synthetic cohort: time to write the full default cohort (445 patients, NIfTI + reports +
# tables) and to validate it, with the CPU time beside the wall time (on a shared machine the
# wall time depends on the load; CPU time / cores is the figure for an idle machine).
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/bin/cervirisk"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "synth 445 patients: %e s wall, %U s user, %S s sys" "$BIN" synth --out "$OUT/c" -q > /dev/null
/usr/bin/time -f "validate 445 patients: %e s wall, %U s user, %S s sys" "$BIN" validate --config "$OUT/c/study.toml" -q > /dev/null
echo "cohort size: $(du -sh "$OUT/c" | cut -f1)"
