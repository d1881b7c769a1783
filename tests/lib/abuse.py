#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Misbehaving clients of the exporter, and a well-behaved scraper timed among them.

abuse.py PORT: one round of abuse from 127.0.0.2 while 127.0.0.1 scrapes.
Prints one JSON object: what each kind of client got and how long the good
scrapes took. Every socket is bounded in time; the round ends by itself.
"""
import json
import socket
import sys
import threading
import time

PORT = int(sys.argv[1])
BAD, GOOD = "127.0.0.2", "127.0.0.1"


def conn(src, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", PORT))
    return s


def request(src, raw, timeout=10):
    """Send raw bytes, read the whole reply; (status, seconds) or (error, seconds)."""
    t = time.monotonic()
    try:
        s = conn(src, timeout)
        s.sendall(raw)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        line = data.split(b"\r\n", 1)[0].decode(errors="replace")
        code = line.split(" ")[1] if line.startswith("HTTP/") else ("closed" if not data else "garbage")
    except (socket.timeout, ConnectionError, OSError) as e:
        code = type(e).__name__
    return code, time.monotonic() - t


def get(src, path="/metrics"):
    return request(src, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())


def main():
    out = {}
    # 1. idle clients: connect and send nothing, far more than one address may hold
    idle = []
    for _ in range(100):
        try:
            idle.append(conn(BAD, 2))
        except OSError:
            break
    time.sleep(0.2)
    good = [get(GOOD) for _ in range(5)]
    out["idle_opened"] = len(idle)
    out["scrapes_among_idle"] = [c for c, _ in good]
    out["scrape_s_among_idle_max"] = max(t for _, t in good)
    # the server closes the idle ones: a closed socket reads b"" (or resets)
    t = time.monotonic()
    closed = 0
    for s in idle:
        s.settimeout(max(0.1, 12 - (time.monotonic() - t)))
        try:
            if s.recv(1) == b"":
                closed += 1
        except (socket.timeout, ConnectionError, OSError) as e:
            closed += not isinstance(e, socket.timeout)
        s.close()
    out["idle_closed_by_server"] = closed
    out["idle_closed_within_s"] = round(time.monotonic() - t, 2)

    # 2. a slow client (one header byte a second) next to a scraper
    def slow():
        try:
            s = conn(BAD, 15)
            for b in b"GET /metrics HTTP/1.1\r\nHost: x\r\n":
                s.send(bytes([b]))
                time.sleep(1)
        except OSError:
            pass
    th = threading.Thread(target=slow, daemon=True)
    th.start()
    time.sleep(0.5)
    out["scrape_beside_slow"] = get(GOOD)[0]

    # 3. very long request lines and headers
    out["long_url"] = request(BAD, b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    out["long_header"] = request(BAD, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"b" * (1 << 18) + b"\r\n\r\n")[0]
    out["garbage"] = request(BAD, b"\x00\xff" * 512 + b"\r\n\r\n")[0]

    # 4. unknown paths and methods
    out["unknown_path"] = get(BAD, "/nope")[0]
    out["post"] = request(BAD, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")[0]

    # 5. many concurrent scrapes from several addresses
    res = []
    lock = threading.Lock()

    def one(src):
        r = get(src)
        with lock:
            res.append(r)
    ths = [threading.Thread(target=one, args=(f"127.0.0.{3 + i % 8}",)) for i in range(48)]
    for t_ in ths:
        t_.start()
    for t_ in ths:
        t_.join(30)
    out["concurrent_ok"] = sum(1 for c, _ in res if c == "200")
    out["concurrent_total"] = len(res)
    out["concurrent_s_max"] = round(max((t for _, t in res), default=0), 3)

    out["scrape_after"] = get(GOOD)[0]
    print(json.dumps(out))


main()
