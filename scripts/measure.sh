#!/usr/bin/env bash
# Wall time and AWS API calls of `kedactl up` (empty account, then converged) and `down`,
# against a local moto server, measured side by side in one run. Prints a Markdown table.
#   scripts/measure.sh [ROUNDS]        (default 5; uses target/release/kedactl, building it)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release --quiet
bin=target/release/kedactl

if [ -z "${KEDACTL_TEST_AWS_ENDPOINT:-}" ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$port" > target/measure-moto.log 2>&1 &
  moto_pid=$!
  trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
  until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/reset', data=b'')" 2>/dev/null; do sleep 0.3; done
  KEDACTL_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
fi
export AWS_ENDPOINT_URL=$KEDACTL_TEST_AWS_ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true

# One phase: prints "seconds reads mutating" from kedactl's own JSON report.
phase() {
  local start end
  start=$(date +%s.%N)
  "$bin" "$@" -o json --yes > target/measure.json
  end=$(date +%s.%N)
  python3 - "$start" "$end" <<'PY'
import json, sys
d = json.load(open("target/measure.json"))
print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f} {d['calls']['read']} {d['calls']['mutating']}")
PY
}

declare -A secs reads muts
for r in $(seq 1 "$rounds"); do
  flags=(--cluster demo --region us-east-1 --stack "m$r" --operator-role "m$r-op" --identity-role "m$r-id" --queue "m$r-q" --repository "m$r-repo" --only iam,queue,registry)
  for p in up-empty up-converged down; do
    cmd=up; [ "$p" = down ] && cmd=down
    read -r s rd mu < <(phase "$cmd" "${flags[@]}")
    secs[$p]+="$s "; reads[$p]=$rd; muts[$p]=$mu
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| kedactl ($rounds rounds, moto, --only iam,queue,registry) | median wall time | read calls | changing calls |"
echo "|---|---|---|---|"
for p in up-empty up-converged down; do
  echo "| \`$p\` | $(echo "${secs[$p]}" | median) s | ${reads[$p]} | ${muts[$p]} |"
done
