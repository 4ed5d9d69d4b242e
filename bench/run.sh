#!/usr/bin/env bash
# Benchmarks aisbx-ns against bare exec and bubblewrap, in one run, and
# writes bench/RESULTS.md (or $BENCH_OUT).
#
#   bash bench/run.sh
#
# Environment:
#   AISBX_BIN     the binary to measure (default: build/aisbx-ns; built
#                 with scripts/build.sh when missing)
#   BENCH_RUNS    timed runs of each launch (default 41)
#   BENCH_WALK_RUNS  timed runs of the file-heavy workload (default 31)
#   BENCH_OUT     where to write the Markdown (default: bench/RESULTS.md)
#   BENCH_TMPDIR  parent of the scratch directory (default: /var/tmp; not
#                 /tmp, which the sandboxes replace with their own)
#   BENCH_BIG_RUNS   timed runs with 10 000 roots (default 5)
#   BENCH_HEAVY_RUNS timed runs of git status, the build and npm ci
#                 (default 5)
#   BENCH_BUILD_FILES  C files of the build workload (default 300)
#   BENCH_BASELINE   another aisbx-ns binary (e.g. a build of the commit
#                 before a change): its rows are timed in the same rounds,
#                 so a change is measured as a ratio within one run
#
# Every group of commands runs interleaved, in a new random order each
# round, after untimed warm-up rounds; the tables show medians. Nothing
# here is a test: no timing is asserted anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-41}
walk_runs=${BENCH_WALK_RUNS:-31}
big_runs=${BENCH_BIG_RUNS:-5}
heavy_runs=${BENCH_HEAVY_RUNS:-5}
build_files=${BENCH_BUILD_FILES:-300}
baseline=${BENCH_BASELINE:-}
out=${BENCH_OUT:-$root/bench/RESULTS.md}
bin=${AISBX_BIN:-$root/build/aisbx-ns}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v bwrap >/dev/null; then
  echo "bench: installing bubblewrap"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends bubblewrap
fi
bwrap=$(command -v bwrap)
if [ ! -x "$bin" ]; then
  echo "bench: building aisbx-ns"
  bash "$root/scripts/build.sh"
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/aisbx-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/bin" "$tmp/project" "$tmp/roots" "$tmp/out"
echo "bench: scratch directory $tmp"

# The clock and the workload (bench/timer.cc), optimised like the product.
c++ -O2 -std=c++17 -o "$tmp/bin/timer" "$root/bench/timer.cc"
timer=$tmp/bin/timer
# The floor of any launcher that execs: the same program, static, running
# `timer exec /bin/true` (one more execve and nothing else).
c++ -O2 -std=c++17 -static -o "$tmp/bin/floor" "$root/bench/timer.cc" 2>/dev/null
# What any launcher with the same walls pays here, without options, profile
# or plan (bench/floors.cc): landlock mode's process model and ruleset, and
# N bind mounts.
c++ -O2 -std=c++17 -static -o "$tmp/bin/floors" "$root/bench/floors.cc" 2>/dev/null
mkdir -p "$tmp/bindroot"

# ---- the profiles: one policy, expressed for aisbx-ns and for bwrap ----
#
# The same roots for both: the project read-write, /usr (programs) and /etc
# read-only, the benchmark's tools read-only; a new /proc, a minimal /dev,
# a private /tmp, new pid and network namespaces.
all_rights="{execute: true, write_file: true, read_file: true, read_dir: true,
        remove_dir: true, remove_file: true, make_char: true, make_dir: true,
        make_reg: true, make_sock: true, make_fifo: true, make_block: true,
        make_sym: true, refer: true, truncate: true, ioctl_dev: true}"
