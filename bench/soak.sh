#!/usr/bin/env bash
# `cervirisk serve` under a long mixed load (docs/service.md "Soak"): 8 concurrent clients on
# loopback for DURATION seconds send valid predictions (each 200 compared with `cervirisk predict`
# for the same patient, computed once up front), maps, model lists, and invalid requests (a wrong
# token, a missing field, a corrupt NIfTI, an unknown model, an upload over the limit), each of
# which must get its own status code. The server's resident memory is sampled every 5 s; it must
# not grow by 10 % or more from the first minute after warm-up to the last minute, must never
# die, and must leave no upload folder behind.
#   bash bench/soak.sh [DURATION] [BUILD] [RUN DATA]   DURATION: seconds of load (default 600)
#     RUN DATA: a run folder with models/msm_tc and its cohort's folder (manifest.csv, images/,
#     masks/, reports/); default: a synthetic cohort and a cpu-small study made here
#   SOAK_PATIENTS / SOAK_EPOCHS: the study made here (default 120 / 3, ~3 min; ctest: 40 / 1)
# Exit status 0 only when every request got its expected status, no prediction differed from
# the CLI's, the server lived and the memory stayed within 10 %.
set -euo pipefail
DURATION=${1:-600}
BUILD=${2:-build}
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/cervirisk-soak-XXXXXX)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# A copy of the binary: the build folder may be rebuilt while the soak runs.
[[ "$BUILD" == /* ]] || BUILD=$PWD/$BUILD
cp "$BUILD/bin/cervirisk" "$WORK/cervirisk"
BIN=$WORK/cervirisk
RUN=${3:-}
if [[ -z "$RUN" ]]; then
  "$BIN" -q synth --out "$WORK/data" --size small --patients "${SOAK_PATIENTS:-120}" >/dev/null
  cat "$WORK/data/study.toml" - > "$WORK/data/soak.toml" <<TOML
[preprocess]
workers = 2
[text]
pretrain_epochs = ${SOAK_PRETRAIN_EPOCHS:-1}
[train]
epochs = ${SOAK_EPOCHS:-3}
TOML
  "$BIN" -q study --no-report --variants clinical msm_tc --config "$WORK/data/soak.toml" --out "$WORK/run" >/dev/null
  RUN=$WORK/run
  DATA=$WORK/data
else
  DATA=${4:?"give the run's data folder (its manifest.csv, images/, masks/, reports/) after RUN"}
fi
MODEL=$RUN/models/msm_tc
IDS=$(tail -n +2 "$DATA/manifest.csv" | cut -d, -f1 | head -20)

# The reference: `cervirisk predict` once per patient (image, mask, report, clinical values).
mkdir -p "$WORK/ref"
header=$(head -1 "$DATA/manifest.csv")
for id in $IDS; do
  grep "^$id," "$DATA/manifest.csv" | awk -F, -v h="$header" '{
    n = split(h, names, ","); s = "{"
    for (k = 8; k <= n; ++k) s = s (k > 8 ? "," : "") "\"" names[k] "\":" ($k == "" ? "null" : "\"" $k "\"")
    print s "}" }' > "$WORK/ref/$id.clinical.json"
  rep=()
  [[ -f "$DATA/reports/$id.txt" ]] && rep=(--report "$DATA/reports/$id.txt")  # some patients have none
  "$BIN" -q predict --model "$MODEL" --image "$DATA/images/${id}_t2.nii.gz" --mask "$DATA/masks/${id}_mask.nii.gz" \
    "${rep[@]}" --clinical "$WORK/ref/$id.clinical.json" > "$WORK/ref/$id.json"
  grep -o '"probability": *[-0-9.eE+]*' "$WORK/ref/$id.json" | sed 's/.*: *//' > "$WORK/ref/$id.p"
  grep -o '"risk_group": *"[^"]*"' "$WORK/ref/$id.json" | sed 's/.*: *//' > "$WORK/ref/$id.g"
done
FIRST=$(echo "$IDS" | head -1)
head -c 9000000 /dev/urandom > "$WORK/big.bin"  # over --max-upload-mb 8
img=$DATA/images/${FIRST}_t2.nii.gz
head -c $(( $(stat -c %s "$img") / 2 )) "$img" > "$WORK/corrupt.nii.gz"  # a gzip stream cut in half

mkdir -p "$WORK/tmp"
TMPDIR=$WORK/tmp "$BIN" serve --model "$MODEL" --port 0 --token-file "$WORK/token" --workers 2 --queue 16 \
  --max-upload-mb 8 --audit-log "$WORK/audit.jsonl" 2> "$WORK/serve.err" &
SERVER=$!
for _ in $(seq 300); do grep -q "listening on" "$WORK/serve.err" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/serve.err" | cut -d: -f2)
TOKEN=$(cat "$WORK/token")
BASE=http://127.0.0.1:$PORT
rss() { awk '/VmRSS/ {print $2}' /proc/$SERVER/status 2>/dev/null || echo 0; }
RSS_IDLE=$(rss)

# One request: prints "kind expected-status status seconds verdict" (verdict ok / wrong / unexpected).
one() {
  local kind=$1 id=$2 out code t expect=200 verdict=ok body=$WORK/body.$BASHPID
  local auth=(-H "Authorization: Bearer $TOKEN")
  local form=(-F image=@"$DATA/images/${id}_t2.nii.gz" -F mask=@"$DATA/masks/${id}_mask.nii.gz"
              -F clinical=@"$WORK/ref/$id.clinical.json")
  [[ -f "$DATA/reports/$id.txt" ]] && form+=(-F report=@"$DATA/reports/$id.txt")
  local url=$BASE/v1/models/msm_tc/predict extra=()
  case $kind in
    valid) ;;
    explain) extra=(-F explain=1) ;;
    models) url=$BASE/v1/models form=() ;;
    token) auth=(-H "Authorization: Bearer not-the-token-$id"); expect=401 ;;
    missing) form=(-F image=@"$DATA/images/${id}_t2.nii.gz"); expect=400 ;;
    corrupt) form=(-F image=@"$WORK/corrupt.nii.gz" -F mask=@"$DATA/masks/${id}_mask.nii.gz"); expect=400 ;;
    model) url=$BASE/v1/models/no_such_model/predict; expect=404 ;;
    oversized) extra=(-F report=@"$WORK/big.bin"); form=("${form[@]:0:4}"); expect=413 ;;
  esac
  out=$(curl -s -m 120 -o "$body" -w '%{http_code} %{time_total}' "${auth[@]}" "${form[@]}" "${extra[@]}" "$url") || true
  code=${out% *} t=${out#* }
  [[ "$code" == "$expect" ]] || verdict=unexpected
  if [[ $verdict == ok && ($kind == valid || $kind == explain) ]]; then
    local p g
    p=$(grep -o '"probability":[-0-9.eE+]*' "$body" | cut -d: -f2)
    g=$(grep -o '"risk_group":"[^"]*"' "$body" | cut -d: -f2)
    # The same probability as the CLI's (to 1e-6, docs/service.md; "exact" when the digits agree).
    if [[ "$g" != "$(cat "$WORK/ref/$id.g")" ]] ||
       ! awk -v a="$p" -v b="$(cat "$WORK/ref/$id.p")" 'BEGIN {d = a - b; exit !(a != "" && d < 1e-6 && d > -1e-6)}'; then
      verdict=wrong
    elif [[ "$p" == "$(cat "$WORK/ref/$id.p")" ]]; then
      verdict=exact
    fi
    if [[ $kind == explain && $verdict != wrong ]]; then
      local map
      map=$(grep -o '"/v1/predictions/[0-9a-f]*/maps/[^"]*"' "$body" | head -1 | tr -d '"')
      local m
      m=$(curl -s -m 60 -o /dev/null -w '%{http_code} %{time_total}' "${auth[@]}" "$BASE$map") || true
      echo "map 200 ${m% *} ${m#* } $([[ ${m% *} == 200 ]] && echo ok || echo unexpected)"
    fi
  fi
  echo "$kind $expect $code $t $verdict"
}
export -f one; export TOKEN DATA WORK BASE

