/**
 * What struct_ops programs may write through their kernel pointers (the
 * struct_ops type's `btf_struct_access`). A congestion control
 * (`tcp_congestion_ops`, net/ipv4/bpf_tcp_ca.c) writes a few fields of its
 * `tcp_sock`: the pacing rate and status, its private area, the pending
 * ACK flags, the congestion window and its companions, the ssthresh, the
 * ECN flags and `app_limited`; every other write is refused.
 */
import type { KernelBtf } from './kbtf.js';
import { findByNameKind, resolveSize, typeById } from './kbtf.js';

/** A member found by name, through anonymous structs and unions: its byte offset and size. */
function member(btf: KernelBtf, typeId: number, path: readonly string[]): { off: number; size: number } | null {
  let id = typeId;
  let off = 0;
  for (const name of path) {
    const found = find(btf, id, name, 0);
    if (!found) return null;
    off += found.off;
    id = found.type;
  }
  const r = resolveSize(btf, id);
  return r ? { off, size: r.size } : null;
}

function find(btf: KernelBtf, typeId: number, name: string, depth: number): { off: number; type: number } | null {
  if (depth > 8) return null;
  const t = typeById(btf, typeId);
  for (const m of t.members ?? []) {
    if (m.name === name) return { off: m.bitOffset / 8, type: m.type };
    if (m.name === '') {
      let inner = typeById(btf, m.type);
      let innerId = m.type;
      for (let n = 0; n < 8 && inner.kind !== 'STRUCT' && inner.kind !== 'UNION' && inner.type; n++) {
        innerId = inner.type;
        inner = typeById(btf, innerId);
      }
      const sub = find(btf, innerId, name, depth + 1);
      if (sub) return { off: m.bitOffset / 8 + sub.off, type: sub.type };
    }
  }
  return null;
}

interface Writable {
  /** Offsets an access may start at: one, or a whole member (`bpf_ctx_range`). */
  from: number;
  to: number;
  end: number;
}

const CACHE = new WeakMap<KernelBtf, { tcpSock: number; fields: Writable[] } | null>();

function tcpCaFields(btf: KernelBtf): { tcpSock: number; fields: Writable[] } | null {
  if (CACHE.has(btf)) return CACHE.get(btf)!;
  const tcpSock = findByNameKind(btf, 'tcp_sock', 'STRUCT');
  const sock = findByNameKind(btf, 'sock', 'STRUCT');
  const icsk = findByNameKind(btf, 'inet_connection_sock', 'STRUCT');
  let out: { tcpSock: number; fields: Writable[] } | null = null;
  if (tcpSock > 0 && sock > 0 && icsk > 0) {
    const fields: Writable[] = [];
    const one = (typeId: number, path: string[]): void => {
      const m = member(btf, typeId, path);
      if (m) fields.push({ from: m.off, to: m.off, end: m.off + m.size });
    };
    one(sock, ['sk_pacing_rate']);
    one(sock, ['sk_pacing_status']);
    const priv = member(btf, icsk, ['icsk_ca_priv']);
    if (priv) fields.push({ from: priv.off, to: priv.off + priv.size - 1, end: priv.off + priv.size });
    one(icsk, ['icsk_ack', 'pending']);
    for (const f of ['snd_cwnd', 'snd_cwnd_cnt', 'snd_cwnd_stamp', 'snd_ssthresh', 'ecn_flags', 'app_limited']) one(tcpSock, [f]);
    out = { tcpSock, fields };
  }
  CACHE.set(btf, out);
  return out;
}

/**
 * bpf_tcp_ca_btf_struct_access: whether a congestion control may write
 * `size` bytes at `off` of the object of type `btfId`; null when it may,
 * else the kernel's message.
 */
export function tcpCaWrite(btf: KernelBtf, btfId: number, off: number, size: number): string | null {
  const f = tcpCaFields(btf);
  if (!f || btfId !== f.tcpSock) return 'only read is supported';
  const w = f.fields.find((x) => off >= x.from && off <= x.to);
  if (!w) return `no write support to tcp_sock at off ${off}`;
  if (off + size > w.end) return `write access at off ${off} with size ${size} beyond the member of tcp_sock ended at ${w.end}`;
  return null;
}
