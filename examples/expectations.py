#!/usr/bin/env python3
"""Writes examples.json: every example's test cases and the results they
must give, each derived here from first principles (the packet bytes in
inputs/make.py, the C source's logic, and the global-variable layout in the
object's symbol table), never copied from a run. test/examples/kernel.test.ts
then checks every one of them against the Linux kernel (BPF_PROG_TEST_RUN
through bpftool), so the manifest holds what the kernel does.

    python3 examples/expectations.py      # after editing a case or rebuilding an object

Needs llvm-readelf-19 (for the global-data layout: clang does not lay out
.bss/.data in declaration order, so offsets come from the symbol table).

Normalised map form (see normaliseMaps in test/support/bpftool.ts): keys and
values as lowercase hex; array maps list only entries whose value is not all
zero; hash-like maps are sorted by key; per-CPU maps give CPU 0's value;
queues/stacks/ring buffers are {value} lists in consumption order; prog
arrays and maps of maps give "prog:NAME" / "map:NAME".
"""
import json
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in inputs/
sys.path.insert(0, os.path.join(HERE, "inputs"))
import make as M  # noqa: E402  (the packet builder: same bytes as the .bin files)

P = M.PACKETS


def _elf(obj):
    out = subprocess.run(["llvm-readelf-19", "-S", "-s", "--wide", os.path.join(HERE, f"{obj}.o")],
                         capture_output=True, text=True, check=True).stdout
    secs, syms = {}, {}
    for m in re.finditer(r"\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", out):
        secs[int(m.group(1))] = (m.group(2), int(m.group(3), 16))
    for m in re.finditer(r"^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+OBJECT\s+\S+\s+\S+\s+(\d+)\s+(\S+)$", out, re.M):
        syms[m.group(4)] = (int(m.group(1), 16), int(m.group(2)), secs[int(m.group(3))][0])
    return secs, syms


def glob(obj, section, **vals):
    """The value of a global-data map: the section's bytes with the named
    variables (at their symbol offsets) set, everything else zero."""
    secs, syms = _elf(obj)
    size = [sz for (n, sz) in secs.values() if n == section][0]
    buf = bytearray(size)
    for name, v in vals.items():
        off, sz, sec = syms[name]
        assert sec == section, (name, sec)
        b = bytes.fromhex(v) if isinstance(v, str) else v
        assert len(b) == sz, (name, len(b), sz)
        buf[off:off + sz] = b
    return buf.hex()


def q(v): return struct.pack('<Q', v)
def pk(n): return f"inputs/{n}.bin"
def h(b): return b.hex()
def u32(v): return struct.pack('<I', v).hex()
def u64(*vs): return b''.join(struct.pack('<Q', v) for v in vs).hex()
def run(n, retval, dataOut='input', repeat=None):
    d = {"packet": pk(n)}
    if repeat is not None: d["repeat"] = repeat
    e = {"error": retval} if isinstance(retval, str) else {"retval": retval}
    if dataOut is not None: e["dataOut"] = dataOut
    d["expect"] = e
    return d
def single(name, n, retval, dataOut='input', repeat=None, maps=None, mapInit=None):
    c = {"name": name}
    if mapInit: c["mapInit"] = mapInit
    c["packet"] = pk(n)
    if repeat is not None: c["repeat"] = repeat
    e = {"error": retval} if isinstance(retval, str) else {"retval": retval}
    if dataOut is not None: e["dataOut"] = dataOut
    if maps is not None: e["maps"] = maps
    c["expect"] = e
    return c
def seq(name, inputs, maps=None, mapInit=None):
    c = {"name": name}
    if mapInit: c["mapInit"] = mapInit
    c["inputs"] = inputs
    c["expect"] = {"maps": maps} if maps is not None else {}
    return c
def L(n): return len(P[n])
XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX = 0, 1, 2, 3
TC_OK, TC_SHOT = 0, 2
def arr(d):  # array map normalised: index order, non-zero only
    return [{"key": u32(k), "value": v} for k, v in sorted(d.items()) if any(c != '0' for c in v)]
def hsh(d):
    return [{"key": k, "value": v} for k, v in sorted(d.items())]
def sockout(n): return h(bytes(14) + P[n][14:])
examples = []
def ex(name, cpu, section, ptype, features, cases, func=None):
    examples.append({"name": name, "source": f"{name}.c", "object": f"{name}.o", "cpu": cpu,
                     "program": {"section": section, "function": func or name, "type": ptype},
                     "features": features, "cases": cases})

