#!/usr/bin/env bash
# Runs the linux-arm64 build on this x86-64 machine under Debian's qemu-user-static, against an
# arm64 glibc sysroot made from Debian's libc6:arm64 (downloaded, unpacked, never installed):
# --version must print the package version, and `help peek` must print what the native build prints.
#   bash scripts/arm64-check.sh            (npm run check:arm64; as root on Debian, it installs
#                                          qemu-user-static when missing)
# The musl arm64 build is not run: it needs libstdc++ and libgcc built against musl (Alpine's), and
# Debian ships them only for glibc.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p 'require("./package.json").version' 2>/dev/null || sed -n 's/.*"version": "\(.*\)".*/\1/p' package.json | head -1)
work=$(mktemp -d)
chmod 777 "$work" # apt-get download writes as the _apt user
trap 'rm -rf "$work"' EXIT

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "arm64-check: needs qemu-user-static (apt-get install qemu-user-static)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi

sysroot=.cache/arm64-sysroot
if [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  [ "$(id -u)" = 0 ] || { echo "arm64-check: building the arm64 sysroot needs root (apt-get download of libc6:arm64)" >&2; exit 1; }
  # apt needs to know the architecture to download its packages; it is taken away again right after.
  added=no
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; added=yes; fi
  restore() { if [ "$added" = yes ]; then dpkg --remove-architecture arm64 || true; apt-get update -qq >/dev/null || true; fi; }
  apt-get update -qq >/dev/null || { restore; exit 1; }
  (cd "$work" && apt-get download -qq libc6:arm64) || { restore; exit 1; }
  restore
  mkdir -p "$sysroot"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
fi

bun=node_modules/.bin/bun
"$bun" scripts/build.ts --target bun-linux-arm64 --outdir "$work/dist" >/dev/null
"$bun" scripts/build.ts --outdir "$work/native" >/dev/null
arm="$work/dist/layerslayer-linux-arm64"
file "$arm" 2>/dev/null | grep -q aarch64 || { command -v file >/dev/null && { echo "arm64-check: $arm is not an arm64 executable" >&2; exit 1; }; }

fail=0
got=$(qemu-aarch64-static -L "$sysroot" "$arm" --version)
if [ "$got" = "$version" ]; then echo "ok   linux-arm64 --version: $got"; else echo "FAIL linux-arm64 --version: got '$got', want '$version'"; fail=1; fi
if diff <(qemu-aarch64-static -L "$sysroot" "$arm" help peek) <("$work/native/layerslayer" help peek) >/dev/null; then
  echo "ok   linux-arm64 help peek: same as the native build"
else
  echo "FAIL linux-arm64 help peek differs from the native build"; fail=1
fi
exit $fail
