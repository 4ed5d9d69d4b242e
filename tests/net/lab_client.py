#!/usr/bin/python3
"""What the lab's scenarios run inside the sandbox (tests/net/lab.sh).
Prints one result line; never raises."""
import os
import socket
import ssl
import struct
import sys
import threading


def read_all(s):
    """Everything S sends until it closes."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def nameserver():
    with open("/etc/resolv.conf") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                return parts[1]
    return "127.0.0.1"


def dns(name, qtype, transport):
    types = {"A": 1, "AAAA": 28, "TXT": 16}
    q = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", types[qtype], 1)
    ns = nameserver()
    try:
        if transport == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.connect((ns, 53))  # as a resolver does: replies must come from there
            s.send(q)
            r = s.recv(4096)
        else:
            s = socket.create_connection((ns, 53), timeout=3)
            s.sendall(struct.pack(">H", len(q)) + q)
            n = struct.unpack(">H", s.recv(2))[0]
            r = s.recv(n)
        rcode = r[3] & 0x0F
        names = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
        print("%s answers=%d" % (names.get(rcode, str(rcode)), struct.unpack(">H", r[6:8])[0]))
    except Exception as e:
        print("error " + type(e).__name__)


def raw_http(host, port, path):
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode())
        data = read_all(s)
        body = data.split(b"\r\n\r\n", 1)[-1] if data else b""
        print("body " + body.decode(errors="replace").strip() if data else "empty")
    except Exception as e:
        print("error " + type(e).__name__)


def proxy_raw(request):
    try:
        s = socket.create_connection(("127.0.0.1", 3128), timeout=5)
        s.sendall(request.encode().decode("unicode_escape").encode("latin-1"))
        r = s.recv(4096)
        print(r.split(b"\r\n", 1)[0].decode(errors="replace") if r else "empty")
    except Exception as e:
        print("error " + type(e).__name__)


def udp(addr, port):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"lab-udp-datagram", (addr, int(port)))
        print("sent")
    except Exception as e:
        print("error " + type(e).__name__)


def sock(family, kind, proto):
    try:
        socket.socket(getattr(socket, family), getattr(socket, kind), int(proto)).close()
        print("created")
    except OSError as e:
        print("errno %d" % e.errno)


def proxy_address():
    """The proxy the sandbox's variables name (http_proxy=http://H:P)."""
    url = os.environ.get("http_proxy", "")
    hostport = url.split("://", 1)[-1].rstrip("/")
    h, _, p = hostport.rpartition(":")
    return h, int(p)


def fetch_hello(host, route, cafile):
    """GET /hello from HOST by ROUTE: raw (the address the stub gave),
    proxy (absolute-form through http_proxy) or connect (a CONNECT tunnel
    through https_proxy, then TLS verified against CAFILE)."""
    if route == "raw":
        s = socket.create_connection((host, 80), timeout=20)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    elif route == "proxy":
        s = socket.create_connection(proxy_address(), timeout=20)
        s.sendall(("GET http://%s/hello HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (host, host)).encode())
    else:
        raw = socket.create_connection(proxy_address(), timeout=20)
        raw.sendall(("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (host, host)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = raw.recv(1)
            if not c:
                return b""
            head += c
        if not head.startswith(b"HTTP/1.1 200"):
            return head
        ctx = ssl.create_default_context(cafile=cafile)
        s = ctx.wrap_socket(raw, server_hostname=host)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode())
    return read_all(s)


def concurrent(n, host, route="raw", cafile=None):
    """N connections at once by ROUTE (fetch_hello); `ok COUNT` of them
    that got the allowed server's whole answer."""
    ok = []
    start = threading.Barrier(int(n), timeout=20)

    def one():
        try:
            start.wait()  # every connection opens at the same moment
            data = fetch_hello(host, route, cafile)
            if data.endswith(b"\n") and b"allowed 198.51.100.10" in data:
                ok.append(1)
        except Exception:
            pass

    threads = [threading.Thread(target=one) for _ in range(int(n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("ok %d" % len(ok))


def serve(port, count="1"):
    """A server the program starts inside (network.publish): COUNT requests."""
    served = 0
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(port)))
        s.listen(8)
        s.settimeout(30)
        for _ in range(int(count)):
            c, peer = s.accept()
            c.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            body = ("published-inside " + peer[0] + "\n").encode()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            c.close()
            served += 1
        print("served %d" % served)
    except Exception as e:
        print("served %d, then error %s" % (served, type(e).__name__))


def connect(host, port):
    """From the host: does anything accept at HOST:PORT?"""
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        print("accepted")
    except OSError as e:
        print("errno %d" % (e.errno or 0))


def rps(host, n):
    """bench/net.sh: N requests, one connection each, to HOST:80 (the name
    resolved once, as a client with a DNS cache would)."""
    import time
    addr = socket.getaddrinfo(host, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4]
    req = b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    start = time.monotonic()
    for _ in range(int(n)):
        s = socket.create_connection(addr, timeout=10)
        s.sendall(req)
        while s.recv(65536):
            pass
        s.close()
    took = time.monotonic() - start
    print("rps %.1f latency_ms %.3f" % (int(n) / took, took * 1000 / int(n)))


def bulk(host, n):
    """bench/net.sh: N downloads of the 20 MB /big from HOST:80."""
    import time
    addr = socket.getaddrinfo(host, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4]
    got = 0
    start = time.monotonic()
    for _ in range(int(n)):
        s = socket.create_connection(addr, timeout=30)
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while True:
            c = s.recv(1 << 20)
            if not c:
                break
            got += len(c)
        s.close()
    print("mbps %.1f" % (got / (1 << 20) / (time.monotonic() - start)))


cmd, args = sys.argv[1], sys.argv[2:]
{"rps": rps, "bulk": bulk, "serve": serve, "connect": connect, "dns": dns, "raw-http": raw_http, "proxy-raw": proxy_raw, "udp": udp, "socket": sock,
 "concurrent": concurrent}[cmd](*args)
