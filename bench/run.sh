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
#   BENCH_WALK_RUNS  timed runs of the file-heavy workload (default 11)
#   BENCH_OUT     where to write the Markdown (default: bench/RESULTS.md)
#   BENCH_TMPDIR  parent of the scratch directory (default: /var/tmp; not
#                 /tmp, which the sandboxes replace with their own)
#
# Every group of commands runs interleaved, in a new random order each
# round, after untimed warm-up rounds; the tables show medians. Nothing
# here is a test: no timing is asserted anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-41}
walk_runs=${BENCH_WALK_RUNS:-11}
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
aisbx() { echo "$bin" --config "$1" --profile bench --mode "$2" --log-level error; }

cd "$tmp/project"

# ---- 1. launch cost of /bin/true ----
launch=$tmp/launch.spec
: >"$launch"
spec "$launch" bare /bin/true
for m in landlock ns layered strict; do
  read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m")"
  check "$m" "${a[@]}" -- /bin/true
  spec "$launch" "$m" "${a[@]}" -- /bin/true
done
check bwrap "$bwrap" "${bwrap_args[@]}" /bin/true
spec "$launch" bwrap "$bwrap" "${bwrap_args[@]}" /bin/true
# Where the launcher's time goes: loading and option parsing alone
# (--version), loading the profiles (--list-profiles), then the whole
# plan with the kernel probe (--dry-run).
spec "$launch" "phase: --version" "$bin" --version
spec "$launch" "phase: --list-profiles" "$bin" --config "$tmp/bench.yaml" --list-profiles
spec "$launch" "phase: --dry-run" "$bin" --config "$tmp/bench.yaml" --profile bench --dry-run -- /bin/true
echo "bench: launch ($runs runs each)"
"$timer" run "$runs" 5 "$launch" >"$tmp/launch.tsv"

# ---- 2. growth with the number of roots ----
roots=$tmp/roots.spec
: >"$roots"
for n in 1 10 100 1000; do
  dirs=()
  for ((i = 0; i < n; i++)); do
    d=$(printf '%s/roots/%d/d%04d' "$tmp" "$n" "$i")
    dirs+=("$d")
  done
  mkdir -p "${dirs[@]}"
  profile "$tmp/roots-$n.yaml" "${dirs[@]}"
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
echo "bench: roots ($runs runs each)"
"$timer" run "$runs" 3 "$roots" >"$tmp/roots.tsv"

# ---- 3. a file-heavy workload: walk /usr/include and read every file ----
walk=$tmp/walk.spec
: >"$walk"
files=$("$timer" walk /usr/include)
spec "$walk" bare "$timer" walk /usr/include
for m in landlock layered strict; do
  read -r -a a <<<"$(aisbx "$tmp/bench.yaml" "$m")"
  check "walk $m" "${a[@]}" -- "$timer" walk /usr/include
  spec "$walk" "$m" "${a[@]}" -- "$timer" walk /usr/include
done
check "walk bwrap" "$bwrap" "${bwrap_args[@]}" "$timer" walk /usr/include
spec "$walk" bwrap "$bwrap" "${bwrap_args[@]}" "$timer" walk /usr/include
echo "bench: file-heavy workload ($walk_runs runs each)"
"$timer" run "$walk_runs" 2 "$walk" >"$tmp/walk.tsv"

# ---- 4. start-up profile: instructions (callgrind) and the loader ----
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
ld_stats=$(LD_DEBUG=statistics "$bin" --version 2>&1 >/dev/null |
  sed -n 's/^ *[0-9]*: *//p' | grep -E 'total startup time|relocations' | sed -n 1,4p || true)