profile() {  # profile FILE EXTRA_ROOT_DIRS...
  local file=$1
  shift
  {
    echo "version: 1"
    echo "profiles:"
    echo "  bench:"
    echo "    description: \"aisbx-ns benchmark\""
    echo "    access_roots:"
    echo "      project:"
    echo "        paths: [\"$tmp/project\"]"
    echo "        permissions: $all_rights"
    echo "      system:"
    echo "        paths: [/usr, \"$tmp/bin\"]"
    echo "        permissions: {read_file: true, read_dir: true, execute: true}"
    echo "      config:"
    echo "        paths: [/etc]"
    echo "        permissions: {read_file: true, read_dir: true}"
    echo "      proc:"
    echo "        paths: [/proc]"
    echo "        permissions: {read_file: true, read_dir: true}"
    echo "      devices:"
    echo "        paths: [/dev/null, /dev/zero, /dev/urandom]"
    echo "        permissions: {read_file: true, write_file: true, truncate: true, ioctl_dev: true}"
    if [ $# -gt 0 ]; then
      echo "      extra:"
      echo "        paths:"
      local d
      for d in "$@"; do echo "          - \"$d\""; done
      echo "        permissions: {read_file: true, read_dir: true}"
    fi
    echo "    control_access: $all_rights"
    echo "    network: none"
    echo "    command: {binary: /bin/true}"
  } >"$file"
}
profile "$tmp/bench.yaml"

bwrap_args=(--unshare-user --unshare-pid --unshare-net --unshare-ipc --unshare-uts
            --die-with-parent
            --ro-bind /usr /usr --ro-bind /etc /etc --ro-bind "$tmp/bin" "$tmp/bin"
            --bind "$tmp/project" "$tmp/project"
            --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64
            --symlink usr/sbin /sbin
            --proc /proc --dev /dev --tmpfs /tmp)

# spec FILE LABEL ARGV...: one line of a timer spec
spec() {
  local file=$1
  shift
  local IFS=$'\t'
  echo "$*" >>"$file"
}
# Each command must work before it is timed: a failing command is fast.
check() {
  local label=$1
  shift
  if ! "$@" >"$tmp/out/check.log" 2>&1; then
    echo "bench: $label fails:" >&2
    cat "$tmp/out/check.log" >&2
    exit 1
  fi
}
aisbx() { echo "${3:-$bin}" --config "$1" --profile bench --mode "$2" --log-level error; }

# N read-only roots in $tmp/roots/N, and their profile roots-N.yaml.
declare -A root_dirs_made
make_roots() {
  local n=$1 i d
  dirs=()
  for ((i = 0; i < n; i++)); do
    d=$(printf '%s/roots/%d/d%05d' "$tmp" "$n" "$i")
    dirs+=("$d")
  done
  if [ -z "${root_dirs_made[$n]:-}" ]; then
    mkdir -p "${dirs[@]}"
    profile "$tmp/roots-$n.yaml" "${dirs[@]}"
    root_dirs_made[$n]=1
  fi
}
# The same `bench` profile, in a large file: the file also holds `big`, a
# profile with 1000 roots (about 44 KB in all), listed first.
make_roots 1000
sed 's/^  bench:$/  big:/' "$tmp/roots-1000.yaml" >"$tmp/large.yaml"
sed -n '3,$p' "$tmp/bench.yaml" >>"$tmp/large.yaml"
large_kb=$(( $(stat -c %s "$tmp/large.yaml") / 1024 ))

cd "$tmp/project"

# ---- 1. launch cost of /bin/true ----
launch=$tmp/launch.spec
: >"$launch"
spec "$launch" bare /bin/true
spec "$launch" "floor: static exec" "$tmp/bin/floor" exec /bin/true
# Landlock mode's guard, target, cgroup (where the launcher makes one: it
# says so in its dry-run), ruleset and terminal guard, for the same roots.
cg_parent=$("$bin" --config "$tmp/bench.yaml" --profile bench --mode landlock --dry-run -- /bin/true 2>/dev/null |
  sed -n 's/.*cgroup\.kill of a cgroup in `\([^`]*\)`.*/\1/p' | sed -n 1p)
model=("$tmp/bin/floors" model ${cg_parent:+--cgroup "$cg_parent"} "all:$tmp/project" rx:/usr
       "rx:$tmp/bin" r:/etc r:/proc dev:/dev/null dev:/dev/zero dev:/dev/urandom -- /bin/true)
check "floor: landlock model" "${model[@]}"
spec "$launch" "floor: landlock model" "${model[@]}"
for m in landlock ns layered strict; do
  read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m")"
  check "$m" "${a[@]}" -- /bin/true
  spec "$launch" "$m" "${a[@]}" -- /bin/true
done
check bwrap "$bwrap" "${bwrap_args[@]}" /bin/true
spec "$launch" bwrap "$bwrap" "${bwrap_args[@]}" /bin/true
read -r -a a <<<"$(aisbx "$tmp/large.yaml" layered)"
check "layered, large file" "${a[@]}" -- /bin/true
spec "$launch" "layered, ${large_kb} KB file" "${a[@]}" -- /bin/true
if [ -n "$baseline" ]; then
  for m in landlock layered strict; do
    read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m" "$baseline")"
    spec "$launch" "before: $m" "${a[@]}" -- /bin/true
  done
  read -r -a a <<<"$(aisbx "$tmp/large.yaml" layered "$baseline")"
  spec "$launch" "before: layered, ${large_kb} KB file" "${a[@]}" -- /bin/true
  spec "$launch" "before: phase: --dry-run" "$baseline" --config "$tmp/bench.yaml" --profile bench --mode landlock --dry-run -- /bin/true
fi
# Where the launcher's time goes: loading and option parsing alone
# (--version), loading the profiles (--list-profiles), then the whole
# plan with the kernel probe (--dry-run).
spec "$launch" "phase: --version" "$bin" --version
spec "$launch" "phase: --list-profiles" "$bin" --config "$tmp/bench.yaml" --list-profiles
spec "$launch" "phase: --dry-run" "$bin" --config "$tmp/bench.yaml" --profile bench --mode landlock --dry-run -- /bin/true
echo "bench: launch ($runs runs each)"
"$timer" run "$runs" 5 "$launch" >"$tmp/launch.tsv"

# ---- 2. growth with the number of roots ----
roots=$tmp/roots.spec
: >"$roots"
for n in 1 10 100 1000; do
  make_roots "$n"
  for m in landlock layered; do
    read -r -a a <<<"$(aisbx "$tmp/roots-$n.yaml" "$m")"
    check "$m $n roots" "${a[@]}" -- /bin/true
    spec "$roots" "$m $n" "${a[@]}" -- /bin/true
  done
  b=("$bwrap" "${bwrap_args[@]}")
  for d in "${dirs[@]}"; do b+=(--ro-bind "$d" "$d"); done
  check "bwrap $n roots" "${b[@]}" /bin/true
  spec "$roots" "bwrap $n" "${b[@]}" /bin/true
done
# The kernel's part of N roots in layered mode: N binds and nothing else,
# the way the wall makes them, the cheapest way found (by path through
# /proc/self/fd, one mount_setattr for all), and only what precedes a bind.
for n in 1 1000; do
  for way in binds binds-by-path binds-prepare; do
    check "floor: $n $way" "$tmp/bin/floors" "$way" "$n" "$tmp/roots/1000" "$tmp/bindroot" -- /bin/true
    spec "$roots" "floor: $n $way" "$tmp/bin/floors" "$way" "$n" "$tmp/roots/1000" "$tmp/bindroot" -- /bin/true
  done
done
echo "bench: roots ($runs runs each)"
"$timer" run "$runs" 3 "$roots" >"$tmp/roots.tsv"
# 10 000 roots: bubblewrap re-reads the mount table after every bind
# (about 100 s a launch here), so only aisbx-ns, and fewer runs.
big=$tmp/big.spec
: >"$big"
make_roots 10000
for m in landlock layered; do
  read -r -a a <<<"$(aisbx "$tmp/roots-10000.yaml" "$m")"
  check "$m 10000 roots" "${a[@]}" -- /bin/true
  spec "$big" "$m 10000" "${a[@]}" -- /bin/true
done
echo "bench: 10000 roots ($big_runs runs each)"
"$timer" run "$big_runs" 1 "$big" >"$tmp/big.tsv"

# ---- where the launch time goes: the launcher's own phase marks ----
phases=$tmp/phases.spec
: >"$phases"
for m in landlock layered strict; do
  read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m")"
  spec "$phases" "$m" "${a[@]}" -- /bin/true
done
read -r -a a <<<"$(aisbx "$tmp/large.yaml" layered)"
spec "$phases" "layered, ${large_kb} KB file" "${a[@]}" -- /bin/true
read -r -a a <<<"$(aisbx "$tmp/roots-1000.yaml" layered)"
spec "$phases" "layered, 1000 roots" "${a[@]}" -- /bin/true
if [ -n "$baseline" ]; then
  for m in layered strict; do
    read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m" "$baseline")"
    spec "$phases" "before: $m" "${a[@]}" -- /bin/true
  done
  read -r -a a <<<"$(aisbx "$tmp/large.yaml" layered "$baseline")"
  spec "$phases" "before: layered, ${large_kb} KB file" "${a[@]}" -- /bin/true
fi
echo "bench: phases ($runs runs each)"
"$timer" phases "$runs" 3 "$phases" >"$tmp/phases.tsv"

# ---- 3. a file-heavy workload: walk /usr/include and read every file ----
walk=$tmp/walk.spec
: >"$walk"
files=$("$timer" walk /usr/include | sed "s/, [0-9.]* ms\$//")
spec "$walk" bare "$timer" walk /usr/include
for m in landlock ns layered strict; do
  read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m")"
  check "walk $m" "${a[@]}" -- "$timer" walk /usr/include
  spec "$walk" "$m" "${a[@]}" -- "$timer" walk /usr/include
done
check "walk bwrap" "$bwrap" "${bwrap_args[@]}" "$timer" walk /usr/include
spec "$walk" bwrap "$bwrap" "${bwrap_args[@]}" "$timer" walk /usr/include
echo "bench: file-heavy workload ($walk_runs runs each, with and without the launch)"
"$timer" run "$walk_runs" 2 "$walk" >"$tmp/walk.tsv"
"$timer" inner "$walk_runs" 2 "$walk" >"$tmp/walk-inner.tsv"

# ---- 4. start-up profile: instructions (callgrind) and the loader ----
# Best effort: a profiler that fails leaves its numbers out, not the report.
set +e +o pipefail
ir_total=""
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
  # The launcher's data is lost when it execs, and valgrind does not know
  # the Landlock system calls: profile --dry-run of landlock mode, which
  # runs everything up to the stages (options, profile, probe, plan).
  echo "bench: callgrind of --mode landlock --dry-run"
  read -r -a a <<<"$(aisbx "$tmp/bench.yaml" landlock)"
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" "${a[@]}" --dry-run -- /bin/true \
    >/dev/null 2>"$tmp/cg.log" || true
  cg=$(ls -S "$tmp"/cg.[0-9]* 2>/dev/null | sed -n 1p)
  [ -n "$cg" ] && mv "$cg" "$tmp/cg.out"
  if [ -s "$tmp/cg.out" ]; then
    callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.out" 2>/dev/null \
      >"$tmp/cg.txt" || true
    ir_total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' "$tmp/cg.txt")
  fi
fi
# Instructions of whole dry-runs (the launcher's own work, repeatable):
# a built-in profile, and the 1000-root profile above.
ir_of() {
  command -v valgrind >/dev/null || return 0
  valgrind --tool=callgrind --callgrind-out-file="$tmp/ir.%p" "$@" >/dev/null 2>&1 || true
  local f
  f=$(ls -S "$tmp"/ir.[0-9]* 2>/dev/null | sed -n 1p || true)
  [ -n "$f" ] || return 0
  callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {print $1; exit}'
  rm -f "$tmp"/ir.[0-9]*
}
# System calls of one layered launch with 1000 roots, all processes
# (launcher, init, target), by strace -f -c: where the per-root cost is.
sc_1000=""
if command -v strace >/dev/null; then
  read -r -a a <<<"$(aisbx "$tmp/roots-1000.yaml" layered)"
  if strace -f -c -o "$tmp/sc.txt" "${a[@]}" -- /bin/true >/dev/null 2>&1; then
    sc_1000=$(awk 'NR > 2 && $1 !~ /^-/ && $NF != "total" {print $NF, $4}' "$tmp/sc.txt" |
              sort -k2,2nr | sed -n 1,12p | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')
    sc_total=$(awk '$NF == "total" {print $4}' "$tmp/sc.txt")
  fi
fi
# Each twice: the first run fills the profile cache (callgrind runs as
# another binary, so its entries are its own), the second is what a launch
# costs from then on.
ir_of "$bin" --profile minimal --mode landlock --dry-run -- /bin/true >/dev/null
ir_minimal=$(ir_of "$bin" --profile minimal --mode landlock --dry-run -- /bin/true)
ir_of "$bin" --config "$tmp/roots-1000.yaml" --profile bench --mode landlock --dry-run -- /bin/true >/dev/null
ir_1000=$(ir_of "$bin" --config "$tmp/roots-1000.yaml" --profile bench --mode landlock --dry-run -- /bin/true)
ir_small=$(ir_of "$bin" --config "$tmp/bench.yaml" --profile bench --mode landlock --dry-run -- /bin/true)
ir_large=$(ir_of "$bin" --config "$tmp/large.yaml" --profile bench --mode landlock --dry-run -- /bin/true)
ir_large=$(ir_of "$bin" --config "$tmp/large.yaml" --profile bench --mode landlock --dry-run -- /bin/true)
ir_small=$(ir_of "$bin" --config "$tmp/bench.yaml" --profile bench --mode landlock --dry-run -- /bin/true)
ir_large_nc=""
if command -v valgrind >/dev/null; then
  ir_large_nc=$(AISBX_PROFILE_CACHE=off ir_of "$bin" --config "$tmp/large.yaml" --profile bench --mode landlock --dry-run -- /bin/true)
fi
ld_stats=$(LD_DEBUG=statistics "$bin" --version 2>&1 >/dev/null |
  sed -n 's/^ *[0-9]*: *//p' | grep -E 'total startup time|relocations' | sed -n 1,4p || true)
libs=$(ldd "$bin" | awk '/=>/ {print $1}' | tr '\n' ' ')
set -e -o pipefail

# ---- 5. the issue's file-heavy workloads, each timed inside ----
# Last: the launcher looks for nested repositories in the project on every
# launch, and these trees would be in every measure above.
# `timer time CMD` runs in the sandbox and prints the workload's own time
# (fork, exec, wait of CMD), so the launch is not in it. Each needs its
# tree made once, outside; the runs then change nothing that the next run
# would see differently (git status reads, make -B rebuilds everything,
# npm ci starts by removing node_modules).
heavy=$tmp/heavy.spec
: >"$heavy"
heavy_spec() {  # heavy_spec LABEL CMD...: bare, each mode, bwrap
  local label=$1
  shift
  check "$label bare" "$timer" time "$@"
  spec "$heavy" "$label: bare" "$timer" time "$@"
  local m
  for m in landlock layered strict; do
    read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m")"
    check "$label $m" "${a[@]}" -- "$timer" time "$@"
    spec "$heavy" "$label: $m" "${a[@]}" -- "$timer" time "$@"
  done
  check "$label bwrap" "$bwrap" "${bwrap_args[@]}" "$timer" time "$@"
  spec "$heavy" "$label: bwrap" "$bwrap" "${bwrap_args[@]}" "$timer" time "$@"
}
# git status on a 50 000-file tree: 500 directories of 100 files, committed.
echo "bench: making a git repository of 50 000 files"
repo=$tmp/project/repo
mkdir -p "$repo"
awk -v r="$repo" 'BEGIN {
  for (d = 0; d < 500; d++) {
    dir = sprintf("%s/d%03d", r, d)
    system("mkdir -p " dir)
    for (f = 0; f < 100; f++) { fn = sprintf("%s/f%03d.txt", dir, f); print d, f > fn; close(fn) }
  }
}'
git -C "$repo" init -q
git -C "$repo" -c user.name=bench -c user.email=bench@invalid add -A
git -C "$repo" -c user.name=bench -c user.email=bench@invalid commit -q -m tree
git -C "$repo" status --porcelain >/dev/null  # the index now holds every file's stat data
# HOME in the project: landlock mode keeps the caller's HOME, where git
# would fail on an unreadable ~/.gitconfig.
heavy_spec "git status, 50 000 files" env HOME="$tmp/project" git -C "$repo" status --porcelain
# A build of a few hundred files: $build_files C files compiled (make -B:
# every time) and archived.
echo "bench: making a $build_files-file C project"
build=$tmp/project/build
mkdir -p "$build/src"
for ((i = 0; i < build_files; i++)); do
  printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; ++i) s += i * %d; return s; }\n' \
    "$i" "$i" >"$build/src/f$i.c"
