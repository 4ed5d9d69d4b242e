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
trap '[ -n "${BENCH_RAW:-}" ] && cp "$work/raw.txt" "$BENCH_RAW"; rm -rf "$work"' EXIT
chmod 755 "$work"
export BENCH_ROUNDS=${BENCH_ROUNDS:-7} BENCH_REQUESTS=${BENCH_REQUESTS:-400} BENCH_BULK=${BENCH_BULK:-3}
export LAB_SCRIPT=$root/bench/net_inner.sh BIN_BEFORE=${AISBX_BIN_BEFORE:-}
# The floor of any relay, measured in the same rounds (bench/forward.cc).
c++ -O2 -std=c++17 -o "$work/forward" "$root/bench/forward.cc"
export FORWARD_BIN=$work/forward
as=self; [ "$(id -u)" = 0 ] && as=root
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
bash "$root/tests/net/lab.sh" "$bin" - "$work" "$as" layered > "$work/raw.txt"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work/raw.txt" "$out" "$bin" "${AISBX_BIN_BEFORE:-}" "$load_start" "$load_end" <<'PY'
import statistics, sys, datetime
raw, out, binary, before, load_start, load_end = sys.argv[1:7]
rows = {}
for line in open(raw):
    p = line.split()
    if len(p) >= 3 and p[0] in ("host", "allow", "before", "floor"):
        rows.setdefault((p[0], p[1]), []).append(float(p[2]))
def med(mode, m):
    v = rows.get((mode, m), [])
    return statistics.median(v) if v else float("nan")
# The load of a shared machine drifts within a run: each round's
# `network.allow` is compared with the `network: host` of the same round,
# and the median of those ratios (or differences) is reported.
def paired(mode, m, diff=False):
    h, x = rows.get(("host", m), []), rows.get((mode, m), [])
    v = [(b - a) if diff else (b / a) for a, b in zip(h, x) if a > 0]
    return statistics.median(v) if v else float("nan")
n = len(rows.get(("host", "rps"), []))
def verdict(ok): return "met" if ok else "NOT met"
def cols(mode):
    return (paired(mode, "rps"), paired(mode, "latency_ms", True), paired(mode, "mbps"))
ra, la, ba = cols("allow")
rf, lf, bf = cols("floor")
def rps_goal():
    if ra >= 0.9: return ">= 0.9x: met"
    if rf < 0.9: return f">= 0.9x: NOT met; out of reach of any relay here (the floor: {rf:.2f}x)"
    return ">= 0.9x: NOT met"
header = "| measure | `network: host` | `network.allow` | per-round ratio / added | goal |"
line = "|---|---:|---:|---:|---|"
if before:
    rb, lb, bb = cols("before")
    header = ("| measure | `network: host` | `network.allow` before | ratio / added before "
              "| `network.allow` after | ratio / added after | goal |")
    line = "|---|---:|---:|---:|---:|---:|---|"
def row(name, m, fmt, val, goal, unit="x", sign=""):
    cells = [name, fmt.format(med("host", m))]
    if before:
        vb = {"rps": rb, "latency_ms": lb, "mbps": bb}[m]
        cells += [fmt.format(med("before", m)), f"{sign}{vb:.2f}{unit}" if unit == "x" else f"{vb:+.3f} ms"]
    cells += [fmt.format(med("allow", m)), f"{val:.2f}x" if unit == "x" else f"{val:+.3f} ms", goal]
    return "| " + " | ".join(cells) + " |"
text = f"""# Network allowlist: cost against `network: host`

Written by `bench/net.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {n} interleaved
rounds, layered mode, in the lab of `tests/net/lab.sh` (a veth pair between
namespaces, the server a Python HTTP server on a TEST-NET address). One
connection per request; the name is resolved once per round. Values are
medians over the rounds; ratios and added latency are the medians of each
round's `network.allow` against the `network: host` of the same round.

{header}
{line}
{row("requests per second", "rps", "{:.0f}", ra, rps_goal())}
{row("latency per request (ms)", "latency_ms", "{:.3f}", la, "<= +1 ms: " + verdict(la <= 1.0), unit="ms")}
{row("bulk MB/s (20 MB)", "mbps", "{:.0f}", ba, ">= 0.9x: " + verdict(ba >= 0.9))}

The floor of any relay, in the same rounds: the `network: host` sandbox
reaching the same server through `bench/forward.cc` (one process, one
epoll loop, a blocking connect, a 64 KiB buffer, nothing checked) on the
lab host's 127.0.0.2: {med("floor", "rps"):.0f} requests/s ({rf:.2f}x, {lf:+.3f} ms a request),
{med("floor", "mbps"):.0f} MB/s bulk ({bf:.2f}x). Whatever relays the bytes of a connection
through a second TCP connection pays at least that; `network.allow` against
the floor: {ra / rf:.2f}x requests/s, {ba / bf:.2f}x bulk.

Load average (1, 5, 15 min) at the start: {load_start}; at the end: {load_end}.
The machine is shared: compare within one run, not across runs.
"""
if before:
    text += f"""
`before` is `network.allow` with another binary (`AISBX_BIN_BEFORE`),
measured in the same rounds, each mode first in turn.
"""
open(out, "w").write(text)
print(text)
PY
