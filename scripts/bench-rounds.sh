#!/usr/bin/env bash
# Round trips on the critical path: each command runs against moto through two loopback proxies
# (scripts/latency-proxy.py), one adding D ms to every call and one adding none, in the same run;
# (time at D − time at 0) / D is the number of round trips the command waits for one after
# another (process start-up, CPU and moto's own time cancel out). kedactl's own count of its
# reads (`-v`: "read AWS: N calls in M round trips") is printed beside it.
#   scripts/bench-rounds.sh [RUNS] [DELAY_MS]    default 5 runs (median), 100 ms
#   scripts/bench-rounds.sh --apps N [N...]      stacks of N apps, each with its own role, queue
#                                                and repository: round trips counted by
#                                                scripts/rounds-proxy.py, not timed (at hundreds
#                                                of calls moto's own time swamps the difference)
# BIN=target/debug/kedactl skips the release build (CI runs `scripts/bench-rounds.sh 1` so).
set -euo pipefail
cd "$(dirname "$0")/.."
apps=()
if [ "${1:-}" = --apps ]; then
  shift
  apps=("$@")
  [ ${#apps[@]} -gt 0 ] || apps=(1 10 100)
  set --
fi
runs=${1:-5}
delay=${2:-100}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/kedactl
fi
mkdir -p target/bench
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
if [ -z "${KEDACTL_TEST_AWS_ENDPOINT:-}" ]; then
  port=$(free_port)
  python3 tests/support/moto_server.py -H 127.0.0.1 -p "$port" > target/bench/moto-rounds.log 2>&1 &
  pids+=($!)
  until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/reset', data=b'')" 2>/dev/null; do sleep 0.3; done
  KEDACTL_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
fi
command -v aws > /dev/null || { echo "bench-rounds: the aws CLI is needed (pip install awscli)" >&2; exit 1; }
scripts/moto-cluster.sh "$KEDACTL_TEST_AWS_ENDPOINT" demo
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
export AWS_DEFAULT_REGION=us-east-1
# `--apps`: each command of each stack through the counting proxy; a round is a batch of calls
# let through together after 100 ms without a new one (kedactl's own work between an answer and
# the calls it causes stays well under that).
if [ ${#apps[@]} -gt 0 ]; then
  rp=$(free_port)
  python3 scripts/rounds-proxy.py "$rp" "$KEDACTL_TEST_AWS_ENDPOINT" 100 &
  pids+=($!)
  until python3 -c "import socket; socket.create_connection(('127.0.0.1', $rp), 1)" 2>/dev/null; do sleep 0.2; done
  count() { python3 -c "import json, sys, urllib.request; c = json.load(urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$rp/rounds-proxy/reset', data=b''))); print(c['rounds'], c['calls'])"; }
  echo "| apps, \`--only iam,queue,registry\` | \`up\` from empty | \`plan\` (converged) | \`down\` | critical path of \`up\` / \`down\` (kedactl -v) |"
  echo "|---|---|---|---|---|"
  for n in "${apps[@]}"; do
    s="rc$n-$RANDOM"
    f="target/bench/rounds-$n.yaml"
    python3 - "$n" "$s" > "$f" <<'PY'
import sys
n, s = int(sys.argv[1]), sys.argv[2]
print(f"cluster: demo\nregion: us-east-1\nstack: {s}\nroles:\n  operator: {s}-op\n  identity: {s}-id\napps:")
for i in range(n):
    print(f"  - deployment: app{i}\n    namespace: ns{i}\n    serviceAccount: sa{i}\n    repository: {s}-repo{i}\n"
          f"    identityRole: {s}-app{i}-identity\n    queue:\n      name: {s}-q{i}")
PY
    declare -A cell=()
    for phase in up plan down; do
      case $phase in up) args=(up --yes) ;; plan) args=(plan) ;; down) args=(down --yes) ;; esac
      count > /dev/null
      AWS_ENDPOINT_URL="http://127.0.0.1:$rp" "$BIN" "${args[@]}" -f "$f" --only iam,queue,registry -v > /dev/null 2> target/bench/rounds.err \
        || { echo "bench-rounds: $phase of $n apps failed:" >&2; tail -5 target/bench/rounds.err >&2; exit 1; }
      read -r rounds calls < <(count)
      cell[$phase]="$rounds ($calls calls)"
      cell[$phase-path]=$(grep -o 'critical path: [0-9]* steps\? one after another, [0-9]* AWS round trips\?' target/bench/rounds.err | sed 's/critical path: //; s/ one after another//; s/ AWS//' || true)
    done
    echo "| $n | ${cell[up]} | ${cell[plan]} | ${cell[down]} | ${cell[up-path]:-–} / ${cell[down-path]:-–} |"
  done
  exit 0
fi
declare -A proxy
for d in 0 "$delay"; do
  proxy[$d]=$(free_port)
  python3 scripts/latency-proxy.py "${proxy[$d]}" "$KEDACTL_TEST_AWS_ENDPOINT" "$d" &
  pids+=($!)
  until python3 -c "import socket; socket.create_connection(('127.0.0.1', ${proxy[$d]}), 1)" 2>/dev/null; do sleep 0.2; done
done

declare -A ms own
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
phases=("up from empty" "plan (converged)" "up (converged)" "down")
# One unmeasured pass first: moto builds each service's backend on its first call (about a second).
for d in 0 "$delay"; do
  w="rtwarm-$d-$RANDOM"
  for verb in up down; do
    AWS_ENDPOINT_URL="http://127.0.0.1:${proxy[$d]}" "$BIN" "$verb" --yes --cluster demo --region us-east-1 --stack "$w" --operator-role "$w-op" --identity-role "$w-id" --queue "$w-q" --repository "$w-repo" --only iam,queue,registry -q > /dev/null 2>&1
  done
done
for r in $(seq 1 "$runs"); do
  for d in 0 "$delay"; do
    k="rt$r-$d-$RANDOM"
    flags=(--cluster demo --region us-east-1 --stack "$k" --operator-role "$k-op" --identity-role "$k-id" --queue "$k-q" --repository "$k-repo" --only iam,queue,registry)
    for phase in "${phases[@]}"; do
      case $phase in
        up*) args=(up --yes) ;; plan*) args=(plan) ;; down) args=(down --yes) ;;
      esac
      s=$(date +%s%N)
      AWS_ENDPOINT_URL="http://127.0.0.1:${proxy[$d]}" "$BIN" "${args[@]}" "${flags[@]}" -v > /dev/null 2> target/bench/rounds.err
      e=$(date +%s%N)
      ms[$phase,$d]+="$(( (e - s) / 1000000 )) "
      own[$phase]=$(grep -o 'in [0-9]* round trips' target/bench/rounds.err | head -1 | grep -o '[0-9]*' || echo -)
    done
    # The seed's way with the aws CLI, the same resources (documents rendered first, untimed).
    h="bh$r-$d-$RANDOM"
    "$BIN" render --cluster demo --region us-east-1 --stack "$h" --operator-role "$h-op" --identity-role "$h-id" --queue "$h-q" --repository "$h-repo" --only iam,queue,registry --account 123456789012 --out-dir "target/bench/render-$h" > /dev/null 2>&1
    s=$(date +%s%N)
    AWS_ENDPOINT_URL="http://127.0.0.1:${proxy[$d]}" scripts/by-hand.sh "$h" "target/bench/render-$h" > /dev/null
    e=$(date +%s%N)
    ms[by hand,$d]+="$(( (e - s) / 1000000 )) "
    own[by hand]=-
  done
done
phases+=("by hand")
echo "| $runs runs (median), \`--only iam,queue,registry\` | at 0 ms/call | at ${delay} ms/call | round trips waited for | reads' round trips (kedactl -v) |"
echo "|---|---|---|---|---|"
for p in "${phases[@]}"; do
  z=$(echo "${ms[$p,0]}" | median)
  m=$(echo "${ms[$p,$delay]}" | median)
  name="kedactl $p"
  [ "$p" = "by hand" ] && name="aws CLI script (by-hand.sh), up from empty"
  echo "| \`$name\` | $z ms | $m ms | $(awk "BEGIN {printf \"%.1f\", ($m - $z) / $delay}") | ${own[$p]} |"
done
up0=$(echo "${ms[up from empty,$delay]}" | median)
hand=$(echo "${ms[by hand,$delay]}" | median)
echo
echo "At ${delay} ms per call, kedactl up from empty takes $(awk "BEGIN {printf \"%.1f\", $hand / $up0}")x less time than the aws CLI script."

