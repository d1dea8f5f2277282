/**
 * bpf_fib_lookup against the kernel's FIB: a network namespace gets two
 * veth devices with addresses, routes of every type, neighbours and
 * per-device forwarding, and tsbpf gets the same network as JSON
 * (docs/hooks.md, "The network"). Lookups from tc and XDP programs with
 * every flag must give the same result code and the same `struct
 * bpf_fib_lookup` afterwards (copied into the output packet), on both
 * engines. Without a network, tsbpf answers like the kernel's test-run
 * namespace. Skipped, with the reason printed, where namespaces cannot be
 * made.
 */
import { describe, it } from 'vitest';
import { NetNamespace, parseIp } from '../../src/hooks/net.js';
import { ask, kernelAvailable } from '../support/kernel-oracle.js';
import { askInNetns, netnsAvailable } from '../support/netns-oracle.js';
import { compareWithKernel } from '../support/packet-cases.js';
import type { PacketCase } from '../support/packet-cases.js';

const kernel = kernelAvailable();
const netns = kernel.ok ? netnsAvailable() : kernel;
if (!netns.ok) console.log(`skipping FIB lookups against the kernel: ${netns.reason}`);

const SETUP = [
  'ip link add v0 index 2 address 02:00:00:00:00:02 type veth peer name v1 index 3 address 02:00:00:00:00:03',
  'ip link set lo up', 'ip link set v0 up', 'ip link set v1 up mtu 1400',
  'ip addr add 10.0.0.1/24 dev v0', 'ip addr add 10.1.0.1/24 dev v1',
  'ip -6 addr add fd00::1/64 dev v0 nodad', 'ip -6 addr add fd01::1/64 dev v1 nodad',
  'ip route add 10.2.0.0/16 via 10.0.0.254 dev v0 metric 10',
  'ip route add 10.2.0.0/16 via 10.1.0.254 dev v1 metric 5',
  'ip route add 10.2.3.0/24 via 10.1.0.254 dev v1',
  'ip route add 10.3.0.0/16 via 10.0.0.253 dev v0',
  'ip route add blackhole 10.4.0.0/16', 'ip route add unreachable 10.5.0.0/16', 'ip route add prohibit 10.6.0.0/16',
  'ip route add 10.7.0.0/16 via 10.0.0.254 dev v0 mtu lock 1300',
  'ip route add 10.8.0.0/16 via 10.0.0.254 dev v0 src 10.1.0.1',
  'ip route add table 100 10.9.0.0/16 via 10.1.0.254 dev v1',
  'ip route add default via 10.0.0.254 dev v0 metric 100',
  'ip neigh add 10.0.0.254 lladdr 02:00:00:00:00:fe dev v0 nud permanent',
  'ip neigh add 10.1.0.254 lladdr 02:00:00:00:01:fe dev v1 nud permanent',
  'ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent',
  'ip -6 route add fd02::/64 via fd00::fe dev v0',
  'ip -6 route add fd04::/64 via fd00::fd dev v0 mtu 1280',
  'ip -6 route add fd07::/64 via fd00::fe dev v0 mtu lock 1300',
  'ip -6 route add blackhole fd03::/64', 'ip -6 route add unreachable fd05::/64', 'ip -6 route add prohibit fd06::/64',
  'ip -6 neigh add fd00::fe lladdr 02:00:00:00:00:ef dev v0 nud permanent',
  'echo 1 > /proc/sys/net/ipv4/conf/v0/forwarding', 'echo 1 > /proc/sys/net/ipv6/conf/v0/forwarding',
];