# 1 proto_count -------------------------------------------------------------
# proto_stats[proto] = {packets, bytes}; bytes are frame lengths. VLAN and the
# unknown EtherType are L2_OTHER (1), ARP is L2_ARP (0), the 24-byte frame
# L2_TRUNCATED (2). mapInit on a per-CPU map sets every CPU's copy.
def rec(p, b): return u64(p, b)
ex("proto_count", "v1", "xdp", "xdp",
   ["per-CPU array indexed by IP protocol", "plain array with atomic adds", "IPv4 and IPv6 parsing", "direct packet access", "clang default CPU (v1)"],
   [single("TCP SYN three times", "ipv4_tcp_syn", XDP_PASS, repeat=3,
           maps={"proto_stats": arr({6: rec(3, 3 * L("ipv4_tcp_syn"))}), "l2_stats": []}),
    seq("mixed traffic", [run(n, XDP_PASS) for n in ["ipv4_tcp_syn", "ipv4_udp_dns", "ipv4_icmp_echo", "ipv6_icmp6_echo", "ipv6_tcp_syn",
                                                     "arp_request", "eth_unknown", "vlan_ipv4_udp", "ipv4_truncated"]],
        maps={"proto_stats": arr({1: rec(1, L("ipv4_icmp_echo")), 6: rec(2, L("ipv4_tcp_syn") + L("ipv6_tcp_syn")),
                                  17: rec(1, L("ipv4_udp_dns")), 58: rec(1, L("ipv6_icmp6_echo"))}),
              "l2_stats": arr({0: u64(1), 1: u64(2), 2: u64(1)})}),
    single("preset counter (mapInit on a per-CPU array)", "ipv4_udp_dns", XDP_PASS,
           mapInit={"proto_stats": [{"key": u32(17), "value": rec(100, 1000)}]},
           maps={"proto_stats": arr({17: rec(101, 1000 + L("ipv4_udp_dns"))})}),
   ])

# 2 xdp_firewall --------------------------------------------------------------
# A = 10.1.2.3 is in 10.0.0.0/8 and 10.1.2.0/24: the longest prefix (/24)
# takes the hit. C = 192.168.1.77 is in 192.168.1.64/26 (64..127); the
# server .10 and B = 172.16.0.5 are not blocked. Key: prefixlen u32 LE + address.
def lpm(plen, a): return struct.pack('<I', plen).hex() + M.ip4(a).hex()
rules = {"blocked": [{"key": lpm(8, "10.0.0.0"), "value": u64(0, 0)},
                     {"key": lpm(24, "10.1.2.0"), "value": u64(0, 0)},
                     {"key": lpm(26, "192.168.1.64"), "value": u64(0, 0)}]}
ex("xdp_firewall", "v3", "xdp", "xdp",
   ["LPM trie with BPF_F_NO_PREALLOC", "longest-prefix match", "atomic adds on map values", "per-CPU array"],
   [single("blocked source, twice", "ipv4_tcp_syn", XDP_DROP, repeat=2, mapInit=rules,
           maps={"blocked": hsh({lpm(8, "10.0.0.0"): u64(0, 0), lpm(24, "10.1.2.0"): u64(2, 2 * L("ipv4_tcp_syn")),
                                 lpm(26, "192.168.1.64"): u64(0, 0)}),
                 "verdicts": arr({1: u64(2)})}),
    seq("mixed sources", [run("ipv4_tcp_syn", XDP_DROP), run("ipv4_tcp_syn_b", XDP_PASS), run("ipv4_udp_dns", XDP_DROP),
                          run("ipv6_tcp_syn", XDP_PASS), run("ipv4_truncated", XDP_DROP), run("arp_request", XDP_PASS),
                          run("ipv4_tcp_synack", XDP_PASS)],
        mapInit=rules,
        maps={"blocked": hsh({lpm(8, "10.0.0.0"): u64(0, 0), lpm(24, "10.1.2.0"): u64(1, L("ipv4_tcp_syn")),
                              lpm(26, "192.168.1.64"): u64(1, L("ipv4_udp_dns"))}),
              "verdicts": arr({0: u64(4), 1: u64(2), 2: u64(1)})}),
    single("empty trie passes everything", "ipv4_tcp_syn", XDP_PASS,
           maps={"blocked": [], "verdicts": arr({0: u64(1)})}),
   ])

