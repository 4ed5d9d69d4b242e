#!/bin/bash
# The network allowlist's test lab (issue 23): never the machine's real
# addresses. Usage: lab.sh AISBX_NS_BINARY SYSPROBE WORKDIR AS MODE
#   AS: root or nobody (the sandbox's user; nobody needs a root caller)
#   MODE: layered or strict
# Builds, in namespaces of its own:
#   "host"      unshare --net --mount (with --user --map-root-user when not
#               root): private /etc/hosts and /etc/resolv.conf, 192.0.2.1 on
#               lo as the host's own address, the user's local services on
#               127.0.0.1:11434 and :11435;
#   "internet"  a network namespace joined by a veth pair (203.0.113.1/.2)
#               holding the servers on 198.51.100.x (HTTP on 80, HTTPS on
#               443 with a certificate made here), the upstream DNS server
#               on 198.51.100.53 that logs every question, a UDP sink, and a
#               169.254.169.254 stand-in. (A namespace held by a process
#               rather than `ip netns add`, so that the lab also builds
#               without root.)
# Then runs lab_scenarios.sh in "host" and prints its lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != inner ]; then
  if [ "$(id -u)" = 0 ]; then
    exec unshare --net --mount --propagation private -- "$0" inner "$@"
  fi
  exec unshare --user --map-root-user --net --mount --propagation private -- "$0" inner "$@"
fi
shift
export BIN=$1 SYSPROBE=$2 WORK=$3 AS=$4 MODE=$5 HERE=$here

cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

ip link set lo up
ip addr add 192.0.2.1/32 dev lo
unshare --net -- sleep 600 &
inet=$!
for _ in $(seq 50); do [ "$(readlink /proc/$inet/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.05; done
ip link add lab0 type veth peer name lab1 netns "$inet"
ip addr add 203.0.113.1/24 dev lab0
ip link set lab0 up
nsenter --net=/proc/$inet/ns/net sh -e -c '
  ip link set lo up
  ip link set lab1 up
  ip addr add 203.0.113.2/24 dev lab1
  for a in 198.51.100.10 198.51.100.20 198.51.100.53 198.51.100.66 169.254.169.254; do
    ip addr add $a/32 dev lo
  done'
ip route add 198.51.100.0/24 via 203.0.113.2
ip route add 169.254.169.254/32 via 203.0.113.2

cat > "$WORK/hosts" <<HOSTS
127.0.0.1 localhost
198.51.100.10 allowed.test www.allowed.test
198.51.100.20 denied.test
127.0.0.1 loop.allowed.test
192.0.2.1 own.allowed.test
169.254.169.254 meta.allowed.test
198.51.100.66 ranged.allowed.test
HOSTS
echo "nameserver 198.51.100.53" > "$WORK/resolv.conf"
# The HTTPS servers' certificate, for every name of the lab; curl inside
# verifies it with --cacert (a self-signed certificate is its own anchor).
# The copy in proj is where the sandbox can read it.
mkdir -p "$WORK/tls" "$WORK/proj"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=allowed.test -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" \
  -addext "subjectAltName=DNS:allowed.test,DNS:*.allowed.test,DNS:denied.test" 2>/dev/null ||
  { echo "FAIL lab: openssl could not make the certificate"; exit 1; }
cp "$WORK/tls/cert.pem" "$WORK/proj/lab-ca.pem"
chmod 644 "$WORK/proj/lab-ca.pem"
chmod 644 "$WORK/hosts" "$WORK/resolv.conf"
mount --bind "$WORK/hosts" /etc/hosts
mount --bind "$WORK/resolv.conf" /etc/resolv.conf

nsenter --net=/proc/$inet/ns/net python3 "$here/lab_servers.py" internet "$WORK" &
python3 "$here/lab_servers.py" host "$WORK" &
for _ in $(seq 200); do [ -e "$WORK/internet.ready" ] && [ -e "$WORK/host.ready" ] && break; sleep 0.05; done
[ -e "$WORK/internet.ready" ] && [ -e "$WORK/host.ready" ] || { echo "FAIL lab: servers did not start"; exit 1; }
# bench/net.sh runs its own script in the same lab.
bash "${LAB_SCRIPT:-$here/lab_scenarios.sh}"
