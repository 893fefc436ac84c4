#!/usr/bin/env python3
"""Bounded hostile-client measurements against `rvae serve` (BENCHMARKS.md, reference endpoint).

Usage: tests/testing/hostile_bench.py path/to/rvae [seconds-per-rate-run]

Each case runs against a fresh `rvae serve` process, so the server's VmHWM (peak RSS, read from
/proc/<pid>/status) belongs to that case alone. Every loop is bounded in bytes and time.
"""
import http.client
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

RVAE = sys.argv[1] if len(sys.argv) > 1 else "build/rvae"
RATE_SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
QUERY = ("/sd15/decode/?image_format=jpg&output_type=pt&partial_postprocess=True"
         "&shape=1&shape=4&shape=2&shape=2&dtype=float32")
BODY = struct.pack("<16f", *[0.1 * i for i in range(16)])


class Server:
    def __init__(self):
        self.proc = subprocess.Popen([RVAE, "serve", "--port", "0"], stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()  # "serving http://127.0.0.1:PORT/"
        self.port = int(line.strip().rsplit(":", 1)[1].strip("/"))

    def status_kib(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def decode_once(port, timeout=5.0):
    """One small decode on a fresh connection: (status or None, seconds)."""
    start = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("POST", QUERY, BODY, {"Content-Type": "tensor/binary", "Accept": "tensor/binary"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status, time.monotonic() - start
    except OSError:
        return None, time.monotonic() - start


def rate(port, seconds):
    """Sequential small decodes over one keep-alive connection for `seconds`: requests/s."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c.request("POST", QUERY, BODY,
                      {"Content-Type": "tensor/binary", "Accept": "tensor/binary"})
            r = c.getresponse()
            r.read()
            if r.status == 200:
                done += 1
        except (OSError, http.client.HTTPException):
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.close()
    return done / seconds


def _hold_idle(port, count, ready, stop):
    """Child process: keeps `count` silent connections open, reopening any the server closes
    (its keep-alive timeout), until `stop` is set. A process of its own, so the crowd does not
    compete with the measuring client for Python's GIL."""
    import select
    socks = [connect(port) for _ in range(count)]
    ready.set()
    while not stop.is_set():
        readable, _, _ = select.select(socks, [], [], 0.05)
        for s in readable:
            try:
                data = s.recv(1)
            except OSError:
                data = b""
            if not data:
                i = socks.index(s)
                s.close()
                try:
                    socks[i] = connect(port)
                except OSError:
                    pass
    for s in socks:
        s.close()


class IdleCrowd:
    """`count` silent connections held open (and reopened) by a child process."""

    def __init__(self, port, count):
        import multiprocessing
        self.ready, self.stop_event = multiprocessing.Event(), multiprocessing.Event()
        self.proc = multiprocessing.Process(target=_hold_idle,
                                            args=(port, count, self.ready, self.stop_event))
        self.proc.start()
        self.ready.wait(30)

    def close(self):
        self.stop_event.set()
        self.proc.join(30)


def send_until_refused(port, head, piece, limit_bytes, timeout=2.0):
    """Sends head, then `piece` repeatedly up to limit_bytes; bytes accepted."""
    s = connect(port, timeout)
    sent = 0
    try:
        s.sendall(head)
        while sent < limit_bytes:
            s.sendall(piece)
            sent += len(piece)
    except OSError:
        pass
    s.close()
    return sent


def gzip_bomb(inflated=1 << 30):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    out = [c.compress(zeros) for _ in range(inflated >> 20)]
    out.append(c.flush())
    return b"".join(out)


def case(name, action):
    server = Server()
    try:
        base = server.status_kib("VmHWM:")
        detail = action(server)
        print(f"| {name} | {detail} | {server.status_kib('VmHWM:') / 1024:.1f} MiB "
              f"(idle server {base / 1024:.1f} MiB) |", flush=True)
    finally:
        server.stop()


def main():
    print("| case | result | server peak RSS (VmHWM) |")
    print("|---|---|---|")
    case("small decode, 0 idle connections",
         lambda s: f"{rate(s.port, RATE_SECONDS):.0f} requests/s")

    def idle(s):
        crowd = IdleCrowd(s.port, 500)
        time.sleep(0.3)
        r = rate(s.port, RATE_SECONDS)
        crowd.close()
        return f"{r:.0f} requests/s"
    case("small decode, 500 idle connections held open", idle)

    bomb = gzip_bomb()

    def gzip_case(s):
        status = None
        try:
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            c.request("POST", QUERY, bomb, {"Content-Type": "tensor/binary",
                                            "Accept": "tensor/binary",
                                            "Content-Encoding": "gzip"})
            status = c.getresponse().status
        except OSError as e:
            status = f"closed ({e.__class__.__name__})"
        return f"{len(bomb) // 1024} KiB gzip of 1 GiB: HTTP {status}"
    case("gzip body inflating to 1 GiB", gzip_case)

    def chunked(s):
        head = (f"POST {QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        piece = b"100000\r\n" + bytes(1 << 20) + b"\r\n"
        sent = send_until_refused(s.port, head, piece, 600 << 20)
        return f"{sent / (1 << 20):.0f} MiB of 600 MiB accepted"
    case("600 MiB chunked body (limit 256 MiB)", chunked)

    def headers(s):
        head = f"POST {QUERY} HTTP/1.1\r\nHost: x\r\n".encode()
        piece = b"X-Pad: " + b"h" * (16 << 10) + b"\r\n"
        sent = send_until_refused(s.port, head, piece, 386 << 20)
        return f"{sent / (1 << 20):.1f} MiB of 386 MiB accepted"
    case("386 MiB of request headers", headers)

    def idle_latency(s):
        crowd = IdleCrowd(s.port, 500)
        time.sleep(0.3)
        status, took = decode_once(s.port)
        crowd.close()
        return f"decode HTTP {status} in {took * 1000:.1f} ms"
    case("500 idle connections", idle_latency)

    def slowloris(s):
        stop = [False]

        def slow():
            try:
                sock = connect(s.port)
                sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                for _ in range(40):
                    if stop[0]:
                        break
                    sock.sendall(b"s")
                    time.sleep(0.1)
                sock.close()
            except OSError:
                pass
        threads = [threading.Thread(target=slow) for _ in range(16)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        status, took = decode_once(s.port)
        stop[0] = True
        for t in threads:
            t.join()
        return f"decode HTTP {status} in {took * 1000:.1f} ms"
    case("16 slowloris connections", slowloris)

    def pipelined(s):
        req = (f"POST {QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\n"
               f"Accept: tensor/binary\r\nContent-Length: {len(BODY)}\r\n\r\n").encode() + BODY
        sock = connect(s.port)
        sock.sendall(req * 3)
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        sock.close()
        return (f"{data.count(b'HTTP/1.1 200')} of 3 answered, "
                f"{'Connection: close' if b'Connection: close' in data else 'no close'}")
    case("3 pipelined decodes", pipelined)


if __name__ == "__main__":
    main()
