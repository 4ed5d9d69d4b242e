#!/bin/bash
# desktop.dbus replayed with real parts (issue 18): a dbus-daemon of the
# test's own stands for the user's session bus, a process owns two names on
# it, and a sandbox whose profile allows one of them talks to the bus
# through aisbx-ns's xdg-dbus-proxy. Never the machine's own bus.
# Usage: dbus_lab.sh AISBX_NS_BINARY WORKDIR MODE  (MODE: layered, strict, landlock)
# Prints one line per scenario: `ok NAME` or `FAIL NAME: why`.
set -u
BIN=$1 WORK=$2 MODE=$3
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

for tool in dbus-daemon dbus-send xdg-dbus-proxy; do
  command -v "$tool" >/dev/null || { echo "FAIL setup: $tool is not installed (scripts/setup.sh)"; exit 1; }
done
"$PY" -c 'import gi' 2>/dev/null || { echo "FAIL setup: python3-gi is not installed (scripts/setup.sh)"; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; }
# Polls a shell condition for at most 10 s.
eventually() { for _ in $(seq 200); do eval "$1" && return 0; sleep 0.05; done; return 1; }

export HOME=$WORK/home
export XDG_RUNTIME_DIR=$WORK/run
mkdir -p "$HOME" "$WORK/proj" "$WORK/realbus"
mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
chmod 0700 "$WORK/realbus"
real=$WORK/realbus/bus
dbus-daemon --session --nofork --address="unix:path=$real" >"$WORK/daemon.log" 2>&1 &
pids+=($!)
eventually '[ -S "$real" ]' || { bad setup "dbus-daemon did not listen: $(cat "$WORK/daemon.log")"; exit 1; }
export DBUS_SESSION_BUS_ADDRESS=unix:path=$real
"$PY" "$here/dbus_owner.py" org.example.Allowed org.example.Denied >"$WORK/owner.log" 2>&1 &
pids+=($!)
eventually 'grep -q ready "$WORK/owner.log"' || { bad setup "no name owner: $(cat "$WORK/owner.log")"; exit 1; }

ping_name() {  # NAME [dbus-send options]: Peer.Ping on NAME
  local name=$1; shift
  dbus-send --session "$@" --print-reply --reply-timeout=5000 --dest="$name" /org/example/Lab \
    org.freedesktop.DBus.Peer.Ping
}
# The host's side: both names answer on the real bus (the control).
if ping_name org.example.Allowed >/dev/null 2>&1 && ping_name org.example.Denied >/dev/null 2>&1; then
  ok control-both-names-answer-on-the-host
else
  bad control-both-names-answer-on-the-host "a name does not answer on the real bus"
fi

cat >"$WORK/profiles.yaml" <<YAML
version: 1
profiles:
  lab:
    extends: minimal
    access_roots:
      project:
        paths: ["\${PROJECT}"]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true, truncate: true}
    desktop:
      dbus: {talk: [org.example.Allowed]}
YAML

# The sandbox, in the lab's mode, started from the project.
cd "$WORK/proj" || exit 1
launcher=("$BIN" --config "$WORK/profiles.yaml" --profile lab --mode "$MODE" --project "$WORK/proj"
  --log-level warn --)
run() { "${launcher[@]}" "$@"; }
inner='
  out=$1 real=$2
  dbus-send --session --print-reply --reply-timeout=5000 --dest=org.example.Allowed /org/example/Lab \
    org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1 && echo allowed=answered >>"$out"
  if dbus-send --session --print-reply --reply-timeout=5000 --dest=org.example.Denied /org/example/Lab \
    org.freedesktop.DBus.Peer.Ping >"$out.denied" 2>&1; then echo denied=answered >>"$out"; fi
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.ListNames >"$out.names" 2>&1
  [ -e "$real" ] && echo real=visible >>"$out"
  if dbus-send --address="unix:path=$real" --print-reply --reply-timeout=5000 --dest=org.example.Denied \
    /org/example/Lab org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1; then echo real=answered >>"$out"; fi
  echo "address=$DBUS_SESSION_BUS_ADDRESS" >>"$out"
  ls -A "$XDG_RUNTIME_DIR" >"$out.runtime" 2>&1
  echo done >>"$out"
'
out=$WORK/proj/out
run /bin/sh -c "$inner" sh "$out" "$real" >"$WORK/run.out" 2>"$WORK/run.err"
status=$?
if [ $status -ne 0 ] || ! grep -q '^done$' "$out" 2>/dev/null; then
  bad run "exit $status: $(cat "$WORK/run.err")"
  exit 1
fi
grep -q '^allowed=answered$' "$out" && ok allowed-name-answers || bad allowed-name-answers "$(cat "$out")"
if ! grep -q '^denied=answered$' "$out" && grep -q 'org.freedesktop.DBus.Error' "$out.denied"; then
  ok other-name-refused
else
  bad other-name-refused "$(cat "$out" "$out.denied")"
fi
if grep -q org.example.Allowed "$out.names" && ! grep -q org.example.Denied "$out.names"; then
  ok other-name-not-listed
else
  bad other-name-not-listed "$(cat "$out.names")"
fi
grep -q "^address=unix:path=" "$out" && ok bus-address-is-the-proxy || bad bus-address-is-the-proxy "$(cat "$out")"
if [ "$MODE" = landlock ]; then
  # No namespace wall: the host's socket keeps its path (Landlock refuses
  # connecting to it only from ABI 9), and every run says so.
  grep -q "stays reachable by its path" "$WORK/run.err" && ok landlock-mode-warns-real-bus-reachable \
    || bad landlock-mode-warns-real-bus-reachable "$(cat "$WORK/run.err")"
else
  if ! grep -q '^real=' "$out"; then ok real-bus-not-visible; else bad real-bus-not-visible "$(cat "$out")"; fi
  [ "$(cat "$out.runtime")" = bus ] && ok only-the-proxy-socket-in-the-runtime-dir \
    || bad only-the-proxy-socket-in-the-runtime-dir "$(cat "$out.runtime")"
  grep -q "^address=unix:path=$XDG_RUNTIME_DIR/bus$" "$out" && ok bus-at-the-usual-place \
    || bad bus-at-the-usual-place "$(cat "$out")"
fi

# Nothing of the proxy is left: no socket, no process.
proxies() { pgrep -u "$(id -u)" -f "xdg-dbus-proxy --fd=3 unix:path=$real" ; }
sockets() { ls -A "$XDG_RUNTIME_DIR/aisbx" 2>/dev/null; }
if [ -z "$(sockets)" ] && [ -z "$(proxies)" ]; then ok proxy-gone-after-the-run
else bad proxy-gone-after-the-run "sockets: $(sockets); processes: $(proxies)"; fi

# SIGKILL of the launcher while the program runs.
rm -f "$WORK/proj/ready"
# Started by this shell itself, so that $! is the launcher.
"${launcher[@]}" /bin/sh -c 'touch "$1"; exec sleep 300' sh "$WORK/proj/ready" >/dev/null 2>"$WORK/kill.err" &
pid=$!
if eventually '[ -e "$WORK/proj/ready" ]' && [ -n "$(sockets)" ] && [ -n "$(proxies)" ]; then
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  if eventually '[ -z "$(sockets)" ] && [ -z "$(proxies)" ]'; then ok proxy-gone-after-sigkill
  else bad proxy-gone-after-sigkill "sockets: $(sockets); processes: $(proxies)"; fi
else
  kill -9 "$pid" 2>/dev/null
  bad proxy-gone-after-sigkill "the run did not start with its proxy: $(cat "$WORK/kill.err"); sockets: $(sockets)"
fi
