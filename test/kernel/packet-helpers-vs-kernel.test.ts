/**
 * The packet helpers of issue 11 against the Linux kernel: VLAN tags,
 * protocol and type changes, room adjustment, hashes, tunnel metadata, MTU
 * checks, redirects through every redirect map type and clone redirects.
 * Each case runs in the kernel (BPF_PROG_TEST_RUN) and on both tsbpf
 * engines; return values, output packets, maps and verifier verdicts must
 * agree (test/support/packet-cases.ts).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { helpersForType } from '../../src/hooks/type-helpers.js';
import { NetNamespace } from '../../src/hooks/net.js';
import { progTypeId } from '../../src/hooks/program-types.js';
import { TestRunner } from '../../src/hooks/test-run.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import { ask, kernelAvailable, kernelLacksFeature, toHex } from '../support/kernel-oracle.js';
import { ENGINES, compareWithKernel, runOurs } from '../support/packet-cases.js';
import type { PacketCase } from '../support/packet-cases.js';
import { MapType } from '../../src/isa/uapi.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping packet helper differential tests: ${kernel.reason}`);

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const u32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };
const u64 = (a: number, b: number) => { const x = new Uint8Array(8); const v = new DataView(x.buffer); v.setUint32(0, a, true); v.setUint32(4, b, true); return x; };

const UDP = hex('02000000000a02000000000b0800 4500002400004000401166c30a0000010a000002 303901bb001042a7 0102030405060708');
const TCP = hex('02000000000a02000000000b0800 45000028123440004006149a0a0000010a000002 c82201bb00000001000000005002faf0ab5c0000');
const UDP6 = hex('02000000000a02000000000b86dd 6000000000101140 fd000000000000000000000000000001 fd000000000000000000000000000002 303901bb00100000 0102030405060708');
const ARP = hex('ffffffffffff02000000000b0806 0001080006040001 02000000000b0a000001 0000000000000a000002');
const VLAN = hex('02000000000a02000000000b8100000a0800 4500001c00004000401166cb0a0000010a000002 303901bb00080000');
const QINQ = hex('02000000000a02000000000b88a8006481000fff0800 4500001c00004000401166cb0a0000010a000002 303901bb00080000');

/** r0 = (r0 << 16) | the __sk_buff field at `off` (low 16 bits), through r1. */
const field = (off: number) => `r1 = *(u32 *)(r6 + ${off})\nr1 &= 0xffff\nr0 <<= 16\nr0 |= r1`;
/** Keeps the helper result of the last call in r7 and folds it into r0 at the end. */
const tc = (name: string, packet: Uint8Array, asm: string): PacketCase => ({ name, type: 'sched_cls', packet, asm: `r6 = r1\n${asm}\nexit` });