done
printf '%s\n' 'SRC := $(wildcard src/*.c)' 'OBJ := $(SRC:.c=.o)' 'lib.a: $(OBJ)' \
  $'\t$(AR) rcs $@ $^' '%.o: %.c' $'\t$(CC) -O1 -c -o $@ $<' >"$build/Makefile"
# TMPDIR in the project: landlock mode has no private /tmp, and the
# profile grants none (gcc writes its temporary files there).
mkdir -p "$build/tmp"
heavy_spec "build, $build_files C files" env TMPDIR="$build/tmp" make -s -B -j2 -C "$build"
# npm ci from a local cache: 30 packages of 20 files, as npm tarballs beside
# the project, installed offline; the cache is in the project.
echo "bench: making an npm project of 30 local packages"
npmdir=$tmp/project/npm
mkdir -p "$npmdir/tarballs" "$npmdir/app"
deps=""
for ((i = 0; i < 30; i++)); do
  pkg=$npmdir/pkg/p$i/package
  mkdir -p "$pkg/lib"
  printf '{"name": "bench-p%d", "version": "1.0.0", "main": "lib/f0.js"}\n' "$i" >"$pkg/package.json"
  for ((f = 0; f < 20; f++)); do
    printf 'module.exports = function f%d() { return %d; };\n' "$f" "$f" >"$pkg/lib/f$f.js"
  done
  tar -czf "$npmdir/tarballs/bench-p$i-1.0.0.tgz" -C "$npmdir/pkg/p$i" package
  deps+="${deps:+, }\"bench-p$i\": \"file:../tarballs/bench-p$i-1.0.0.tgz\""
