#!/usr/bin/env bash
# Tokenizer throughput (reports/s) of the C++ tokenizer vs the Python reference of the tests
# (scripts/text_reference_tokenizer.py: HF's algorithm in plain Python, which is what the
# transformers "slow" BertTokenizer is), on the same synthetic reports and vocabulary; and BERT
# forward latency for the cpu-small and bert-base shapes.
#   bench/text.sh [BUILD_DIR]      (TEXT_BENCH_THREADS=N: intra-op threads, default = cores;
#                                   TEXT_BENCH_REPORTS=N: reports, default 2000)
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
ninja -C "$BUILD" text_bench >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
N=${TEXT_BENCH_REPORTS:-2000}
"$BUILD"/bench/text_bench "$TMP" "$N" | tee "$TMP/cpp.jsonl"
/usr/bin/python3 scripts/text_reference_tokenizer.py bench "$TMP/vocab.txt" "$TMP/reports.txt" | tee "$TMP/py.json"
/usr/bin/python3 - "$TMP/cpp.jsonl" "$TMP/py.json" <<'PY'
import json, sys
cpp = [json.loads(l) for l in open(sys.argv[1])]
py = json.load(open(sys.argv[2]))
tok = [r for r in cpp if r["bench"] == "tokenize"][0]
assert tok["tokens"] == py["tokens"], "token counts differ: C++ %d vs Python %d" % (tok["tokens"], py["tokens"])
print("| benchmark | value |")
print("|---|---|")
print("| tokenizer, cervirisk (C++) | %.0f reports/s |" % tok["reports_per_s"])
print("| tokenizer, Python reference | %.0f reports/s |" % py["reports_per_s"])
print("| speed-up | %.1fx (same %d tokens) |" % (tok["reports_per_s"] / py["reports_per_s"], tok["tokens"]))
for r in cpp:
    if r["bench"] == "bert_forward":
        print("| BERT %s forward, batch %d x %d tokens (%d threads) | %.1f ms (median) |" %
              (r["preset"], r["batch"], r["tokens"], r["threads"], r["median_ms"]))
PY
