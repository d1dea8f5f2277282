/**
 * Tunnel metadata helpers (net/core/filter.c): `bpf_skb_get_tunnel_key`
 * (20), `bpf_skb_set_tunnel_key` (21), `bpf_skb_get_tunnel_opt` (29),
 * `bpf_skb_set_tunnel_opt` (30), on the socket buffer's tunnel info
 * ({@link TunnelInfo}): given as a test run's input (a packet received on a
 * collect-metadata tunnel device) or set by the program for transmission.
 *
 * As in the kernel, `get` reads the info as received metadata: its
 * `remote` is the outer source address and `local` the destination, while
 * `set` stores `remote` as the destination. Reading back what the program
 * set therefore swaps the two addresses, in tsbpf as in Linux.
 */
import { TsbpfError } from '../errors.js';
import { helperIdentity } from '../vm/helper-call.js';
import type { Helper } from '../vm/helper-call.js';
import { formatIp, parseIp } from './net.js';
import type { HookContexts } from './contexts.js';
import { skbOf } from './packet-helpers.js';
import type { TunnelInfo } from './skb.js';

const EINVAL = -22;
const ENOENT = -2;
const ENOMEM = -12;
const EPROTO = -71;

/** `sizeof(struct bpf_tunnel_key)`. */
const TUNNEL_KEY_SIZE = 44;
/** Offsets of `struct bpf_tunnel_key`. */
const K = { id: 0, remote: 4, tos: 20, ttl: 21, ext: 22, label: 24, local: 28 } as const;
/** Older, shorter layouts the kernel still accepts (offsets of local_ipv6[0], tunnel_label, tunnel_ext, remote_ipv6[1]). */
const COMPAT_SIZES = [28, 24, 22, 8];

/** `bpf_skb_{get,set}_tunnel_key` flags. */
const F_TUNINFO_IPV6 = 1n;
const F_ZERO_CSUM_TX = 1n << 1n;
const F_DONT_FRAGMENT = 1n << 2n;
const F_SEQ_NUMBER = 1n << 3n;
const F_NO_TUNNEL_KEY = 1n << 4n;
const F_TUNINFO_FLAGS = 1n << 4n;

/** `IP_TUNNEL_*_BIT`. */
export const TunnelFlag = {
  CSUM: 0, ROUTING: 1, KEY: 2, SEQ: 3, STRICT: 4, REC: 5, VERSION: 6, NO_KEY: 7, DONT_FRAGMENT: 8, OAM: 9,
  CRIT_OPT: 10, GENEVE_OPT: 11, VXLAN_OPT: 12, NOCACHE: 13, ERSPAN_OPT: 14, GTP_OPT: 15, PFCP_OPT: 16,
} as const;
/** The option bits `ip_tunnel_set_options_present` sets. */
const OPTIONS_PRESENT = (1 << TunnelFlag.GENEVE_OPT) | (1 << TunnelFlag.VXLAN_OPT) | (1 << TunnelFlag.ERSPAN_OPT)
  | (1 << TunnelFlag.GTP_OPT) | (1 << TunnelFlag.PFCP_OPT);
/** `IP_TUNNEL_OPTS_MAX`: options_len is a u8. */
const TUNNEL_OPTS_MAX = 255;
/** `IPV6_FLOWLABEL_MASK` in host order. */
const FLOWLABEL_MASK = 0x000fffff;

