#!/usr/bin/env bash
# Statistics vs R (pROC 1.18, survival 3.5) on the same synthetic data, n = 1e4, 1e5, 1e6.
# Usage: bench/stats.sh [BUILD_DIR]   (needs Rscript with survival and pROC; builds stats_bench)
# Times are CPU seconds (robust to a loaded machine), best of 3 (1 at n = 1e6).
# Prints one row per task and n: our seconds, R's seconds, R/ours, our time per n log2 n relative
# to the smallest n, and the growth of our time over the previous n (x10 rows: ~11-13 for
# O(n log n), 100 for O(n^2); the smallest n fits in cache, so the first step grows more).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
if ! command -v Rscript >/dev/null; then
  echo "bench/stats.sh: Rscript not found (needs r-base-core, r-cran-survival, r-cran-proc): skipped"
  exit 0
fi
cmake --build "$BUILD" --target stats_bench >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SIZES=${STATS_BENCH_SIZES:-"10000 100000 1000000"}
printf "%-11s %8s %10s %10s %9s %12s %8s\n" task n ours_s R_s R/ours scale_nlogn growth
declare -A base prev
for n in $SIZES; do
  reps=3; [ "$n" -ge 1000000 ] && reps=1
  Rscript bench/stats_data.R "$n" "$TMP/d.bin" "$reps" > "$TMP/r.txt"
  "$BUILD/bin/stats_bench" "$TMP/d.bin" "$n" "$reps" > "$TMP/c.txt" 2>/dev/null
  while read -r task ours; do
    r=$(awk -v t="$task" '$1==t {print $2}' "$TMP/r.txt")
    per=$(awk -v s="$ours" -v n="$n" 'BEGIN {printf "%.6e", s / (n * log(n) / log(2))}')
    [ -z "${base[$task]:-}" ] && base[$task]=$per
    awk -v t="$task" -v n="$n" -v o="$ours" -v r="$r" -v p="$per" -v b="${base[$task]}" -v q="${prev[$task]:-}" \
      'BEGIN {g = (q != "" && q > 0) ? sprintf("%8.1f", o / q) : "       -";
              printf "%-11s %8d %10.4f %10.3f %9.1f %12.2f %s\n", t, n, o, r, (o > 0 ? r / o : 0), p / b, g}'
    prev[$task]=$ours
  done < "$TMP/c.txt"
done
