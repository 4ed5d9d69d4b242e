#!/usr/bin/env bash
# The man page documents every long option the binary's --help lists, and
# renders without warnings where groff is installed.
#   man_options_test.sh BINARY MANPAGE
set -euo pipefail
bin=$1
man=$2
# roff writes a dash as `\-`; undo that to search the text.
text=$(sed 's/\\-/-/g' "$man")
opts=$("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
[ -n "$opts" ] || { echo "FAIL: no options found in --help"; exit 1; }
missing=0
for o in $opts; do
  if ! grep -q -- "$o\\b" <<<"$text"; then
    echo "FAIL: $man does not mention $o"
    missing=1
  fi
done
# Exit codes and the profile format are covered too.
for s in 'EXIT STATUS' 'PROFILE FORMAT' 'EXAMPLES' '125' '126' '127' '128+' 'control_access' 'access_roots'; do
  grep -qF -- "$s" <<<"$text" || { echo "FAIL: $man lacks \`$s\`"; missing=1; }
done
if command -v groff >/dev/null; then
  warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1 || true)
  [ -z "$warnings" ] || { echo "FAIL: groff warns:"; echo "$warnings"; missing=1; }
fi
[ "$missing" -eq 0 ] || exit 1
echo "ok: $(wc -w <<<"$opts") options documented in $man"
