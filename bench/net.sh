#!/usr/bin/env bash
# The network allowlist's cost (issue 23): requests per second, added
# latency per request and bulk MB/s through `network.allow` (DNS stub,
# relay, proxy outside the sandbox) against `network: host`, in one run, in
# the test lab of tests/net/lab.sh (namespaces it makes, TEST-NET
# addresses, never the machine's network). Writes bench/NET_RESULTS.md (or
# $BENCH_OUT). Needs root, or unprivileged user namespaces.
#
#   bash bench/net.sh
#
# Environment:
#   AISBX_BIN        the binary (default: build/aisbx-ns)
#   BENCH_ROUNDS     interleaved rounds, medians reported (default 7)
#   BENCH_REQUESTS   requests per round for rps/latency (default 400)
#   BENCH_BULK       20 MB downloads per round (default 3)
#   AISBX_BIN_BEFORE another binary (e.g. before a change): its
#                    `network.allow` is measured in the same rounds
# Goals from the issue: >= 0.9x the throughput of `network: host`, and
# <= +1 ms per request. Nothing here is a test: no timing is asserted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${AISBX_BIN:-$root/build/aisbx-ns}
out=${BENCH_OUT:-$root/bench/NET_RESULTS.md}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/aisbx-netbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
export BENCH_ROUNDS=${BENCH_ROUNDS:-7} BENCH_REQUESTS=${BENCH_REQUESTS:-400} BENCH_BULK=${BENCH_BULK:-3}
export LAB_SCRIPT=$root/bench/net_inner.sh BIN_BEFORE=${AISBX_BIN_BEFORE:-}
as=self; [ "$(id -u)" = 0 ] && as=root
bash "$root/tests/net/lab.sh" "$bin" - "$work" "$as" layered > "$work/raw.txt"
python3 - "$work/raw.txt" "$out" "$bin" "${AISBX_BIN_BEFORE:-}" <<'PY'
import statistics, sys, subprocess, datetime
raw, out, binary, before = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = {}
for line in open(raw):
    p = line.split()
    if len(p) >= 3 and p[0] in ("host", "allow", "before"):
        rows.setdefault((p[0], p[1]), []).append(float(p[2]))
def med(k):
    v = rows.get(k, [])
    return statistics.median(v) if v else float("nan")
rh, ra = med(("host", "rps")), med(("allow", "rps"))
lh, la = med(("host", "latency_ms")), med(("allow", "latency_ms"))
bh, ba = med(("host", "mbps")), med(("allow", "mbps"))
n = len(rows.get(("host", "rps"), []))
def verdict(ok): return "met" if ok else "NOT met"
text = f"""# Network allowlist: cost against `network: host`

Written by `bench/net.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {n} interleaved
rounds (medians), layered mode, in the lab of `tests/net/lab.sh` (a veth
pair between namespaces, the server a Python HTTP server on a TEST-NET
address). One connection per request; the name is resolved once per round.

| measure | `network: host` | `network.allow` | ratio / added | goal |
|---|---:|---:|---:|---|
| requests per second | {rh:.0f} | {ra:.0f} | {ra/rh:.2f}x | >= 0.9x: {verdict(ra/rh >= 0.9)} |
| latency per request (ms) | {lh:.3f} | {la:.3f} | +{la-lh:.3f} ms | <= +1 ms: {verdict(la-lh <= 1.0)} |
| bulk MB/s (20 MB) | {bh:.0f} | {ba:.0f} | {ba/bh:.2f}x | >= 0.9x: {verdict(ba/bh >= 0.9)} |

The machine is shared: compare within one run, not across runs.
"""
if before:
    pb, lb, bb = med(("before", "rps")), med(("before", "latency_ms")), med(("before", "mbps"))
    text += f"""
The same rounds also ran `network.allow` with the binary before the change
(`{before.rsplit("/", 1)[-1]}`), interleaved with the two above:

| measure | `network.allow` before | ratio / added to `network: host` |
|---|---:|---:|
| requests per second | {pb:.0f} | {pb/rh:.2f}x |
| latency per request (ms) | {lb:.3f} | +{lb-lh:.3f} ms |
| bulk MB/s (20 MB) | {bb:.0f} | {bb/bh:.2f}x |
"""
open(out, "w").write(text)
print(text)
PY
