#!/usr/bin/env python3
"""Builds the packets (raw Ethernet frames, no capture-file header) that the
examples' test cases feed to BPF_PROG_TEST_RUN.

Every frame is built here field by field with correct IPv4 header, TCP, UDP,
ICMP and ICMPv6 checksums (except where a test needs a bad one), so the
expected results in ../examples.json can be checked by hand against the
bytes. Run it from anywhere: it writes the .bin files next to itself and is
deterministic (no randomness, no timestamps).

    python3 examples/inputs/make.py [OUTDIR]    # OUTDIR defaults to this folder
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MAC_DST = bytes.fromhex("020000000002")   # the "router" we send to
MAC_SRC = bytes.fromhex("020000000001")   # the sender
MAC_BCAST = b"\xff" * 6

ETH_P_IP, ETH_P_ARP, ETH_P_8021Q, ETH_P_IPV6 = 0x0800, 0x0806, 0x8100, 0x86DD
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_GRE, PROTO_ICMPV6 = 1, 6, 17, 47, 58
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ip4(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


def ip6(a: str) -> bytes:
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def csum(data: bytes) -> int:
    """RFC 1071 Internet checksum (ones' complement of the ones' complement sum)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(payload: bytes, ethertype: int, dst: bytes = MAC_DST, vlan: int | None = None) -> bytes:
    hdr = dst + MAC_SRC
    if vlan is not None:
        hdr += struct.pack("!HH", ETH_P_8021Q, vlan)
    return hdr + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, ident: int = 0x1234,
         options: bytes = b"", bad_csum: bool = False, tos: int = 0, ihl_field: int | None = None) -> bytes:
    """An IPv4 header (checksum over the header as built) + payload;
    ihl_field overrides the IHL nibble (a lie about the header length)."""
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | (ihl_field or ihl), tos, ihl * 4 + len(payload), ident, 0x4000,
                      ttl, proto, 0, ip4(src), ip4(dst)) + options
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5A5A
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ipv6(src: str, dst: str, nh: int, payload: bytes, hlim: int = 64) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim, ip6(src), ip6(dst)) + payload


def pseudo4(src: str, dst: str, proto: int, length: int) -> bytes:
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo6(src: str, dst: str, nh: int, length: int) -> bytes:
    return ip6(src) + ip6(dst) + struct.pack("!IxxxB", length, nh)


