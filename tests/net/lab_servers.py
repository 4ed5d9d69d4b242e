#!/usr/bin/python3
"""The lab's servers (tests/net/lab.sh). `internet DIR`: in the internet
namespace, HTTP on 198.51.100.10 (allowed.test), .20 (denied.test), .66
(a deny_resolved address) and 169.254.169.254 (the metadata stand-in), at
port 80 (HTTP) and 443 (HTTPS with the certificate lab.sh made, for every
name of the lab, so that curl --cacert verifies it), a UDP sink
that logs every datagram, and the upstream DNS server on 198.51.100.53
that logs every question. `host DIR`: the user's local services on the
host's loopback (127.0.0.1:11434, :11435 and [::1]:11436) and a server on the host's own address 192.0.2.1.
Only TEST-NET and link-local addresses inside namespaces the lab made."""
import hashlib
import http.server
import os
import ssl
import socket
import socketserver
import struct
import sys
import threading

MODE, DIR = sys.argv[1], sys.argv[2]
BIG = 20 * 1024 * 1024


def big_bytes():
    block = hashlib.sha256(b"aisbx-lab").digest() * 2048  # 64 KiB
    return (block * (BIG // len(block) + 1))[:BIG]


BIG_DATA = big_bytes() if MODE == "internet" else b""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        here = self.connection.getsockname()[0]
        if self.path == "/big":
            body = BIG_DATA
        else:
            body = (self.server.label + " " + here + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class Server6(Server):
    address_family = socket.AF_INET6


def serve_http(addr, port, label, tls=None):
    s = (Server6 if ":" in addr else Server)((addr, port), Handler)
    s.label = label
    if tls:
        # The handshake happens in the request's thread, not in accept():
        # a slow client holds up no other.
        s.socket = tls.wrap_socket(s.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=s.serve_forever, daemon=True).start()


def log(name, text):
    with open(os.path.join(DIR, name), "a") as f:
        f.write(text + "\n")


def dns_answer(msg):
    if len(msg) < 12:
        return None
    qid = msg[:2]
    at, labels = 12, []
    while at < len(msg) and msg[at] != 0:
        n = msg[at]
        labels.append(msg[at + 1:at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    name = ".".join(labels).lower()
    qtype = struct.unpack(">H", msg[at + 1:at + 3])[0] if at + 3 <= len(msg) else 0
    log("upstream-dns.log", "%s %d" % (name, qtype))
    question = msg[12:at + 5]
    if name == "dns.allowed.test" and qtype == 1:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton("198.51.100.10")
        return qid + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + question + answer
    return qid + b"\x81\x83" + struct.pack(">HHHH", 1, 0, 0, 0) + question  # NXDOMAIN


def serve_dns_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.53", 53))
    while True:
        msg, peer = s.recvfrom(4096)
        reply = dns_answer(msg)
        if reply:
            s.sendto(reply, peer)


def serve_dns_tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.51.100.53", 53))
    s.listen(16)
    while True:
        c, _ = s.accept()
        try:
            n = struct.unpack(">H", c.recv(2))[0]
            reply = dns_answer(c.recv(n))
            if reply:
                c.sendall(struct.pack(">H", len(reply)) + reply)
        except Exception:
            pass
        c.close()


def serve_udp_sink():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.10", 9999))
    while True:
        msg, peer = s.recvfrom(4096)
        log("udp-sink.log", repr(msg))


if MODE == "internet":
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(os.path.join(DIR, "tls", "cert.pem"), os.path.join(DIR, "tls", "key.pem"))
    for addr, label in (("198.51.100.10", "allowed"), ("198.51.100.20", "denied"),
                        ("198.51.100.66", "deny-resolved"), ("169.254.169.254", "metadata-secret")):
        serve_http(addr, 80, label)
        serve_http(addr, 443, label, tls)
    for f in (serve_dns_udp, serve_dns_tcp, serve_udp_sink):
        threading.Thread(target=f, daemon=True).start()
else:
    serve_http("127.0.0.1", 11434, "local-service")
    serve_http("127.0.0.1", 11435, "unlisted-local")
    serve_http("::1", 11436, "local-service-v6")  # a service bound to ::1 only
    serve_http("192.0.2.1", 80, "host-own")
open(os.path.join(DIR, MODE + ".ready"), "w").close()
threading.Event().wait()