const NETWORK = {
  interfaces: [
    { ifindex: 1, name: 'lo', up: true, addresses: ['127.0.0.1/8', '::1/128'] },
    { ifindex: 2, name: 'v0', mac: '02:00:00:00:00:02', mtu: 1500, forwarding: true, addresses: ['10.0.0.1/24', 'fd00::1/64'], peer: 3 },
    { ifindex: 3, name: 'v1', mac: '02:00:00:00:00:03', mtu: 1400, addresses: ['10.1.0.1/24', 'fd01::1/64'], peer: 2 },
  ],
  routes: [
    { dst: '10.2.0.0/16', via: '10.0.0.254', dev: 'v0', metric: 10 },
    { dst: '10.2.0.0/16', via: '10.1.0.254', dev: 'v1', metric: 5 },
    { dst: '10.2.3.0/24', via: '10.1.0.254', dev: 'v1' },
    { dst: '10.3.0.0/16', via: '10.0.0.253', dev: 'v0' },
    { dst: '10.4.0.0/16', type: 'blackhole' }, { dst: '10.5.0.0/16', type: 'unreachable' }, { dst: '10.6.0.0/16', type: 'prohibit' },
    { dst: '10.7.0.0/16', via: '10.0.0.254', dev: 'v0', mtu: 1300, mtu_lock: true },
    { dst: '10.8.0.0/16', via: '10.0.0.254', dev: 'v0', src: '10.1.0.1' },
    { dst: '10.9.0.0/16', via: '10.1.0.254', dev: 'v1', table: 100 },
    { dst: 'default', via: '10.0.0.254', dev: 'v0', metric: 100 },
    { dst: 'fd02::/64', via: 'fd00::fe', dev: 'v0' },
    { dst: 'fd04::/64', via: 'fd00::fd', dev: 'v0', mtu: 1280 },
    { dst: 'fd07::/64', via: 'fd00::fe', dev: 'v0', mtu: 1300, mtu_lock: true },
    { dst: 'fd03::/64', type: 'blackhole' }, { dst: 'fd05::/64', type: 'unreachable' }, { dst: 'fd06::/64', type: 'prohibit' },
  ],
  neighbours: [
    { ip: '10.0.0.254', mac: '02:00:00:00:00:fe', dev: 'v0' }, { ip: '10.1.0.254', mac: '02:00:00:00:01:fe', dev: 'v1' },
    { ip: '10.0.0.9', mac: '02:00:00:00:00:09', dev: 'v0' }, { ip: 'fd00::fe', mac: '02:00:00:00:00:ef', dev: 'v0' },
  ],
};

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
/** A 128-byte IPv4/UDP frame: the lookup's struct is copied into it from byte 16. */
const FRAME = (() => {
  const f = new Uint8Array(128);
  f.set(hex('02000000000a02000000000b0800 4500007200004000401166c30a0000010a000002'));
  return f;
})();

interface Lookup {
  family?: number;
  ifindex: number;
  dst: string;
  src?: string;
  totLen?: number;
  flags: number;
  tbid?: number;
  proto?: number;
  plen?: number;
}

/** A program that fills a struct bpf_fib_lookup at fp-64, calls bpf_fib_lookup and copies the struct into the packet. */
function program(type: 'sched_cls' | 'xdp', l: Lookup): string {
  const p = new Uint8Array(64);
  const v = new DataView(p.buffer);
  const dst = parseIp(l.dst);
  p[0] = l.family ?? (dst.length === 4 ? 2 : 10);
  p[1] = l.proto ?? 17;
  v.setUint16(2, 1234, false);
  v.setUint16(4, 53, false);
  v.setUint16(6, l.totLen ?? 0, true);
  v.setUint32(8, l.ifindex, true);
  if (l.src) p.set(parseIp(l.src), 16);
  p.set(dst, 32);
  v.setUint32(48, l.tbid ?? 0, true);
  const stores = [...Array(8).keys()].map((i) => `r1 = 0x${v.getBigUint64(i * 8, true).toString(16)} ll\n*(u64 *)(r10 - ${64 - i * 8}) = r1`).join('\n');
  const copy = type === 'xdp' ? 'r1 = r6\nr2 = 16\nr3 = r10\nr3 += -64\nr4 = 64\ncall 190' : 'r1 = r6\nr2 = 16\nr3 = r10\nr3 += -64\nr4 = 64\nr5 = 0\ncall 9';
  return `r6 = r1\n${stores}\nr1 = r6\nr2 = r10\nr2 += -64\nr3 = ${l.plen ?? 64}\nr4 = ${l.flags}\ncall 69\nr7 = r0\n${copy}\nr0 = r7\nexit`;
}

