#!/bin/bash
# The allowlist's attack list, replayed in the lab (lab.sh sets BIN,
# SYSPROBE, WORK, AS, MODE, HERE). One line per scenario: `ok NAME` or
# `FAIL NAME: what happened`.
set -u
client=$HERE/lab_client.py
# Socket files of other programs on this machine are not the runs' own.
sockets_now() { find /tmp /run "$WORK" -type s 2>/dev/null | grep -i aisbx | sort; }
sockets_before=$(sockets_now)
mkdir -p "$WORK/proj" "$WORK/home-$AS"
[ "$AS" = nobody ] && chown 65534:65534 "$WORK/home-$AS"
cat > "$WORK/profiles.yaml" <<YAML
version: 1
profiles:
  lab:
    access_roots:
      system:
        paths: [/usr, /bin, /lib, /lib64, /etc, "$HERE", "$(dirname "$SYSPROBE")", "$WORK/proj"]
        permissions: {read_file: true, read_dir: true, execute: true}
    control_access: {read_file: true, read_dir: true, execute: true, write_file: true}
    network:
      allow: [allowed.test, "*.allowed.test", "198.51.100.20:8443"]
      host_ports: [11434, 11436]
      deny_resolved: [198.51.100.66/32]
      publish: [18080]
  lab-busy:
    extends: lab
    network:
      publish: [11435]
  lab-landlock:
    extends: lab
    network:
      publish: []
      landlock_mode: best_effort
  lab-check:
    extends: lab
    network:
      allow: [allowed.test, nx.test, loop.allowed.test]
YAML
chmod 644 "$WORK/profiles.yaml"

sbx() {
  local err=$WORK/stderr.$BASHPID
  (
    cd "$WORK/proj" || exit 125
    if [ "$AS" = nobody ]; then
      setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$WORK/home-$AS" \
        "$BIN" --config "$WORK/profiles.yaml" --profile "${PROFILE:-lab}" --mode "${SBX_MODE:-$MODE}" ${SBX_OPTS:-} -- "$@"
    else
      env -i PATH=/usr/bin:/bin HOME="$WORK/home-$AS" \
        "$BIN" --config "$WORK/profiles.yaml" --profile "${PROFILE:-lab}" --mode "${SBX_MODE:-$MODE}" ${SBX_OPTS:-} -- "$@"
    fi
  ) 2>"$err"
  local rc=$?
  cat "$err" >> "$WORK/stderr.all"
  mv -f "$err" "$WORK/last.err"
  return $rc
}

check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "FAIL $1: expected [$2], got [$3] stderr [$(cat "$WORK/last.err")]"; fi
}
check_has() {  # check_has NAME NEEDLE HAYSTACK
  case "$3" in *"$2"*) echo "ok $1" ;; *) echo "FAIL $1: [$2] not in [$3]" ;; esac
}

curl_q() { curl -sS --max-time 10 "$@" 2>&1; }

