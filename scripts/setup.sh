#!/usr/bin/env bash
# Installs what aisbx-ns needs to build and test on Debian 12, only what is
# missing. Idempotent; needs root or sudo for apt-get.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libyaml-cpp-dev libcli11-dev libmount-dev libseccomp-dev
  libgtest-dev googletest
  util-linux    # setpriv, unshare: tests run as an unprivileged user
  nodejs npm    # the demo and the copilot-backend tests run node; npm installs the agent CLIs
  clang-16 libclang-rt-16-dev   # the profile fuzzer (libFuzzer); clang 14 cannot compile <expected>
  # Real programs the kernel tests run in the built-in profiles.
  python3 git clangd tmux
  # The GUI test (tests/gui/chromium_test.sh): a real browser on a display
  # of its own, the tools that find its window and take its picture.
  chromium xvfb x11-utils xdotool imagemagick
  # desktop.dbus (tests/gui/dbus_lab.sh): the proxy the launcher starts, a
  # bus daemon of the test's own and a name owner on it.
  xdg-dbus-proxy dbus python3-gi
)
[ "${AISBX_SETUP_EXTRA:-}" ] && read -r -a extra <<<"$AISBX_SETUP_EXTRA" && packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
  # Node.js from NodeSource brings its own npm and conflicts with Debian's.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
