#!/usr/bin/env bash
# scale.sh — "Reports at scale" (bench/README.md): time and peak memory of
# `dsim report` on a trace of about ten million events.
#
#   bench/reports/scale.sh [BUILD_DIR] [WORK_DIR]
#
# Makes the trace once with bench/reports/gossip.lua (about 800 MB, kept in
# WORK_DIR, default /tmp/dsim-reports-scale), then runs each report three
# times under /usr/bin/time and prints the median wall time and peak
# resident memory of each as a Markdown table. Run it on an idle machine;
# it takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build}
work=${2:-/tmp/dsim-reports-scale}
dsim=$build/dsim
events=4300000 # kernel events; the trace has about 2.33 lines per kernel event
mkdir -p "$work"
trace=$work/gossip10m.jsonl
if [ ! -s "$trace" ]; then
  echo "making the trace: dsim run bench/reports/gossip.lua --max-events $events" >&2
  "$dsim" run bench/reports/gossip.lua --max-events "$events" --trace "$trace" -q
fi
lines=$(wc -l <"$trace")
bytes=$(stat -c %s "$trace")

# median of three: elapsed seconds and peak RSS (KiB)
measure() {
  local label=$1
  shift
  local runs=()
  for i in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.$i" "$@" >/dev/null
    runs+=("$(cat "$work/time.$i")")
  done
  local secs rss
  secs=$(printf '%s\n' "${runs[@]}" | awk '{print $1}' | sort -n | sed -n 2p)
  rss=$(printf '%s\n' "${runs[@]}" | awk '{print $2}' | sort -n | sed -n 2p)
  printf '| %s | %s s | %s MiB |\n' "$label" "$secs" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
}

echo "trace: $trace, $((lines - 1)) events ($lines lines, $((bytes / 1048576)) MiB)"
echo
echo "| command | wall time (median of 3) | peak RSS (median of 3) |"
echo "|---|---|---|"
measure "\`dsim report T\` (summary of the whole trace)" "$dsim" report "$trace"
measure "\`dsim report T --html W.html --from 600 --to 600.2\` (window near the end)" \
  "$dsim" report "$trace" --html "$work/window-end.html" --from 600 --to 600.2
measure "\`dsim report T --html W.html --from 10 --to 10.2\` (window near the start)" \
  "$dsim" report "$trace" --html "$work/window-start.html" --from 10 --to 10.2
measure "\`dsim report T --html W.html\` (whole trace; diagram stops at 5000 events)" \
  "$dsim" report "$trace" --html "$work/whole.html"
measure "\`dsim report T --format csv\` (every message event as a row)" "$dsim" report "$trace" --format csv -o "$work/messages.csv"
