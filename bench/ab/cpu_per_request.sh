#!/bin/bash
# CPU per request of one server process tree under wrk, for A/B runs (bench/AB.md).
# usage: bench/ab/cpu_per_request.sh <port> <seconds> <path> -- <server argv...>
# The server runs on core 0, `wrk -t1 -c50` on core 1; after a 1 s warm-up, the user and system
# ticks of the server and its children (/proc/<pid>/stat) over the run are divided by the
# requests wrk counted. WRK_SCRIPT=bench/hono.lua adds that wrk script. Run it under
# `flock /tmp/starlight-heavy.lock`.
set -eu
port=$1
seconds=$2
path=$3
shift 4
script=()
if [ -n "${WRK_SCRIPT:-}" ]; then script=(-s "$WRK_SCRIPT"); fi
taskset -c 0 "$@" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port$path" && break; sleep 0.1; done
ticks() {
  local total=0 p v
  for p in $pid $(pgrep -P "$pid") $(for c in $(pgrep -P "$pid"); do pgrep -P "$c"; done); do
    v=$(awk '{print $14 * 100000 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + v))
  done
  echo "$total"
}
taskset -c 1 wrk -t1 -c50 "${script[@]}" -d1s "http://127.0.0.1:$port$path" >/dev/null
before=$(ticks)
out=$(taskset -c 1 wrk -t1 -c50 "${script[@]}" -d"${seconds}s" "http://127.0.0.1:$port$path")
after=$(ticks)
kill "$pid"
wait "$pid" 2>/dev/null || true
requests=$(echo "$out" | awk '/requests in/{print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
awk -v a="$before" -v b="$after" -v r="$requests" -v t="$(getconf CLK_TCK)" -v rps="$rps" 'BEGIN {
  u = int(b / 100000) - int(a / 100000); s = (b % 100000) - (a % 100000)
  printf "%.2f us/req (user %.2f, sys %.2f)  %s req/s\n", (u + s) / t * 1e6 / r, u / t * 1e6 / r, s / t * 1e6 / r, rps
}'
