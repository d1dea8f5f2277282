#!/usr/bin/env python3
r"""compare-test-runs.py - BPF_PROG_TEST_RUN of real objects: the kernel against tsbpf.

For every packet program (XDP, tc, socket filter, cgroup skb, lwt) of each
object that the kernel loads: load the object through libbpf with only that
program (as kernel-verify-objects.py does), run it once per packet with
BPF_PROG_TEST_RUN on CPU 0 in a fresh network namespace (TEST_RUN.md's
setup: only `lo`, down), read retval, data_out and every map the program can
see; then run `tsbpf prog run OBJ --name PROG --data-in PKT --json` on the
same packet (with the machine's BTF and kernel configuration, which libbpf
uses on the kernel side) and compare. Every run starts from a fresh load on both sides.
Each kernel run is made twice: when the two differ (time, random numbers,
cookies) the run is not deterministic and is counted apart.

Maps compared: those user space can read element by element (hash, array,
per-CPU, LRU, LPM), arrays without their all-zero slots (as `tsbpf prog run
--json` lists them); prog arrays, maps of maps, perf event arrays, ring
buffers, queues, stacks, bloom filters and socket maps are left out.

    compare-test-runs.py [--tsbpf CMD] [--packets all|NAME,...] [--prog-type T] [--report FILE] OBJ.o ...

Needs root (CAP_BPF, CAP_SYS_ADMIN for the namespace), libbpf.so.1, Node and
a built tsbpf (`npm run build`). Python standard library only. Prints one
line per difference and a summary: runs compared, deterministic runs, equal
(retval, data_out and maps) and the rate.
"""
import argparse
import ctypes
import json
import os
import struct
import subprocess
import sys
import tempfile

libbpf = ctypes.CDLL("libbpf.so.1", use_errno=True)
libc = ctypes.CDLL(None, use_errno=True)
V = ctypes.c_void_p
for name, res, args in [
    ("bpf_object__open_file", V, [ctypes.c_char_p, V]),
    ("bpf_object__next_program", V, [V, V]),
    ("bpf_object__next_map", V, [V, V]),
    ("bpf_program__name", ctypes.c_char_p, [V]),
    ("bpf_program__section_name", ctypes.c_char_p, [V]),
    ("bpf_program__set_autoload", ctypes.c_int, [V, ctypes.c_bool]),
    ("bpf_program__fd", ctypes.c_int, [V]),
    ("bpf_program__type", ctypes.c_int, [V]),
    ("bpf_program__set_type", ctypes.c_int, [V, ctypes.c_int]),
    ("bpf_map__name", ctypes.c_char_p, [V]),
    ("bpf_map__fd", ctypes.c_int, [V]),
    ("bpf_map__type", ctypes.c_int, [V]),
    ("bpf_map__key_size", ctypes.c_uint32, [V]),
    ("bpf_map__value_size", ctypes.c_uint32, [V]),
    ("bpf_map__autocreate", ctypes.c_bool, [V]),
    ("bpf_object__load", ctypes.c_int, [V]),
    ("bpf_object__close", None, [V]),
    ("libbpf_get_error", ctypes.c_long, [V]),
    ("libbpf_num_possible_cpus", ctypes.c_int, []),
    ("bpf_map_get_next_key", ctypes.c_int, [ctypes.c_int, V, V]),
    ("bpf_map_lookup_elem", ctypes.c_int, [ctypes.c_int, V, V]),
    ("bpf_map_lookup_batch", ctypes.c_int, [ctypes.c_int, V, V, V, V, ctypes.POINTER(ctypes.c_uint32), V]),
]:
    fn = getattr(libbpf, name)
    fn.restype = res
    fn.argtypes = args

PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, V)
_quiet = PRINT_FN(lambda level, fmt, args: 0)
libbpf.libbpf_set_print.restype = V
libbpf.libbpf_set_print(_quiet)