/** The tunnel helpers. */
export function tunnelHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      ...helperIdentity('bpf_skb_get_tunnel_key'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_get_tunnel_key');
        const size = c.u32(3);
        const flags = c.u64(4);
        const to = c.ptr(2, size, true);
        const bytes = c.space.bytes;
        const fail = (err: number) => {
          bytes.fill(0, to, to + size);
          c.ret(err);
        };
        const info = s.tunnel;
        if (!info || flags & ~(F_TUNINFO_IPV6 | F_TUNINFO_FLAGS)) return fail(EINVAL);
        if (info.family !== (flags & F_TUNINFO_IPV6 ? 6 : 4)) return fail(EPROTO);
        if (size !== TUNNEL_KEY_SIZE && !(COMPAT_SIZES.includes(size) && (size !== 8 || info.family === 4))) return fail(EINVAL);
        const key = new Uint8Array(TUNNEL_KEY_SIZE);
        const v = new DataView(key.buffer);
        v.setUint32(K.id, Number(info.id & 0xffffffffn), true);
        key[K.tos] = info.tos;
        key[K.ttl] = info.ttl;
        // tunnel_flags: ip_tunnel_flags_to_be16, the low 16 flag bits as a big-endian u16.
        if (flags & F_TUNINFO_FLAGS) v.setUint16(K.ext, info.flags & 0xffff, false);
        if (info.family === 6) {
          key.set(info.src.subarray(0, 16), K.remote);
          key.set(info.dst.subarray(0, 16), K.local);
          v.setUint32(K.label, info.label >>> 0, true);
        } else {
          v.setUint32(K.remote, new DataView(info.src.buffer, info.src.byteOffset, 4).getUint32(0, false), true);
          v.setUint32(K.local, new DataView(info.dst.buffer, info.dst.byteOffset, 4).getUint32(0, false), true);
        }
        bytes.set(key.subarray(0, size), to);
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_skb_set_tunnel_key'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_set_tunnel_key');
        const size = c.u32(3);
        const flags = c.u64(4);
        if (flags & ~(F_TUNINFO_IPV6 | F_ZERO_CSUM_TX | F_DONT_FRAGMENT | F_SEQ_NUMBER | F_NO_TUNNEL_KEY)) return c.ret(EINVAL);
        if (size !== TUNNEL_KEY_SIZE && !COMPAT_SIZES.includes(size)) return c.ret(EINVAL);
        const from = c.ptr(2, size);
        const key = new Uint8Array(TUNNEL_KEY_SIZE);
        key.set(c.space.read(from, size));
        const v = new DataView(key.buffer);
        const v6 = (flags & F_TUNINFO_IPV6) !== 0n;
        if ((!v6 && v.getUint32(K.label, true) !== 0) || v.getUint16(K.ext, true) !== 0) return c.ret(EINVAL);
        let bits = 1 << TunnelFlag.NOCACHE;
        if (flags & F_DONT_FRAGMENT) bits |= 1 << TunnelFlag.DONT_FRAGMENT;
        if (!(flags & F_ZERO_CSUM_TX)) bits |= 1 << TunnelFlag.CSUM;
        if (flags & F_SEQ_NUMBER) bits |= 1 << TunnelFlag.SEQ;
        if (!(flags & F_NO_TUNNEL_KEY)) bits |= 1 << TunnelFlag.KEY;
        const be32 = (off: number) => {
          const out = new Uint8Array(4);
          new DataView(out.buffer).setUint32(0, v.getUint32(off, true), false);
          return out;
        };
        const info: TunnelInfo = {
          mode: 'tx', family: v6 ? 6 : 4, id: BigInt(v.getUint32(K.id, true)), tos: key[K.tos]!, ttl: key[K.ttl]!,
          dst: v6 ? key.slice(K.remote, K.remote + 16) : be32(K.remote),
          src: v6 ? key.slice(K.local, K.local + 16) : be32(K.local),
          label: v6 ? v.getUint32(K.label, true) & FLOWLABEL_MASK : 0,
          flags: bits,
        };
        s.tunnel = info;
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_skb_get_tunnel_opt'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_get_tunnel_opt');
        const size = c.u32(3);
        const to = c.ptr(2, size, true);
        const bytes = c.space.bytes;
        const info = s.tunnel;
        const opts = info?.options;
        if (!info || !opts || (info.flags & OPTIONS_PRESENT) === 0) {
          bytes.fill(0, to, to + size);
          return c.ret(ENOENT);
        }
        if (size < opts.length) {
          bytes.fill(0, to, to + size);
          return c.ret(ENOMEM);
        }
        bytes.set(opts, to);
        bytes.fill(0, to + opts.length, to + size);
        c.ret(opts.length);
      },
    },
    {
      // Only on the metadata bpf_skb_set_tunnel_key made (the kernel's per-CPU metadata_dst).
      ...helperIdentity('bpf_skb_set_tunnel_opt'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_set_tunnel_opt');
        const size = c.u32(3);
        const info = s.tunnel;
        if (!info || info.mode !== 'tx' || size & 3) return c.ret(EINVAL);
        if (size > TUNNEL_OPTS_MAX) return c.ret(ENOMEM);
        const from = c.ptr(2, size);
        info.options = c.space.read(from, size);
        info.flags |= OPTIONS_PRESENT;
        c.ret(0);
      },
    },
  ];
}