# 3 rate_limit ----------------------------------------------------------------
# budget 3 per 60 s window per source: A's runs 4 and 5 and its later data
# packet are dropped; IPv6 is not limited. rl_windows holds timestamps and is
# never compared.
A, B, C = M.ip4(M.A).hex(), M.ip4(M.B).hex(), M.ip4(M.C).hex()
def cnt(p, d): return struct.pack('<II', p, d).hex()
ex("rate_limit", "v3", "tc", "sched_cls",
   ["per-CPU hash keyed by source address", "bpf_ktime_get_ns (results independent of timing)", "const volatile .rodata settings", "BPF_NOEXIST insert", "tc direct packet access"],
   [seq("budget of 3 per source", [run("ipv4_tcp_syn", TC_OK, repeat=3), run("ipv4_tcp_syn", TC_SHOT, repeat=2),
                                   run("ipv4_tcp_syn_b", TC_OK), run("ipv4_udp_dns", TC_OK), run("ipv6_tcp_syn", TC_OK),
                                   run("ipv4_tcp_ack_data", TC_SHOT)],
        maps={"rl_counts": hsh({A: cnt(3, 3), B: cnt(1, 0), C: cnt(1, 0)})}),
    seq("counters restored by user space", [run("ipv4_tcp_syn", TC_OK), run("ipv4_tcp_syn", TC_SHOT)],
        mapInit={"rl_counts": [{"key": A, "value": cnt(2, 5)}]},
        maps={"rl_counts": hsh({A: cnt(3, 6)})}),
   ])

# 4 syn_events ----------------------------------------------------------------
# struct flow_event, 44 bytes. SYNs to port 22 (B) are reserved then
# discarded, so readers never see them; SYN-ACKs, data and the VLAN-tagged
# frame (not parsed) make no record.
def ev(n, fam, sport, dport, s, d, flags=0x02):
    body = struct.pack('!BBBBHH', fam, 6, flags, 0, sport, dport)
    if fam == 4: body += M.ip4(s) + bytes(12) + M.ip4(d) + bytes(12)
    else: body += M.ip6(s) + M.ip6(d)
    return body + struct.pack('<I', L(n))
ev_a = ev("ipv4_tcp_syn", 4, 40000, 80, M.A, M.SERVER).hex()
ev_6 = ev("ipv6_tcp_syn", 6, 40000, 443, M.A6, M.SERVER6).hex()
ev_o = ev("ipv4_tcp_opts", 4, 40000, 80, M.A, M.SERVER).hex()
ex("syn_events", "v3", "tc", "sched_cls",
   ["BPF ring buffer", "bpf_ringbuf_reserve / submit / discard", "bpf_ringbuf_output", "TCP flag parsing", ".bss counters"],
   [single("one IPv4 SYN", "ipv4_tcp_syn", TC_OK, maps={"events": [{"value": ev_a}], "syn_even.bss": arr({0: glob("syn_events", ".bss", submitted=q(1))})}),
    seq("mixed traffic", [run("ipv4_tcp_syn", TC_OK), run("ipv4_tcp_syn_b", TC_OK), run("ipv4_tcp_synack", TC_OK),
                          run("ipv4_tcp_ack_data", TC_OK), run("ipv6_tcp_syn", TC_OK), run("ipv4_udp_dns", TC_OK),
                          run("vlan_ipv6_tcp_syn", TC_OK), run("ipv4_tcp_opts", TC_OK)],
        maps={"events": [{"value": ev_a}, {"value": ev_6}, {"value": ev_o}], "syn_even.bss": arr({0: glob("syn_events", ".bss", submitted=q(2), discarded=q(1), output=q(1))})}),
    single("repeat 3", "ipv4_tcp_syn", TC_OK, repeat=3, maps={"events": [{"value": ev_a}] * 3, "syn_even.bss": arr({0: glob("syn_events", ".bss", submitted=q(3))})}),
   ])

# 5 tail_dispatch -------------------------------------------------------------
# The echo reply is built from scratch (addresses swapped, type 0, full
# checksum): the program's incremental update must give the same bytes.
# GRE (47) and IPv6 have no handler: GRE counts as dispatched + unhandled,
# IPv6 and ARP are not dispatched at all.
def icmp_reply():
    f = P["ipv4_icmp_echo"]
    body = struct.pack("!BBHHH", 0, 0, 0, 0x4242, 1) + b"tsbpf-ping!!"
    c = M.csum(body); body = body[:2] + struct.pack("!H", c) + body[4:]
    return M.MAC_SRC + M.MAC_DST + b"\x08\x00" + M.ipv4(M.SERVER, M.A, M.PROTO_ICMP, body)