class TestRunOpts(ctypes.Structure):
    # struct bpf_test_run_opts (libbpf 1.x)
    _fields_ = [("sz", ctypes.c_size_t), ("data_in", V), ("data_out", V), ("data_size_in", ctypes.c_uint32),
                ("data_size_out", ctypes.c_uint32), ("ctx_in", V), ("ctx_out", V), ("ctx_size_in", ctypes.c_uint32),
                ("ctx_size_out", ctypes.c_uint32), ("retval", ctypes.c_uint32), ("repeat", ctypes.c_int),
                ("duration", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("cpu", ctypes.c_uint32),
                ("batch_size", ctypes.c_uint32)]


libbpf.bpf_prog_test_run_opts.restype = ctypes.c_int
libbpf.bpf_prog_test_run_opts.argtypes = [ctypes.c_int, ctypes.POINTER(TestRunOpts)]

# enum bpf_prog_type ids of the packet program types a test run gives a packet
PACKET_TYPES = {1: "socket_filter", 3: "sched_cls", 4: "sched_act", 6: "xdp", 8: "cgroup_skb", 10: "lwt_in",
                11: "lwt_out", 12: "lwt_xmit"}
# enum bpf_map_type ids user space reads element by element
READABLE_MAPS = {1, 2, 5, 6, 9, 10, 11}
PERCPU_MAPS = {5, 6, 10}
# --prog-type: the type of programs whose section libbpf 1.x does not know (their own loader's)
FALLBACK_TYPE = [0]
# arrays hold every index: their all-zero slots are left out on both sides (as `tsbpf prog run --json` does)
ARRAY_MAPS = {2, 6}


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, payload, src="10.0.0.1", dst="10.0.0.2"):
    s, d = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0x4000, 64, proto, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr, s, d


def l4(proto, seg, pseudo_src, pseudo_dst, v6=False):
    if v6:
        pseudo = pseudo_src + pseudo_dst + struct.pack("!I3xB", len(seg), proto)
    else:
        pseudo = pseudo_src + pseudo_dst + struct.pack("!BBH", 0, proto, len(seg))
    off = 16 if proto == 6 else 6
    c = csum(pseudo + seg)
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


ETH_DST, ETH_SRC = bytes.fromhex("020000000002"), bytes.fromhex("020000000001")


def packets():
    out = {}
    tcp = struct.pack("!HHIIBBHHH", 12345, 80, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    ip, s, d = ipv4(6, tcp)
    out["ipv4-tcp-syn"] = ETH_DST + ETH_SRC + b"\x08\x00" + ip + l4(6, tcp, s, d)
    udp_payload = b"tsbpf-ok"
    udp = struct.pack("!HHHH", 5353, 53, 8 + len(udp_payload), 0) + udp_payload
    ip, s, d = ipv4(17, udp)
    out["ipv4-udp"] = ETH_DST + ETH_SRC + b"\x08\x00" + ip + l4(17, udp, s, d)
    s6, d6 = bytes.fromhex("fd000000000000000000000000000001"), bytes.fromhex("fd000000000000000000000000000002")
    tcp6 = struct.pack("!HHIIBBHHH", 40000, 443, 7, 0, 5 << 4, 0x02, 65535, 0, 0)
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(tcp6), 6, 64, s6, d6)
    out["ipv6-tcp-syn"] = ETH_DST + ETH_SRC + b"\x86\xdd" + ip6 + l4(6, tcp6, s6, d6, v6=True)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, ETH_SRC, bytes([10, 0, 0, 1]), b"\0" * 6, bytes([10, 0, 0, 2]))
    out["arp-request"] = b"\xff" * 6 + ETH_SRC + b"\x08\x06" + arp + b"\0" * 18
    out["zero-64"] = b"\0" * 64
    return out


def programs(obj):
    p = libbpf.bpf_object__next_program(obj, None)
    while p:
        yield p
        p = libbpf.bpf_object__next_program(obj, p)


def maps(obj):
    m = libbpf.bpf_object__next_map(obj, None)
    while m:
        yield m
        m = libbpf.bpf_object__next_map(obj, m)


def entry(key, raw, vs, ncpus, percpu):
    if percpu:
        step = (vs + 7) // 8 * 8
        return {"key": key.hex(), "values": [raw[i * step:i * step + vs].hex() for i in range(ncpus)]}
    return {"key": key.hex(), "value": raw.hex()}