# ---- allowed ----
out=$(sbx curl -sS --max-time 10 http://allowed.test/hello)
check allowed-http-proxy-vars "allowed 198.51.100.10" "$out"
out=$(sbx curl -sS --max-time 10 -p http://allowed.test:80/hello)
check allowed-connect "allowed 198.51.100.10" "$out"
# HTTPS: curl takes https_proxy and sends CONNECT; TLS runs end to end
# between curl and the lab's server, verified against the lab's certificate.
ca=$WORK/proj/lab-ca.pem
out=$(sbx curl -sS --max-time 10 --cacert "$ca" -w ' %{http_connect}' https://allowed.test/hello)
check allowed-https-connect "allowed 198.51.100.10
 200" "$out"
out=$(sbx curl -sS --max-time 10 --noproxy '*' --cacert "$ca" https://www.allowed.test/hello)
check allowed-https-raw "allowed 198.51.100.10" "$out"
# ... and the verification is real: without the lab's certificate curl refuses.
out=$(sbx curl -sS --max-time 10 -o /dev/null https://allowed.test/hello; echo "rc=$?")
check allowed-https-verifies-certificate "rc=60" "$(echo "$out" | tail -1)"
out=$(sbx curl -sS --max-time 10 --noproxy '*' http://www.allowed.test/hello)
check allowed-raw-socket "allowed 198.51.100.10" "$out"
out=$(sbx python3 "$client" raw-http allowed.test 80 /hello)
check allowed-raw-python "body allowed 198.51.100.10" "$out"
out=$(sbx sh -c 'curl -sS --max-time 60 http://allowed.test/big | sha256sum')
want=$(python3 -c 'import hashlib; b=hashlib.sha256(b"aisbx-lab").digest()*2048; n=20*1024*1024; print(hashlib.sha256((b*(n//len(b)+1))[:n]).hexdigest())')
check allowed-20mb-checksum "$want  -" "$out"
out=$(sbx sh -c 'curl -sS --max-time 60 --noproxy "*" http://allowed.test/big | sha256sum')
check allowed-20mb-checksum-raw "$want  -" "$out"
out=$(sbx sh -c "curl -sS --max-time 60 --cacert '$ca' https://allowed.test/big | sha256sum")
check allowed-20mb-checksum-https "$want  -" "$out"
out=$(sbx python3 "$client" concurrent 100 allowed.test)
check allowed-100-concurrent "ok 100" "$out"
out=$(sbx python3 "$client" concurrent 100 allowed.test proxy)
check allowed-100-concurrent-proxy-vars "ok 100" "$out"
out=$(sbx python3 "$client" concurrent 100 allowed.test connect "$ca")
check allowed-100-concurrent-https-connect "ok 100" "$out"
out=$(sbx curl -sS --max-time 10 http://dns.allowed.test/hello)
check allowed-name-resolved-upstream "allowed 198.51.100.10" "$out"
check_has upstream-dns-log-works "dns.allowed.test" "$(cat "$WORK/upstream-dns.log" 2>/dev/null)"

# ---- denied ----
out=$(sbx curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://denied.test/hello)
check denied-http-proxy "403" "$out"
check_has denied-http-proxy-reported "aisbx-ns: network: denied denied.test:80 (not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 -p -o /dev/null -w '%{http_connect}' http://denied.test:443/hello)
check denied-connect "403" "$out"
out=$(sbx curl -sS --max-time 10 --cacert "$ca" -o /dev/null -w '%{http_connect}' https://denied.test/hello)
check denied-https-connect "403" "$out"
check_has denied-https-connect-reported "aisbx-ns: network: denied denied.test:443 (not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 --noproxy '*' --cacert "$ca" https://denied.test/hello)
case "$out" in *"denied 198"*) echo "FAIL denied-https-raw: $out" ;; *) echo "ok denied-https-raw" ;; esac
check_has denied-https-raw-reported "aisbx-ns: network: denied denied.test (lookup refused: not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 --cacert "$ca" -o /dev/null -w '%{http_connect}' https://meta.allowed.test/hello)
check rebinding-meta-https-connect "403" "$out"
check_has rebinding-meta-https-reported "denied meta.allowed.test:443 (resolves to the cloud metadata address: 169.254.169.254)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 --noproxy '*' http://denied.test/hello)
case "$out" in *"allowed"*|*"denied 198"*) echo "FAIL denied-raw: $out" ;; *) echo "ok denied-raw" ;; esac
check_has denied-raw-reported "aisbx-ns: network: denied denied.test (lookup refused: not in network.allow)" "$(cat "$WORK/last.err")"
for ip in 198.51.100.20 3325256724 0xC6336414; do
  out=$(sbx curl -sS --max-time 10 --noproxy '*' "http://$ip/hello")
  case "$out" in *"denied 198"*) echo "FAIL bare-ip-$ip: $out" ;; *) echo "ok bare-ip-$ip" ;; esac
done
out=$(sbx curl -sS --max-time 10 --noproxy '*' 'http://[::ffff:198.51.100.20]/hello')
case "$out" in *"denied 198"*) echo "FAIL bare-ip-ipv4-mapped-ipv6: $out" ;; *) echo "ok bare-ip-ipv4-mapped-ipv6" ;; esac
check_has bare-ip-ipv4-mapped-ipv6-reported "aisbx-ns: network: denied 198.51.100.20:80 (not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 -o /dev/null -w '%{http_code}' 'http://[::ffff:c633:6414]/hello')
check bare-ip-ipv4-mapped-ipv6-proxy "403" "$out"
check_has bare-ip-reported "aisbx-ns: network: denied 198.51.100.20:80 (not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://198.51.100.20/hello)
check bare-ip-proxy "403" "$out"
# A connection that sends nothing (a port probe) is reported too; the
# second lets the proxy take it before the run ends.
out=$(sbx sh -c "python3 '$client' connect 198.51.100.20 443; sleep 1")
check_has silent-connect-reported "aisbx-ns: network: denied 198.51.100.20:443 (not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 --noproxy '*' http://192.0.2.1/hello)
case "$out" in *"host-own"*) echo "FAIL host-own-address: $out" ;; *) echo "ok host-own-address" ;; esac
check_has host-own-address-reported "aisbx-ns: network: denied 192.0.2.1:80 (not in network.allow)" "$(cat "$WORK/last.err")"
out=$(sbx curl -sS --max-time 10 --noproxy '*' http://127.0.0.1:11435/hello)
case "$out" in *"unlisted-local"*) echo "FAIL unlisted-host-port: $out" ;; *) echo "ok unlisted-host-port" ;; esac
out=$(sbx python3 "$client" udp 198.51.100.10 9999)
sleep 0.3
check udp-datagram-reaches-nothing "" "$(cat "$WORK/udp-sink.log" 2>/dev/null)"
out=$(sbx python3 "$client" proxy-raw 'CONNECT denied.test:80 HTTP/1.1\r\nHost: allowed.test:80\r\n\r\n')
check smuggle-host-header "HTTP/1.1 403 Forbidden" "$out"
out=$(sbx python3 "$client" proxy-raw 'GET http://denied.test/hello HTTP/1.1\r\nHost: allowed.test\r\n\r\n')
check smuggle-absolute-host-header "HTTP/1.1 403 Forbidden" "$out"
out=$(sbx python3 "$client" proxy-raw 'CONNECT allowed.test@denied.test:80 HTTP/1.1\r\n\r\n')
check smuggle-userinfo "HTTP/1.1 403 Forbidden" "$out"
out=$(sbx python3 "$client" proxy-raw 'CONNECT allowed.test:80\r\nX: y HTTP/1.1\r\n\r\n')
check smuggle-crlf "HTTP/1.1 400 Bad Request" "$out"
# Listed, but nothing listens there: the proxy's dial fails, 502 (not a denial).
out=$(sbx python3 "$client" proxy-raw 'CONNECT 198.51.100.20:8443 HTTP/1.1\r\n\r\n')
check proxy-unreachable-502 "HTTP/1.1 502 Bad Gateway" "$out"
# A request head of 16 KiB without its end: 431, and nothing dialled.
out=$(sbx python3 "$client" proxy-raw "$(python3 -c 'p = "GET http://allowed.test/ HTTP/1.1\\r\\nX: "; print(p + "a" * (16384 - len(p) + 2), end="")')")
check proxy-head-too-large-431 "HTTP/1.1 431 Request Header Fields Too Large" "$out"
for n in loop own meta ranged; do
  out=$(sbx curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$n.allowed.test/hello")
  check "rebinding-$n-proxy" "403" "$out"
  out=$(sbx curl -sS --max-time 10 --noproxy '*' "http://$n.allowed.test/hello")
  case "$out" in *"local"*|*"host-own"*|*"metadata"*|*"deny-resolved"*) echo "FAIL rebinding-$n-raw: $out" ;; *) echo "ok rebinding-$n-raw" ;; esac
