#!/usr/bin/env bash
# The launcher is built hardened (CMakeLists.txt, AISBX_HARDEN): position
# independent, full RELRO with immediate binding (no writable GOT once
# started), a stack that is not executable, glibc's checked functions
# (_FORTIFY_SOURCE) in its own calls, and every translation unit of its own
# compiled with the stack protector and stack clash protection (read from
# the debug info's producer strings, when the build has them).
#   hardening_test.sh BINARY
set -euo pipefail
bin=$1
command -v readelf >/dev/null || { echo "SKIP: readelf (binutils) is not installed"; exit 77; }
fail=0
no() { echo "FAIL: $bin: $*"; fail=1; }
dyn=$(readelf -d "$bin")
grep -q 'Flags:.*PIE' <<<"$dyn" || no "not a position-independent executable"
grep -Eq '\(FLAGS\).*BIND_NOW|Flags:.* NOW' <<<"$dyn" || no "symbols bound lazily (link with -z now)"
segs=$(readelf -lW "$bin")
grep -q 'GNU_RELRO' <<<"$segs" || no "no RELRO segment"
stack=$(grep 'GNU_STACK' <<<"$segs" || true)
[ -n "$stack" ] || no "no GNU_STACK segment (the kernel would map an executable stack)"
grep -q 'RWE' <<<"$stack" && no "executable stack"
# Checked calls the project's own code makes (the static archives from
# Debian bring __fprintf_chk and __stack_chk_fail of their own, so those
# prove nothing about this build).
syms=$(readelf --dyn-syms -W "$bin")
grep -Eq '__(poll|read|realpath|snprintf)_chk' <<<"$syms" || no "no FORTIFY_SOURCE checks in its own calls"
# Our own units: the C++23 ones (the static C++ runtime is C++ of another
# standard, built by Debian).
producers=$(readelf -p .debug_str "$bin" 2>/dev/null | grep -o 'GNU C++23 [^]]*' | sort -u || true)
if [ -n "$producers" ]; then
  while IFS= read -r p; do
    grep -q -- '-fstack-clash-protection' <<<"$p" || no "a unit built without stack clash protection: $p"
    grep -q -- '-fstack-protector-strong' <<<"$p" || no "a unit built without the stack protector: $p"
  done <<<"$producers"
  checked="stack protector and stack clash protection in $(wc -l <<<"$producers") producer line(s)"
else
  checked="no debug info: the units' flags not read"
fi
[ "$fail" -eq 0 ] || exit 1
echo "ok: PIE, full RELRO, non-executable stack, FORTIFY_SOURCE; $checked"
