#!/usr/bin/env bash
# What --trace costs: a small C project (generated here: sources that
# include a few system headers, one Makefile) built with make, bare, in the
# sandbox, and in the sandbox with --trace. Writes bench/TRACE.md (or
# $BENCH_OUT).
#
#   bash bench/trace.sh
#
# Environment:
#   AISBX_BIN     the binary to measure (default: build/aisbx-ns; built
#                 with scripts/build.sh when missing)
#   BENCH_RUNS    timed builds of each kind (default 7)
#   BENCH_FILES   C files in the project (default 40)
#   BENCH_JOBS    make -j (default 2)
#   BENCH_OUT     where to write the Markdown (default: bench/TRACE.md)
#   BENCH_TMPDIR  parent of the scratch directory (default: /var/tmp; not
#                 /tmp, which the sandbox replaces with its own)
#
# The three kinds run interleaved, in a new random order each round, after
# one untimed warm-up round; the table shows medians. Nothing here is a
# test: no timing is asserted anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-7}
files=${BENCH_FILES:-40}
jobs=${BENCH_JOBS:-2}
out=${BENCH_OUT:-$root/bench/TRACE.md}
bin=${AISBX_BIN:-$root/build/aisbx-ns}

for tool in cc make; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install build-essential)"; exit 77; }
done
if [ ! -x "$bin" ]; then
  echo "bench: building aisbx-ns"
  bash "$root/scripts/build.sh"
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/aisbx-trace-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
proj=$tmp/project
mkdir -p "$proj/src" "$tmp/home"

# ---- the project ----
for i in $(seq 1 "$files"); do
  cat >"$proj/src/f$i.c" <<EOF
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common.h"
int f$i(int x) {
  char buf[64];
  snprintf(buf, sizeof buf, "%d", x + $i);
  return (int)strlen(buf) + common(x);
}
EOF
done
cat >"$proj/src/common.h" <<'EOF'
static inline int common(int x) { return x * 2; }
EOF
{
  echo '#include <stdio.h>'
  for i in $(seq 1 "$files"); do echo "int f$i(int);"; done
  echo 'int main(void) { int s = 0;'
  for i in $(seq 1 "$files"); do echo "  s += f$i($i);"; done
  echo '  printf("%d\n", s); return 0; }'
} >"$proj/src/main.c"
cat >"$proj/Makefile" <<'EOF'
SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=obj/%.o)
app: $(OBJS)
	cc -o $@ $(OBJS)
obj/%.o: src/%.c src/common.h | obj
	cc -O1 -c -o $@ $<
obj:
	mkdir -p obj
clean:
	rm -rf obj app
.PHONY: clean
EOF

# The built-in `build` profile (the project read-write, /usr, a private
# HOME), with this scratch HOME so that nothing of the user's is read.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config
sandbox=("$bin" --profile build --project "$proj" --)
trace_json=$tmp/trace.json
traced=("$bin" --profile build --project "$proj" --trace --trace-output "$trace_json" --format json --)

build() {  # build KIND: one clean build, prints seconds
  local kind=$1 start end
  make -C "$proj" -s clean >/dev/null
  start=$(date +%s.%N)
  case $kind in
    bare) (cd "$proj" && make -s -j"$jobs" >/dev/null) ;;
    sandbox) (cd "$proj" && "${sandbox[@]}" make -s -j"$jobs" >/dev/null 2>&1) ;;
    trace) (cd "$proj" && "${traced[@]}" make -s -j"$jobs" >/dev/null 2>&1) ;;
  esac
  end=$(date +%s.%N)
  [ -x "$proj/app" ] || { echo "bench: the $kind build failed" >&2; exit 1; }
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

kinds=(bare sandbox trace)
for k in "${kinds[@]}"; do build "$k" >/dev/null; done  # warm-up
declare -A samples
for _ in $(seq 1 "$runs"); do
  for k in $(printf '%s\n' "${kinds[@]}" | shuf); do
    samples[$k]+="$(build "$k") "
  done
done

med() { tr ' ' '\n' <<<"${samples[$1]}" | grep . | median; }
bare=$(med bare)
sand=$(med sandbox)
trac=$(med trace)
pct() { echo "scale=1; ($1 - $2) * 100 / $2" | bc -l; }
failed=$(grep -o '"failed_calls":[0-9]*' "$trace_json" | cut -d: -f2 || echo "?")
denials=$(grep -o '"wall":' "$trace_json" | wc -l || true)
kernel=$(uname -r)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

cat >"$out" <<EOF
# What --trace costs

\`bash bench/trace.sh\`: a generated C project of $((files + 1)) files (each
including six system headers) built from clean with \`make -j$jobs\`,
$runs timed builds of each kind, interleaved in random order after a
warm-up round; medians in seconds.

| kind | median (s) | vs. bare | vs. sandbox |
|---|---:|---:|---:|
| bare \`make\` | $bare | | |
| \`aisbx-ns --profile build -- make\` | $sand | +$(pct "$sand" "$bare") % | |
| \`aisbx-ns --profile build --trace -- make\` | $trac | +$(pct "$trac" "$bare") % | +$(pct "$trac" "$sand") % |

The traced build met $failed failed calls worth classifying and
$denials denials (the \`build\` profile allows what the build needs).

Where the cost comes from: the target's trace filter stops it only on
the calls that name a path, a socket address or a signal target
(\`SECCOMP_RET_TRACE\`; \`fstat\`, which glibc makes as
\`newfstatat(fd, "", AT_EMPTY_PATH)\`, is left out by the filter itself), and
only a failed call is decoded; read, write, mmap and the rest run at full
speed. But each traced call costs two ptrace stops (the seccomp stop and
the syscall-exit stop, four context switches), and a compiler makes
thousands of openat/stat calls per file searching its include paths: a
build is the worst case. --trace is a diagnostic mode, not for everyday
runs. A cheaper design would ask the Oracle at the seccomp stop and request
the exit stop only for calls it cannot show allowed (one stop for most
calls); not done yet.

Machine: $(nproc) CPUs ($cpu), kernel $kernel. Numbers from one run on a
shared machine; rerun the script for yours.
EOF
echo "bench: wrote $out"
cat "$out"
