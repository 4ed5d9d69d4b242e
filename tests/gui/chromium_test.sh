#!/usr/bin/env bash
# A real GUI program under the sandbox (issue 18): Debian's chromium (the
# engine and sandbox model of Electron, hence of VS Code) on an Xvfb display
# the test starts, launched through a profile that extends the built-in
# vscode-copilot, with chromium's own sandbox on (no --no-sandbox). Asserts:
#   1. its window maps on the display (xdotool / xwininfo);
#   2. its renderers run in chromium's own sandbox (their own user and pid
#      namespaces, beneath ours);
#   3. a page in the project that navigates to file:// of a secret outside
#      the project does not load it (the same navigation's target is
#      readable by the same user on the host);
#   4. after it exits, nothing it wrote is outside the project and the
#      private HOME (every file of its uid, on every writable file system).
# A screenshot of the window goes to $AISBX_GUI_SCREENSHOT when set.
#
# Usage: chromium_test.sh AISBX_NS_BINARY
# Runs as root (chromium itself runs as an unused uid: chromium refuses to
# run as root with its sandbox on). Exit 77 (skip) when the packages are
# missing, a failure instead under AISBX_REQUIRE_KERNEL_FEATURES=1 (CI
# installs them: scripts/setup.sh).
set -euo pipefail

bin=${1:?usage: chromium_test.sh AISBX_NS_BINARY}
bin=$(readlink -f "$bin")
# A uid nothing else on the machine uses, so that every file it owns
# afterwards is this run's.
uid=${AISBX_GUI_UID:-64123}

skip() {
  if [ "${AISBX_REQUIRE_KERNEL_FEATURES:-}" = 1 ]; then
    echo "FAIL (would skip, but AISBX_REQUIRE_KERNEL_FEATURES=1): $*" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}
fail() { echo "FAIL: $*" >&2; exit 1; }

for c in chromium Xvfb xdotool xwininfo setpriv; do
  command -v "$c" >/dev/null || skip "$c is not installed (scripts/setup.sh installs it)"
done
[ "$(id -u)" = 0 ] || skip "needs root to run chromium as a uid of its own"

work=$(mktemp -d /var/tmp/aisbx-gui.XXXXXX)
chmod 0755 "$work"
xvfb_pid=""; launcher_pid=""
cleanup() {
  [ -n "$launcher_pid" ] && kill "$launcher_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

project=$work/project home=$work/home outside=$work/outside
mkdir -p "$project" "$home" "$outside"
secret=$outside/secret.html
printf '<html><head><title>SECRET-LOADED</title></head><body>secret</body></html>\n' >"$secret"
# The page shows itself, then navigates to the secret.
cat >"$project/index.html" <<EOF
<html><head><title>PROJECT-PAGE</title></head>
<body style="font: 32px sans-serif; background: #e8f0ff">
<h1>aisbx-ns: chromium in the vscode-copilot sandbox</h1>
<p>Next: file://$secret</p>
<script>setTimeout(function () { location.href = "file://$secret"; }, 4000);</script>
</body></html>
EOF
# What chromium needs beyond the built-in profile: its fonts and its own
# configuration, read-only.
cat >"$work/profiles.yaml" <<EOF
version: 1
profiles:
  gui:
    extends: vscode-copilot
    access_roots:
      gui-config:
        paths: [/etc/fonts, /etc/chromium, /etc/chromium.d]
        permissions: {read_file: true, read_dir: true}
    log_level: warn
EOF
chown -R "$uid:$uid" "$project" "$home"
chmod -R a+rX "$work"
as_user() { setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }

# The control: the same user reads the secret on the host.
as_user cat "$secret" >/dev/null || fail "uid $uid cannot read $secret even without the sandbox"

# The display.
for n in $(seq 90 99); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
display=":$n"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do [ -S "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
[ -S "/tmp/.X11-unix/X$n" ] || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
export DISPLAY=$display

touch "$work/started"
# The launch, as a user would: from the project, with the built-in
# profile's private HOME under this HOME. --net none: the page is a file,
# and chromium on the host's network would look up its addresses and call
# out (network tests stay on this machine).
(cd "$project" && exec env -i PATH=/usr/bin:/bin HOME="$home" DISPLAY="$display" \
   setpriv --reuid="$uid" --regid="$uid" --clear-groups \
   "$bin" --config "$work/profiles.yaml" --profile gui --net none -- \
   chromium --no-first-run --no-default-browser-check --disable-gpu \
   --password-store=basic --window-size=1000,700 --window-position=0,0 \
   "file://$project/index.html") >"$work/launch.log" 2>&1 &
launcher_pid=$!

# 1. The window maps.
# Polled, not `search --sync`: xdotool stops with an X error (BadWindow)
# when a window it looks at is destroyed meanwhile, as chromium's are
# while it starts.
win=""
for _ in $(seq 180); do
  win=$(xdotool search --onlyvisible --name PROJECT-PAGE 2>/dev/null | head -1) || true
  [ -n "$win" ] && break
  kill -0 "$launcher_pid" 2>/dev/null || break
  sleep 0.5
done
[ -n "$win" ] || fail "no chromium window mapped: $(tail -20 "$work/launch.log")"
xwininfo -id "$win" | grep -q "Map State: IsViewable" || fail "window $win is not viewable"
echo "ok: window $win maps: $(xdotool getwindowname "$win")"
if [ -n "${AISBX_GUI_SCREENSHOT:-}" ]; then
  sleep 1
  if command -v import >/dev/null; then
    import -display "$display" -window root -crop 1000x700+0+0 "$AISBX_GUI_SCREENSHOT"
  elif command -v xwd >/dev/null; then
    xwd -display "$display" -root -silent >"${AISBX_GUI_SCREENSHOT%.*}.xwd"
  fi
  echo "ok: screenshot $AISBX_GUI_SCREENSHOT"
fi

# 2. The renderers run in chromium's own sandbox: the browser is in our
# namespaces; each renderer in user and pid namespaces of its own.
browser=""; renderers=()
for p in $(pgrep -u "$uid" -f chromium); do
  cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
  case "$cmd" in
    *--type=renderer*) renderers+=("$p") ;;
    *--type=*) ;;
    */chromium/chromium*) browser=$p ;;
  esac
