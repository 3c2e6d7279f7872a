#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tests/cli/ack_frame.py SRC_OCTET SPORT DMAC > FRAME

A TCP ACK from 198.18.0.SRC_OCTET:SPORT to 203.0.113.10:80 in an Ethernet
frame to DMAC (the device's own MAC: xlb forwards only frames to it), with
a valid IPv4 header checksum: for `bpftool prog run` to enter a flow."""
import struct
import sys

src, sport = int(sys.argv[1]), int(sys.argv[2])
dmac = bytes.fromhex(sys.argv[3].replace(':', ''))
tcp = struct.pack('!HHIIBBHHH', sport, 80, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6,
                 0, bytes([198, 18, 0, src]), bytes([203, 0, 113, 10]))
s = sum(struct.unpack('!10H', ip))
s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack('!H', ~s & 0xffff) + ip[12:]
sys.stdout.buffer.write(dmac + b'\x02\0\0\0\0\x02\x08\0' + ip + tcp)
