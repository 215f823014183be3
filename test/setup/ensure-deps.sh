#!/usr/bin/env bash
# Makes sure the real components the e2e tests drive are installed: they run
# against a real Docker engine, Mosquitto and Chromium, never mocks (README.md
# "Tests"). Installs nothing and starts nothing when all are present; tests start
# their own private dockerd/mosquitto instances.
set -euo pipefail

# command -> Debian package that provides it
declare -A PKG=(
  [dockerd]=docker.io
  [docker]=docker.io
  [docker-compose]=docker-compose
  [mosquitto]=mosquitto
  [mosquitto_sub]=mosquitto-clients
  [mosquitto_pub]=mosquitto-clients
  # UI browser tests (test/e2e/ui-browser.test.ts) drive it through playwright-core.
  [chromium]=chromium
  # Clock-skew tests (test/e2e/clock-skew.test.ts) shift an agent's clock with libfaketime.
  [faketime]=faketime
  # The image tests (test/e2e/images.test.ts) build the stand-in for the Node.js base image
  # from Debian's mirror (libs/testkit node-base-image.ts).
  [mmdebstrap]=mmdebstrap
  # /metrics tests (test/e2e/metrics.test.ts) check the hub's real output with promtool.
  [promtool]=prometheus
)
# mosquitto lives in /usr/sbin, which non-login shells may not have on PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing_pkgs() {
  local cmd pkgs=()
  for cmd in "${!PKG[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || pkgs+=("${PKG[$cmd]}")
  done
  # The test image copies /bin/busybox into a libc-less rootfs, so it must be the
  # static build from busybox-static (Debian's plain "busybox" is dynamic).
  if [[ ! -x /bin/busybox ]] || ! busybox_is_static; then pkgs+=(busybox-static); fi
  if ((${#pkgs[@]})); then printf '%s\n' "${pkgs[@]}" | sort -u | paste -sd' ' -; fi
}

busybox_is_static() {
  # `file` may be absent on minimal systems; ldd fails on static executables.
  if command -v file >/dev/null 2>&1; then
    file -L /bin/busybox | grep -q 'statically linked'
  else
    ! ldd /bin/busybox >/dev/null 2>&1
  fi
}

missing="$(missing_pkgs)"
if [[ -z "$missing" ]]; then
  echo "ensure-deps: docker, docker-compose, mosquitto, busybox-static, chromium, faketime, mmdebstrap, promtool present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-deps: installing: $missing"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package postinst scripts from starting dockerd/containerd/mosquitto
  # services: policy-rc.d exiting 101 tells invoke-rc.d "not allowed".
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  apt-get install -y --no-install-recommends $missing
  still="$(missing_pkgs)"
  if [[ -n "$still" ]]; then
    echo "ensure-deps: still missing after install: $still" >&2
    exit 1
  fi
  exit 0
fi

echo "ensure-deps: missing Debian packages: $missing" >&2
echo "install them with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
exit 1