describe.skipIf(!kernel.ok)('packet helpers vs Linux kernel', () => {
  it('bpf_skb_vlan_push and bpf_skb_vlan_pop keep the tag in the metadata first, then in the packet', () => {
    const push = (proto: number, tci: number) => `r1 = r6\nr2 = ${proto}\nr3 = ${tci}\ncall 18\nr7 <<= 4\nr7 |= r0`;
    const pop = 'r1 = r6\ncall 19\nr7 <<= 4\nr7 |= r0';
    const meta = `r0 = 0\n${field(20)}\n${field(24)}\n${field(28)}\n${field(16)}\nr0 ^= r7`;
    const cases: PacketCase[] = [
      tc('push 8021q', UDP, `r7 = 0\n${push(0x0081, 5)}\n${meta}`),
      tc('push 8021ad', UDP, `r7 = 0\n${push(0xa888, 0xffff)}\n${meta}`),
      tc('push odd proto becomes 8021q', UDP, `r7 = 0\n${push(0x1234, 0x12345)}\n${meta}`),
      tc('push twice', UDP, `r7 = 0\n${push(0x0081, 5)}\n${push(0xa888, 7)}\n${meta}`),
      tc('push three times', TCP, `r7 = 0\n${push(0x0081, 1)}\n${push(0x0081, 2)}\n${push(0xa888, 3)}\n${meta}`),
      tc('pop a tagged frame', VLAN, `r7 = 0\n${pop}\n${meta}`),
      tc('pop a double-tagged frame', QINQ, `r7 = 0\n${pop}\n${meta}`),
      tc('pop twice', QINQ, `r7 = 0\n${pop}\n${pop}\n${meta}`),
      tc('pop an untagged frame', UDP, `r7 = 0\n${pop}\n${meta}`),
      tc('push then pop', UDP, `r7 = 0\n${push(0x0081, 9)}\n${pop}\n${meta}`),
      tc('push twice then pop', UDP, `r7 = 0\n${push(0x0081, 9)}\n${push(0x0081, 10)}\n${pop}\n${meta}`),
      tc('push on a tagged frame', VLAN, `r7 = 0\n${push(0x0081, 3)}\n${push(0x0081, 4)}\n${meta}`),
      tc('pop a short tagged frame', hex('02000000000a02000000000b8100000a'), `r7 = 0\n${pop}\n${meta}`),
    ];
    compareWithKernel(cases, ask);
  });

  it('bpf_skb_change_proto, bpf_skb_change_type and the hash helpers', () => {
    const proto = (p: number, flags = 0) => `r1 = r6\nr2 = ${p}\nr3 = ${flags}\ncall 31\nr7 = r0`;
    const after = `r0 = r7\n${field(16)}\n${field(0)}`;
    const cases: PacketCase[] = [
      tc('4 to 6', UDP, `${proto(0xdd86)}\n${after}`),
      tc('6 to 4', UDP6, `${proto(0x0008)}\n${after}`),
      tc('4 to 4', UDP, `${proto(0x0008)}\n${after}`),
      tc('arp to 6', ARP, `${proto(0xdd86)}\n${after}`),
      tc('flags', UDP, `${proto(0xdd86, 1)}\n${after}`),
      tc('4 to 6 and back', TCP, `${proto(0xdd86)}\nr8 = r7\n${proto(0x0008)}\nr7 += r8\n${after}`),
      ...[0, 1, 2, 3, 4, 7].map((t) => tc(`change_type ${t}`, UDP, `r1 = r6\nr2 = ${t}\ncall 32\nr7 = r0\nr0 = r7\n${field(4)}`)),
      tc('change_type on broadcast', ARP, 'r1 = r6\nr2 = 0\ncall 32\nr7 = r0\nr0 = *(u32 *)(r6 + 4)\nr0 <<= 8\nr0 |= r7'),
      tc('set_hash then recalc', UDP, 'r1 = r6\nr2 = 1234\ncall 48\nr1 = r6\ncall 34'),
      tc('recalc stores the hash', TCP, 'r1 = r6\ncall 34\nr7 = r0\nr0 = *(u32 *)(r6 + 68)\nr0 ^= r7'),
      tc('recalc twice is stable', UDP6, 'r1 = r6\ncall 34\nr7 = r0\nr1 = r6\ncall 34\nr0 ^= r7'),
      tc('recalc is not zero', ARP, 'r1 = r6\ncall 34\nif r0 == 0 goto zero\nr0 = 1\nexit\nzero:\nr0 = 0'),
      tc('set_hash_invalid clears', UDP, 'r1 = r6\nr2 = 99\ncall 48\nr1 = r6\ncall 41\nr7 = r0\nr0 = *(u32 *)(r6 + 68)\nr0 <<= 8\nr0 |= r7'),
      tc('store_bytes invalidates the hash', UDP, 'r1 = r6\nr2 = 99\ncall 48\nr1 = 0\n*(u64 *)(r10 - 8) = r1\nr1 = r6\nr2 = 40\nr3 = r10\nr3 += -8\nr4 = 2\nr5 = 2\ncall 9\nr0 = *(u32 *)(r6 + 68)'),
      tc('socket cookie is stable', UDP, 'r1 = r6\ncall 46\nr7 = r0\nr1 = r6\ncall 46\nr0 ^= r7'),
      tc('netns cookie: context and NULL agree', UDP, 'r1 = r6\ncall 122\nr7 = r0\nr1 = 0\ncall 122\nr0 ^= r7'),
    ];
    compareWithKernel(cases, ask);
  });

  it('bpf_skb_adjust_room grows and shrinks at the MAC and network headers, with encapsulation flags', () => {
    const room = (diff: number, mode: number, flags: bigint) => `r1 = r6\nr2 = ${diff}\nr3 = ${mode}\nr4 = 0x${flags.toString(16)} ll\ncall 50`;
    const cases: PacketCase[] = [];
    const grid: [number, number, bigint][] = [
      [8, 1, 0n], [8, 0, 0n], [-8, 0, 0n], [-8, 1, 0n], [-16, 1, 0n], [-17, 1, 0n], [-36, 1, 0n], [-20, 0, 0n], [4000, 1, 0n],
      [0x1000, 1, 0n], [-0x1000, 1, 0n], [8, 2, 0n], [0, 1, 0n], [28, 1, 0x2n], [28, 1, 0x12n], [28, 1, 0x1an], [40, 1, 0x4n],
      [20, 1, 0x6n], [28, 1, 0x8n | 0x2n], [48, 1, 0x2n | 0x10n | 0x40n | (14n << 56n)], [48, 1, 0x2n | 0x40n | (10n << 56n)],
      [16, 1, 0x2n | (20n << 56n)], [8, 1, 0x20n], [8, 1, 0x200n], [-20, 1, 0x80n], [-20, 1, 0x100n], [-20, 1, 0x180n],
      [20, 1, 0x80n], [-8, 1, 0x2n], [8, 1, 1n], [-8, 0, 1n],
    ];
    for (const packet of [UDP, TCP, UDP6]) {
      for (const [diff, mode, flags] of grid) {
        cases.push(tc(`room ${diff} mode ${mode} flags 0x${flags.toString(16)} on ${packet === UDP6 ? 'ipv6' : packet === TCP ? 'tcp' : 'udp'}`, packet,
          `${room(diff, mode, flags)}\nr7 = r0\nr0 = r7\n${field(16)}\n${field(0)}`));
      }
    }
    cases.push(tc('room twice with encapsulation', UDP, `${room(28, 1, 0x12n)}\nr7 = r0\n${room(28, 1, 0x12n)}\nr0 <<= 8\nr0 |= r7`));
    cases.push(tc('room on arp', ARP, `${room(8, 1, 0n)}`));
    cases.push(tc('change_tail after encapsulation', UDP, `${room(28, 1, 0x12n)}\nr1 = r6\nr2 = 100\nr3 = 0\ncall 38`));
    compareWithKernel(cases, ask);
  });

  it('change_tail and change_head stop at BPF_SKB_MAX_LEN; load_bytes_relative from both headers', () => {
    const rel = (off: number, start: number) => `r1 = r6\nr2 = ${off}\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = ${start}\ncall 68\nr7 = *(u32 *)(r10 - 8)\nr0 <<= 32\nr0 |= r7`;
    compareWithKernel([
      tc('tail 16064', UDP, 'r1 = r6\nr2 = 16064\nr3 = 0\ncall 38'),
      tc('tail 16065', UDP, 'r1 = r6\nr2 = 16065\nr3 = 0\ncall 38'),
      tc('tail 13', UDP, 'r1 = r6\nr2 = 13\nr3 = 0\ncall 38'),
      tc('head 16014', UDP, 'r1 = r6\nr2 = 16014\nr3 = 0\ncall 43'),
      tc('head 16015', UDP, 'r1 = r6\nr2 = 16015\nr3 = 0\ncall 43'),
      tc('head then tail', UDP, 'r1 = r6\nr2 = 100\nr3 = 0\ncall 43\nr1 = r6\nr2 = 120\nr3 = 0\ncall 38'),
      tc('relative mac', UDP, rel(12, 0)), tc('relative net', UDP, rel(12, 1)), tc('relative bad start', UDP, rel(0, 2)),
      tc('relative after push', UDP, `r1 = r6\nr2 = 0x0081\nr3 = 1\ncall 18\nr1 = r6\nr2 = 0x0081\nr3 = 2\ncall 18\n${rel(0, 1)}`),
      tc('relative beyond', UDP, rel(48, 1)),
    ], ask);
  });

  it('bpf_skb_set_tunnel_key / get_tunnel_key / tunnel options', () => {
    /** Stores a bpf_tunnel_key at fp-48: id, remote, tos, ttl, label, local. */
    const key = (v6: boolean, label = 0) => [
      'r1 = 0\n*(u64 *)(r10 - 48) = r1\n*(u64 *)(r10 - 40) = r1\n*(u64 *)(r10 - 32) = r1\n*(u64 *)(r10 - 24) = r1\n*(u64 *)(r10 - 16) = r1\n*(u32 *)(r10 - 8) = r1',
      'r1 = 0x12345678\n*(u32 *)(r10 - 48) = r1',
      `r1 = 0x0a000001\n*(u32 *)(r10 - 44) = r1`,
      ...(v6 ? ['r1 = 0x11223344\n*(u32 *)(r10 - 32) = r1'] : []),
      'r1 = 0x40\n*(u8 *)(r10 - 28) = r1\nr1 = 0x7f\n*(u8 *)(r10 - 27) = r1',
      `r1 = ${label}\n*(u32 *)(r10 - 24) = r1`,
      'r1 = 0xc0a80001\n*(u32 *)(r10 - 20) = r1',
      ...(v6 ? ['r1 = 0x55667788\n*(u32 *)(r10 - 8) = r1'] : []),
    ].join('\n');
    const set = (size: number, flags: number) => `r1 = r6\nr2 = r10\nr2 += -48\nr3 = ${size}\nr4 = ${flags}\ncall 21\nr7 = r0`;
    /** Reads the key back over fp-96 (prefilled with 0xff) and folds every word into r0. */
    const get = (size: number, flags: number) => [
      'r1 = -1\n*(u64 *)(r10 - 96) = r1\n*(u64 *)(r10 - 88) = r1\n*(u64 *)(r10 - 80) = r1\n*(u64 *)(r10 - 72) = r1\n*(u64 *)(r10 - 64) = r1\n*(u32 *)(r10 - 56) = r1',
      `r1 = r6\nr2 = r10\nr2 += -96\nr3 = ${size}\nr4 = ${flags}\ncall 20\nr8 = r0`,
      'r0 = r7\nr0 <<= 8\nr0 ^= r8',
      ...[96, 92, 88, 84, 80, 76, 72, 68, 64, 60, 56].map((o, i) => `r1 = *(u32 *)(r10 - ${o})\nr1 <<= ${i}\nr0 ^= r1`),
    ].join('\n');
    const cases: PacketCase[] = [
      tc('get without metadata', UDP, `r7 = 0\n${get(44, 0)}`),
      tc('set v4, get v4', UDP, `${key(false)}\n${set(44, 0)}\n${get(44, 0)}`),
      tc('set v4, get v4 with flags', UDP, `${key(false)}\n${set(44, 0x1c)}\n${get(44, 16)}`),
      tc('set v4 no key, get flags', UDP, `${key(false)}\n${set(44, 0x12)}\n${get(44, 16)}`),
      tc('set v4, get v6', UDP, `${key(false)}\n${set(44, 0)}\n${get(44, 1)}`),
      tc('set v6, get v6', UDP, `${key(true, 0x12345)}\n${set(44, 1)}\n${get(44, 1)}`),
      tc('set v6, get v6 flags', UDP, `${key(true, 0xfffff)}\n${set(44, 1)}\n${get(44, 17)}`),
      tc('set v4 with a label', UDP, `${key(false, 1)}\n${set(44, 0)}\n${get(44, 0)}`),
      tc('set bad flags', UDP, `${key(false)}\n${set(44, 0x20)}\n${get(44, 0)}`),
      ...[28, 24, 22, 8, 12, 40].map((size) => tc(`set size ${size}`, UDP, `${key(false)}\n${set(size, 0)}\n${get(44, 0)}`)),
      ...[28, 24, 22, 8, 12].map((size) => tc(`get size ${size}`, UDP, `${key(false)}\n${set(44, 0)}\n${get(size, 0)}`)),
      tc('get size 8 of v6', UDP, `${key(true)}\n${set(44, 1)}\n${get(8, 1)}`),
      tc('get bad flags', UDP, `${key(false)}\n${set(44, 0)}\n${get(44, 4)}`),
    ];
    const opt = (size: number) => `r1 = 0x0102030405060708 ll\n*(u64 *)(r10 - 128) = r1\n*(u64 *)(r10 - 120) = r1\nr1 = r6\nr2 = r10\nr2 += -128\nr3 = ${size}\ncall 30\nr7 = r0`;
    const getOpt = (size: number) => `r1 = -1\n*(u64 *)(r10 - 160) = r1\n*(u64 *)(r10 - 152) = r1\nr1 = r6\nr2 = r10\nr2 += -160\nr3 = ${size}\ncall 29\nr0 <<= 8\nr0 ^= r7\nr1 = *(u64 *)(r10 - 160)\nr0 ^= r1\nr1 = *(u64 *)(r10 - 152)\nr1 <<= 1\nr0 ^= r1`;
    cases.push(
      tc('set_tunnel_opt without a key', UDP, `${opt(8)}\nr0 = r7`),
      tc('tunnel options', UDP, `${key(false)}\n${set(44, 0)}\n${opt(8)}\n${getOpt(16)}`),
      tc('tunnel options, buffer too small', UDP, `${key(false)}\n${set(44, 0)}\n${opt(16)}\n${getOpt(8)}`),
      tc('tunnel options, odd size', UDP, `${key(false)}\n${set(44, 0)}\n${opt(6)}\nr0 = r7`),
      tc('no tunnel options', UDP, `${key(false)}\n${set(44, 0)}\nr7 = 0\n${getOpt(16)}`),
    );
    compareWithKernel(cases, ask);
  });

  it('bpf_check_mtu for tc and XDP', () => {
    const mtu = (ifindex: number, len: number, diff: number, flags: number) => `r1 = ${len}\n*(u32 *)(r10 - 4) = r1\nr1 = r6\nr2 = ${ifindex}\nr3 = r10\nr3 += -4\nr4 = ${diff}\nr5 = ${flags}\ncall 163\nr1 = *(u32 *)(r10 - 4)\nr1 <<= 8\nr0 ^= r1`;
    const cases: PacketCase[] = [];
    for (const type of ['sched_cls', 'xdp']) {
      for (const [ifindex, len, diff, flags] of [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 65536, 0], [0, 0, 65500, 0], [0, 65536, 0, 0], [0, 65537, 0, 0],
        [0, 1500, -2000, 0], [999, 0, 0, 0], [0, 0, 0, 1], [0, 0, 4, 1], [0, 0, 0, 2], [0, 100, 0, 1]] as const) {
        cases.push({ name: `${type} check_mtu ifindex ${ifindex} len ${len} diff ${diff} flags ${flags}`, type, packet: UDP, asm: `r6 = r1\n${mtu(ifindex, len, diff, flags)}\nexit` });
      }
    }
    compareWithKernel(cases, ask);
  });

  it('bpf_redirect, bpf_redirect_peer, bpf_redirect_neigh: return values and targets', () => {
    const cases: PacketCase[] = [
      { ...tc('tc redirect egress', UDP, 'r1 = 3\nr2 = 0\ncall 23'), redirect: { type: 'ifindex', ifindex: 3, device: null, ingress: false } },
      { ...tc('tc redirect ingress', UDP, 'r1 = 1\nr2 = 1\ncall 23'), redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: true } },
      tc('tc redirect bad flags', UDP, 'r1 = 1\nr2 = 2\ncall 23'),
      tc('tc redirect internal flag', UDP, 'r1 = 1\nr2 = 0x10000 ll\ncall 23'),
      { ...tc('redirect_peer', UDP, 'r1 = 1\nr2 = 0\ncall 155'), redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: true, via: 'peer' } },
      tc('redirect_peer flags', UDP, 'r1 = 1\nr2 = 1\ncall 155'),
      { ...tc('redirect_neigh', UDP, 'r1 = 1\nr2 = 0\nr3 = 0\nr4 = 0\ncall 152'), redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: false, via: 'neigh' } },
      {
        ...tc('redirect_neigh v4 nexthop', UDP, 'r1 = 0\n*(u64 *)(r10 - 24) = r1\n*(u64 *)(r10 - 16) = r1\n*(u64 *)(r10 - 8) = r1\nr1 = 2\n*(u32 *)(r10 - 24) = r1\nr1 = 0x0100000a\n*(u32 *)(r10 - 20) = r1\nr1 = 1\nr2 = r10\nr2 += -24\nr3 = 20\nr4 = 0\ncall 152'),
        redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: false, via: 'neigh', nexthop: '10.0.0.1' },
      },
      tc('redirect_neigh short params', UDP, 'r1 = 0\n*(u64 *)(r10 - 24) = r1\n*(u64 *)(r10 - 16) = r1\n*(u64 *)(r10 - 8) = r1\nr1 = 1\nr2 = r10\nr2 += -24\nr3 = 16\nr4 = 0\ncall 152'),
      tc('redirect_neigh flags', UDP, 'r1 = 1\nr2 = 0\nr3 = 0\nr4 = 1\ncall 152'),
      { ...tc('redirect, then another action', UDP, 'r1 = 1\nr2 = 0\ncall 23\nr0 = 0'), redirect: undefined as never },
      { name: 'xdp redirect', type: 'xdp', packet: UDP, asm: 'r1 = 1\nr2 = 0\ncall 23\nexit', redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: false } },
      { name: 'xdp redirect flags', type: 'xdp', packet: UDP, asm: 'r1 = 1\nr2 = 1\ncall 23\nexit' },
      { name: 'xdp redirect action without a target', type: 'xdp', packet: UDP, asm: 'r0 = 4\nexit', redirect: null },
    ];
    compareWithKernel(cases, ask);
  });

  it('bpf_redirect_map over devmap, devmap_hash, cpumap and xskmap, and lookups where the kernel allows them', () => {
    const devmap = { name: 'devs', type: MapType.DEVMAP, keySize: 4, valueSize: 8, maxEntries: 4 };
    const devhash = { name: 'devh', type: MapType.DEVMAP_HASH, keySize: 4, valueSize: 4, maxEntries: 4 };
    const cpumap = { name: 'cpus', type: MapType.CPUMAP, keySize: 4, valueSize: 4, maxEntries: 2 };
    const xskmap = { name: 'xsks', type: MapType.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 4 };
    const redir = (key: number, flags: bigint) => `ld_pseudo r1, 1, 0\nr2 = ${key}\nr3 = 0x${flags.toString(16)} ll\ncall 51\nexit`;
    const xdp = (name: string, map: object, asm: string, extra: Partial<PacketCase> = {}): PacketCase => ({ name, type: 'xdp', packet: UDP, maps: [map as never], asm, ...extra });
    const withDev = { init: [{ map: 0, key: u32(2), value: u64(1, 0) }] };
    const cases: PacketCase[] = [];
    for (const flags of [0n, 1n, 2n, 3n, 4n, 8n, 9n, 0x10n, 0x18n, 0x1bn, 0x20n]) {
      cases.push(xdp(`devmap missing key flags ${flags}`, devmap, redir(1, flags)));
      cases.push(xdp(`devmap present key flags ${flags}`, devmap, redir(2, flags), withDev));
      cases.push(xdp(`devmap_hash missing key flags ${flags}`, devhash, redir(77, flags)));
      cases.push(xdp(`cpumap missing key flags ${flags}`, cpumap, redir(1, flags)));
      cases.push(xdp(`xskmap missing key flags ${flags}`, xskmap, redir(0, flags)));
    }
    cases.push(
      xdp('devmap key beyond max', devmap, redir(9, 2n)),
      { ...xdp('devmap target', devmap, redir(2, 0n), withDev), redirect: { type: 'devmap', map: 'devs', key: 2, ifindex: 1, device: 'lo', program: 0 } },
      {
        ...xdp('devmap broadcast', devmap, redir(0, 8n), { init: [{ map: 0, key: u32(1), value: u64(1, 0) }, { map: 0, key: u32(3), value: u64(1, 0) }] }),
        redirect: { type: 'devmap', map: 'devs', broadcast: { excludeIngress: false, ifindexes: [1, 1] } },
      },
      {
        ...xdp('devmap broadcast excluding ingress', devmap, redir(0, 0x18n), { init: [{ map: 0, key: u32(1), value: u64(1, 0) }] }),
        redirect: { type: 'devmap', map: 'devs', broadcast: { excludeIngress: true, ifindexes: [] } },
      },
      { ...xdp('devmap_hash target', devhash, redir(0x1234, 0n), { init: [{ map: 0, key: u32(0x1234), value: u32(1) }] }), redirect: { type: 'devmap_hash', map: 'devh', key: 0x1234, ifindex: 1, device: 'lo', program: 0 } },
      { ...xdp('cpumap target', cpumap, redir(1, 0n), { init: [{ map: 0, key: u32(1), value: u32(64) }] }), redirect: { type: 'cpumap', map: 'cpus', key: 1, cpu: 1, qsize: 64, program: 0 } },
      xdp('failed lookup after redirect', devmap, 'r1 = 1\nr2 = 0\ncall 23\nld_pseudo r1, 1, 0\nr2 = 1\nr3 = 0\ncall 51\nr0 = 4\nexit'),
      xdp('devmap lookup reads the value', devmap, 'r1 = 2\n*(u32 *)(r10 - 4) = r1\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto none\nr1 = *(u32 *)(r0 + 0)\nr0 = *(u32 *)(r0 + 4)\nr0 <<= 8\nr0 |= r1\nexit\nnone:\nr0 = 99\nexit', withDev),
      xdp('devmap lookup of an empty slot', devmap, 'r1 = 1\n*(u32 *)(r10 - 4) = r1\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -4\ncall 1\nexit'),
      xdp('devmap_hash lookup', devhash, 'r1 = 7\n*(u32 *)(r10 - 4) = r1\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto none\nr0 = *(u32 *)(r0 + 0)\nexit\nnone:\nr0 = 99\nexit', { init: [{ map: 0, key: u32(7), value: u32(1) }] }),
      xdp('xskmap lookup of an empty slot', xskmap, 'r1 = 0\n*(u32 *)(r10 - 4) = r1\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto none\nr0 = *(u32 *)(r0 + 0)\nexit\nnone:\nr0 = 99\nexit'),
      xdp('devmap entries after user updates', devmap, 'r0 = 2\nexit', { init: [{ map: 0, key: u32(0), value: u64(1, 0) }, { map: 0, key: u32(0), value: u64(0, 0) }, { map: 0, key: u32(3), value: u64(1, 0) }] }),
      xdp('devmap_hash entries in bucket order', { ...devhash, maxEntries: 8 }, 'r0 = 2\nexit', { init: [9, 1, 17, 2, 25].map((k) => ({ map: 0, key: u32(k), value: u32(1) })) }),
    );
    compareWithKernel(cases, ask);
  });

  it('bpf_clone_redirect sends a copy to an up device, drops it on a down one', () => {
    const up = () => NetNamespace.fromObject({ interfaces: [{ ifindex: 1, up: true }] });
    const clone = (ifindex: number, flags: number) => `r1 = r6\nr2 = ${ifindex}\nr3 = ${flags}\ncall 13`;
    // The in-process kernel oracle runs in this machine's namespace, whose lo is up.
    compareWithKernel([
      { ...tc('clone egress', UDP, clone(1, 0)), net: up },
      { ...tc('clone ingress', UDP, clone(1, 1)), net: up },
      { ...tc('clone to a missing device', UDP, clone(999, 0)), net: up },
      { ...tc('clone bad flags', UDP, clone(1, 2)), net: up },
    ], ask);
    const down = runOurs(tc('clone egress, lo down', UDP, clone(1, 0)), ENGINES[0]![1]);
    expect([down.retval, down.clones]).toEqual([2, 0]);
    const copy = runOurs({ ...tc('clone egress, lo up', UDP, clone(1, 0)), net: up }, ENGINES[1]![1]);
    expect([copy.retval, copy.clones]).toEqual([0, 1]);
  });

  it('bpf_get_stack and bpf_get_stackid refuse the flags the kernel refuses; the stack tsbpf sees is empty', () => {
    const stack = { name: 'stacks', type: MapType.STACK_TRACE, keySize: 4, valueSize: 64, maxEntries: 4 };
    const getStack = (size: number, flags: number) => `r2 = r10\nr2 += -64\nr3 = ${size}\nr4 = 0x${flags.toString(16)} ll\ncall 67\nexit`;
    const getStackid = (flags: number) => `ld_pseudo r2, 1, 0\nr3 = 0x${flags.toString(16)} ll\ncall 27\nexit`;
    const invalid: [string, string][] = [
      ['get_stack unknown flag', getStack(64, 1 << 12)], ['get_stack build id without user stack', getStack(64, 1 << 11)],
      ['get_stack odd size', getStack(60, 0)], ['get_stack build id size', getStack(48, (1 << 11) | (1 << 8))],
      ['get_stackid unknown flag', getStackid(1 << 11)],
    ];
    const requests = invalid.map(([, asm]) => ({ cmd: 'run' as const, prog_type: 'raw_tracepoint', insns: toHex(assemble(asm).bytes), ctx_in: toHex(new Uint8Array(96)), maps: [{ type: stack.type, key_size: 4, value_size: 64, max_entries: 4, name: 'stacks' }] }));
    const replies = ask(requests);
    invalid.forEach(([name, asm], i) => {
      const reply = replies[i]!;
      if (kernelLacksFeature(name, reply)) return;
      expect(reply.ok, `${name}: ${reply.error}\n${reply.log}`).toBe(true);
      for (const [, engine] of ENGINES) {
        const machine = new Machine();
        const map = machine.maps.create(stack);
        const runner = new TestRunner(machine);
        const prog = prepareProgram(assemble(asm.replace('ld_pseudo r2, 1, 0', `r2 = ${map.address} ll`)).bytes, { helpers: helpersForType(progTypeId('raw_tracepoint'), runner.contexts) });
        expect({ name, retval: runner.run(prog, progTypeId('raw_tracepoint'), engine, { ctxIn: new Uint8Array(96) }).retval }).toEqual({ name, retval: reply.retval });
      }
    });
    // An empty stack: no bytes (a zeroed buffer), -EFAULT when frames are to be skipped, and no stack id.
    const empty = (asm: string) => {
      const machine = new Machine();
      const map = machine.maps.create(stack);
      const runner = new TestRunner(machine);
      const prog = prepareProgram(assemble(asm.replace('ld_pseudo r2, 1, 0', `r2 = ${map.address} ll`)).bytes, { helpers: helpersForType(progTypeId('kprobe'), runner.contexts) });
      return runner.run(prog, progTypeId('kprobe'), ENGINES[1]![1]).retval | 0;
    };
    expect([empty(getStack(64, 0)), empty(getStack(64, 256)), empty(getStack(64, 2)), empty(getStackid(0)), empty(getStackid(256))]).toEqual([0, 0, -14, -14, -14]);
  });
});
