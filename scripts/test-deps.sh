#!/usr/bin/env bash
# Makes sure the programs the test suite drives are present: Debian's docker-registry (the real
# registry the suites start on loopback), GNU tar, gzip, zstd, openssl, and tmux (a real terminal for the interactive session). Installs what is missing
# with apt-get when run as root on Debian; otherwise says what to install.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v zstd >/dev/null 2>&1 || missing+=(zstd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v tar >/dev/null 2>&1 || missing+=(tar)
command -v gzip >/dev/null 2>&1 || missing+=(gzip)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package may start its own service on :5000 with a broken default config; tests use their own.
  exit 0
fi
echo "the tests need: ${missing[*]} (on Debian: sudo apt-get install -y ${missing[*]})" >&2
exit 1
