#!/usr/bin/env bash
# Set-up, build with warnings as errors, every test (unit and kernel, as
# root and as an unprivileged user), then the unit tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer. Ends with ctest's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh

# 1. Sanitizers: the pure code (profile parsing, resolve, render) under
#    ASan+UBSan.
san=$root/build-asan
cmake -S . -B "$san" -DCMAKE_BUILD_TYPE=Debug -DAISBX_SANITIZE=ON -DAISBX_WERROR=ON >/dev/null
cmake --build "$san" -j"$(nproc)" --target unit_tests
echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$san/tests/unit_tests" --gtest_brief=1

# 1b. The profile fuzzer (libFuzzer, ASan+UBSan) for a minute; longer runs:
#     bash scripts/fuzz.sh SECONDS. Its progress goes to a log, shown on failure.
echo "== profile fuzzer, ${AISBX_FUZZ_SECONDS:-60} s"
fuzz_log=$root/build-fuzz/fuzz.log
mkdir -p "$root/build-fuzz"
if ! AISBX_FUZZ_BUILD="$root/build-fuzz" bash scripts/fuzz.sh "${AISBX_FUZZ_SECONDS:-60}" >"$fuzz_log" 2>&1; then
  tail -n 60 "$fuzz_log"
  echo "fuzz: a finding (or a build failure); the input is in build-fuzz/artifacts/" >&2
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$fuzz_log" || true

# 2. The real build and every test. Kernel tests run as the caller and, when
#    that is root, again as nobody (uid 65534) against a copy readable by it.
build=$root/build
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAISBX_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
if [ "$(id -u)" -eq 0 ]; then
  echo "== kernel tests as uid 65534"
  unpriv=$(mktemp -d /tmp/aisbx-unpriv.XXXXXX)
  trap 'rm -rf "$unpriv"' EXIT
  cp "$build/aisbx-ns" "$build/tests/aisbx_probe" "$build/tests/aisbx_sysprobe" \
     "$build/tests/kernel_tests" "$unpriv/"
  chmod -R a+rX "$unpriv"
  # In a network namespace of its own (made as root, then uid 65534).
  (cd "$unpriv" && bash "$root/tests/kernel/own_net.sh" setpriv --reuid=65534 --regid=65534 --clear-groups \
     env HOME="$unpriv" AISBX_BINARY="$unpriv/aisbx-ns" AISBX_PROBE="$unpriv/aisbx_probe" \
     AISBX_SYSPROBE="$unpriv/aisbx_sysprobe" \
     AISBX_REQUIRE_KERNEL_FEATURES="${AISBX_REQUIRE_KERNEL_FEATURES:-}" \
     "$unpriv/kernel_tests" --gtest_brief=1)
fi
echo "== all tests (ctest)"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