jt = {"jmp_table": hsh({u32(1): "prog:handle_icmp", u32(6): "prog:handle_tcp", u32(17): "prog:handle_udp"})}
def td(dispatched=0, unhandled=0, icmp=0, tcp=0, up=0, ud=0): return arr({0: glob("tail_dispatch", ".bss", stats=u64(dispatched, unhandled, icmp, tcp, up, ud))})
ex("tail_dispatch", "v3", "xdp", "xdp",
   ["BPF_MAP_TYPE_PROG_ARRAY with a .values initialiser", "bpf_tail_call", "several programs in one object",
    "state passed through a per-CPU array", "XDP_TX with an in-place ICMP echo reply (RFC 1624 checksum update)"],
   [single("ICMP echo request answered", "ipv4_icmp_echo", XDP_TX, dataOut=h(icmp_reply()),
           maps=dict(jt, **{"tail_dis.bss": td(1, 0, 1)})),
    seq("one packet per handler", [run("ipv4_tcp_syn", XDP_PASS), run("ipv4_udp_discard", XDP_DROP), run("ipv4_udp_dns", XDP_PASS),
                                   run("ipv4_gre", XDP_PASS), run("ipv6_tcp_syn", XDP_PASS), run("arp_request", XDP_PASS)],
        maps=dict(jt, **{"tail_dis.bss": td(4, 1, 0, 1, 1, 1)})),
    single("slot added by user space (GRE to handle_tcp)", "ipv4_gre", XDP_PASS,
           mapInit={"jmp_table": [{"key": u32(47), "value": "prog:handle_tcp"}]},
           maps={"jmp_table": hsh({u32(1): "prog:handle_icmp", u32(6): "prog:handle_tcp", u32(17): "prog:handle_udp", u32(47): "prog:handle_tcp"}),
                 "tail_dis.bss": td(1, 0, 0, 1)}),
   ], func="xdp_dispatch")

# 6 global_config -------------------------------------------------------------
rodata = glob("global_config", ".rodata", blocked_port=struct.pack('<H', 23), enforce=b"\x01", log_blocked=b"\x01")
s = "global_config: blocked port %d\n".encode() + b"\0"
def tally(tcp, udp, other): return glob("global_config", ".data.stats", tally=struct.pack('<IIQQQ', 2, 0, tcp, udp, other))
ex("global_config", "v1", "xdp", "xdp",
   [".rodata const volatile settings", ".data and .bss globals", "custom .data.stats section", ".rodata.str1.1 string literal",
    "bpf_trace_printk", "mapInit on a global data map"],
   [single("telnet blocked", "ipv4_tcp_telnet", XDP_DROP,
           maps={"global_c.rodata": arr({0: rodata}), "global_c.data": arr({0: glob("global_config", ".data", enabled=u32(1))}), "global_c.bss": arr({0: glob("global_config", ".bss", seen=q(1), blocked=q(1))}),
                 ".data.stats": arr({0: tally(1, 0, 0)}), ".rodata.str1.1": arr({0: s.hex()})}),
    single("disabled through .data", "ipv4_tcp_telnet", XDP_PASS, mapInit={"global_c.data": [{"key": u32(0), "value": u32(0)}]},
           maps={"global_c.data": [], "global_c.bss": [], ".data.stats": arr({0: tally(0, 0, 0)})}),
    seq("mixed traffic", [run("ipv4_tcp_syn", XDP_PASS), run("ipv4_udp_dns", XDP_PASS), run("ipv4_icmp_echo", XDP_PASS),
                          run("arp_request", XDP_PASS), run("ipv4_tcp_telnet", XDP_DROP, repeat=2)],
        maps={"global_c.bss": arr({0: glob("global_config", ".bss", seen=q(6), blocked=q(2))}), ".data.stats": arr({0: tally(3, 1, 1)})}),
   ])

# 7 csum_loop -----------------------------------------------------------------
# A socket filter sees the packet from the IP header on (offset 0) and its
# data_out is 14 zero bytes + that part. The histogram counts the high nibble
# of the first min(len, 64) IP-level bytes, for every run (repeat included).
# A frame whose IP part is shorter than 20 (IPv4) / 40 (IPv6) bytes is
# refused by the kernel's skb test run with EINVAL before the program runs.
def hist_of(names_reps):
    hist = [0] * 16; count = 0
    for n, r in names_reps:
        ip = P[n][14:][:64]
        for _ in range(r):
            for b in ip: hist[b >> 4] += 1
            count += len(ip)
    return hist, count
def csl(names_reps, bad):
    hist, count = hist_of(names_reps)
    return {"csum_loo.bss": arr({0: glob("csum_loop", ".bss", hist=u64(*hist), byte_count=q(count), bad_checksums=q(bad))})}