KINDS=(valid valid valid valid explain models token missing corrupt model valid valid valid valid explain models token
       missing corrupt oversized)
END=$(( $(date +%s) + DURATION ))
MAX=${SOAK_MAX_REQUESTS:-200000}  # per client: the count is bounded as well as the time
for c in $(seq 8); do
  (
    set +e +o pipefail  # a failed request is counted, not the end of its client
    ids=($IDS)
    k=$c
    while (( $(date +%s) < END && k < MAX )); do
      one "${KINDS[$(( k % ${#KINDS[@]} ))]}" "${ids[$(( (k * 7 + c) % ${#ids[@]} ))]}"
      k=$((k + 1))
    done > "$WORK/client.$c"
  ) &
done
T0=$(date +%s)
# Resident memory every 5 s until the clients are done (seconds since the start, kB).
while (( $(date +%s) < END )) && kill -0 $SERVER 2>/dev/null; do
  echo "$(( $(date +%s) - T0 )) $(rss)" >> "$WORK/rss"
  sleep 5
done
wait $(jobs -p | grep -v "^$SERVER$") 2>/dev/null || true
ALIVE=yes
kill -0 $SERVER 2>/dev/null || ALIVE=no
echo "$(( $(date +%s) - T0 )) $(rss)" >> "$WORK/rss"
curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz" > "$WORK/health" || true