done
[ -n "$browser" ] || fail "no chromium browser process of uid $uid"
[ ${#renderers[@]} -gt 0 ] || fail "no renderer process"
case "$(tr '\0' ' ' <"/proc/$browser/cmdline")" in
  *--no-sandbox*) fail "chromium runs with --no-sandbox" ;;
esac
bu=$(readlink "/proc/$browser/ns/user"); bp=$(readlink "/proc/$browser/ns/pid")
[ "$bu" != "$(readlink /proc/self/ns/user)" ] || fail "the browser is not in the sandbox's user namespace"
for r in "${renderers[@]}"; do
  ru=$(readlink "/proc/$r/ns/user"); rp=$(readlink "/proc/$r/ns/pid")
  [ "$ru" != "$bu" ] && [ "$rp" != "$bp" ] ||
    fail "renderer $r shares the browser's namespaces: chromium's sandbox is off"
  grep -q "^Seccomp:[[:space:]]*2" "/proc/$r/status" || fail "renderer $r has no seccomp filter"
done
echo "ok: ${#renderers[@]} renderer(s) in chromium's own sandbox (user $bu -> ${ru:-?})"

# 3. The page navigates to the secret; it must not load. Wait until the
# title leaves PROJECT-PAGE (the navigation happened), then look.
title=""
for _ in $(seq 60); do
  title=$(xdotool getwindowname "$win" 2>/dev/null || true)
  [ -n "$title" ] && [ "${title#PROJECT-PAGE}" = "$title" ] && break
  sleep 0.5
done
case "$title" in
  *SECRET-LOADED*) fail "the page loaded file://$secret: $title" ;;
  *PROJECT-PAGE*|"") fail "the page never navigated (title: $title)" ;;
esac
echo "ok: file://$secret did not load (title: $title)"

# 4. Exit, then every file of the uid is in the project or the private HOME.
kill -TERM "$launcher_pid"
for _ in $(seq 100); do kill -0 "$launcher_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$launcher_pid" 2>/dev/null && fail "the launcher did not end on SIGTERM"
wait "$launcher_pid" 2>/dev/null || true
launcher_pid=""
pgrep -u "$uid" >/dev/null && fail "processes of uid $uid outlived the run: $(pgrep -u "$uid" -a)"
stray=$(find / /dev/shm -xdev -uid "$uid" 2>/dev/null |
        grep -v -e "^$project\(/\|$\)" -e "^$home\(/\|$\)" || true)
[ -z "$stray" ] || fail "written outside the project and the private HOME:
$stray"
ls "$home/.ai-sandbox/homes/"gui-* >/dev/null 2>&1 || fail "no private HOME was made under $home"
echo "ok: nothing written outside the project and the private HOME"
echo "PASS"
