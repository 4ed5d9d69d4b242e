#!/usr/bin/env bash
# The bash completion offers every long option of --help, the values of
# --mode/--format/--net, and profile names from --list-profiles.
#   completion_test.sh BINARY COMPLETION
set -euo pipefail
bin=$1
# shellcheck source=/dev/null
source "$2"
complete_words() {  # complete_words WORD... : completes the last word
  COMP_WORDS=("$bin" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _aisbx_ns
  printf '%s\n' "${COMPREPLY[@]}"
}
fail=0
expect() {  # expect WANTED WORD...
  local want=$1
  shift
  local got
  got=$(complete_words "$@")
  if ! grep -qx -- "$want" <<<"$got"; then
    echo "FAIL: completing \`$*\` does not offer \`$want\` (got: $(tr '\n' ' ' <<<"$got"))"
    fail=1
  fi
}
# Every option after `learn`; outside it, all but learn's own --output.
for o in $("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  expect "$o" learn "${o:0:3}"
  [ "$o" = --output ] || expect "$o" "${o:0:3}"
done
expect strict --mode s
expect landlock --mode ""
expect json --format j
expect loopback --net l
expect debug --log-level d
for p in $("$bin" --list-profiles | awk '{print $1}'); do expect "$p" --profile ""; done
expect minimal -p mi
[ "$fail" -eq 0 ] || exit 1
echo "ok: options, values and profile names complete"
