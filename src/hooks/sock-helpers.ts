/**
 * Helpers about sockets and namespaces: `bpf_get_netns_cookie` (122) for
 * every context, and for sock_ops programs the socket options of the run's
 * socket (`bpf_setsockopt` 49, `bpf_getsockopt` 57, with Linux's levels,
 * options, lengths and errors: net/core/filter.c `sol_*_sockopt`),
 * `bpf_sock_ops_cb_flags_set` (59) and `bpf_get_socket_cookie` (46).
 */
import { VmError } from '../errors.js';
import { helperIdentity } from '../vm/helper-call.js';
import type { Helper, HelperCall } from '../vm/helper-call.js';
import type { HookContexts } from './contexts.js';

/** Helpers any program type may be offered. */
export function netHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      // The context (or NULL: the initial namespace) names the namespace; tsbpf has one, the run's network.
      ...helperIdentity('bpf_get_netns_cookie'), fn: (c) => c.ret(contexts.net.cookie),
    },
  ];
}

/** `BPF_SOCK_OPS_WRITE_HDR_OPT_CB`: ops up to it run with the socket locked, and only they may use socket options. */
const LOCKED_OPS_MAX = 15;
/** `BPF_SOCK_OPS_ALL_CB_FLAGS`. */
const ALL_CB_FLAGS = 0x7f;
const EINVAL = -22;
const ENOENT = -2;
const EOPNOTSUPP = -95;
const ENOTSUPP = -524;
const ENOSPC = -28;
const AF_INET = 2;
const AF_INET6 = 10;
/** Option levels. */
const SOL_IP = 0;
const SOL_SOCKET = 1;
const SOL_TCP = 6;
const SOL_IPV6 = 41;
const TCP_CONGESTION = 13;
/** `TCP_BPF_*` (include/uapi/linux/bpf.h). */
const TCP_BPF = { IW: 1001, SNDCWND_CLAMP: 1002, DELACK_MAX: 1003, RTO_MIN: 1004, SYN: 1005, SYN_IP: 1006, SYN_MAC: 1007, SOCK_OPS_CB_FLAGS: 1008 } as const;
/** Jiffies are 4 ms (CONFIG_HZ=250): TCP_TIMEOUT_MIN is 2 jiffies, TCP_DELACK_MAX and TCP_RTO_MIN HZ/5. */
const JIFFY_US = 4000;
const TCP_TIMEOUT_MIN_J = 2;
const TCP_DELACK_MAX_J = 50;
const TCP_RTO_MIN_J = 50;
/** Congestion controls a setsockopt(TCP_CONGESTION) may choose (`cdg` is refused: ENOTSUPP). */
export const CONGESTION_CONTROLS = ['cubic', 'reno', 'bbr', 'dctcp', 'htcp', 'vegas', 'westwood', 'cdg'];

/**
 * Integer socket options a sock_ops program may set and read, with the
 * value a fresh TCP socket has (Linux's defaults): `level:optname`.
 */
const INT_OPTIONS: Record<string, number> = {
  // SOL_SOCKET: SO_REUSEADDR, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_PRIORITY, SO_REUSEPORT, SO_RCVLOWAT, SO_MARK,
  // SO_MAX_PACING_RATE, SO_BINDTOIFINDEX, SO_TXREHASH
  '1:2': 0, '1:7': 16384, '1:8': 131072, '1:9': 0, '1:12': 0, '1:15': 0, '1:18': 1, '1:36': 0, '1:47': -1, '1:62': 0, '1:74': 255,
  // SOL_TCP: TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_SYNCNT, TCP_WINDOW_CLAMP,
  // TCP_THIN_LINEAR_TIMEOUTS, TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT, TCP_SAVE_SYN, TCP_RTO_MAX_MS
  '6:1': 0, '6:2': 536, '6:4': 7200, '6:5': 75, '6:6': 9, '6:7': 6, '6:10': 0, '6:16': 0, '6:18': 0, '6:25': -1, '6:27': 0, '6:44': 120000,
  // SOL_IP: IP_TOS; SOL_IPV6: IPV6_TCLASS, IPV6_AUTOFLOWLABEL
  '0:1': 0, '41:67': 0, '41:70': 1,
};

