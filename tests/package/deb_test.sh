#!/usr/bin/env bash
# Builds the .deb with CPack from the build directory, checks its control
# fields, extracts it with dpkg-deb -x and runs the extracted binary.
#   deb_test.sh BUILD_DIR VERSION
# Exits 77 (skipped) without cpack or dpkg-deb.
set -euo pipefail
build=$1
version=$2
for t in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aisbx-deb-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
deb=$tmp/pkg/aisbx-ns_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no $(basename "$deb") in: $(ls "$tmp/pkg")"

info=$(dpkg-deb -f "$deb" Package Version Depends)
echo "$info"
grep -qx "Package: aisbx-ns" <<<"$info" || fail "package name"
grep -qx "Version: $version" <<<"$info" || fail "version"
# libstdc++, yaml-cpp and libseccomp are linked in (AISBX_STATIC_CXX);
# libmount is loaded when a mount table is read, so shlibdeps cannot see it
# and CMakeLists.txt names it.
for lib in libc6 libmount1; do
  grep -q "^Depends:.*\\b$lib\\b" <<<"$info" || fail "Depends lacks $lib"
done

root=$tmp/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/aisbx-ns
got=$("$bin" --version) || fail "--version exited $?"
[ "$got" = "aisbx-ns $version" ] || fail "--version says \`$got\`, expected \`aisbx-ns $version\`"

cd "$tmp"
plan=$("$bin" --profile minimal --dry-run -- /bin/true) || fail "--dry-run exited $?"
grep -qx "profile: minimal (built-in)" <<<"$plan" || fail "the dry-run does not name the profile"
grep -qx "mode: layered" <<<"$plan" || fail "the dry-run is not in layered mode"
# The second name selects Landlock-only mode.
plan=$("$root/usr/bin/ai-sandbox-landlock" --profile minimal --dry-run -- /bin/true) ||
  fail "ai-sandbox-landlock --dry-run exited $?"
grep -qx "mode: landlock" <<<"$plan" || fail "ai-sandbox-landlock is not in landlock mode"
# --check reads the mount table: the extracted binary finds libmount.
"$bin" --profile minimal --check >"$tmp/check.out" 2>&1 ||
  { [ $? -eq 1 ] || { cat "$tmp/check.out"; fail "--check exited with neither 0 nor 1"; }; }
grep -q "libmount" "$tmp/check.out" && { cat "$tmp/check.out"; fail "--check could not load libmount"; }

[ "$(readlink "$root/usr/bin/ai-sandbox-landlock")" = aisbx-ns ] || fail "ai-sandbox-landlock link"
for f in usr/share/man/man1/aisbx-ns.1 usr/share/bash-completion/completions/aisbx-ns \
         usr/share/aisbx/profiles/builtin.yaml usr/share/aisbx/profiles/ai-sandbox-landlock.yaml \
         usr/share/aisbx/apparmor/aisbx-ns; do
  [ -s "$root/$f" ] || fail "$f is missing"
done
grep -q "^profile aisbx-ns /usr/bin/aisbx-ns " "$root/usr/share/aisbx/apparmor/aisbx-ns" ||
  fail "the AppArmor profile does not name /usr/bin/aisbx-ns"
echo "ok: $(basename "$deb") installs and runs"