cat "$WORK"/client.* > "$WORK/all"
# Warm-up: the first minute (a sixth of a short run); then the minute after it against the last.
WARM=$(( DURATION >= 360 ? 60 : DURATION / 6 ))
WIN=$(( DURATION >= 480 ? 60 : DURATION / 4 ))
read -r RSS_BASE RSS_END RSS_PEAK < <(awk -v w=$WARM -v n=$WIN -v d=$DURATION '
  $1 >= w && $1 < w + n {b += $2; nb++} $1 >= d - n {e += $2; ne++} $2 > pk {pk = $2}
  END {printf "%d %d %d\n", nb ? b / nb : 0, ne ? e / ne : 0, pk}' "$WORK/rss")
GROWTH=$(awk -v a="$RSS_BASE" -v b="$RSS_END" 'BEGIN {printf "%.1f", a ? 100 * (b - a) / a : 999}')
LEFT=$(find "$WORK/tmp" -mindepth 2 | wc -l)  # inside the maps folder: only kept maps; no request folder
DIRS=$(find "$WORK/tmp" -mindepth 1 -maxdepth 1 | wc -l)
TOTAL=$(wc -l < "$WORK/all")
WRONG=$(awk '$5 == "wrong"' "$WORK/all" | wc -l)
UNEXPECTED=$(awk '$5 == "unexpected"' "$WORK/all" | wc -l)
EXACT=$(awk '$5 == "exact"' "$WORK/all" | wc -l)
VALID=$(awk '($1 == "valid" || $1 == "explain") && $3 == 200' "$WORK/all" | wc -l)
stats() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "p50 %.1f ms  p99 %.1f ms  (n %d)", 1000*a[int(NR*0.5)+1], 1000*a[int(NR*0.99)+ (NR*0.99==int(NR*0.99)?0:1)], NR}'; }
echo "soak: ${DURATION} s, 8 clients, $TOTAL requests ($(awk -v n=$TOTAL -v d=$DURATION 'BEGIN {printf "%.1f", n / d}') requests/s)"
echo "per kind (expected status: got):"
awk '{k[$1 " " $2 ": " $3]++} END {for (x in k) printf "  %-22s %d\n", x, k[x]}' "$WORK/all" | sort
echo "per status: $(awk '{s[$3]++} END {for (x in s) printf "%s %d, ", x, s[x]}' "$WORK/all" | sed 's/, $//')"
echo "valid predictions answered 200: $VALID; wrong answers: $WRONG (identical digits to the CLI's: $EXACT)"
echo "unexpected statuses: $UNEXPECTED$( (( UNEXPECTED )) && echo " -- $(awk '$5 == "unexpected" {print $1 ":" $3}' "$WORK/all" | sort | uniq -c | tr '\n' ' ')")"
echo "latency, valid predictions without maps: $(awk '$1 == "valid" && $3 == 200 {print $4}' "$WORK/all" | stats)"
echo "latency, with maps (explain=1):          $(awk '$1 == "explain" && $3 == 200 {print $4}' "$WORK/all" | stats)"
echo "latency, all requests:                   $(awk '{print $4}' "$WORK/all" | stats)"
echo "server resident memory: $((RSS_IDLE / 1024)) MB idle, $((RSS_BASE / 1024)) MB in the ${WIN} s after the ${WARM} s of warm-up, $((RSS_END / 1024)) MB in the last ${WIN} s (${GROWTH} %), peak $((RSS_PEAK / 1024)) MB"
echo "server alive: $ALIVE (healthz $(cat "$WORK/health")); temporary folder: $DIRS entries (the maps folder), $LEFT files in it (kept maps)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ok=1
[[ $ALIVE == yes && $WRONG == 0 && $UNEXPECTED == 0 && $VALID -gt 0 && $DIRS == 1 ]] || ok=0
awk -v g="$GROWTH" 'BEGIN {exit !(g < 10)}' || ok=0
(( ok )) && echo "soak: PASS" || { echo "soak: FAIL"; exit 1; }
