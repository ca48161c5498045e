#!/usr/bin/env bash
# Scaling on a many-core machine: Starlight --workers N against deno serve --parallel with the
# same N, for N in 1 2 4 8 12 (wrk on the cores the servers do not use); about 5 minutes, and
# never more than 7. Needs only bash and what bench/device/prepare.sh put in .device/: no
# network, nothing installed. Results: $OUT/scale.md, raw samples $OUT/scale.json, the log
# $OUT/scale.log. Arguments go to scale.ts, e.g. --workers=1,2 --rounds=1 --duration=1.
#
# Usage: bench/device/prepare.sh   (here), then on the device: bench/device/scale.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dev="$root/.device"
if [ ! -f "$dev/deno.gz" ]; then
  echo "scale.sh: no .device/deno.gz; run bench/device/prepare.sh first and carry .device/" >&2
  exit 1
fi
# What the run writes (the unpacked deno, Deno's caches) goes outside .device/, so that .device/
# stays as prepare.sh left it and small enough to carry.
work="${TMPDIR:-/tmp}/starlight-device"
OUT=${OUT:-$work/out}
rm -rf "$work/bin" "$work/deno_dir"
mkdir -p "$OUT" "$work/bin"
gzip -dc "$dev/deno.gz" >"$work/bin/deno"
chmod +x "$work/bin/deno"
mkdir -p "$work/deno_dir"
tar -xzf "$dev/deno_dir.tar.gz" -C "$work/deno_dir"

export PATH="$work/bin:$dev/bin:$PATH"
export LD_LIBRARY_PATH="$dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export WRK="$dev/bin/wrk"
export DENO_DIR="$work/deno_dir"
export DENO_NO_UPDATE_CHECK=1
# There is no network on the device; here, a dead proxy makes any fetch fail the same way, so a
# local run proves that .device/ carries everything.
export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost
export NO_COLOR=1

cd "$root"
echo "scale.sh: $(deno --version | head -1), $(nproc) cores, results in $OUT" | tee "$OUT/scale.log"
timeout 420 deno run -A --cached-only bench/device/scale.ts --out="$OUT" "$@" 2>&1 |
  tee -a "$OUT/scale.log"
