#!/usr/bin/env bash
# Side-by-side benchmark against one local moto server, measured in one run (this machine is
# noisy: compare the ratios): `kedactl up --only iam,queue,registry` from an empty account vs
# scripts/by-hand.sh (the same resources with the aws CLI, as the seed does it); a converged
# `up`; `doctor`; `down`; and process start-up (`kedactl --version` vs `aws --version`).
# Prints a Markdown table (the README's).
#   scripts/bench.sh [ROUNDS]     default 5, release build; BIN=target/debug/kedactl to skip it
#   scripts/bench.sh --latency [MS] [RUNS]   round trips at MS per call (scripts/bench-rounds.sh)
#   scripts/bench.sh --scale [MAX]   render and plan --offline of 10, 100, 200, 1,000, 2,000,
#                                    5,000 and 10,000 apps (up to MAX), each app with its own role; the
#                                    fastest of RUNS (default 3) runs of each
# CI runs `scripts/bench.sh 1` with the debug binary as a smoke test of the script itself.
set -euo pipefail
cd "$(dirname "$0")/.."
# `scripts/bench.sh --latency [MS] [RUNS]`: the round-trip benchmark (scripts/bench-rounds.sh).
if [ "${1:-}" = --latency ]; then
  exec scripts/bench-rounds.sh "${3:-5}" "${2:-100}"
fi
# `scripts/bench.sh --scale [MAX]`: how the offline core grows with the stack, no AWS needed.
if [ "${1:-}" = --scale ]; then
  max=${2:-10000}
  if [ -z "${BIN:-}" ]; then cargo build --release --quiet; BIN=target/release/kedactl; fi
  mkdir -p target/bench
  declare -A t mem
  echo "| apps | render | plan --offline | peak memory (plan) |"
  echo "|---|---|---|---|"
  for n in 10 100 200 1000 2000 5000 10000; do
    [ "$n" -le "$max" ] || continue
    f="target/bench/scale-$n.yaml"
    python3 - "$n" > "$f" <<'PY'
import sys
n = int(sys.argv[1])
print("cluster: demo\nregion: us-east-1\naccount: '123456789012'\nstack: scale\nroles:\n  operatorAssumePolicy: false\napps:")
for i in range(n):
    print(f"  - deployment: app{i}\n    namespace: ns{i}\n    serviceAccount: sa{i}\n    repository: repo{i}\n"
          f"    identityRole: app{i}-identity\n    queue:\n      name: q{i}")
PY
    # kedactl reads at most 1 MiB of config (limits::MAX_CONFIG_BYTES): about 7,000 apps, more
    # than one cluster and account hold (5,000 pod identity associations a cluster, 5,000 roles
    # an account at most).
    if [ "$(wc -c < "$f")" -gt 1048576 ]; then
      echo "| $n | over the 1 MiB config limit | | |"
      continue
    fi
    for cmd in render plan; do
      extra=(); [ "$cmd" = plan ] && extra=(--offline)
      # The fastest of RUNS (default 3): other work on the machine only ever adds time.
      for _ in $(seq 1 "${RUNS:-3}"); do
        /usr/bin/time -f "%e %M" -o target/bench/scale.time "$BIN" "$cmd" "${extra[@]}" -f "$f" > /dev/null
        read -r secs kb < target/bench/scale.time
        if [ -z "${t[$cmd,$n]:-}" ] || python3 -c "import sys; sys.exit(not $secs < ${t[$cmd,$n]})"; then
          t[$cmd,$n]=$secs
        fi
        mem[$n]=$kb
      done
    done
    echo "| $n | ${t[render,$n]} s | ${t[plan,$n]} s | $(( ${mem[$n]} / 1024 )) MB |"
  done
  if [ -n "${t[render,2000]:-}" ]; then
    python3 -c "print(f'\ntime(2,000 apps) / time(200 apps): render {${t[render,2000]} / max(${t[render,200]}, 0.001):.1f}, plan --offline {${t[plan,2000]} / max(${t[plan,200]}, 0.001):.1f} (linear: 10)')"
  fi
  exit 0