/**
 * The socket of a sock_ops run: its options (`bpf_setsockopt` /
 * `bpf_getsockopt`), fresh for every run. Values are kept as the program
 * sets them (Linux adjusts a few, e.g. doubles SO_SNDBUF).
 */
export class SockOpsSocket {
  readonly options = new Map<string, number | string>();
  cbFlags = 0;
  rtoMinUs = 200_000;
  delackMaxUs = 200_000;
  cookie = 0n;

  constructor(readonly family: number, readonly fullsock: boolean) {}

  /** Every option a program set, as `level:optname` → value (for a run's result). */
  snapshot(): Record<string, number | string> {
    return Object.fromEntries(this.options);
  }
}

/** The sock_ops helpers: socket options, callback flags and the socket cookie of the run's socket. */
export function sockOpsHelpers(contexts: HookContexts): Helper[] {
  const socketOf = (c: HelperCall, name: string): { sock: SockOpsSocket; op: number } => {
    const s = contexts.sockOpsAt(c.num(1));
    if (!s) throw new VmError(`${name}: R1 = ${c.space.describe(c.num(1))} is not a sock_ops context`, { insn: c.pc });
    return { sock: s.socket, op: c.space.data.getUint32(c.num(1), true) };
  };
  return [
    {
      ...helperIdentity('bpf_setsockopt'), fn: (c) => {
        const { sock, op } = socketOf(c, 'bpf_setsockopt');
        const optlen = c.i32(5);
        const optval = c.ptr(4, Math.max(0, optlen));
        if (op > LOCKED_OPS_MAX) return c.ret(EOPNOTSUPP);
        c.ret(setOption(sock, c.i32(2), c.i32(3), c.space.read(optval, Math.max(0, optlen)), optlen));
      },
    },
    {
      ...helperIdentity('bpf_getsockopt'), fn: (c) => {
        const { sock, op } = socketOf(c, 'bpf_getsockopt');
        const optlen = c.i32(5);
        const optval = c.ptr(4, Math.max(0, optlen), true);
        if (op > LOCKED_OPS_MAX) return c.ret(EOPNOTSUPP);
        const out = new Uint8Array(Math.max(0, optlen));
        const r = getOption(sock, c.i32(2), c.i32(3), out, optlen);
        c.space.write(optval, r < 0 && r !== ENOSPC ? new Uint8Array(out.length) : out);
        c.ret(r);
      },
    },
    {
      ...helperIdentity('bpf_sock_ops_cb_flags_set'), fn: (c) => {
        const { sock, op } = socketOf(c, 'bpf_sock_ops_cb_flags_set');
        const arg = c.i32(2);
        if (op > LOCKED_OPS_MAX) return c.ret(EOPNOTSUPP);
        if (!sock.fullsock) return c.ret(EINVAL);
        sock.cbFlags = arg & ALL_CB_FLAGS;
        c.space.data.setUint32(c.num(1) + 84, sock.cbFlags, true); // bpf_sock_ops_cb_flags reads the socket's
        c.ret(arg & ~ALL_CB_FLAGS);
      },
    },
    {
      ...helperIdentity('bpf_get_socket_cookie'), fn: (c) => {
        const { sock } = socketOf(c, 'bpf_get_socket_cookie');
        if (sock.cookie === 0n) sock.cookie = contexts.nextSocketCookie();
        c.ret(sock.cookie);
      },
    },
  ];
}

function int32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}

