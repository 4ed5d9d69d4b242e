#!/bin/bash
# bench/net.sh's part inside the lab (tests/net/lab.sh sets BIN, WORK, HERE):
# the same client in two sandboxes, `network: host` and `network.allow`,
# interleaved; one line per measure: `MODE MEASURE VALUE`. With BIN_BEFORE
# set, `network.allow` is also measured with that binary (mode `before`).
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
run() {  # run MODE ARGS...: the client in that sandbox
  local mode=$1 bin=$BIN profile=bench-$1; shift
  [ "$mode" = before ] && bin=$BIN_BEFORE profile=bench-allow
  (cd "$WORK/proj" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" \
     "$bin" --config "$WORK/bench.yaml" --profile "$profile" -- python3 "$client" "$@")
}
for round in $(seq "$BENCH_ROUNDS"); do
  # Each mode goes first in turn.
  modes=(host allow); [ -n "${BIN_BEFORE:-}" ] && modes+=(before)
  n=${#modes[@]} order=""
  for i in $(seq 0 $((n - 1))); do order="$order ${modes[$(((round + i) % n))]}"; done
  for m in $order; do
    read -r _ r _ l <<<"$(run "$m" rps allowed.test "$BENCH_REQUESTS")"
    echo "$m rps $r"
    echo "$m latency_ms $l"
    read -r _ b <<<"$(run "$m" bulk allowed.test "$BENCH_BULK")"
    echo "$m mbps $b"
  done
done