def tcp(sport: int, dport: int, flags: int, payload: bytes = b"", seq: int = 1000, ack: int = 0,
        pseudo=None) -> bytes:
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    seg = hdr + payload
    c = csum(pseudo(len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(sport: int, dport: int, payload: bytes, pseudo=None, zero_csum: bool = False) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if zero_csum:
        return seg
    c = csum(pseudo(len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp4(src, dst, sport, dport, flags, payload=b"", **kw):
    seg = tcp(sport, dport, flags, payload, pseudo=lambda n: pseudo4(src, dst, PROTO_TCP, n))
    return ipv4(src, dst, PROTO_TCP, seg, **kw)


def udp4(src, dst, sport, dport, payload, zero_csum=False, **kw):
    seg = udp(sport, dport, payload, pseudo=lambda n: pseudo4(src, dst, PROTO_UDP, n), zero_csum=zero_csum)
    return ipv4(src, dst, PROTO_UDP, seg, **kw)


def icmp4_echo(src, dst, ident=0x4242, seq=1, payload=b"tsbpf-ping!!"):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    c = csum(body)
    body = body[:2] + struct.pack("!H", c) + body[4:]
    return ipv4(src, dst, PROTO_ICMP, body)


def icmp6_echo(src, dst, ident=0x4242, seq=1, payload=b"tsbpf-ping6!"):
    body = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload
    c = csum(pseudo6(src, dst, PROTO_ICMPV6, len(body)) + body)
    body = body[:2] + struct.pack("!H", c) + body[4:]
    return ipv6(src, dst, PROTO_ICMPV6, body)


def arp_request(sender: str, target: str) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, MAC_SRC, ip4(sender), b"\0" * 6, ip4(target))


A, B, C = "10.1.2.3", "172.16.0.5", "192.168.1.77"      # senders
SERVER, DNS = "192.168.1.10", "8.8.8.8"
A6, SERVER6 = "2001:db8::1", "2001:db8::10"

PACKETS = {
    # IPv4 TCP
    "ipv4_tcp_syn": eth(tcp4(A, SERVER, 40000, 80, TCP_SYN), ETH_P_IP),
    "ipv4_tcp_syn_b": eth(tcp4(B, SERVER, 40001, 22, TCP_SYN), ETH_P_IP),
    "ipv4_tcp_syn_c": eth(tcp4(C, SERVER, 40002, 443, TCP_SYN), ETH_P_IP),
    "ipv4_tcp_synack": eth(tcp4(SERVER, A, 80, 40000, TCP_SYN | TCP_ACK), ETH_P_IP),
    "ipv4_tcp_ack_data": eth(tcp4(A, SERVER, 40000, 80, TCP_ACK | TCP_PSH, b"GET / HTTP/1.0\r\n\r\n"), ETH_P_IP),
    "ipv4_tcp_8080": eth(tcp4(A, SERVER, 40000, 8080, TCP_SYN), ETH_P_IP),
    "ipv4_tcp_honeypot": eth(tcp4(A, SERVER, 40003, 2323, TCP_SYN), ETH_P_IP),
    "ipv4_tcp_telnet": eth(tcp4(B, SERVER, 40004, 23, TCP_SYN), ETH_P_IP),
    "ipv4_tcp_opts": eth(tcp4(A, SERVER, 40000, 80, TCP_SYN, options=b"\x01\x01\x01\x00"), ETH_P_IP),
    # IPv4 UDP
    "ipv4_udp_dns": eth(udp4(C, DNS, 5353, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                             b"\x07example\x03com\x00\x00\x01\x00\x01"), ETH_P_IP),
    "ipv4_udp_8080": eth(udp4(B, SERVER, 33000, 8080, b"hello, udp"), ETH_P_IP),
    "ipv4_udp_8080_nocsum": eth(udp4(B, SERVER, 33000, 8080, b"hello, udp", zero_csum=True), ETH_P_IP),
    "ipv4_udp_discard": eth(udp4(B, SERVER, 33001, 9, b"junk"), ETH_P_IP),
    "ipv4_udp_big": eth(udp4(A, SERVER, 33002, 5001, bytes(range(256)) + bytes(44)), ETH_P_IP),
    "ipv4_udp_ttl1": eth(udp4(B, SERVER, 33000, 8080, b"hello, udp", ttl=1), ETH_P_IP),
    # IPv4 other
    "ipv4_icmp_echo": eth(icmp4_echo(A, SERVER), ETH_P_IP),
    "ipv4_gre": eth(ipv4(A, SERVER, PROTO_GRE, struct.pack("!HH", 0, ETH_P_IP) + bytes(20)), ETH_P_IP),
    "ipv4_bad_csum": eth(udp4(C, DNS, 5353, 53, b"\0" * 12, bad_csum=True), ETH_P_IP),
    # 10 bytes of an IPv4 header: XDP runs it, skb test runs refuse it (EINVAL)
    "ipv4_truncated": eth(tcp4(A, SERVER, 40000, 80, TCP_SYN)[:10], ETH_P_IP),
    # IHL says 60 bytes of header, the packet has 38 bytes of IP in all
    "ipv4_bad_ihl": eth(udp4(B, SERVER, 33000, 8080, b"hello, udp", ihl_field=15), ETH_P_IP),
    # IPv6
    "ipv6_tcp_syn": eth(ipv6(A6, SERVER6, PROTO_TCP,
                             tcp(40000, 443, TCP_SYN, pseudo=lambda n: pseudo6(A6, SERVER6, PROTO_TCP, n))), ETH_P_IPV6),
    "ipv6_udp": eth(ipv6(A6, SERVER6, PROTO_UDP,
                         udp(5353, 53, b"v6 dns?", pseudo=lambda n: pseudo6(A6, SERVER6, PROTO_UDP, n))), ETH_P_IPV6),
    "ipv6_icmp6_echo": eth(icmp6_echo(A6, SERVER6), ETH_P_IPV6),
    # VLAN (802.1Q, VID 100, PCP 3)
    "vlan_ipv4_udp": eth(udp4(B, SERVER, 33000, 8080, b"tagged!"), ETH_P_IP, vlan=(3 << 13) | 100),
    "vlan_ipv6_tcp_syn": eth(ipv6(A6, SERVER6, PROTO_TCP,
                                  tcp(40000, 80, TCP_SYN, pseudo=lambda n: pseudo6(A6, SERVER6, PROTO_TCP, n))),
                             ETH_P_IPV6, vlan=200),
    # ARP, broadcast
    "arp_request": eth(arp_request(A, SERVER), ETH_P_ARP, dst=MAC_BCAST),
    # just an Ethernet header and four bytes of an unknown EtherType
    "eth_unknown": eth(b"\xde\xad\xbe\xef", 0x88B5),
}


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    os.makedirs(out, exist_ok=True)
    for name, frame in sorted(PACKETS.items()):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(frame)
    print(f"wrote {len(PACKETS)} frames to {out}")


if __name__ == "__main__":
    main()