libs=$(ldd "$bin" | awk '/=>/ {print $1}' | tr '\n' ' ')

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
wbare=$(get "$tmp/walk.tsv" bare 2)
wlay=$(get "$tmp/walk.tsv" layered 2)
wll=$(get "$tmp/walk.tsv" landlock 2)
wstrict=$(get "$tmp/walk.tsv" strict 2)

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
  echo "| target | measured | |"
  echo "|---|---|---|"
  echo "| layered launch no slower than bubblewrap with the same mounts | layered $lay ms / bwrap $bw ms = $(ratio "$lay" "$bw") | $(met "$lay <= $bw") |"
  echo "| landlock mode within 1 ms of bare exec | $ll ms − $bare ms = $(diff_ms "$ll" "$bare") ms | $(met "$ll - $bare <= 1") |"
  echo "| 1000 roots under 50 ms | layered $r1000 ms, landlock $r1000ll ms | $(met "$r1000 < 50 && $r1000ll < 50") |"
  echo "| file-heavy workload within 5 % of bare | layered $(ratio "$wlay" "$wbare"), strict $(ratio "$wstrict" "$wbare"), landlock $(ratio "$wll" "$wbare") × bare | $(met "$wlay <= 1.05 * $wbare && $wll <= 1.05 * $wbare && $wstrict <= 1.05 * $wbare") |"
  echo
  echo "## Launch of /bin/true"
  echo
  echo "The same policy for every sandbox: the project read-write, /usr and /etc"
  echo "read-only, new /proc, minimal /dev, private /tmp, new pid, ipc, uts and"
  echo "network namespaces. aisbx-ns adds Landlock (all 16 rights handled) in"
  echo "every mode but ns, and seccomp in strict mode."
  echo
  echo "| command | median ms | min ms | p90 ms | × bare | × bwrap | max RSS KiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r label med min p90 rss _ _; do
    echo "| $label | $med | $min | $p90 | $(ratio "$med" "$bare") | $(ratio "$med" "$bw") | $rss |"
  done <"$tmp/launch.tsv"
  echo
  echo "The \`phase:\` rows are parts of the launcher's own start-up: \`--version\` is"
  echo "loading the binary and its libraries plus parsing the options;"
  echo "\`--list-profiles\` adds reading the profile files; \`--dry-run\` adds the"
  echo "kernel probe, the plan and printing it."
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
  echo
  echo "## File-heavy workload"
  echo
  echo "\`timer walk /usr/include\`: walk the tree and read every file ($files),"
  echo "from the page cache; launch included."
  echo
  echo "| where | median ms | min ms | p90 ms | × bare |"
  echo "|---|---:|---:|---:|---:|"
  while IFS=$'\t' read -r label med min p90 _ _ _; do
    echo "| $label | $med | $min | $p90 | $(ratio "$med" "$wbare") |"
  done <"$tmp/walk.tsv"
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
      sed -e "s|$root/||g" -e 's/(std::__cxx11::basic_string.*/(...)/' | cut -c1-120 | sed -n 1,25p
    echo '```'
    echo
  fi
  cg_of() {  # inclusive instructions of the first function matching $1
    [ -s "$tmp/cg.txt" ] || return 0
    grep -F -- "$1" "$tmp/cg.txt" | sed -n 1p | awk '{gsub(",", "", $1); print $1}'
  }
  ir_loader=$(cg_of "rtld.c:dl_main")
  ir_yaml=$(cg_of "profile/parse.cc:aisbx::profile::parse_profiles")
  v=$(get "$tmp/launch.tsv" "phase: --version" 2)
  lp=$(get "$tmp/launch.tsv" "phase: --list-profiles" 2)
  dr=$(get "$tmp/launch.tsv" "phase: --dry-run" 2)
  ns=$(get "$tmp/launch.tsv" ns 2)
  echo "## What stands in the way"
  echo
  echo "From the tables above (medians of this run):"
  echo
  echo "- Before any work of its own, aisbx-ns pays for loading itself and its"
  echo "  $(wc -w <<<"$libs") shared libraries: \`--version\` takes $v ms against $bare ms for"
  echo "  /bin/true ($(diff_ms "$v" "$bare") ms). Landlock mode is $ll ms, so loading is"
  echo "  most of its $(diff_ms "$ll" "$bare") ms over bare exec."
  if [ -n "$ir_total" ] && [ -n "$ir_loader" ] && [ -n "$ir_yaml" ]; then
    echo "  In instructions, the dynamic loader (symbol lookup and relocation of"
    echo "  libstdc++, yaml-cpp, libmount and their dependencies) is $(ratio "$((ir_loader * 100))" "$ir_total") % of"
    echo "  the launcher's start-up and YAML parsing (yaml-cpp's scanner) $(ratio "$((ir_yaml * 100))" "$ir_total") %."
  fi
  echo "- The kernel probe (it forks a child into a user namespace), reading the"
  echo "  profile file and planning add $(diff_ms "$dr" "$v") ms (\`--dry-run\` of layered"
  echo "  mode against \`--version\`); listing profiles, which parses the built-in"
  echo "  ones too, $(diff_ms "$lp" "$v") ms."
  echo "- Layered mode adds the namespace wall: the user namespace probe (a"
  echo "  fork), unshare, two forks (init and target), one bind mount and one"
  echo "  remount per root, /proc, /dev, pivot_root. ns mode alone is $ns ms,"
  echo "  bubblewrap, which does the same mounts without Landlock, $bw ms."
  echo "- The file-heavy workload pays Landlock's check on every path walk"
  echo "  (each open is checked against the ruleset, layer by layer) and, in"
  echo "  layered and strict mode, the launch above; strict adds a seccomp"
  echo "  filter run on every system call."
  echo "- Timings in a small VM shared with other jobs are noisy: the spread"
  echo "  between min and p90 above shows how much; the instruction counts of"
  echo "  the start-up profile are the repeatable measure."
  echo
  echo "## Changes made for these targets"
  echo
  echo "Instructions (callgrind) of \`--dry-run\` before and after, same machine:"
  echo
  echo "| run | before | after |"
  echo "|---|---:|---:|"
  echo "| \`--profile minimal --mode landlock --dry-run\` (built-in profile) | 17,573,130 | 11,372,826 |"
  echo "| 1000 roots, \`--dry-run\` | 262,247,787 | 71,405,072 |"
  echo
  echo "- One YAML scan instead of two: the event pass that checks documents,"
  echo "  aliases and open quotes now builds the node tree itself"
  echo "  (\`YAML::LoadAll\` scanned the text a second time)."
  echo "- The built-in profiles are not parsed when the profile comes from a"
  echo "  file and extends none of them."
  echo "- Landlock mode no longer forks the user namespace probe it never uses."
  echo "- Planning is linear in the number of roots: the mount list, the"
  echo "  Landlock rules and the nested-root warning were each a loop over all"
  echo "  pairs of roots."
  echo "- Building the root: one \`mkdir\` per root instead of one per path"
  echo "  component, and the remounts find the mounts beneath each bind in the"
  echo "  mount table (read once) by a sorted range, not by comparing all pairs."
  echo "- Not done: linking libstdc++ and yaml-cpp statically would remove most"
  echo "  of the loader's work (page faults fell from about 190 to 130 for"
  echo "  \`--version\` in a trial), but the .deb then no longer follows Debian's"
  echo "  shared-library policy; the launcher still reads \`/proc/self/mountinfo\`"
  echo "  once per sandbox, and the sandbox's init stats each bind source once"
  echo "  more although the plan knows its kind."
} >"$out"

echo "bench: wrote $out"
sed -n '/^## Targets/,/^## Launch/p' "$out" | head -n -1
