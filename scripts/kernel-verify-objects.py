#!/usr/bin/env python3
r"""kernel-verify-objects.py - the kernel's verdict on each program of BPF objects.

Loads every program of each object on its own through libbpf (as `bpftool
prog loadall` would load it: libbpf's relocations, CO-RE, global data and
map creation), with every other program's autoload turned off, and reports
the verifier's verdict, its error line and the number of processed
instructions. Needs root (CAP_BPF) and libbpf.so.1; Python standard library
only (ctypes).

    kernel-verify-objects.py [--prog-type TYPE] [--log-level 1|2] OBJ.o [OBJ.o ...]   -> JSON on stdout:
    [{"file": "...", "program": "name", "section": "sec", "accepted": true,
      "error": null | "last log line before 'processed'", "errno": 0,
      "insn_processed": N | null, "libbpf_error": null | "...",
      "libbpf_warnings": ["libbpf's warning lines of the load", ...],
      "verification_time_usec": N | null, "log": "..." (with --log-level)}]

`--prog-type TYPE` (a libbpf name: socket_filter, sched_cls, ...) gives the
programs whose section libbpf 1.x does not know (Suricata's `filter`,
`loadbalancer`, iproute2's `classifier`...) the type their own loader gives
them; other programs keep libbpf's.
"""
import ctypes
import json
import re
import sys

libbpf = ctypes.CDLL("libbpf.so.1", use_errno=True)
c_void_p = ctypes.c_void_p
libbpf.bpf_object__open_file.restype = c_void_p
libbpf.bpf_object__open_file.argtypes = [ctypes.c_char_p, c_void_p]
libbpf.bpf_object__next_program.restype = c_void_p
libbpf.bpf_object__next_program.argtypes = [c_void_p, c_void_p]
libbpf.bpf_program__name.restype = ctypes.c_char_p
libbpf.bpf_program__name.argtypes = [c_void_p]
libbpf.bpf_program__section_name.restype = ctypes.c_char_p
libbpf.bpf_program__section_name.argtypes = [c_void_p]
libbpf.bpf_program__set_autoload.argtypes = [c_void_p, ctypes.c_bool]
libbpf.bpf_program__type.restype = ctypes.c_int
libbpf.bpf_program__type.argtypes = [c_void_p]
libbpf.bpf_program__set_type.argtypes = [c_void_p, ctypes.c_int]
PROG_TYPE_NAMES = ["unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp", "perf_event",
                   "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb"]
FALLBACK_TYPE = [0]
# --log-level N: also report the whole log at that level (1 or 2) as "log"
LOG_LEVEL = [0]
libbpf.bpf_program__autoload.restype = ctypes.c_bool
libbpf.bpf_program__autoload.argtypes = [c_void_p]
libbpf.bpf_program__set_log_level.argtypes = [c_void_p, ctypes.c_uint32]
libbpf.bpf_program__set_log_buf.argtypes = [c_void_p, ctypes.c_char_p, ctypes.c_size_t]
libbpf.bpf_object__load.argtypes = [c_void_p]
libbpf.bpf_object__close.argtypes = [c_void_p]
libbpf.libbpf_get_error.restype = ctypes.c_long
libbpf.libbpf_get_error.argtypes = [c_void_p]

# libbpf's print callback: keep its warnings (level 0, LIBBPF_WARN) of the
# current load, formatted with vsnprintf (va_list is a pointer on x86-64).
libc = ctypes.CDLL(None)
libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, c_void_p]
PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, c_void_p)
WARNINGS = []


def _print(level, fmt, args):
    if level == 0:
        buf = ctypes.create_string_buffer(4096)
        libc.vsnprintf(buf, len(buf), fmt, args)
        WARNINGS.append(buf.value.decode("utf-8", "replace").rstrip("\n"))
    return 0


_printer = PRINT_FN(_print)
libbpf.libbpf_set_print.restype = c_void_p
libbpf.libbpf_set_print(_printer)

STATS = re.compile(r"processed (\d+) insns \(limit \d+\)")


def programs(obj):
    out = []
    p = libbpf.bpf_object__next_program(obj, None)
    while p:
        out.append(p)
        p = libbpf.bpf_object__next_program(obj, p)
    return out


def error_line(log):
    m = STATS.search(log)
    head = log[:m.start()] if m else log
    lines = [l for l in head.split("\n") if l]
    # also skipped: the source line ("; x = ctx->y; @ file.c:12") printed after a context access error
    while lines and re.match(r"^((cur|old) state:|verification time \d+ usec|stack depth )|^; .* @ [^ ]*:\d+$", lines[-1]):
        lines.pop()
    return lines[-1] if lines else ""


VTIME = re.compile(r"verification time (\d+) usec")


def verify_one(path, index):
    WARNINGS.clear()
    obj = libbpf.bpf_object__open_file(path.encode(), None)
    if not obj or libbpf.libbpf_get_error(obj):
        return None
    try:
        progs = programs(obj)
        target = progs[index]
        name = libbpf.bpf_program__name(target).decode()
        section = libbpf.bpf_program__section_name(target).decode()
        for p in progs:
            libbpf.bpf_program__set_autoload(p, p == target)
        if FALLBACK_TYPE[0] and libbpf.bpf_program__type(target) == 0:
            libbpf.bpf_program__set_type(target, FALLBACK_TYPE[0])
        size = 64 << 20
        buf = ctypes.create_string_buffer(size)
        libbpf.bpf_program__set_log_buf(target, buf, size)
        # 1: the failing path; 4: statistics, with "verification time N usec".
        libbpf.bpf_program__set_log_level(target, (LOG_LEVEL[0] or 1) | 4)
        err = libbpf.bpf_object__load(obj)
        log = buf.value.decode("utf-8", "replace")
        m = STATS.search(log)
        res = {"file": path, "program": name, "section": section, "accepted": err == 0,
               "error": None, "errno": -err if err < 0 else 0,
               "insn_processed": int(m.group(1)) if m else None, "libbpf_error": None,
               "libbpf_warnings": [w for w in WARNINGS if not w.startswith("libbpf: prog '") or "BEGIN PROG LOAD LOG" not in w],
               "verification_time_usec": int(t.group(1)) if (t := VTIME.search(log)) else None}
        if LOG_LEVEL[0]:
            res["log"] = log
        if err != 0:
            if m and error_line(log) == "":
                # the verifier accepted it; libbpf failed afterwards (e.g. filling a
                # prog array with programs that were not loaded)
                res["accepted"] = True
                res["errno"] = 0
                res["libbpf_error"] = "libbpf failed after loading (errno %d)" % -err
            elif m:
                res["error"] = error_line(log)
            else:
                res["libbpf_error"] = "libbpf could not load it (errno %d) before the verifier ran" % -err
        return res
    finally:
        libbpf.bpf_object__close(obj)


def main():
    results = []
    args = sys.argv[1:]
    while args[:1] in (["--prog-type"], ["--log-level"]):
        if args[0] == "--prog-type":
            FALLBACK_TYPE[0] = PROG_TYPE_NAMES.index(args[1])
        else:
            LOG_LEVEL[0] = int(args[1])
        args = args[2:]
    for path in args:
        WARNINGS.clear()
        obj = libbpf.bpf_object__open_file(path.encode(), None)
        if not obj or libbpf.libbpf_get_error(obj):
            results.append({"file": path, "program": None, "libbpf_error": "libbpf cannot open the object", "libbpf_warnings": list(WARNINGS)})
            continue
        n = len(programs(obj))
        libbpf.bpf_object__close(obj)
        for i in range(n):
            r = verify_one(path, i)
            if r is not None:
                results.append(r)
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
