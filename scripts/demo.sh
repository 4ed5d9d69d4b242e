#!/usr/bin/env bash
# Set-up, build, then the main job for real: a node program in a project,
# run with the built-in copilot-backend profile. It can read the project,
# but not ~/.ssh, not write the project, and has no network.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
bin=$root/build/aisbx-ns

# Not under /tmp: the sandbox has a private /tmp of its own (README).
demo=$(mktemp -d /var/tmp/aisbx-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/home/.ssh" "$demo/project"
echo "-----BEGIN OPENSSH PRIVATE KEY----- (demo secret)" > "$demo/home/.ssh/id_rsa"
echo "# demo project" > "$demo/project/README.md"
cat > "$demo/project/server.js" <<'JS'
const fs = require('fs');
const net = require('net');
const os = require('os');
const tryit = (what, f) => { try { f(); console.log(`  ${what}: ALLOWED`); }
                             catch (e) { console.log(`  ${what}: denied (${e.code})`); } };
console.log('inside the sandbox, pid', process.pid);
tryit('read the project README', () => fs.readFileSync('README.md'));
tryit('read ~/.ssh/id_rsa', () => fs.readFileSync(os.homedir() + '/.ssh/id_rsa'));
tryit('write into the project', () => fs.writeFileSync('out.txt', 'x'));
tryit('read /etc/shadow', () => fs.readFileSync('/etc/shadow'));
const s = net.connect(80, '1.1.1.1');
s.on('connect', () => { console.log('  network: ALLOWED'); s.destroy(); });
s.on('error', (e) => console.log(`  network: denied (${e.code})`));
JS
chmod -R a+rX "$demo"

cd "$demo/project"
echo "\$ aisbx-ns --profile copilot-backend --dry-run -- node server.js   (the plan)"
HOME=$demo/home "$bin" --profile copilot-backend --dry-run -- node server.js | sed -n '1,12p'
echo
echo "\$ aisbx-ns --profile copilot-backend -- node server.js"
HOME=$demo/home "$bin" --log-level info --profile copilot-backend -- node server.js

# Installing: the same files as `cmake --install`, here into a scratch prefix.
echo
echo "\$ cmake --install build --prefix PREFIX   (then: man aisbx-ns; cpack -G DEB for a .deb)"
cmake --install "$root/build" --prefix "$demo/prefix" >/dev/null
(cd "$demo/prefix" && find . -type f -o -type l | sort | sed 's/^\./  PREFIX/')
"$demo/prefix/bin/aisbx-ns" --version