/** `__bpf_setsockopt` on the run's socket: 0 or -errno. */
function setOption(sock: SockOpsSocket, level: number, name: number, val: Uint8Array, optlen: number): number {
  if (!sock.fullsock) return EINVAL;
  const key = `${level}:${name}`;
  if (level === SOL_SOCKET) {
    if (name === 25) { // SO_BINDTODEVICE: a device name
      sock.options.set(key, new TextDecoder().decode(val.subarray(0, val.indexOf(0) < 0 ? val.length : val.indexOf(0))));
      return 0;
    }
    if (!(key in INT_OPTIONS) || optlen !== 4) return EINVAL;
    sock.options.set(key, int32(val));
    return 0;
  }
  if (level === SOL_IP || level === SOL_IPV6) {
    if (sock.family !== (level === SOL_IP ? AF_INET : AF_INET6) || !(key in INT_OPTIONS) || optlen !== 4) return EINVAL;
    sock.options.set(key, int32(val));
    return 0;
  }
  if (level !== SOL_TCP) return EINVAL;
  if (name === TCP_CONGESTION) {
    if (optlen < 2) return EINVAL;
    const text = new TextDecoder().decode(val.subarray(0, val.indexOf(0) < 0 ? val.length : val.indexOf(0)));
    if (text.startsWith('cdg')) return ENOTSUPP;
    if (!CONGESTION_CONTROLS.includes(text)) return ENOENT;
    sock.options.set(key, text);
    return 0;
  }
  if (key in INT_OPTIONS) {
    if (optlen !== 4) return EINVAL;
    sock.options.set(key, int32(val));
    return 0;
  }
  if (optlen !== 4) return EINVAL;
  const v = int32(val);
  const jiffies = Math.ceil(v / JIFFY_US);
  switch (name) {
    case TCP_BPF.IW:
    case TCP_BPF.SNDCWND_CLAMP:
      if (v <= 0) return EINVAL;
      sock.options.set(key, v);
      return 0;
    case TCP_BPF.DELACK_MAX:
      if (jiffies > TCP_DELACK_MAX_J || jiffies < TCP_TIMEOUT_MIN_J) return EINVAL;
      sock.delackMaxUs = jiffies * JIFFY_US;
      return 0;
    case TCP_BPF.RTO_MIN:
      if (jiffies > TCP_RTO_MIN_J || jiffies < TCP_TIMEOUT_MIN_J) return EINVAL;
      sock.rtoMinUs = jiffies * JIFFY_US;
      return 0;
    case TCP_BPF.SOCK_OPS_CB_FLAGS:
      if (v & ~ALL_CB_FLAGS) return EINVAL;
      sock.cbFlags = v;
      return 0;
    default:
      return EINVAL;
  }
}

/** `bpf_sock_ops_getsockopt` on the run's socket: fills `out`; 0 or -errno. */
function getOption(sock: SockOpsSocket, level: number, name: number, out: Uint8Array, optlen: number): number {
  const v = new DataView(out.buffer);
  const key = `${level}:${name}`;
  if (level === SOL_TCP && name >= TCP_BPF.SYN && name <= TCP_BPF.SYN_MAC) return ENOENT; // no saved SYN
  if (!sock.fullsock) return EINVAL;
  const int = (x: number): number => {
    if (optlen !== 4) return EINVAL;
    v.setInt32(0, x, true);
    return 0;
  };
  if (level === SOL_SOCKET) {
    if (!(key in INT_OPTIONS)) return EINVAL;
    return int(Number(sock.options.get(key) ?? INT_OPTIONS[key]));
  }
  if (level === SOL_IP || level === SOL_IPV6) {
    if (sock.family !== (level === SOL_IP ? AF_INET : AF_INET6) || !(key in INT_OPTIONS)) return EINVAL;
    return int(Number(sock.options.get(key) ?? INT_OPTIONS[key]));
  }
  if (level !== SOL_TCP) return EINVAL;
  if (name === TCP_CONGESTION) {
    if (optlen < 2) return EINVAL;
    const bytes = new TextEncoder().encode(String(sock.options.get(key) ?? 'cubic'));
    out.set(bytes.subarray(0, optlen - 1));
    return 0;
  }
  if (key in INT_OPTIONS) return int(Number(sock.options.get(key) ?? INT_OPTIONS[key]));
  switch (name) {
    case TCP_BPF.SOCK_OPS_CB_FLAGS: return int(sock.cbFlags);
    case TCP_BPF.RTO_MIN: return int(sock.rtoMinUs);
    case TCP_BPF.DELACK_MAX: return int(sock.delackMaxUs);
    default: return EINVAL;
  }
}