def dump_array(fd, ks, vs, vlen, ncpus, percpu):
    """The non-zero slots of an array, read in batches of up to 64 MiB (BPF_MAP_LOOKUP_BATCH)."""
    chunk = max(1, min(1 << 20, (64 << 20) // vlen))  # at most 64 MiB of values per batch
    keys, vals = ctypes.create_string_buffer(ks * chunk), ctypes.create_string_buffer(vlen * chunk)
    token_in, token_out = ctypes.c_uint32(0), ctypes.c_uint32(0)
    first, out = True, []
    while True:
        count = ctypes.c_uint32(chunk)
        err = libbpf.bpf_map_lookup_batch(fd, None if first else ctypes.byref(token_in), ctypes.byref(token_out),
                                          keys, vals, ctypes.byref(count), None)
        n = count.value
        data = vals.raw[:n * vlen]
        if data.count(0) != len(data):
            for i in range(n):
                raw = data[i * vlen:(i + 1) * vlen]
                if raw.count(0) != vlen:
                    out.append(entry(keys.raw[i * ks:(i + 1) * ks], raw, vs, ncpus, percpu))
        if err != 0:
            break
        token_in.value, first = token_out.value, False
    return out


def dump_map(m, ncpus):
    fd = libbpf.bpf_map__fd(m)
    ks, vs = libbpf.bpf_map__key_size(m), libbpf.bpf_map__value_size(m)
    percpu = libbpf.bpf_map__type(m) in PERCPU_MAPS
    vlen = ((vs + 7) // 8 * 8) * ncpus if percpu else vs
    if libbpf.bpf_map__type(m) in ARRAY_MAPS:
        return sorted(dump_array(fd, ks, vs, vlen, ncpus, percpu), key=lambda e: e["key"])
    key, nxt, val = ctypes.create_string_buffer(ks), ctypes.create_string_buffer(ks), ctypes.create_string_buffer(vlen)
    out = []
    prev = None
    while libbpf.bpf_map_get_next_key(fd, prev, nxt) == 0:
        ctypes.memmove(key, nxt, ks)
        prev = key
        if libbpf.bpf_map_lookup_elem(fd, key, val) != 0:
            continue
        out.append(entry(key.raw[:ks], val.raw[:vlen], vs, ncpus, percpu))
    return sorted(out, key=lambda e: e["key"])


def kernel_run(path, index, data, ncpus):
    """(type, result) of program `index` of `path` on `data`, or (type, None) when it does not load."""
    obj = libbpf.bpf_object__open_file(path.encode(), None)
    if not obj or libbpf.libbpf_get_error(obj):
        return None, None
    try:
        progs = list(programs(obj))
        target = progs[index]
        for p in progs:
            libbpf.bpf_program__set_autoload(p, p == target)
        if FALLBACK_TYPE[0] and libbpf.bpf_program__type(target) == 0:
            libbpf.bpf_program__set_type(target, FALLBACK_TYPE[0])
        ptype = libbpf.bpf_program__type(target)
        if ptype not in PACKET_TYPES:
            return ptype, None
        if libbpf.bpf_object__load(obj) != 0:
            return ptype, None
        buf_in = ctypes.create_string_buffer(data, len(data))
        out = ctypes.create_string_buffer(len(data) + 4096)
        opts = TestRunOpts(sz=ctypes.sizeof(TestRunOpts), data_in=ctypes.cast(buf_in, V), data_out=ctypes.cast(out, V),
                           data_size_in=len(data), data_size_out=len(out), repeat=1)
        err = libbpf.bpf_prog_test_run_opts(libbpf.bpf_program__fd(target), ctypes.byref(opts))
        if err != 0:
            return ptype, {"error": "errno %d" % ctypes.get_errno()}
        res = {"retval": opts.retval, "data_out": out.raw[:opts.data_size_out].hex(), "maps": {}}
        for m in maps(obj):
            if libbpf.bpf_map__autocreate(m) and libbpf.bpf_map__type(m) in READABLE_MAPS and libbpf.bpf_map__fd(m) >= 0:
                res["maps"][libbpf.bpf_map__name(m).decode()] = dump_map(m, ncpus)
        return ptype, res
    finally:
        libbpf.bpf_object__close(obj)


# what libbpf resolves CO-RE relocations and .kconfig externs against on the kernel side
HOST_FILES = [("--btf", "/sys/kernel/btf/vmlinux"), ("--kconfig", "/proc/config.gz")]


def tsbpf_run(cmd, path, name, pkt_file, ncpus):
    host = [x for flag, f in HOST_FILES if os.path.exists(f) for x in (flag, f)]
    p = subprocess.run(cmd + ["prog", "run", path, "--name", name, "--data-in", pkt_file, "--json", "--cpus", str(ncpus)] + host,
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]}
    res = json.loads(p.stdout)
    maps_ = {}
    for mname, entries in (res.get("maps") or {}).items():
        rows = []
        for e in entries:
            if "key" not in e:
                continue  # queue, stack, ring buffer: not compared
            if "values" in e:
                rows.append({"key": e["key"], "values": [v["value"] if isinstance(v, dict) else v for v in e["values"]]})
            else:
                rows.append({"key": e["key"], "value": e["value"]})
        maps_[mname] = sorted(rows, key=lambda e: e["key"])
    return {"retval": res.get("retval"), "data_out": res.get("data_out", ""), "maps": maps_}


def differences(k, t):
    if "error" in t:
        return ["tsbpf: " + t["error"]]
    out = []
    if k["retval"] != (t["retval"] & 0xFFFFFFFF if isinstance(t["retval"], int) else t["retval"]):
        out.append("retval kernel %s tsbpf %s" % (k["retval"], t["retval"]))
    if k["data_out"] != t["data_out"]:
        out.append("data_out differs (kernel %d bytes, tsbpf %d)" % (len(k["data_out"]) // 2, len(t["data_out"]) // 2))
    for name, rows in k["maps"].items():
        # custom data sections (.data.foo): libbpf 1.1 names the map after the whole section,
        # newer libbpf (and tsbpf) after its first 15 characters, as the kernel does
        mine = t["maps"].get(name, t["maps"].get(name[:15]))
        if mine is None:
            out.append("map %s missing in tsbpf" % name)
        elif mine != rows:
            out.append("map %s differs (kernel %d entries, tsbpf %d)" % (name, len(rows), len(mine)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tsbpf", default="node " + os.path.join(os.path.dirname(__file__), "..", "dist", "cli", "main.js"))
    ap.add_argument("--packets", default="all", help="all, or a comma-separated list of packet names")
    ap.add_argument("--report")
    ap.add_argument("--prog-type", help="type of programs in sections libbpf does not know (e.g. socket_filter for Suricata's)")
    ap.add_argument("objects", nargs="+")
    a = ap.parse_args()
    CLONE_NEWNET = 0x40000000
    if libc.unshare(CLONE_NEWNET) != 0:
        sys.exit("compare-test-runs: unshare(CLONE_NEWNET) failed (needs root)")
    os.sched_setaffinity(0, {0})
    ncpus = libbpf.libbpf_num_possible_cpus()
    cmd = a.tsbpf.split()
    if a.prog_type:
        FALLBACK_TYPE[0] = next(i for i, n in PACKET_TYPES.items() if n == a.prog_type)
    pkts = packets()
    chosen = list(pkts) if a.packets == "all" else a.packets.split(",")
    tmp = tempfile.mkdtemp(prefix="tsbpf-testrun-")
    files = {}
    for n in chosen:
        files[n] = os.path.join(tmp, n + ".bin")
        with open(files[n], "wb") as f:
            f.write(pkts[n])
    report = []
    tally = {"runs": 0, "deterministic": 0, "equal": 0, "kernel_errors": 0}
    for path in a.objects:
        obj = libbpf.bpf_object__open_file(path.encode(), None)
        if not obj or libbpf.libbpf_get_error(obj):
            continue
        names = [libbpf.bpf_program__name(p).decode() for p in programs(obj)]
        libbpf.bpf_object__close(obj)
        for i, name in enumerate(names):
            for pname in chosen:
                ptype, k1 = kernel_run(path, i, pkts[pname], ncpus)
                if k1 is None:
                    break
                tally["runs"] += 1
                row = {"file": path, "program": name, "type": PACKET_TYPES[ptype], "packet": pname}
                if "error" in k1:
                    tally["kernel_errors"] += 1
                    row["kernel_error"] = k1["error"]
                    report.append(row)
                    continue
                _, k2 = kernel_run(path, i, pkts[pname], ncpus)
                if k2 != k1:
                    row["deterministic"] = False
                    report.append(row)
                    continue
                tally["deterministic"] += 1
                t = tsbpf_run(cmd, path, name, files[pname], ncpus)
                diff = differences(k1, t)
                row.update({"deterministic": True, "equal": not diff, "differences": diff, "kernel": k1})
                if not diff:
                    tally["equal"] += 1
                else:
                    print("%s %s [%s]: %s" % (path, name, pname, "; ".join(diff)), flush=True)
                report.append(row)
    rate = 100.0 * tally["equal"] / tally["deterministic"] if tally["deterministic"] else 0.0
    print("runs %d, kernel errors %d, deterministic %d, equal %d (%.2f%%)" % (
        tally["runs"], tally["kernel_errors"], tally["deterministic"], tally["equal"], rate))
    if a.report:
        with open(a.report, "w") as f:
            json.dump({"tally": tally, "runs": report}, f, indent=1)


if __name__ == "__main__":
    main()
