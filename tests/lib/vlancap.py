#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""vlancap.py DEV PORT SECONDS: count UDP frames to PORT seen on DEV, and how many
carry a VLAN tag (as the kernel reports it in PACKET_AUXDATA: an offloaded tag or
one the stack took out of the frame). Prints {"seen": N, "tagged": M, "vids": [...]}."""
import json
import select
import socket
import struct
import sys
import time

SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 1 << 4
dev, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
s.bind((dev, 0))
seen = tagged = 0
vids = set()
end = time.monotonic() + secs
print("ready", file=sys.stderr, flush=True)
while time.monotonic() < end:
    if not select.select([s], [], [], max(0, end - time.monotonic()))[0]:
        break
    data, anc, _, _ = s.recvmsg(65535, socket.CMSG_SPACE(64))
    off, proto = 14, struct.unpack("!H", data[12:14])[0]
    while proto in (0x8100, 0x88A8) and len(data) >= off + 4:  # a tag left in the frame
        vids.add(struct.unpack("!H", data[off:off + 2])[0] & 0xFFF)
        proto = struct.unpack("!H", data[off + 2:off + 4])[0]
        off += 4
    if proto != 0x0800 or len(data) < off + 24 or data[off + 9] != 17:
        continue
    ihl = (data[off] & 0xF) * 4
    if struct.unpack("!H", data[off + ihl + 2:off + ihl + 4])[0] != port:
        continue
    seen += 1
    tag = off > 14
    for level, kind, val in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA:
            st, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", val[:20])
            if st & TP_STATUS_VLAN_VALID:
                tag = True
                vids.add(tci & 0xFFF)
    tagged += tag
print(json.dumps({"seen": seen, "tagged": tagged, "vids": sorted(vids)}))
