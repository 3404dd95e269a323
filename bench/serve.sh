#!/usr/bin/env bash
# `cervirisk serve` against `cervirisk predict`, in one run (docs/service.md "Measured"):
# warm latency per patient without and with maps, throughput of 8 concurrent clients over 500
# requests (p50 / p99, errors), the server's resident memory before and after.
#   bash bench/serve.sh [BUILD] [RUN]   RUN: a run folder with models/msm_tc (default: a 120-patient
#                                        synthetic cohort and a cpu-small study made here, ~3 min)
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
BIN=$PWD/$BUILD/bin/cervirisk
WORK=$(mktemp -d /tmp/cervirisk-bench-serve-XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
RUN=${2:-}
if [[ -z "$RUN" ]]; then
  "$BIN" -q synth --out "$WORK/data" --size small --patients 120 >/dev/null
  cat "$WORK/data/study.toml" - > "$WORK/data/bench.toml" <<'TOML'
[preprocess]
workers = 2
[text]
pretrain_epochs = 1
[train]
epochs = 3
TOML
  "$BIN" -q study --no-report --variants clinical msm_tc --config "$WORK/data/bench.toml" --out "$WORK/run" >/dev/null
  RUN=$WORK/run
  DATA=$WORK/data
else
  DATA=$(dirname "$(grep -m1 -o '"manifest": *"[^"]*"' "$RUN/run.json" | sed 's/.*: *"//; s/"$//')")
fi
MODEL=$RUN/models/msm_tc
IDS=$(tail -n +2 "$DATA/manifest.csv" | cut -d, -f1 | head -20)
"$BIN" serve --model "$MODEL" --port 0 --token-file "$WORK/token" --workers 2 --queue 16 \
  --audit-log "$WORK/audit.jsonl" 2> "$WORK/serve.err" &
SERVER=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.err" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/serve.err" | cut -d: -f2)
TOKEN=$(cat "$WORK/token")
URL=http://127.0.0.1:$PORT/v1/models/msm_tc/predict
rss() { awk '/VmRSS/ {print $2}' /proc/$SERVER/status; }
req() {  # id [extra curl args]: seconds of one request; exits non-zero unless 200
  local id=$1; shift
  local rep=()
  [[ -f "$DATA/reports/$id.txt" ]] && rep=(-F report=@"$DATA/reports/$id.txt")
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
    -F image=@"$DATA/images/${id}_t2.nii.gz" -F mask=@"$DATA/masks/${id}_mask.nii.gz" "${rep[@]}" "$@" "$URL"
}
export -f req; export TOKEN DATA URL
stats() { sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p99 %.1f ms  (n %d)", 1000*a[int(NR*0.5)+1], 1000*a[int(NR*0.99)+ (NR*0.99==int(NR*0.99)?0:1)], NR}'; }
for id in $IDS; do req "$id" >/dev/null; done  # warm-up
RSS0=$(rss)
echo "serve, one client, 20 patients without maps: $(for id in $IDS; do req "$id"; done | awk '$1==200 {print $2}' | stats)"
echo "serve, one client, 20 patients with maps:    $(for id in $IDS; do req "$id" -F explain=1; done | awk '$1==200 {print $2}' | stats)"
t0=$(date +%s.%N)
cli=$(for id in $(echo "$IDS" | head -5); do
  s=$(date +%s.%N)
  "$BIN" -q predict --model "$MODEL" --image "$DATA/images/${id}_t2.nii.gz" --mask "$DATA/masks/${id}_mask.nii.gz" \
    --report "$DATA/reports/$id.txt" >/dev/null 2>&1 || true
  echo "$(date +%s.%N) - $s" | bc
done | stats)
echo "cervirisk predict (process per patient), 5 patients: $cli"
t0=$(date +%s.%N)
out=$(for k in $(seq 500); do echo "$IDS" | sed -n "$(( (k % 20) + 1 ))p"; done | xargs -P 8 -I{} bash -c 'req {}')
t1=$(date +%s.%N)
ok=$(echo "$out" | awk '$1==200' | wc -l)
echo "serve, 8 clients, 500 requests: $(echo "$out" | awk '$1==200 {print $2}' | stats); $(echo "$t0 $t1 $ok" | awk '{printf "%.1f requests/s", $3/($2-$1)}'); errors $((500 - ok))"
RSS1=$(rss)
out=$(for k in $(seq 500); do echo "$IDS" | sed -n "$(( (k % 20) + 1 ))p"; done | xargs -P 8 -I{} bash -c 'req {}')
RSS2=$(rss)
echo "server resident memory: $((RSS0 / 1024)) MB after warm-up, $((RSS1 / 1024)) MB after 540 more requests ($(echo "$RSS0 $RSS1" | awk '{printf "%+.1f %%", 100*($2-$1)/$1}')), $((RSS2 / 1024)) MB after 500 more ($(echo "$RSS1 $RSS2" | awk '{printf "%+.1f %%", 100*($2-$1)/$1}') over the previous 500)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
