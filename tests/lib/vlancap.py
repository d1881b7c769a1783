#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""vlancap.py DEV PORT SECONDS: count UDP frames to PORT seen on DEV, and how many
carry a VLAN tag (as the kernel reports it in PACKET_AUXDATA: an offloaded tag or
one the stack took out of the frame), and how many carry more than one (a tag
both offloaded and in the frame: pushed back twice).
Prints {"seen": N, "tagged": M, "double": D, "vids": [...], "tcis": [...], "tpids": [...]}
(TCI with priority bits; TPIDs where the kernel reports them, as hex text)."""
import json
import select
import socket
import struct
import sys
import time

SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 263, 8, 1 << 4, 1 << 6
dev, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
s.bind((dev, 0))
seen = tagged = double = 0
vids, tcis, tpids = set(), set(), set()
end = time.monotonic() + secs
print("ready", file=sys.stderr, flush=True)
while time.monotonic() < end:
    if not select.select([s], [], [], max(0, end - time.monotonic()))[0]:
        break
    data, anc, _, _ = s.recvmsg(65535, socket.CMSG_SPACE(64))
    off, proto = 14, struct.unpack("!H", data[12:14])[0]
    while proto in (0x8100, 0x88A8) and len(data) >= off + 4:  # a tag left in the frame
        tci = struct.unpack("!H", data[off:off + 2])[0]
        vids.add(tci & 0xFFF)
        tcis.add(tci)
        tpids.add("%04x" % proto)
        proto = struct.unpack("!H", data[off + 2:off + 4])[0]
        off += 4
    if proto != 0x0800 or len(data) < off + 24 or data[off + 9] != 17:
        continue
    ihl = (data[off] & 0xF) * 4
    if struct.unpack("!H", data[off + ihl + 2:off + ihl + 4])[0] != port:
        continue
    seen += 1
    tags = (off - 14) // 4
    for level, kind, val in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA:
            st, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", val[:20])
            if st & TP_STATUS_VLAN_VALID:
                tags += 1
                vids.add(tci & 0xFFF)
                tcis.add(tci)
                if st & TP_STATUS_VLAN_TPID_VALID:
                    tpids.add("%04x" % tpid)
    tagged += tags > 0
    double += tags > 1
print(json.dumps({"seen": seen, "tagged": tagged, "double": double, "vids": sorted(vids),
                  "tcis": sorted(tcis), "tpids": sorted(tpids)}))
