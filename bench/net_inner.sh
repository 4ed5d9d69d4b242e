#!/bin/bash
# bench/net.sh's part inside the lab (tests/net/lab.sh sets BIN, WORK, HERE):
# the same client in two sandboxes, `network: host` and `network.allow`,
# interleaved; one line per measure: `MODE MEASURE VALUE`. With BIN_BEFORE
# set, `network.allow` is also measured with that binary (mode `before`).
# With FORWARD_BIN set (bench/forward.cc), mode `floor`: the `network: host`
# sandbox reaches the server through that forwarder on the lab host's
# 127.0.0.2, the floor of any relay.
set -eu
client=$HERE/lab_client.py
mkdir -p "$WORK/proj" "$WORK/home"
cat > "$WORK/bench.yaml" <<YAML
version: 1
profiles:
  bench-base:
    access_roots:
      system:
        paths: [/usr, /bin, /lib, /lib64, /etc, "$HERE", "$WORK/proj"]
        permissions: {read_file: true, read_dir: true, execute: true}
    control_access: {read_file: true, read_dir: true, execute: true, write_file: true}
  bench-host:
    extends: bench-base
    network: host
  bench-allow:
    extends: bench-base
    network:
      allow: [allowed.test]
YAML
if [ -n "${FORWARD_BIN:-}" ]; then
  "$FORWARD_BIN" 127.0.0.2 80 198.51.100.10 80 > "$WORK/forward.out" &
  forward=$!
  trap 'kill "$forward" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q ready "$WORK/forward.out" 2>/dev/null && break; sleep 0.05; done
  grep -q ready "$WORK/forward.out" || { echo "FAIL forward did not start" >&2; exit 1; }
fi
run() {  # run MODE ARGS...: the client in that sandbox
  local mode=$1 bin=$BIN profile=bench-$1; shift
  [ "$mode" = before ] && bin=$BIN_BEFORE profile=bench-allow
  [ "$mode" = floor ] && profile=bench-host
  (cd "$WORK/proj" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" \
     "$bin" --config "$WORK/bench.yaml" --profile "$profile" -- python3 "$client" "$@")
}
for round in $(seq "$BENCH_ROUNDS"); do
  # Each mode goes first in turn.
  modes=(host allow); [ -n "${BIN_BEFORE:-}" ] && modes+=(before)
  [ -n "${FORWARD_BIN:-}" ] && modes+=(floor)
  n=${#modes[@]} order=""
  for i in $(seq 0 $((n - 1))); do order="$order ${modes[$(((round + i) % n))]}"; done
  for m in $order; do
    to=allowed.test; [ "$m" = floor ] && to=127.0.0.2
    read -r _ r _ l <<<"$(run "$m" rps "$to" "$BENCH_REQUESTS")"
    echo "$m rps $r"
    echo "$m latency_ms $l"
    read -r _ b <<<"$(run "$m" bulk "$to" "$BENCH_BULK")"
    echo "$m mbps $b"
  done
done
