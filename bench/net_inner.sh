#!/bin/bash
# bench/net.sh's part inside the lab (tests/net/lab.sh sets BIN, WORK, HERE):
# the same client in two sandboxes, `network: host` and `network.allow`,
# interleaved; one line per measure: `MODE MEASURE VALUE`.
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
run() {  # run PROFILE ARGS...: the client in that sandbox
  local profile=$1; shift
  (cd "$WORK/proj" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" \
     "$BIN" --config "$WORK/bench.yaml" --profile "$profile" -- python3 "$client" "$@")
}
for round in $(seq "$BENCH_ROUNDS"); do
  order="host allow"; [ $((round % 2)) = 0 ] && order="allow host"
  for m in $order; do
    read -r _ r _ l <<<"$(run "bench-$m" rps allowed.test "$BENCH_REQUESTS")"
    echo "$m rps $r"
    echo "$m latency_ms $l"
    read -r _ b <<<"$(run "bench-$m" bulk allowed.test "$BENCH_BULK")"
    echo "$m mbps $b"
  done
done
