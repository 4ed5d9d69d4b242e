#!/usr/bin/env bash
# What --overlay costs on a file-heavy workload, against the same sandbox
# with the project bound plainly: `git status` in a repository of many
# files, and a small C build (make, from clean), in one run.
#
#   bash bench/overlay.sh
#
# Environment:
#   AISBX_BIN      the binary to measure (default: build/aisbx-ns)
#   BENCH_FILES    files in the repository (default 5000)
#   BENCH_RUNS     timed runs of each command (default 11); medians shown
#   BENCH_TMPDIR   parent of the scratch directory (default: /var/tmp)
#
# Every timed command is one sandbox launch; the plain and overlay runs
# alternate, after an untimed warm-up of each. Each overlay run is a new
# run (--run), discarded afterwards. Nothing here is a test: no timing is
# asserted anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${AISBX_BIN:-$root/build/aisbx-ns}
files=${BENCH_FILES:-5000}
runs=${BENCH_RUNS:-11}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/aisbx-ovbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
mkdir -p "$HOME" "$tmp/proj"
cd "$tmp/proj"

# The repository: $files small files in 50 directories, committed.
for ((i = 0; i < files; i++)); do
  d=dir$((i % 50))
  [ -d "$d" ] || mkdir "$d"
  printf 'file %d\n' "$i" >"$d/f$i.txt"
done
# The build: 20 C files and a Makefile.
mkdir src
for ((i = 0; i < 20; i++)); do
  printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; ++i) s += i * %d; return s; }\n' \
    "$i" "$i" >"src/f$i.c"
done
printf 'int main(void) { return 0; }\n' >src/main.c
cat >Makefile <<'EOF'
SRC := $(wildcard src/*.c)
OBJ := $(SRC:.c=.o)
prog: $(OBJ)
	cc -o $@ $(OBJ)
%.o: %.c
	cc -O1 -c -o $@ $<
clean:
	rm -f prog src/*.o
EOF
printf '*.o\nprog\n' >.gitignore
git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm init

now() { date +%s%N; }
# run_once KIND CMD...: one launch, its wall time in ms on stdout.
n=0
run_once() {
  local kind=$1 t0 t1
  shift
  local extra=()
  if [ "$kind" = overlay ]; then
    n=$((n + 1))
    extra=(--overlay --run "bench-$n")
  fi
  t0=$(now)
  "$bin" --profile agent "${extra[@]}" -- "$@" >/dev/null 2>&1
  t1=$(now)
  [ "$kind" = overlay ] && "$bin" discard "bench-$n" >/dev/null
  echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -A times
workloads=("git status" "make (clean build)")
commands=("git status --porcelain" "sh -c 'make -s clean && make -s -j1'")
for w in 0 1; do
  for kind in plain overlay; do run_once "$kind" sh -c "${commands[$w]}" >/dev/null; done
  for ((r = 0; r < runs; r++)); do
    for kind in plain overlay; do
      times[$w,$kind]+="$(run_once "$kind" sh -c "${commands[$w]}") "
    done
  done
done

echo "overlay vs plain bind: $files files, $runs runs each, medians ($(uname -r))"
printf '%-22s %10s %10s %7s\n' workload "plain ms" "overlay ms" ratio
for w in 0 1; do
  p=$(tr ' ' '\n' <<<"${times[$w,plain]}" | grep . | median)
  o=$(tr ' ' '\n' <<<"${times[$w,overlay]}" | grep . | median)
  printf '%-22s %10s %10s %7s\n' "${workloads[$w]}" "$p" "$o" \
    "$(awk -v p="$p" -v o="$o" 'BEGIN {printf "%.2f", p ? o / p : 0}')"
done