const LOOKUPS: (Lookup & { name: string })[] = [
  { name: 'gateway route, lowest metric', ifindex: 2, dst: '10.2.1.1', flags: 0 },
  { name: 'longer prefix', ifindex: 2, dst: '10.2.3.4', flags: 0 },
  { name: 'connected, with a neighbour', ifindex: 2, dst: '10.0.0.9', flags: 0 },
  { name: 'connected, no neighbour', ifindex: 2, dst: '10.0.0.77', flags: 0 },
  { name: 'gateway without a neighbour', ifindex: 2, dst: '10.3.0.1', flags: 0 },
  { name: 'skip neighbour', ifindex: 2, dst: '10.3.0.1', flags: 4 },
  { name: 'blackhole', ifindex: 2, dst: '10.4.0.1', flags: 0 },
  { name: 'unreachable', ifindex: 2, dst: '10.5.0.1', flags: 0 },
  { name: 'prohibit', ifindex: 2, dst: '10.6.0.1', flags: 0 },
  { name: 'local address', ifindex: 2, dst: '10.1.0.1', flags: 0 },
  { name: 'broadcast address', ifindex: 2, dst: '10.0.0.255', flags: 0 },
  { name: 'loopback prefix', ifindex: 2, dst: '127.1.2.3', flags: 0 },
  { name: 'default route', ifindex: 2, dst: '192.0.2.1', flags: 0 },
  { name: 'forwarding disabled', ifindex: 3, dst: '10.2.1.1', flags: 0 },
  { name: 'forwarding disabled on lo', ifindex: 1, dst: '10.2.1.1', flags: 0 },
  { name: 'no such device', ifindex: 99, dst: '10.2.1.1', flags: 0 },
  { name: 'output through v1', ifindex: 2, dst: '10.2.1.1', flags: 2 },
  { name: 'direct', ifindex: 2, dst: '10.2.1.1', flags: 1 },
  { name: 'direct, local address', ifindex: 2, dst: '10.1.0.1', flags: 1 },
  { name: 'table 100', ifindex: 2, dst: '10.9.1.1', flags: 1 | 8, tbid: 100 },
  { name: 'table 100, no route', ifindex: 2, dst: '10.2.1.1', flags: 1 | 8, tbid: 100 },
  { name: 'missing table', ifindex: 2, dst: '10.2.1.1', flags: 1 | 8, tbid: 77 },
  { name: 'source address', ifindex: 2, dst: '10.2.1.1', flags: 16 },
  { name: 'preferred source', ifindex: 2, dst: '10.8.1.1', flags: 16 },
  { name: 'mark', ifindex: 2, dst: '10.2.1.1', flags: 32 },
  { name: 'locked route mtu, fits', ifindex: 2, dst: '10.7.1.1', flags: 0, totLen: 1300 },
  { name: 'locked route mtu, too big', ifindex: 2, dst: '10.7.1.1', flags: 0, totLen: 1301 },
  { name: 'device mtu, too big', ifindex: 2, dst: '10.2.3.4', flags: 0, totLen: 1401 },
  { name: 'bad flags', ifindex: 2, dst: '10.2.1.1', flags: 64 },
  { name: 'short params', ifindex: 2, dst: '10.2.1.1', flags: 0, plen: 60 },
  { name: 'bad family', ifindex: 2, dst: '10.2.1.1', flags: 0, family: 3 },
  { name: 'v6 gateway route', ifindex: 2, dst: 'fd02::5', flags: 0 },
  { name: 'v6 connected, no neighbour', ifindex: 2, dst: 'fd00::5', flags: 0 },
  { name: 'v6 gateway without a neighbour', ifindex: 2, dst: 'fd04::1', flags: 0 },
  { name: 'v6 unlocked route mtu', ifindex: 2, dst: 'fd04::1', flags: 4, totLen: 1281 },
  { name: 'v6 locked route mtu, fits', ifindex: 2, dst: 'fd07::1', flags: 0, totLen: 1300 },
  { name: 'v6 locked route mtu, too big', ifindex: 2, dst: 'fd07::1', flags: 0, totLen: 1301 },
  { name: 'local table', ifindex: 2, dst: '10.0.0.1', flags: 1 | 8, tbid: 255 },
  { name: 'v6 blackhole', ifindex: 2, dst: 'fd03::1', flags: 0 },
  { name: 'v6 unreachable', ifindex: 2, dst: 'fd05::1', flags: 0 },
  { name: 'v6 prohibit', ifindex: 2, dst: 'fd06::1', flags: 0 },
  { name: 'v6 no route', ifindex: 2, dst: 'fd09::1', flags: 0 },
  { name: 'v6 link-local', ifindex: 2, dst: 'fe80::1', flags: 0 },
  { name: 'v6 forwarding disabled', ifindex: 3, dst: 'fd02::5', flags: 0 },
  { name: 'v6 source address', ifindex: 2, dst: 'fd02::5', flags: 16 },
  { name: 'v6 output', ifindex: 2, dst: 'fd02::5', flags: 2 },
];

function cases(net: (() => NetNamespace) | undefined): PacketCase[] {
  return LOOKUPS.flatMap((l) => (['sched_cls', 'xdp'] as const).map((type) => ({
    name: `${type}: ${l.name}`, type, packet: FRAME, asm: program(type, l), ...(net ? { net } : {}),
  })));
}

describe.skipIf(!netns.ok)('bpf_fib_lookup vs the kernel FIB', () => {
  it('gives the kernel\'s results and struct over devices, routes and neighbours', () => {
    compareWithKernel(cases(() => NetNamespace.fromObject(NETWORK)), (requests) => askInNetns(SETUP, requests));
  });
});

describe.skipIf(!kernel.ok || !netns.ok)('bpf_fib_lookup in the test-run namespace', () => {
  it('answers like the kernel\'s empty namespace (lo down, no forwarding)', () => {
    compareWithKernel(cases(undefined).filter((c) => /lo|no such device|bad|short/.test(c.name)), (requests) => askInNetns([], requests));
    void ask;
  });
});
