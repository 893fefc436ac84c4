#!/usr/bin/env python3
"""A TCP proxy that paces bytes, as a link of a given bandwidth would (issue 21's benchmark).

  throttle_proxy.py UPSTREAM_HOST:PORT RATE_MB_PER_S URL_FILE LOG_FILE

Listens on 127.0.0.1 on a free port and writes "http://127.0.0.1:PORT/" to URL_FILE once it
accepts. Each direction of each connection is paced at RATE (MB/s, 1 MB = 1e6 bytes) with a
token bucket of 64 KiB. For every reply (upstream -> client) it appends one JSON line to LOG_FILE
when the connection closes: the wall-clock times (time.time(), the clock file mtimes use) of the
reply's first and last byte, and its byte count. Runs until killed.
"""
import json
import os
import socket
import sys
import threading
import time

CHUNK = 64 * 1024


def pump(source, sink, rate, record=None):
    start = None
    sent = 0
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            now = time.time()
            if start is None:
                start = now
                if record is not None:
                    record["first"] = now
            # Pace: byte number `sent` may leave no earlier than start + sent / rate.
            due = start + (sent + len(data)) / rate
            if due > now:
                time.sleep(due - now)
            sink.sendall(data)
            sent += len(data)
            if record is not None:
                record["last"] = time.time()
                record["bytes"] = sent
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client, upstream_address, rate, log_path, log_lock):
    try:
        upstream = socket.create_connection(upstream_address)
    except OSError:
        client.close()
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    record = {}
    up = threading.Thread(target=pump, args=(client, upstream, rate), daemon=True)
    up.start()
    pump(upstream, client, rate, record)
    up.join()
    client.close()
    upstream.close()
    if record:
        with log_lock, open(log_path, "a") as log:
            log.write(json.dumps(record) + "\n")


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    rate = float(sys.argv[2]) * 1e6
    url_file, log_path = sys.argv[3], sys.argv[4]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    with open(url_file + ".tmp", "w") as f:
        f.write("http://127.0.0.1:%d/\n" % listener.getsockname()[1])

    os.replace(url_file + ".tmp", url_file)
    log_lock = threading.Lock()
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, (host, int(port)), rate, log_path, log_lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
