#!/usr/bin/env bash
# Fuzzes profile loading and resolve() with libFuzzer under ASan+UBSan:
# YAML bytes in, a Plan or a clean error out (tests/fuzz/profile_fuzz_one.h).
#
#   bash scripts/fuzz.sh [SECONDS]      default 600; scripts/test.sh runs 60
#
# Builds with clang++-16 in $AISBX_FUZZ_BUILD (default build-fuzz/). The
# seeds are profiles/*.yaml, tests/fuzz/seeds/ and every past finding in
# tests/fuzz/regressions/; the corpus grows in $AISBX_FUZZ_BUILD/corpus and
# is kept between runs. A finding is written to $AISBX_FUZZ_BUILD/artifacts/
# and the script exits non-zero: fix it, then add the input to
# tests/fuzz/regressions/ (the unit tests replay that directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-600}
build=${AISBX_FUZZ_BUILD:-$root/build-fuzz}
cxx=${AISBX_FUZZ_CXX:-clang++-16}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (scripts/setup.sh installs clang-16)" >&2; exit 1; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DAISBX_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target profile_fuzz

corpus=$build/corpus
seeds=$build/seeds
artifacts=$build/artifacts
mkdir -p "$corpus" "$seeds" "$artifacts"
rm -f "$seeds"/*
cp profiles/*.yaml tests/fuzz/seeds/* "$seeds/"
find tests/fuzz/regressions -type f ! -name README.md -exec cp {} "$seeds/" \;

echo "== fuzzing profile loading and resolve() for ${seconds}s"
# detect_leaks: a leak is a finding too. -timeout: one input taking 10 s is a hang.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$build/tests/profile_fuzz" "$corpus" "$seeds" \
    -dict=tests/fuzz/profile.dict -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$artifacts/"