ex("csum_loop", "v2", "socket", "socket_filter",
   ["bpf_loop with callbacks", "context pointer passed through the callback context", "bpf_skb_load_bytes",
    "socket filter: offsets from the network header", ".bss array indexed by a computed index", "-mcpu=v2"],
   [single("good IPv4 header kept", "ipv4_udp_dns", L("ipv4_udp_dns") - 14, dataOut=sockout("ipv4_udp_dns"), maps=csl([("ipv4_udp_dns", 1)], 0)),
    single("bad IPv4 checksum dropped", "ipv4_bad_csum", 0, dataOut=sockout("ipv4_bad_csum"), maps=csl([("ipv4_bad_csum", 1)], 1)),
    seq("IPv6 kept, IHL past the end dropped, repeat", [run("ipv6_udp", L("ipv6_udp") - 14, sockout("ipv6_udp")),
                                                      run("ipv4_bad_ihl", 0, sockout("ipv4_bad_ihl")),
                                                      run("ipv4_tcp_syn", L("ipv4_tcp_syn") - 14, sockout("ipv4_tcp_syn"), repeat=2)],
        maps=csl([("ipv6_udp", 1), ("ipv4_bad_ihl", 1), ("ipv4_tcp_syn", 2)], 1)),
    single("IPv4 frame shorter than an IP header: the kernel refuses the run", "ipv4_truncated", "EINVAL", dataOut=None,
           maps={"csum_loo.bss": []}),
   ])

# 8 core_ctx ------------------------------------------------------------------
# __sk_buff in a tc test run: len = frame length, protocol in network order
# (0x0806 -> 0x0608 as a little-endian u32), pkt_type 2 for the broadcast ARP
# (lo's broadcast address is all zero) and 3 otherwise, ifindex 1.
def seen(n, proto, pkt_type, runs):
    return glob("core_ctx", ".bss", seen=struct.pack('<10I', L(n), proto, pkt_type, 1, 0x5eed, 1, 8, 0, 0, runs))
ex("core_ctx", "v3", "tc", "sched_cls",
   ["CO-RE field relocations on a ___local flavour of __sk_buff", "bpf_core_field_exists / bpf_core_field_size",
    "a context store (mark) through a relocated offset", "__sk_buff values of a tc test run"],
   [single("ARP broadcast", "arp_request", TC_OK, maps={"core_ctx.bss": arr({0: seen("arp_request", 0x0608, 2, 1)})}),
    single("IPv6 unicast, repeat 2", "ipv6_tcp_syn", TC_OK, repeat=2, maps={"core_ctx.bss": arr({0: seen("ipv6_tcp_syn", 0xdd86, 3, 2)})}),
    seq("a short IPv4 frame is refused, the next one runs", [run("ipv4_truncated", "EINVAL", None), run("ipv4_tcp_syn", TC_OK)],
        maps={"core_ctx.bss": arr({0: seen("ipv4_tcp_syn", 0x0008, 3, 1)})}),
   ])

# 9 parser --------------------------------------------------------------------
# The application class uses the lower of the two ports. `last` is the final
# frame's classification (B's SSH SYN: L3 at 14, L4 at 34).
CL = dict(UNKNOWN=0, ARP=1, IPV4_TCP=2, IPV4_UDP=3, IPV4_ICMP=4, IPV4_OTHER=5, IPV6_TCP=6, IPV6_UDP=7, IPV6_ICMP=8, IPV6_OTHER=9, MALFORMED=10)
AP = dict(NONE=0, DNS=1, HTTP=2, HTTPS=3, SSH=4)
def last(cls, app, vid, depth, l4p, l3, l4):
    return struct.pack('<IIHBBHH', CL[cls], AP[app], vid, depth, l4p, l3, l4).hex()
pseq = [("ipv4_tcp_syn", "IPV4_TCP", "HTTP"), ("ipv4_udp_dns", "IPV4_UDP", "DNS"), ("ipv4_icmp_echo", "IPV4_ICMP", "NONE"),
        ("ipv6_tcp_syn", "IPV6_TCP", "HTTPS"), ("ipv6_udp", "IPV6_UDP", "DNS"), ("ipv6_icmp6_echo", "IPV6_ICMP", "NONE"),
        ("vlan_ipv4_udp", "IPV4_UDP", "HTTP"), ("vlan_ipv6_tcp_syn", "IPV6_TCP", "HTTP"), ("arp_request", "ARP", "NONE"),
        ("eth_unknown", "UNKNOWN", "NONE"), ("ipv4_truncated", "MALFORMED", "NONE"), ("ipv4_gre", "IPV4_OTHER", "NONE"),
        ("ipv4_tcp_opts", "IPV4_TCP", "HTTP"), ("ipv4_tcp_syn_b", "IPV4_TCP", "SSH")]