done
printf '{"name": "bench-app", "version": "1.0.0", "private": true, "dependencies": {%s}}\n' \
  "$deps" >"$npmdir/app/package.json"
mkdir -p "$npmdir/tmp"
npm_env=(env "npm_config_cache=$npmdir/cache" npm_config_update_notifier=false TMPDIR="$npmdir/tmp")
(cd "$npmdir/app" && "${npm_env[@]}" npm install --offline --no-audit --no-fund >/dev/null 2>&1)
heavy_spec "npm ci, 30 packages" "${npm_env[@]}" npm --prefix "$npmdir/app" ci --offline \
  --no-audit --no-fund
echo "bench: file-heavy workloads ($heavy_runs runs each)"
"$timer" inner "$heavy_runs" 1 "$heavy" >"$tmp/heavy.tsv"

# ---- the report ----
get() {  # get TSV LABEL COLUMN (2 median, 3 min, 4 p90, 5 rss KiB)
  awk -F'\t' -v l="$2" -v c="$3" '$1 == l {print $c}' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.2f", a - b}'; }
met() { if awk "BEGIN {exit !($1)}"; then echo "**met**"; else echo "**not met**"; fi; }

bare=$(get "$tmp/launch.tsv" bare 2)
bw=$(get "$tmp/launch.tsv" bwrap 2)
ll=$(get "$tmp/launch.tsv" landlock 2)
lay=$(get "$tmp/launch.tsv" layered 2)
r1000=$(get "$tmp/roots.tsv" "layered 1000" 2)
r1000ll=$(get "$tmp/roots.tsv" "landlock 1000" 2)
floor=$(get "$tmp/launch.tsv" "floor: static exec" 2)
model_ms=$(get "$tmp/launch.tsv" "floor: landlock model" 2)
b1=$(get "$tmp/roots.tsv" "floor: 1 binds" 2)
b1000=$(get "$tmp/roots.tsv" "floor: 1000 binds" 2)
p1=$(get "$tmp/roots.tsv" "floor: 1 binds-by-path" 2)
p1000=$(get "$tmp/roots.tsv" "floor: 1000 binds-by-path" 2)
q1=$(get "$tmp/roots.tsv" "floor: 1 binds-prepare" 2)
q1000=$(get "$tmp/roots.tsv" "floor: 1000 binds-prepare" 2)
wbare=$(get "$tmp/walk-inner.tsv" bare 2)
wlay=$(get "$tmp/walk-inner.tsv" layered 2)
wll=$(get "$tmp/walk-inner.tsv" landlock 2)
wstrict=$(get "$tmp/walk-inner.tsv" strict 2)
strict_l=$(get "$tmp/launch.tsv" strict 2)
large=$(get "$tmp/launch.tsv" "layered, ${large_kb} KB file" 2)
r1=$(get "$tmp/roots.tsv" "layered 1" 2)
r1ll=$(get "$tmp/roots.tsv" "landlock 1" 2)
r10k=$(get "$tmp/big.tsv" "layered 10000" 2)
r10kll=$(get "$tmp/big.tsv" "landlock 10000" 2)
r10k_fail=$(awk -F'\t' '{f += $7} END {print f + 0}' "$tmp/big.tsv")
over() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a - b}'; }
# The same in CPU ms of the process tree (column 8).
cpu_of_bw() {
  awk -v a="$(get "$tmp/launch.tsv" "$1" 8)" -v b="$(get "$tmp/launch.tsv" bwrap 8)" \
    -v z="$(get "$tmp/launch.tsv" bare 8)" 'BEGIN {printf "(%s − %s) / (%s − %s) = %.2f", a, z, b, z, (a - z) / (b - z)}'
}
# Overhead over bare exec, as a fraction of bubblewrap's.
of_bw() { awk -v a="$1" -v b="$2" -v z="$bare" 'BEGIN {printf "%.2f", (a - z) / (b - z)}'; }

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
  echo "# aisbx-ns benchmark results"
  echo
  echo "Written by \`bash bench/run.sh\`; every number below comes from that one run."
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $cpu, $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
  echo "- kernel: $(uname -sr), Landlock ABI $("$bin" --features --format json 2>/dev/null |
    sed -n 's/.*"landlock_abi": *\([0-9]*\).*/\1/p' | sed -n 1p)"
  echo "- OS: $(. /etc/os-release && echo "$PRETTY_NAME"); $("$bwrap" --version)"
  echo "- aisbx-ns: $("$bin" --version), run as uid $(id -u)"
  echo "- method: fork + exec + wait timed by bench/timer.cc; each group interleaved in a"
  echo "  new random order every round after warm-up rounds; medians of $runs runs"
  echo "  (workload: $walk_runs runs); max RSS = the largest process of the tree"
  echo "  (launcher, sandbox init, command), from wait4()"
  echo
  echo "## Targets"
  echo
  echo "Overhead = median launch minus the median of bare exec, all in this run."
  echo
  echo "| goal (issue 20) | measured | verdict |"
  echo "|---|---|---|"
  echo "| layered overhead ≤ 0.8 × bubblewrap's | ($lay − $bare) / ($bw − $bare) = $(of_bw "$lay" "$bw"); in CPU ms $(cpu_of_bw layered) | $(met "$(of_bw "$lay" "$bw") <= 0.8") |"
  echo "| strict overhead ≤ 0.8 × bubblewrap's | ($strict_l − $bare) / ($bw − $bare) = $(of_bw "$strict_l" "$bw"); in CPU ms $(cpu_of_bw strict) | $(met "$(of_bw "$strict_l" "$bw") <= 0.8") |"
  echo "| landlock mode ≤ 1 ms above the static-exec floor | $ll − $floor = $(over "$ll" "$floor") ms; the process model and ruleset alone (\`floors model\`) $(over "$model_ms" "$floor") ms | $(met "$ll - $floor <= 1") |"
  echo "| small profile from a ${large_kb} KB file ≤ 1 ms over its own file (layered) | $large − $lay = $(over "$large" "$lay") ms | $(met "$large - $lay <= 1") |"
  echo "| 1000 roots add ≤ 20 ms | layered $r1000 − $r1 = $(over "$r1000" "$r1") ms; landlock $r1000ll − $r1ll = $(over "$r1000ll" "$r1ll") ms; 999 more binds alone (\`floors binds\`) $(over "$b1000" "$b1") ms, made the cheapest way found (\`binds-by-path\`) $(over "$p1000" "$p1") ms, their opens, fstats and mount points alone $(over "$q1000" "$q1") ms | $(met "$r1000 - $r1 <= 20 && $r1000ll - $r1ll <= 20")$(awk -v a="$p1000" -v b="$p1" 'BEGIN {if (a - b > 20) print "; layered out of reach here: the binds alone take more"}') |"
  echo "| 10 000 roots work and are measured | layered $r10k ms, landlock $r10kll ms ($big_runs runs each, $r10k_fail failed) | $(met "$r10k_fail == 0 && $r10k > 0 && $r10kll > 0") |"
  echo "| file-heavy work ≤ 1.05 × bare (walk + read of /usr/include) | layered $(ratio "$wlay" "$wbare"), strict $(ratio "$wstrict" "$wbare"), landlock $(ratio "$wll" "$wbare") × bare | $(met "$wlay <= 1.05 * $wbare && $wll <= 1.05 * $wbare && $wstrict <= 1.05 * $wbare") |"
  while IFS= read -r w; do
    hb=$(get "$tmp/heavy.tsv" "$w: bare" 2)
    hl=$(get "$tmp/heavy.tsv" "$w: landlock" 2)
    hy=$(get "$tmp/heavy.tsv" "$w: layered" 2)
    hs=$(get "$tmp/heavy.tsv" "$w: strict" 2)
    echo "| file-heavy work ≤ 1.05 × bare ($w) | layered $(ratio "$hy" "$hb"), strict $(ratio "$hs" "$hb"), landlock $(ratio "$hl" "$hb") × bare | $(met "$hy <= 1.05 * $hb && $hl <= 1.05 * $hb && $hs <= 1.05 * $hb") |"
  done < <(sed 's/: [a-z]*\t.*//' "$tmp/heavy.tsv" | uniq)
  echo
  echo "## Launch of /bin/true"
  echo
  echo "The same policy for every sandbox: the project read-write, /usr and /etc"
  echo "read-only, new /proc, minimal /dev, private /tmp, new pid, ipc, uts and"
  echo "network namespaces. aisbx-ns adds Landlock (all 16 rights handled) in"
  echo "every mode but ns, and seccomp in strict mode."
  echo
  echo "CPU ms is user + system time of the whole process tree (from wait4()),"
  echo "the machine's work for one launch, which other jobs move far less than"
  echo "the time on the clock; minor faults likewise (in a virtual machine each"
  echo "is a trip to the hypervisor)."
  echo
  echo "| command | median ms | min ms | p90 ms | × bare | × bwrap | max RSS KiB | CPU ms | minor faults |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r label med min p90 rss _ _ cpu flt; do
    echo "| $label | $med | $min | $p90 | $(ratio "$med" "$bare") | $(ratio "$med" "$bw") | $rss | $cpu | $flt |"
  done <"$tmp/launch.tsv"
  echo
  echo "The \`phase:\` rows are parts of the launcher's own start-up: \`--version\` is"
  echo "loading the binary and its libraries plus parsing the options;"
  echo "\`--list-profiles\` adds reading the profile files; \`--dry-run\` (landlock"
  echo "mode) adds the kernel probe, the plan and printing it."
  echo
  echo "## Where the launch time goes"
  echo
  echo "Medians (ms) of each phase, from the launcher's own marks"
  echo "(\`AISBX_PHASE_TIMES=1\`, one monotonic clock for the launcher, init and"
  echo "target; \`timer phases\`): *options* = fork, exec and loading of aisbx-ns"
  echo "and its command line; *profile* = reading and parsing the profile files;"
  echo "*plan* = probing the kernel and resolve(); *namespaces* = unshare and the"
  echo "uid/gid maps; *mounts* = start of init (beside the launcher, on its"
  echo "memory), building the root, pivot_root; *landlock* = (layered: start"
  echo "of the target, rlimits) the ruleset;"
  echo "*seccomp* = fds, keyring, seccomp filter; *exec* = chdir, environment;"
  echo "*end* = execve of /bin/true until the caller's wait returns."
  echo
  echo "| command | options | profile | plan | namespaces | mounts | landlock | seccomp | exec | end | total |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{
    delete v
    for (i = 2; i + 1 <= NF; i += 2) { n = $i; sub(/.*>/, "", n); v[n] = $(i + 1) }
    printf "| %s", $1
    split("options profile plan namespaces mounts landlock seccomp exec end total", cols, " ")
    for (k = 1; k <= 10; k++) printf " | %s", ((cols[k] in v) ? v[cols[k]] : "—")
    print " |"
  }' "$tmp/phases.tsv"
  echo
  echo "## Growth with the number of roots"
  echo
  echo "N read-only directories added to the policy above (bwrap: N more \`--ro-bind\`)."
  echo
  echo "| roots | landlock ms | layered ms | bwrap ms | layered × bwrap | layered max RSS KiB |"
  echo "|---:|---:|---:|---:|---:|---:|"
  for n in 1 10 100 1000; do
    l=$(get "$tmp/roots.tsv" "landlock $n" 2)
    y=$(get "$tmp/roots.tsv" "layered $n" 2)
    w=$(get "$tmp/roots.tsv" "bwrap $n" 2)
    echo "| $n | $l | $y | $w | $(ratio "$y" "$w") | $(get "$tmp/roots.tsv" "layered $n" 5) |"
  done
  echo "| 10000 | $r10kll | $r10k | not run | — | $(get "$tmp/big.tsv" "layered 10000" 5) |"
  echo
  echo "The kernel's part of the binds alone (\`floors binds N\`, bench/floors.cc): 1 bind"
  echo "$b1 ms, 1000 binds $b1000 ms, the whole launch of that program included;"
  echo "bound by path through /proc/self/fd with one mount_setattr for all"
  echo "(\`floors binds-by-path\`) $p1 and $p1000 ms; only the opens, fstats and"
  echo "mount points (\`floors binds-prepare\`) $q1 and $q1000 ms."
  echo
  echo "## File-heavy workload"
  echo
  echo "\`timer walk /usr/include\`: walk the tree and read every file ($files),"
  echo "from the page cache. The run time is the walk's own clock (the target);"
  echo "the whole run adds the launch, as the launcher's caller sees it."
  echo
  echo "| where | run time ms | min ms | p90 ms | × bare | whole run ms | × bare |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  wholebare=$(get "$tmp/walk.tsv" bare 2)
  while IFS=$'\t' read -r label med min p90 _ _ _; do
    whole=$(get "$tmp/walk.tsv" "$label" 2)
    echo "| $label | $med | $min | $p90 | $(ratio "$med" "$wbare") | $whole | $(ratio "$whole" "$wholebare") |"
  done <"$tmp/walk-inner.tsv"
  echo
  echo "## The issue's file-heavy workloads"
  echo
  echo "Each workload's own time, measured inside the sandbox by \`timer time\`"
  echo "(fork, exec and wait of the command; the launch is not in it), median"
  echo "of $heavy_runs runs, interleaved: \`git status --porcelain\` in a committed"
  echo "repository of 50 000 files (500 directories), \`make -B -j2\` of"
  echo "$build_files small C files into an archive, \`npm ci --offline\` of 30 packages"
  echo "(20 files each) from npm tarballs beside the project, its cache in the"
  echo "project. CPU ms: the whole run's, launch included."
  echo
  echo "| workload | where | median ms | min ms | p90 ms | × bare | CPU ms |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r label med min p90 _ _ _ cpu _; do
    w=${label%: *}
    echo "| $w | ${label##*: } | $med | $min | $p90 | $(ratio "$med" "$(get "$tmp/heavy.tsv" "$w: bare" 2)") | $cpu |"
  done <"$tmp/heavy.tsv"
  echo
  echo "## Start-up profile"
  echo
  echo "Shared libraries loaded by aisbx-ns: $libs"
  echo
  if [ -n "$ld_stats" ]; then
    echo "Dynamic loader, \`LD_DEBUG=statistics aisbx-ns --version\`:"
    echo
    echo '```'
    echo "$ld_stats"
    echo '```'
    echo
  fi
  if [ -n "$ir_total" ]; then
    echo "Instructions of \`aisbx-ns --mode landlock --dry-run -- /bin/true\` (callgrind):"
    echo "$ir_total in total. The largest inclusive costs:"
    echo
    echo '```'
    # Named functions only (yaml-cpp's internals have no symbols), no
    # recursion cycles (their inclusive cost counts twice).
    awk '/^-+$/ {n++; next} n >= 3 && NF' "$tmp/cg.txt" | sed 's/ *\[[^]]*\]$//' |
      grep -v -e '???:0x' -e '^ *[0-9,]* *([1-9][0-9][0-9]\.' -e "'2\$" -e 'file:function' |
      sed -E -e "s|$root/||g" -e 's#/[^ :]*/build/\.\./##g' \
        -e 's/\(std::__cxx11::basic_string.*/(...)/' | cut -c1-120 | sed -n 1,25p
    echo '```'
    echo
  fi
  cg_of() {  # inclusive instructions of the first function matching $1
    [ -s "$tmp/cg.txt" ] || return 0
    grep -F -- "$1" "$tmp/cg.txt" | sed -n 1p | awk '{gsub(",", "", $1); print $1}' || true
  }
  ir_yaml=$(cg_of "profile/parse.cc:aisbx::profile::parse_tree")
  v=$(get "$tmp/launch.tsv" "phase: --version" 2)
  lp=$(get "$tmp/launch.tsv" "phase: --list-profiles" 2)
  dr=$(get "$tmp/launch.tsv" "phase: --dry-run" 2)
  ns=$(get "$tmp/launch.tsv" ns 2)
  strict=$(get "$tmp/launch.tsv" strict 2)
  wns=$(get "$tmp/walk-inner.tsv" ns 2)
  echo "## What stands in the way"
  echo
  echo "From the tables above (medians of this run):"
  echo
  echo "- **Landlock mode, 1 ms over bare exec.** Any launcher execs once more"
  echo "  than bare exec: the cheapest one possible, a static program that"
  echo "  only calls execve, already costs $(diff_ms "$floor" "$bare") ms here. The $(diff_ms "$ll" "$bare") ms of"
  echo "  landlock mode: loading aisbx-ns and parsing its options instead of"
  echo "  loading /bin/true ($(diff_ms "$v" "$bare") ms, \`--version\`), reading, parsing and"
  echo "  planning the profile ($(diff_ms "$dr" "$v") ms, \`--dry-run\`), then what a"
  echo "  dry-run does not do: the Landlock ruleset, the TIOCSTI guard filter"
  echo "  and the exec of /bin/true itself ($(diff_ms "$ll" "$dr") ms). The process model"
  echo "  itself is not what costs: \`floors model\` (bench/floors.cc: the guard"
  echo "  and the target on the caller's memory, the cgroup, the same ruleset"
  echo "  and guard filter, no options, profile or plan) is $(diff_ms "$model_ms" "$floor") ms over the"
  echo "  floor. What is left is the launcher's own start-up and planning."
  if [ -n "$ir_total" ] && [ -n "$ir_yaml" ]; then
    echo "  In instructions, yaml-cpp's scanner is $(ratio "$((ir_yaml * 100))" "$ir_total") % of the launcher's"
    echo "  own work for this small profile (about 2000 instructions per byte"
    echo "  of YAML); the rest is spread over CLI11, planning and the loader."
  fi
  echo "- **Layered against bubblewrap** ($(ratio "$lay" "$bw") ×). Layered does what"
  echo "  bubblewrap does (user, mount, pid, net namespaces, one bind per root,"
  echo "  /proc, /dev, pivot_root; bubblewrap forks twice, aisbx-ns starts init"
  echo "  and the target on its own memory, sys/spawn.h) and more: it reads and plans"
  echo "  a YAML profile (the \`--dry-run\` row), applies Landlock in the target"
  echo "  (layered $lay ms against ns mode $ns ms) and the TIOCSTI guard;"
  echo "  strict adds a seccomp filter ($strict ms)."
  echo "- **1000 roots.** Each root costs, in the sandbox's init, about ten"
  echo "  system calls (open source and mount point without following links,"
  echo "  fstat, mkdir, open_tree, mount_setattr, move_mount, three close),"
  echo "  and in the target one Landlock rule (open, fstat, add_rule, close);"
  echo "  parsing 1000 quoted paths with yaml-cpp and planning them come"
  [ -n "$sc_1000" ] && echo "  before (${ir_1000:-?} instructions for the dry-run). strace -f -c of one such launch: $sc_total system calls; the most frequent: $sc_1000." ||
    echo "  before."
  echo "  The kernel's part alone, \`floors binds\` (bench/floors.cc: open, fstat,"
  echo "  mkdir, open_tree, mount_setattr, move_mount and two close a root,"
  echo "  nothing planned or checked), takes $(diff_ms "$b1000" "$b1") ms for 999 more roots:"
  echo "  one bind per root, which the namespace wall is, costs about that here"
  echo "  whatever launcher makes it."
  echo "  bubblewrap reads the whole mount table after every bind:"
  echo "  $(ratio "$(get "$tmp/roots.tsv" "bwrap 1000" 2)" "$r1000") × the time of layered mode at 1000 roots."
  echo "- **File-heavy workload.** At run time aisbx-ns adds nothing of its own:"
  echo "  the kernel checks each open against the Landlock ruleset (walking"
  echo "  up the path to the rule that grants it) and, in strict mode, runs"
  echo "  the seccomp filter on every call. Without Landlock (ns mode, where"
  echo "  only the TIOCSTI guard filter runs) the walk takes $(ratio "$wns" "$wbare") × bare; the"
  echo "  rest is Landlock's check on every open."
  echo "- Timings in a small VM shared with other jobs are noisy: the spread"
  echo "  between min and p90 above shows how much; the instruction counts"
  echo "  are the repeatable measure."
  echo
  echo "## Changes made for these targets"
  echo
  echo "Instructions (callgrind) of whole dry-runs: the first version and the"
  echo "one after the first round of changes (both measured on this machine"
  echo "when they were made), and this binary, in this run:"
  echo
  echo "| run | first | second | this binary |"
  echo "|---|---:|---:|---:|"
  echo "| \`--profile minimal --mode landlock --dry-run\` (built-in profile) | 17,573,130 | 11,372,826 | ${ir_minimal:-n/a} |"
  echo "| 1000 roots, \`--dry-run\` | 262,247,787 | 71,405,072 | ${ir_1000:-n/a} |"
  echo
  echo "The small profile, \`--dry-run\`, from its own file: ${ir_small:-n/a}; from the"
  echo "${large_kb} KB file: ${ir_large:-n/a} (with \`AISBX_PROFILE_CACHE=off\`: ${ir_large_nc:-n/a})."
  echo "Under valgrind the SHA-256 of the file runs without the CPU's SHA"
  echo "instructions (valgrind hides them): most of the difference left."
  echo
  echo "First round:"
  echo
  echo "- One YAML scan instead of two: the event pass that checks documents,"
  echo "  aliases and open quotes builds the node tree itself."
  echo "- The built-in profiles are not parsed when the profile comes from a"
  echo "  file and extends none of them."
  echo "- Landlock mode does not fork the user namespace probe."
  echo "- Planning is linear in the number of roots (the mount list, the"
  echo "  Landlock rules and the nested-root warning compared all pairs)."
  echo "- One \`mkdir\` per root; the remounts found by a sorted range."
  echo
  echo "Second round (each measured before it was kept):"
  echo
  echo "- libstdc++, libgcc, yaml-cpp and libseccomp are linked statically"
  echo "  (CMake option AISBX_STATIC_CXX, on): resolving libstdc++'s symbols"
  echo "  cost 1.7 ms per launch."
  echo "- libmount is loaded with dlopen only when a mount table is read"
  echo "  (--check, kernels without mount_setattr): linking it loaded four"
  echo "  libraries and ran libselinux's constructor on every launch (1.1 ms)."
  echo "- Binds are cloned with open_tree, flagged on every mount of the tree"
  echo "  with one recursive mount_setattr and attached with move_mount: no"
  echo "  mount table is read and no remount is made per submount."
  echo "- A sandbox run no longer forks the user namespace probe when no"
  echo "  sysctl or seccomp filter forbids user namespaces; if its own unshare"
  echo "  is refused it probes, plans again and falls back or refuses."
  echo "- Planning resolves each root with one lstat (canonical parents are"
  echo "  cached) instead of a readlink per path component; init no longer"
  echo "  stats every bind source before binding it."
  echo "- The launcher _Exit()s once the command has ended (0.8 ms of"
  echo "  destructors)."
  echo
  echo "Third round (issue 20):"
  echo
  echo "- The profile cache (README, include/aisbx/profile_cache.h): the parsed"
  echo "  tree of each profile file is kept, keyed by the SHA-256 of its bytes"
  echo "  and of the binary; a run of one profile keeps and reads only it and"
  echo "  its parents. The schema still runs on every launch. The built-in"
  echo "  profiles go through it too."
  echo "- Planning lstat()s each path once (RealFs keeps what it saw for the"
  echo "  length of one plan): a root was lstat'ed by realpath, by its kind and"
  echo "  again for its identity (3 system calls a root, now 1)."
  echo
  echo "Fourth round (issue 20, \`before:\` rows are the binary before it):"
  echo
  echo "- The target is started with clone(CLONE_VM | CLONE_VFORK) (sys/spawn.h),"
  echo "  by init and by landlock mode's guard: no page tables copied, no"
  echo "  copy-on-write faults, no address space torn down at its exec."
  echo "- Building the root keeps the directory the roots are made in open and"
  echo "  takes the kind of each source from the fstat that checks its identity;"
  echo "  Landlock rules likewise: 1000 roots, 14 193 openat2/close/fstat"
  echo "  calls before, 10 177 after."
  echo "- overlay_holding() of every mount in one pass (it was asked op by op,"
  echo "  quadratic in the roots, in planning and again in init)."
  echo "- Strict mode's seccomp filter is compiled once, while planning, and the"
  echo "  target loads that BPF program (libseccomp compiled it twice)."
} >"$out"

echo "bench: wrote $out"
sed -n '/^## Targets/,/^## Launch/p' "$out" | head -n -1
