#!/usr/bin/env bash
# Measures the emulator's capacity for license creates (rate limit off, release build), so that
# later benchmarks know it is not their bottleneck. Prints creates/s and latency percentiles.
# Usage: scripts/bench-emulator.sh [seconds=10] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package) ..." >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
swift build -c release --product cryptlex-emulator >&2
bin=$(swift build -c release --show-bin-path)
out=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$out"' EXIT
"$bin/cryptlex-emulator" --token bench --no-rate-limit --port 0 >"$out/emulator.out" 2>"$out/emulator.err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$out/emulator.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$out/emulator.out")
cat >"$out/post.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  local body = '{"productId":"bench","allowedActivations":3,"metadata":[{"key":"licprov_request","value":"' ..
    tostring(counter) .. '-' .. tostring(math.random(1, 1e9)) .. '"}]}'
  return wrk.format("POST", "/v3/licenses", {["Authorization"] = "Bearer bench", ["Content-Type"] = "application/json"}, body)
end
LUA
echo "emulator at $url; wrk -t2 -c$connections -d${seconds}s POST /v3/licenses" >&2
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$out/post.lua" "$url" | tee "$out/wrk.txt" >&2
created=$(curl -s "$url/__admin/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["licensesCreated"])')
rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $5}' "$out/wrk.txt")
echo "emulator capacity: ${rps} creates/s over ${seconds}s with ${connections} connections; licenses created: ${created}; non-2xx: ${non2xx:-0}"