/**
 * Tunnel metadata from JSON: `{"family":4|6,"id":N,"src":"ip","dst":"ip",
 * "tos":N,"ttl":N,"label":N,"flags":N,"options":"hex"}` (addresses of the
 * outer header: `src` is the remote end for a received packet). `flags`
 * defaults to TUNNEL_KEY; `options` sets the option-present bits.
 */
export function parseTunnelJson(text: string, source = 'tunnel metadata'): TunnelInfo {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new TsbpfError(`${source}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TsbpfError(`${source}: expected an object`);
  const j = o as Record<string, unknown>;
  for (const k of Object.keys(j)) {
    if (!['family', 'id', 'src', 'dst', 'tos', 'ttl', 'label', 'flags', 'options'].includes(k)) throw new TsbpfError(`${source}: unknown field '${k}'`);
  }
  const num = (k: string, max: number, dflt: number): number => {
    const v = j[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new TsbpfError(`${source}: '${k}' must be an integer from 0 to ${max}`);
    return v;
  };
  const family = num('family', 10, 4);
  if (family !== 4 && family !== 6) throw new TsbpfError(`${source}: 'family' must be 4 or 6`);
  const ip = (k: string): Uint8Array => {
    const v = j[k] ?? (family === 4 ? '0.0.0.0' : '::');
    const a = parseIp(String(v));
    if (a.length !== (family === 4 ? 4 : 16)) throw new TsbpfError(`${source}: '${k}' is not an IPv${family} address`);
    return a;
  };
  const id = j['id'] ?? 0;
  if ((typeof id !== 'number' && typeof id !== 'string') || !/^\d+$/.test(String(id))) throw new TsbpfError(`${source}: 'id' must be an unsigned integer`);
  const options = j['options'];
  if (options !== undefined && (typeof options !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(options) || options.length / 2 > TUNNEL_OPTS_MAX)) {
    throw new TsbpfError(`${source}: 'options' must be hex bytes (at most ${TUNNEL_OPTS_MAX})`);
  }
  const info: TunnelInfo = {
    mode: 'rx', family, id: BigInt(String(id)), src: ip('src'), dst: ip('dst'), tos: num('tos', 255, 0), ttl: num('ttl', 255, 64),
    label: num('label', FLOWLABEL_MASK, 0), flags: num('flags', 0xffffffff, 1 << TunnelFlag.KEY),
  };
  if (options !== undefined) {
    info.options = Uint8Array.from((options.match(/../g) ?? []).map((b) => parseInt(b, 16)));
    info.flags |= OPTIONS_PRESENT;
  }
  return info;
}

/** Tunnel metadata as JSON (the inverse of {@link parseTunnelJson}, with the mode). */
export function tunnelJson(info: TunnelInfo): Record<string, unknown> {
  return {
    mode: info.mode, family: info.family, id: info.id.toString(), src: formatIp(info.src), dst: formatIp(info.dst),
    tos: info.tos, ttl: info.ttl, label: info.label, flags: info.flags,
    ...(info.options ? { options: Array.from(info.options, (b) => b.toString(16).padStart(2, '0')).join('') } : {}),
  };
}
