#!/usr/bin/env bash
# Fills .device/ (ignored by git) with what bench/device/scale.sh needs on a bare machine with no
# network: this machine's deno (gzipped: the binary alone is ~95 MB), wrk and taskset, the
# shared libraries of theirs that a minimal Debian/Ubuntu may lack, and a DENO_DIR holding the npm
# packages of deno.lock (Deno installs a project's npm imports before it runs anything, though
# Starlight itself imports only npm:@logtape/logtape), tarred, checked here with the network cut.
#
# Usage: bench/device/prepare.sh        then carry .device/ and run bench/device/scale.sh there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dev="$root/.device"
rm -rf "$dev"
mkdir -p "$dev/bin" "$dev/lib"

deno_bin=$(readlink -f "$(command -v deno)")
wrk_bin=$(readlink -f "$(command -v wrk)")
taskset_bin=$(readlink -f "$(command -v taskset)")

echo "deno $("$deno_bin" --version | head -1 | cut -d' ' -f2) from $deno_bin ($(stat -c %s "$deno_bin") bytes), gzipping"
gzip -6 -c "$deno_bin" >"$dev/deno.gz"
cp "$wrk_bin" "$dev/bin/wrk"
cp "$taskset_bin" "$dev/bin/taskset"

# glibc and libgcc_s are on every system deno itself runs on, and mixing glibc versions breaks
# the loader: carry everything else (for wrk: LuaJIT, libssl, libcrypto). They need glibc 2.34+.
for binary in "$wrk_bin" "$taskset_bin"; do
  ldd "$binary" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
  libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | libresolv.so* | libutil.so* | ld-linux* | libgcc_s.so*) ;;
  *) cp -L "$lib" "$dev/lib/" ;;
  esac
done

# Deno's npm cache for the packages in deno.lock, copied from this machine's DENO_DIR.
cd "$root"
deno_dir=$(NO_COLOR=1 "$deno_bin" info --json | sed -n 's/^ *"denoDir": *"\(.*\)",\{0,1\}$/\1/p')
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/npm/registry.npmjs.org"
"$deno_bin" eval --no-config 'const lock = JSON.parse(Deno.readTextFileSync("deno.lock"));
  for (const key of Object.keys(lock.npm ?? {})) console.log(key.replace(/@[^@]*$/, ""));' |
  sort -u | while read -r package; do
  mkdir -p "$staging/npm/registry.npmjs.org/$(dirname "$package")"
  cp -r "$deno_dir/npm/registry.npmjs.org/$package" "$staging/npm/registry.npmjs.org/$package"
done
# A dead proxy fails any download, so this passes only if the copied cache is enough.
HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
  DENO_DIR="$staging" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 \
  "$deno_bin" run --cached-only -A --no-prompt mod.ts --version >/dev/null
tar -czf "$dev/deno_dir.tar.gz" -C "$staging" npm

echo "carried in .device/: $(du -sb "$dev" | cut -f1) bytes"
ls -l "$dev" "$dev/bin" "$dev/lib"
size=$(du -sb "$dev" | cut -f1)
if [ "$size" -gt $((60 * 1024 * 1024)) ]; then
  echo "warning: .device/ is over 60 MiB; the device carries at most 64 MiB with the tree" >&2
fi
