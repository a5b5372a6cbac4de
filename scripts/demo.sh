#!/usr/bin/env bash
# make demo: the whole pipeline, offline, over the bundled snapshots.
# Starts `evidence replay` on loopback, points the fetcher at it with
# fetch.connect_to (stored URLs stay the publishers' real https ones), ingests
# into a throw-away data directory (./demo-data) and runs three searches.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=./bin/evidence
DATA=./demo-data
SOURCES=(${DEMO_SOURCES:-mental-elf centre-for-mental-health kings-fund national-voices})
HOSTS="www.nationalelfservice.net www.centreformentalhealth.org.uk www.kingsfund.org.uk www.nationalvoices.org.uk"

rm -rf "$DATA"
mkdir -p "$DATA"
addrfile="$DATA/replay.addr"
"$BIN" replay --dir testdata/snapshots --addr 127.0.0.1:0 --log-level warn >"$addrfile" 2>"$DATA/replay.log" &
replay_pid=$!
trap 'kill "$replay_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -s "$addrfile" ] && break
  kill -0 "$replay_pid" 2>/dev/null || { echo "replay failed to start:"; cat "$DATA/replay.log"; exit 1; }
  sleep 0.1
done
addr=$(head -n1 "$addrfile")
[ -n "$addr" ] || { echo "replay did not report its address"; exit 1; }
echo "== replay serving testdata/snapshots on $addr"

connect=""
for h in $HOSTS; do connect="${connect:+$connect,}$h=$addr"; done
export EVIDENCE_FETCH_CONNECT_TO="$connect"
export EVIDENCE_LOG_LEVEL="${EVIDENCE_LOG_LEVEL:-warn}"
# The replay is our own server on loopback: the polite 1 request/s/host
# that real publishers get would only make the demo slow.
export EVIDENCE_FETCH_RATE_PER_HOST="${EVIDENCE_FETCH_RATE_PER_HOST:-50}"

args=()
for s in "${SOURCES[@]}"; do args+=(--source "$s"); done
echo "== evidence ingest --backfill ${args[*]}"
"$BIN" --data "$DATA" ingest --backfill "${args[@]}"

for q in "social prescribing" "CBT for psychosis" "recovery public mental health"; do
  echo
  echo "== evidence search \"$q\" --limit 3"
  "$BIN" --data "$DATA" search "$q" --limit 3
done

echo
echo "== the ImROC briefing, and who discusses it"
"$BIN" --data "$DATA" show https://www.centreformentalhealth.org.uk/publications/recovery-public-mental-health-and-wellbeing/
echo
echo "== evidence sources"
"$BIN" --data "$DATA" sources

# Everything was first seen now, so the week the digest covers is this one.
week=$(TZ=Europe/London date +%G-W%V)
echo
echo "== evidence digest build --week $week (HTML and text, into $DATA)"
"$BIN" --data "$DATA" digest build --week "$week" --format html --out "$DATA/digest-$week.html"
"$BIN" --data "$DATA" digest build --week "$week" --format text --out "$DATA/digest-$week.txt"
head -40 "$DATA/digest-$week.txt"
echo "   … the whole digest: $DATA/digest-$week.html and $DATA/digest-$week.txt"
echo
echo "Demo data kept in $DATA: try  $BIN --data $DATA search \"social prescribing\" --json"
echo "Browse it:  $BIN --data $DATA serve   then open http://127.0.0.1:8080/ (search, items, topics, /api/v1/openapi.json)"