done
check_has rebinding-loop-reported "denied loop.allowed.test:80 (resolves to a loopback address: 127.0.0.1)" "$(cat "$WORK/stderr.all")"
check_has rebinding-own-reported "denied own.allowed.test:80 (resolves to an address of this host: 192.0.2.1)" "$(cat "$WORK/stderr.all")"
check_has rebinding-meta-reported "denied meta.allowed.test:80 (resolves to the cloud metadata address: 169.254.169.254)" "$(cat "$WORK/stderr.all")"

# ---- DNS is not a channel out ----
for t in A AAAA TXT; do
  for tr in udp tcp; do
    out=$(sbx python3 "$client" dns "exfil-$t-$tr.unlisted.test" $t $tr)
    check "dns-unlisted-$t-$tr" "REFUSED answers=0" "$out"
  done
done
out=$(sbx python3 "$client" dns www.allowed.test A udp)
check dns-allowed-answers "NOERROR answers=1" "$out"
log=$(cat "$WORK/upstream-dns.log" 2>/dev/null)
case "$log" in *unlisted*) echo "FAIL dns-never-forwarded: $log" ;; *) echo "ok dns-never-forwarded" ;; esac

# ---- host_ports ----
out=$(sbx curl -sS --max-time 10 http://127.0.0.1:11434/hello)
check host-port-reaches-local-service "local-service 127.0.0.1" "$out"
out=$(sbx curl -sS --max-time 10 http://localhost:11434/hello)
check host-port-by-localhost "local-service 127.0.0.1" "$out"
out=$(sbx curl -sS --max-time 10 'http://[::1]:11434/hello')
check host-port-inside-ipv6-loopback "local-service 127.0.0.1" "$out"
out=$(sbx curl -sS --max-time 10 http://127.0.0.1:11436/hello)
check host-port-to-ipv6-only-service "local-service-v6 ::1" "$out"

# ---- publish ----
( sbx python3 "$client" serve 18080 2 > "$WORK/publish.out" ) &
spid=$!
got=""
for _ in $(seq 150); do
  got=$(curl -sS --noproxy '*' --max-time 2 http://127.0.0.1:18080/hello 2>/dev/null) && [ -n "$got" ] && break
  sleep 0.1
done
check publish-reaches-inside-server "published-inside 127.0.0.1" "$got"
got=$(curl -sS --noproxy '*' --max-time 5 'http://[::1]:18080/hello' 2>&1)
check publish-reaches-inside-server-from-ipv6-loopback "published-inside 127.0.0.1" "$got"
wait $spid
check publish-server-served "served 2" "$(cat "$WORK/publish.out")"
check publish-closed-after-run "errno 111" "$(python3 "$client" connect 127.0.0.1 18080)"
check publish-closed-after-run-ipv6 "errno 111" "$(python3 "$client" connect ::1 18080)"
check publish-not-on-host-own-address "errno 111" "$(python3 "$client" connect 192.0.2.1 18080)"
out=$(PROFILE=lab-busy sbx true; echo "rc=$?")
check publish-port-in-use-refused "rc=125" "$out"
check_has publish-port-in-use-named "network.publish: 127.0.0.1:11435 of the host: bind" "$(cat "$WORK/last.err")"

# ---- --trace counts the denials, --check warns about names ----
out=$(SBX_OPTS=--trace sbx sh -c 'for i in 1 2 3; do curl -sS --max-time 5 -o /dev/null http://denied.test/hello; done; curl -sS --max-time 5 -o /dev/null http://loop.allowed.test/hello')
check_has trace-counts-denials "network.allow denied 2 destinations (4 times)" "$(cat "$WORK/last.err")"
check_has trace-counts-denied-name "denied.test:80: not in network.allow (3x)" "$(cat "$WORK/last.err")"
check_has trace-counts-rebinding "loop.allowed.test:80: resolves to a loopback address: 127.0.0.1 (1x)" "$(cat "$WORK/last.err")"
out=$(cd "$WORK/proj" && env -i PATH=/usr/bin:/bin HOME="$WORK/home-$AS" "$BIN" --config "$WORK/profiles.yaml" --profile lab-check --mode "$MODE" --check -- true 2>&1)
check_has check-warns-unresolved "network.allow: \`nx.test\` does not resolve" "$out"
check_has check-warns-refused "network.allow: \`loop.allowed.test\` resolves to a loopback address: 127.0.0.1" "$out"
case "$out" in *"\`allowed.test\`"*) echo "FAIL check-quiet-on-good-name: $out" ;; *) echo "ok check-quiet-on-good-name" ;; esac

# ---- --mode landlock, network.landlock_mode: best_effort ----
ll() { PROFILE=lab-landlock SBX_MODE=landlock sbx "$@"; }
out=$(ll curl -sS --max-time 10 http://allowed.test/hello)
check landlock-best-effort-proxy-allows "allowed 198.51.100.10" "$out"
check_has landlock-best-effort-warns "network.allow in --mode landlock is best effort" "$(cat "$WORK/last.err")"
out=$(ll curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://denied.test/hello)
check landlock-best-effort-proxy-denies "403" "$out"
out=$(ll python3 "$client" connect 198.51.100.20 80)
check landlock-best-effort-direct-connect-refused "errno 13" "$out"
out=$(ll curl -sS --max-time 10 http://127.0.0.1:11434/hello)
check landlock-best-effort-host-port "local-service 127.0.0.1" "$out"

# ---- sockets that go round the relays ----
out=$(sbx "$SYSPROBE" io-uring; echo "rc=$?")
check io-uring-refused "rc=1" "$(echo "$out" | tail -1)"
out=$(sbx "$SYSPROBE" mptcp; echo "rc=$?")
check mptcp-refused "rc=1" "$(echo "$out" | tail -1)"
for s in "AF_PACKET SOCK_RAW 0" "AF_INET SOCK_RAW 1" "AF_INET6 SOCK_RAW 58" "AF_INET SOCK_STREAM 132" "AF_NETLINK SOCK_RAW 9"; do
  out=$(sbx python3 "$client" socket $s)
  check "socket-refused-${s// /-}" "errno 1" "$out"
done
out=$(sbx python3 "$client" socket AF_NETLINK SOCK_RAW 0)
check socket-netlink-route-allowed "created" "$out"

# ---- the run ends cleanly ----
# Killed mid-transfer: the download is throttled to last about 20 s.
marker=aisbx-lab-marker-$$
( sbx sh -c "curl -sS --max-time 30 --limit-rate 1M http://allowed.test/big >/dev/null; sleep 30 # $marker" ) &
for _ in $(seq 100); do pgrep -f "$marker" >/dev/null && break; sleep 0.05; done
sleep 0.5
launcher=$(pgrep -f -o -- "$WORK/profiles.yaml --profile lab --mode $MODE -- sh -c curl -sS --max-time 30")
[ -n "$launcher" ] && kill -9 $launcher
left=""
for _ in $(seq 100); do left=$(pgrep -f "$marker"); [ -z "$left" ] && break; sleep 0.05; done
check sigkill-leaves-nothing "" "$left"
# The launcher's own children (the proxy, the publish relay) go with it.
for _ in $(seq 100); do left=$(pgrep -f -- "$WORK/profiles.yaml --profile lab --mode $MODE -- sh -c curl -sS --max-time 30"); [ -z "$left" ] && break; sleep 0.05; done
check sigkill-no-proxy-or-relay "" "$left"
check sigkill-publish-closed "errno 111" "$(python3 "$client" connect 127.0.0.1 18080)"
wait
out=$(sbx true; echo "rc=$?")
sleep 0.2
check clean-exit "rc=0" "$out"
check clean-exit-no-process "" "$(pgrep -f -- "$WORK/profiles.yaml --profile lab --mode $MODE")"
check no-socket-files "" "$(comm -13 <(echo "$sockets_before") <(sockets_now))"