cc, ac = {}, {}
for n, c, a in pseq:
    cc[CL[c]] = cc.get(CL[c], 0) + 1; ac[AP[a]] = ac.get(AP[a], 0) + 1
ex("parser", "v4", "xdp", "xdp",
   ["static __noinline subprograms taking packet pointers", "global functions (verified separately)", "VLAN / QinQ parsing",
    "IPv4 options, IPv6", "-mcpu=v4 instructions"],
   [seq("fourteen kinds of frame", [run(n, XDP_DROP if c == "MALFORMED" else XDP_PASS) for n, c, a in pseq],
        maps={"class_count": arr({k: u64(v) for k, v in cc.items()}), "app_count": arr({k: u64(v) for k, v in ac.items()}),
              "parser.bss": arr({0: glob("parser", ".bss", last=last("IPV4_TCP", "SSH", 0, 0, 6, 14, 34))})}),
    single("802.1Q tagged UDP", "vlan_ipv4_udp", XDP_PASS,
           maps={"class_count": arr({CL["IPV4_UDP"]: u64(1)}), "app_count": arr({AP["HTTP"]: u64(1)}),
                 "parser.bss": arr({0: glob("parser", ".bss", last=last("IPV4_UDP", "HTTP", 100, 1, 17, 18, 38))})}),
    single("IPv4 with options", "ipv4_tcp_opts", XDP_PASS,
           maps={"parser.bss": arr({0: glob("parser", ".bss", last=last("IPV4_TCP", "HTTP", 0, 0, 6, 14, 38))})}),
   ])

# 10 queue_stack --------------------------------------------------------------
# Case 1: history holds 4; the 5th and 6th IP packets evict B's SYN and A's
# SYN (ARP is not IP and is not recorded). The SYN-ACK answers A's SYN, on top
# of the stack, which is popped; B's stays. Case 2: A's SYN is under B's, so
# the SYN-ACK does not match the top.
def fact(n, fam, proto, sp, dp): return struct.pack('<HBBHH', L(n), fam, proto, sp, dp).hex()
f_b = fact("ipv4_tcp_syn_b", 4, 6, 40001, 22)
f_a = fact("ipv4_tcp_syn", 4, 6, 40000, 80)
f_sa = fact("ipv4_tcp_synack", 4, 6, 80, 40000)
f_dns = fact("ipv4_udp_dns", 4, 17, 5353, 53)
f_6 = fact("ipv6_udp", 6, 17, 5353, 53)
f_icmp = fact("ipv4_icmp_echo", 4, 1, 0, 0)
def qsb(ev, ans, un, oldest): return arr({0: glob("queue_stack", ".bss", evicted=q(ev), answered=q(ans), unmatched=q(un), oldest=oldest)})
ex("queue_stack", "v3", "xdp", "xdp",
   ["BPF_MAP_TYPE_QUEUE", "BPF_MAP_TYPE_STACK", "push / pop / peek helpers", "-E2BIG from a full queue", "mapInit by push"],
   [seq("handshake answered, history overflows",
        [run("ipv4_tcp_syn_b", XDP_PASS), run("ipv4_tcp_syn", XDP_PASS), run("ipv4_tcp_synack", XDP_PASS),
         run("ipv4_udp_dns", XDP_PASS), run("ipv6_udp", XDP_PASS), run("arp_request", XDP_PASS), run("ipv4_icmp_echo", XDP_PASS)],
        maps={"history": [{"value": v} for v in [f_sa, f_dns, f_6, f_icmp]], "pending_syns": [{"value": f_b}],
              "queue_st.bss": qsb(2, 1, 0, f_sa)}),
    seq("SYN-ACK for an older SYN is unmatched",
        [run("ipv4_tcp_syn", XDP_PASS), run("ipv4_tcp_syn_b", XDP_PASS), run("ipv4_tcp_synack", XDP_PASS)],
        maps={"history": [{"value": v} for v in [f_a, f_b, f_sa]], "pending_syns": [{"value": f_b}, {"value": f_a}],
              "queue_st.bss": qsb(0, 0, 1, f_a)}),
    single("full queue from user space", "ipv4_tcp_syn", XDP_PASS,
           mapInit={"history": [{"value": v} for v in [f_b, f_dns, f_6, f_icmp]]},
           maps={"history": [{"value": v} for v in [f_dns, f_6, f_icmp, f_a]], "pending_syns": [{"value": f_a}],
                 "queue_st.bss": qsb(1, 0, 0, f_dns)}),
   ])

