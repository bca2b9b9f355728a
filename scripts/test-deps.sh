#!/usr/bin/env bash
# Makes sure the programs the test suite drives are present, from Debian's packages:
#   docker-registry (the real registry the suites start on loopback), skopeo and umoci (reference
#   image tools), postgresql (a throwaway cluster for the shared database), tinyproxy (a real
#   forward proxy), golang-go with containerd's estargz package (builds eStargz test layers),
#   GNU tar, gzip, zstd, openssl, curl, python3 (tarfile as a reference reader), and tmux (a real
#   terminal for the interactive session), zsh and fish (the completion scripts are run by the real shells).
# Installs what is missing with apt-get when run as root on Debian; otherwise says what to install.
set -euo pipefail
packages=(docker-registry skopeo umoci postgresql tinyproxy golang-go golang-github-containerd-stargz-snapshotter-dev
  zstd openssl tar gzip curl tmux python3 zsh fish)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The packages may start their own services (registry on :5000, postgresql on :5432, tinyproxy on
  # :8888) with default configs; the tests start their own on free loopback ports.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "the tests need: ${missing[*]} (on Debian: sudo apt-get install -y ${missing[*]})" >&2
exit 1
