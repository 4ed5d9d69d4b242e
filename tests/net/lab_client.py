#!/usr/bin/python3
"""What the lab's scenarios run inside the sandbox (tests/net/lab.sh).
Prints one result line; never raises."""
import socket
import struct
import sys
import threading


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
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
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


def concurrent(n, host):
    ok = []

    def one():
        try:
            s = socket.create_connection((host, 80), timeout=20)
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                c = s.recv(4096)
                if not c:
                    break
                data += c
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


cmd, args = sys.argv[1], sys.argv[2:]
{"dns": dns, "raw-http": raw_http, "proxy-raw": proxy_raw, "udp": udp, "socket": sock,
 "concurrent": concurrent}[cmd](*args)