fi
rounds=${1:-5}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/kedactl
fi
command -v aws > /dev/null || { echo "bench: the aws CLI is needed (pip install awscli)" >&2; exit 1; }
mkdir -p target/bench
if [ -z "${KEDACTL_TEST_AWS_ENDPOINT:-}" ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 tests/support/moto_server.py -H 127.0.0.1 -p "$port" > target/bench/moto.log 2>&1 &
  moto_pid=$!
  trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
  until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/reset', data=b'')" 2>/dev/null; do sleep 0.3; done
  KEDACTL_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
fi
export AWS_ENDPOINT_URL=$KEDACTL_TEST_AWS_ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
scripts/moto-cluster.sh "$KEDACTL_TEST_AWS_ENDPOINT" demo

now() { date +%s.%N; }
declare -A secs calls
add() { secs[$1]+="$2 "; calls[$1]=$3; }

for r in $(seq 1 "$rounds"); do
  k="bk$r-$RANDOM" h="bh$r-$RANDOM"
  flags() { echo --cluster demo --region us-east-1 --stack "$1" --operator-role "$1-op" --identity-role "$1-id" --queue "$1-q" --repository "$1-repo" --only iam,queue,registry; }
  # kedactl: its own JSON report counts the calls.
  for phase in up-empty up-converged doctor down; do
    cmd=${phase%%-*}
    extra=(--yes); [ "$cmd" = doctor ] && extra=()
    s=$(now)
    "$BIN" "$cmd" $(flags "$k") -o json "${extra[@]}" > target/bench/out.json || [ "$cmd" = doctor ]
    e=$(now)
    n=$(python3 -c '
import json
c = json.load(open("target/bench/out.json"))["calls"]
print("%d reads" % c["aws"] if "aws" in c else "%d read + %d changing" % (c["read"], c["mutating"]))')
    add "kedactl $phase" "$(python3 -c "print(f'{$e - $s:.3f}')")" "$n"
  done
  # By hand: render the same documents first (not timed: a person writes them once).
  rm -rf "target/bench/render-$h"
  "$BIN" render $(flags "$h") --account 123456789012 --out-dir "target/bench/render-$h" > /dev/null 2>&1
  s=$(now)
  n="$(scripts/by-hand.sh "$h" "target/bench/render-$h") changing (no reads: not idempotent)"
  e=$(now)
  add "aws CLI script (by-hand.sh)" "$(python3 -c "print(f'{$e - $s:.3f}')")" "$n"
  # Start-up alone.
  s=$(now); "$BIN" --version > /dev/null; e=$(now)
  add "kedactl --version" "$(python3 -c "print(f'{$e - $s:.4f}')")" -
  s=$(now); aws --version > /dev/null 2>&1; e=$(now)
  add "aws --version" "$(python3 -c "print(f'{$e - $s:.4f}')")" -
  "$BIN" down $(flags "$h") --yes -q > /dev/null
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_script=$(echo "${secs[aws CLI script (by-hand.sh)]}" | median)
m_up=$(echo "${secs[kedactl up-empty]}" | median)
m_kv=$(echo "${secs[kedactl --version]}" | median)
m_av=$(echo "${secs[aws --version]}" | median)
echo "| $rounds rounds, one moto server, \`--only iam,queue,registry\` | median wall time | API calls |"
echo "|---|---|---|"
for p in "kedactl up-empty" "aws CLI script (by-hand.sh)" "kedactl up-converged" "kedactl doctor" "kedactl down" "kedactl --version" "aws --version"; do
  echo "| \`$p\` | $(echo "${secs[$p]}" | median) s | ${calls[$p]} |"
done
python3 -c "print(f'\nkedactl up from empty is {$m_script / $m_up:.1f}x faster than the aws CLI script; kedactl starts {$m_av / $m_kv:.0f}x faster than the aws CLI.')"