# 11 map_in_map ---------------------------------------------------------------
# tenant = last octet of the destination & 3: the server .10 -> 2, 8.8.8.8 ->
# 0, A (10.1.2.3, the SYN-ACK's destination) -> 3 (no inner map).
def port(p): return struct.pack('<H', p).hex()
def pol(a, hits): return struct.pack('<II', a, hits).hex()
outer = {"tenants": arr({0: "map:tenant0_ports", 2: "map:tenant2_ports"})}
ex("map_in_map", "v3", "xdp", "xdp",
   ["BPF_MAP_TYPE_ARRAY_OF_MAPS with an inner map template", ".values initialiser of declared inner maps",
    "lookup in the outer then the inner map", "mapInit of an outer slot (map:NAME)"],
   [single("no rule for the port", "ipv4_tcp_syn", XDP_PASS, maps=dict(outer, **{"tenant2_ports": [], "map_in_m.bss": arr({0: glob("map_in_map", ".bss", no_rule=q(1))})})),
    seq("tenant 2 drops SSH", [run("ipv4_tcp_syn_b", XDP_DROP, repeat=2), run("ipv4_tcp_syn", XDP_PASS), run("ipv4_udp_dns", XDP_PASS),
                               run("ipv4_tcp_synack", XDP_PASS), run("ipv4_udp_8080", XDP_PASS)],
        mapInit={"tenant2_ports": [{"key": port(22), "value": pol(XDP_DROP, 0)}, {"key": port(8080), "value": pol(XDP_PASS, 10)}]},
        maps=dict(outer, **{"tenant2_ports": hsh({port(22): pol(XDP_DROP, 2), port(8080): pol(XDP_PASS, 11)}),
                            "tenant0_ports": [], "map_in_m.bss": arr({0: glob("map_in_map", ".bss", unconfigured=q(1), no_rule=q(2))})})),
    single("tenant 0 policy swapped from user space", "ipv4_udp_dns", XDP_DROP,
           mapInit={"spare_ports": [{"key": port(53), "value": pol(XDP_DROP, 0)}], "tenants": [{"key": u32(0), "value": "map:spare_ports"}]},
           maps={"tenants": arr({0: "map:spare_ports", 2: "map:tenant2_ports"}), "spare_ports": hsh({port(53): pol(XDP_DROP, 1)}),
                 "map_in_m.bss": []}),
   ])

# 12 bloom --------------------------------------------------------------------
# With BPF_F_ZERO_SEED the filter's answers are fixed: B and C are not
# (false) positives after learning A alone.
ex("bloom", "v3", "xdp", "xdp",
   ["BPF_MAP_TYPE_BLOOM_FILTER (map_extra hashes, BPF_F_ZERO_SEED)", "bpf_map_peek_elem membership test", "bpf_map_push_elem",
    "hash map behind the filter", "mapInit by push into a bloom filter"],
   [seq("learn from the honeypot, then block", [run("ipv4_tcp_syn", XDP_PASS), run("ipv4_tcp_honeypot", XDP_DROP), run("ipv4_tcp_syn", XDP_DROP),
                                               run("ipv4_tcp_syn_b", XDP_PASS), run("ipv4_tcp_ack_data", XDP_DROP), run("ipv4_udp_dns", XDP_PASS)],
        maps={"blocklist": hsh({A: u64(2)}), "bloom.bss": arr({0: glob("bloom", ".bss", bloom_negative=q(3), bloom_positive=q(2), false_positive=q(0), learned=q(1))})}),
    single("false positive: in the filter, not in the hash", "ipv4_tcp_syn_b", XDP_PASS,
           mapInit={"bad_bloom": [{"value": B}]}, maps={"blocklist": [], "bloom.bss": arr({0: glob("bloom", ".bss", false_positive=q(1))})}),
   ])

# 13 sock_filter --------------------------------------------------------------
sf = [("ipv4_tcp_syn", 96), ("ipv4_udp_dns", 262144), ("ipv4_udp_8080", 0), ("ipv6_tcp_syn", 96), ("ipv6_udp", 262144),
      ("arp_request", 0), ("ipv4_tcp_opts", 96), ("ipv4_bad_ihl", 0), ("ipv4_icmp_echo", 0), ("ipv4_tcp_synack", 96)]
