#!/usr/bin/env bash
# How long `kedactl simulate` takes for a 24-hour trace at 1-second resolution (86,400 steps of
# both controllers and the queue model), beside `kedactl --version` (process start-up alone),
# and the same run with its timeline as one JSON document (`-o json`) and as JSON lines
# (`-o jsonl`), with each one's peak memory, measured in the same run. Prints medians of N runs
# (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
# BIN=target/debug/kedactl skips the release build (to check the script, not the figures).
if [ -n "${BIN:-}" ]; then
  bin=$BIN
else
  cargo build --release --quiet
  bin=target/release/kedactl
fi
time_ms() {
  local start end
  start=$(date +%s%N)
  "$@" > /dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Peak resident memory of one run, in MiB (the kernel's figure for the child).
peak_mib() {
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print("%.1f" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))' "$@"
}
day=(simulate --shape spikes --rate 3 --duration 24h)
sim=(); ver=(); js=(); jl=()
for _ in $(seq 1 "$runs"); do
  ver+=("$(time_ms "$bin" --version)")
  sim+=("$(time_ms "$bin" "${day[@]}" -q)")
  js+=("$(time_ms "$bin" "${day[@]}" -o json)")
  jl+=("$(time_ms "$bin" "${day[@]}" -o jsonl)")
done
v=$(printf '%s\n' "${ver[@]}" | median)
s=$(printf '%s\n' "${sim[@]}" | median)
j=$(printf '%s\n' "${js[@]}" | median)
l=$(printf '%s\n' "${jl[@]}" | median)
ms() { awk "BEGIN {printf \"%.1f\", $1/1000}"; }
echo "| command ($runs runs, median) | wall time | vs the summary | peak memory |"
echo "|---|---|---|---|"
echo "| \`kedactl --version\` (start-up) | $(ms "$v") ms | | $(peak_mib "$bin" --version) MiB |"
echo "| \`kedactl simulate --duration 24h\` (text summary) | $(ms "$s") ms | 1.0x | $(peak_mib "$bin" "${day[@]}" -q) MiB |"
echo "| \`… -o json\` (the timeline, one document) | $(ms "$j") ms | $(awk "BEGIN {printf \"%.1f\", $j/$s}")x | $(peak_mib "$bin" "${day[@]}" -o json) MiB |"
echo "| \`… -o jsonl\` (a line per second) | $(ms "$l") ms | $(awk "BEGIN {printf \"%.1f\", $l/$s}")x | $(peak_mib "$bin" "${day[@]}" -o jsonl) MiB |"
echo "| simulation alone (summary − start-up) | $(ms "$((s - v))") ms | | |"
