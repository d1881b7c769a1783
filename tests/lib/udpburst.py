#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Exact UDP packet counts for queue tests.

udpburst.py send SRC DST PORT COUNT SIZE   send COUNT datagrams as fast as possible
udpburst.py recv ADDR PORT QUIET_SECONDS   count datagrams until QUIET_SECONDS of silence,
                                           print the count (waits up to 60 s for the first)
"""
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def send(src, dst, port, count, size):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.bind((src, 0))
    payload = b"x" * size
    for i in range(count):
        s.sendto(i.to_bytes(4, "big") + payload[4:], (dst, port))
    print(count)


def recv(addr, port, quiet):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    print("ready", flush=True)
    seen = set()
    s.settimeout(60)
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        seen.add(int.from_bytes(data[:4], "big"))
        s.settimeout(quiet)
    print(len(seen))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