ex("sock_filter", "v1", "socket", "socket_filter",
   ["legacy LD_ABS / LD_IND packet loads (llvm.bpf.load.*)", "socket filter return value = bytes to keep",
    "out-of-bounds LD_ABS ends the program with 0", "no maps"],
   [seq("keep SSH/HTTP(S) headers and DNS", [run(n, r, sockout(n)) for n, r in sf]),
    single("one HTTP SYN", "ipv4_tcp_syn", 96, dataOut=sockout("ipv4_tcp_syn")),
    single("IPv4 frame shorter than an IP header: the kernel refuses the run", "ipv4_truncated", "EINVAL", dataOut=None),
   ])

# 14 nat_rewrite --------------------------------------------------------------
# Expected frames are built from scratch with port 80 and TTL 63 (full
# checksums): the incremental fix-ups must give the same bytes.
def eth4(ip): return M.eth(ip, M.ETH_P_IP)
nat_tcp = eth4(M.tcp4(M.A, M.SERVER, 40000, 80, M.TCP_SYN, ttl=63))
nat_udp = eth4(M.udp4(M.B, M.SERVER, 33000, 80, b"hello, udp", ttl=63))
nat_udp0 = eth4(M.udp4(M.B, M.SERVER, 33000, 80, b"hello, udp", zero_csum=True, ttl=63))
def nat(rw, ex_): return {"nat_rewr.bss": arr({0: glob("nat_rewrite", ".bss", rewritten=q(rw), ttl_expired=q(ex_))})}
ex("nat_rewrite", "v4", "tc", "sched_cls",
   ["bpf_skb_store_bytes", "bpf_l4_csum_replace (BPF_F_MARK_MANGLED_0 for UDP)", "bpf_l3_csum_replace", "bpf_skb_load_bytes",
    "TC_ACT_SHOT", "-mcpu=v4"],
   [single("TCP 8080 -> 80, TTL 64 -> 63", "ipv4_tcp_8080", TC_OK, dataOut=h(nat_tcp), maps=nat(1, 0)),
    single("UDP 8080 -> 80", "ipv4_udp_8080", TC_OK, dataOut=h(nat_udp), maps=nat(1, 0)),
    single("UDP without checksum keeps 0", "ipv4_udp_8080_nocsum", TC_OK, dataOut=h(nat_udp0), maps=nat(1, 0)),
    single("TTL 1 dropped", "ipv4_udp_ttl1", TC_SHOT, maps=nat(0, 1)),
    seq("other packets untouched", [run("ipv4_tcp_syn", TC_OK), run("vlan_ipv4_udp", TC_OK), run("ipv6_tcp_syn", TC_OK), run("ipv4_icmp_echo", TC_OK)],
        maps=nat(0, 0)),
   ])

# 15 vlan_strip ---------------------------------------------------------------
# Stripping = dropping bytes 12..15 (the 0x8100 tag); 342-byte frames are cut
# to snaplen 128.
def strip(n): f = P[n]; return f[:12] + f[16:]
def vs(st, tr, vid, pcp): return {"vlan_str.bss": arr({0: glob("vlan_strip", ".bss", stripped=q(st), truncated=q(tr), last_vid=struct.pack('<H', vid), last_pcp=bytes([pcp]))})}
ex("vlan_strip", "v3", "xdp", "xdp",
   ["bpf_xdp_adjust_head (pop a VLAN tag)", "bpf_xdp_adjust_tail (truncate)", "bpf_printk", "packet pointers reloaded after helpers"],
   [single("802.1Q tag removed", "vlan_ipv4_udp", XDP_PASS, dataOut=h(strip("vlan_ipv4_udp")), maps=vs(1, 0, 100, 3)),
    single("long frame cut to 128 bytes", "ipv4_udp_big", XDP_PASS, dataOut=h(P["ipv4_udp_big"][:128]), maps=vs(0, 1, 0, 0)),
    seq("untagged short frames untouched, IPv6 tag removed", [run("ipv4_tcp_syn", XDP_PASS), run("vlan_ipv6_tcp_syn", XDP_PASS, h(strip("vlan_ipv6_tcp_syn"))), run("arp_request", XDP_PASS)],
        maps=vs(1, 0, 200, 0)),
   ])

manifest = {"format": 1, "doc": "docs/examples.md describes the examples and this format; test/examples/manifest.ts has its types", "examples": examples}
with open(os.path.join(HERE, "examples.json"), "w") as f:
    json.dump(manifest, f, indent=2)
    f.write("\n")
print(f"wrote {len(examples)} examples, {sum(len(e['cases']) for e in examples)} cases to examples.json")
