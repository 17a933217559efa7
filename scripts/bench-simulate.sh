#!/usr/bin/env bash
# How long `kedactl simulate` takes for a 24-hour trace at 1-second resolution (86,400 steps of
# both controllers and the queue model), beside `kedactl --version` (process start-up alone),
# measured in the same run. Prints medians of N runs (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
cargo build --release --quiet
bin=target/release/kedactl
time_ms() {
  local start end
  start=$(date +%s%N)
  "$@" > /dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
sim=(); ver=()
for _ in $(seq 1 "$runs"); do
  ver+=("$(time_ms "$bin" --version)")
  sim+=("$(time_ms "$bin" simulate --shape spikes --rate 3 --duration 24h -q)")
done
v=$(printf '%s\n' "${ver[@]}" | median)
s=$(printf '%s\n' "${sim[@]}" | median)
echo "| command ($runs runs, median) | wall time |"
echo "|---|---|"
echo "| \`kedactl --version\` (start-up) | $(awk "BEGIN {printf \"%.1f\", $v/1000}") ms |"
echo "| \`kedactl simulate --shape spikes --duration 24h\` | $(awk "BEGIN {printf \"%.1f\", $s/1000}") ms |"
echo "| simulation alone (difference) | $(awk "BEGIN {printf \"%.1f\", ($s-$v)/1000}") ms |"
