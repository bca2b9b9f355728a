#!/usr/bin/env bash
# Makes sure the programs the test suite drives are present, from Debian's packages:
#   docker-registry (the real registry the suites start on loopback), skopeo and umoci (reference
#   image tools), postgresql (a throwaway cluster for the shared database), tinyproxy (a real
#   forward proxy), golang-go with containerd's estargz package (builds eStargz test layers),
#   GNU tar, gzip, zstd, openssl, curl, python3 (tarfile as a reference reader), and tmux (a real
#   terminal for the interactive session), zsh and fish (the completion scripts are run by the real shells),
#   GNU time (the peak memory of one process, where a test bounds it), and chromium (serve's web
#   page, driven by playwright-core).
# Installs what is missing with apt-get when run as root on Debian; otherwise says what to install.
# When another install holds the package manager's locks, it waits for them (10 minutes at most).
# LAYERSLAYER_TEST_DEPS, when set, replaces the list of packages (space-separated).
set -euo pipefail
packages=(docker-registry skopeo umoci postgresql tinyproxy golang-go golang-github-containerd-stargz-snapshotter-dev
  zstd openssl tar gzip curl tmux python3 zsh fish time chromium)
if [ -n "${LAYERSLAYER_TEST_DEPS:-}" ]; then read -r -a packages <<<"$LAYERSLAYER_TEST_DEPS"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

LOCK_WAIT=600
# apt-get, waiting while another apt or dpkg holds a lock: dpkg's own lock through apt's
# DPkg::Lock::Timeout, and the package lists' lock (which `apt-get update` does not wait for) by
# trying again every 5 seconds, until LOCK_WAIT seconds have passed.
apt_get() {
  local deadline=$((SECONDS + LOCK_WAIT)) out said=""
  while :; do
    if out=$(apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT" "$@" 2>&1); then return 0; fi
    if grep -qE "Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock" <<<"$out" && [ "$SECONDS" -lt "$deadline" ]; then
      [ -n "$said" ] || echo "waiting for the package manager's lock (another install is running)" >&2
      said=1
      sleep 5
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt_get update -qq
  # The packages may start their own services (registry on :5000, postgresql on :5432, tinyproxy on
  # :8888) with default configs; the tests start their own on free loopback ports.
  apt_get install -y -qq --no-install-recommends "${missing[@]}"
  exit 0
fi
echo "the tests need: ${missing[*]} (on Debian: sudo apt-get install -y ${missing[*]})" >&2
exit 1
