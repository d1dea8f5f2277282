/**
 * C programs that use the packet helpers of issue 11, legacy loads
 * relative to the headers, open-coded iterators and dynptrs (test/fixtures/pkt,
 * built by its build.sh), loaded the way libbpf loads them: in the kernel
 * through bpftool (`prog loadall` + `prog run` in the reference setup's
 * namespace: lo alone, down) and in tsbpf through a collection, verified,
 * on both engines. Return values, output packets and maps must agree; the
 * redirect target tsbpf reports is checked against what the program asked
 * for. Timers fire in the kernel in real time (microseconds after the run);
 * tsbpf's virtual clock is advanced past them before its maps are read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RedirectTarget } from '../../src/hooks/redirect.js';
import { parseObject } from '../../src/loader/object.js';
import { loadCollection } from '../../src/runtime/collection.js';
import { applyMapInit, dumpMaps, toHex } from '../../src/runtime/map-io.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import { jitEngine } from '../../src/jit/jit-engine.js';
import { kernelAvailable, normaliseMaps, runObjectInKernelIfAble } from '../support/bpftool.js';
import { kernelBtfSource } from '../../src/node/objects.js';
import type { MapInit } from '../support/bpftool.js';

const DIR = fileURLToPath(new URL('../fixtures/pkt/', import.meta.url));
const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping packet-helper objects against the kernel: ${kernel.reason}`);

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const UDP = (port: number) => hex(`02000000000a02000000000b0800 4500002400004000401166c30a0000010a000002 3039${port.toString(16).padStart(4, '0')}001042a7 0102030405060708`);
const TCP = hex('02000000000a02000000000b0800 45000028123440004006149a0a0000010a000003 c82201bb00000001000000005002faf0ab5c0000');
const ICMP = hex('02000000000a02000000000b0800 4500001c00004000400166d50a0000010a000002 0800f7ff00000000');
const ARP = hex('ffffffffffff02000000000b0806 0001080006040001 02000000000b0a000001 0000000000000a000002');
const VLAN = hex('02000000000a02000000000b8100000a0800 4500001c00004000401166cb0a0000010a000002 303901bb00080000');

interface Case {
  name: string;
  object: string;
  program: string;
  packet: Uint8Array;
  mapInit?: MapInit;
  /** Maps compared with the kernel. */
  maps: string[];
  redirect?: RedirectTarget | null;
  repeat?: number;
  /**
   * Timers: tsbpf advances its virtual clock this far after the run; the
   * kernel's timers fire in real time, long before its maps are read back.
   */
  advanceNs?: number;
}

const dev = (key: number, ifindex: number) => ({ key: toHex(new Uint8Array(new Uint32Array([key]).buffer)), value: toHex(new Uint8Array(new Uint32Array([ifindex, 0]).buffer)) });

const CASES: Case[] = [
  { name: 'UDP to a devmap port', object: 'xdp_redirect', program: 'xdp_redirect', packet: UDP(0x1bb), maps: ['stats', 'tx_port'], mapInit: { tx_port: [dev(3, 1)] }, redirect: { type: 'devmap', map: 'tx_port', key: 3, ifindex: 1, device: 'lo', program: 0 } },
  { name: 'UDP to an empty devmap port', object: 'xdp_redirect', program: 'xdp_redirect', packet: UDP(0x1bc), maps: ['stats'] },
  { name: 'UDP to an empty XSK map', object: 'xdp_redirect', program: 'xdp_redirect', packet: UDP(4242), maps: ['stats'] },
  { name: 'TCP to a CPU', object: 'xdp_redirect', program: 'xdp_redirect', packet: TCP, maps: ['stats', 'cpus'], mapInit: { cpus: [{ key: '01000000', value: '4000000000000000' }] }, redirect: { type: 'cpumap', map: 'cpus', key: 1, cpu: 1, qsize: 64, program: 0 } },
  { name: 'TCP to a missing CPU', object: 'xdp_redirect', program: 'xdp_redirect', packet: TCP, maps: ['stats'] },
  {
    name: 'ICMP broadcast', object: 'xdp_redirect', program: 'xdp_redirect', packet: ICMP, maps: ['stats', 'tx_hash'],
    mapInit: { tx_hash: [{ key: '05000000', value: '01000000' }] }, redirect: { type: 'devmap_hash', map: 'tx_hash', broadcast: { excludeIngress: true, ifindexes: [] } },
  },
  { name: 'ARP through entry 0', object: 'xdp_redirect', program: 'xdp_redirect', packet: ARP, maps: ['stats'], mapInit: { tx_port: [dev(0, 1)] } },
  { name: 'ARP without entry 0', object: 'xdp_redirect', program: 'xdp_redirect', packet: ARP, maps: ['stats'] },
  { name: 'tunnel an IPv4 packet', object: 'tc_tunnel', program: 'tc_tunnel', packet: UDP(0x1bb), maps: ['results'], redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: false } },
  { name: 'tunnel a VLAN-tagged packet', object: 'tc_tunnel', program: 'tc_tunnel', packet: VLAN, maps: ['results'], redirect: { type: 'ifindex', ifindex: 1, device: 'lo', ingress: false } },
  { name: 'leave ARP alone', object: 'tc_tunnel', program: 'tc_tunnel', packet: ARP, maps: ['results'] },
  { name: 'socket filter: loads relative to the headers', object: 'header_loads', program: 'socket_header_loads', packet: UDP(0x1bb), maps: ['seen'] },
  { name: 'socket filter: loads relative to the headers of a VLAN frame', object: 'header_loads', program: 'socket_header_loads', packet: VLAN, maps: ['seen'] },
  { name: 'tc: loads relative to the headers', object: 'header_loads', program: 'tc_header_loads', packet: UDP(0x1bb), maps: ['seen'] },
  { name: 'tc: loads relative to the headers of an ARP frame', object: 'header_loads', program: 'tc_header_loads', packet: ARP, maps: ['seen'] },
  { name: 'spin-locked counter', object: 'locks_timers', program: 'locked_count', packet: UDP(0x1bb), repeat: 3, maps: ['counters'] },
  { name: 'timer callbacks', object: 'locks_timers', program: 'arm_timer', packet: UDP(0x1bb), maps: ['results', 'ticks'], advanceNs: 1_000_000_000 },
  { name: 'bpf_for over the bytes of a frame', object: 'iter_loops', program: 'xdp_byte_sum', packet: UDP(0x1bb), maps: ['results'] },
  { name: 'bpf_for over a short frame', object: 'iter_loops', program: 'xdp_byte_sum', packet: ARP.subarray(0, 20), maps: ['results'] },
  { name: 'bit iterators and iterator errors', object: 'iter_loops', program: 'tc_bits', packet: UDP(0x1bb), maps: ['results'] },
  { name: 'skb dynptr: slices, reads, a write, a ring buffer record', object: 'dynptr_pkt', program: 'tc_dynptr', packet: UDP(0x1bb), maps: ['results'] },
  { name: 'skb dynptr over a short frame', object: 'dynptr_pkt', program: 'tc_dynptr', packet: ICMP, maps: ['results'] },
  { name: 'xdp dynptr and local dynptrs: views, clones, bounds', object: 'dynptr_pkt', program: 'xdp_dynptr', packet: UDP(0x1bb), maps: ['results', 'scratch'] },
];

/** kfuncs resolve against the running kernel's BTF, as libbpf resolves them (without one, against tsbpf's built-in kfuncs). */
const kernelBtf = kernelBtfSource();

function ours(c: Case, engine: typeof interpreterEngine) {
  const object = parseObject(new Uint8Array(readFileSync(`${DIR}${c.object}.o`)), { name: `${c.object}.o`, possibleCpus: 2, ksymTarget: kernelBtf });
  const collection = loadCollection(object, { possibleCpus: 2, kernelBtf });
  if (c.mapInit) applyMapInit(collection, c.mapInit);
  const program = collection.program({ name: c.program });
  expect(collection.verify(program).accepted).toBe(true);
  const r = collection.run(program, { dataIn: c.packet, ...(c.repeat ? { repeat: c.repeat } : {}) }, engine);
  if (c.advanceNs !== undefined) collection.advanceTimers(c.advanceNs, engine);
  const types = Object.fromEntries(collection.maps.map((m) => [m.name, m.typeName]));
  const maps = normaliseMaps(dumpMaps(collection) as never, types);
  return { retval: r.retval, data: toHex(r.dataOut), maps: Object.fromEntries(c.maps.map((n) => [n, maps[n]])), redirect: r.redirect };
}

describe('packet-helper objects', () => {
  for (const c of CASES) {
    it(`${c.object}: ${c.name}`, () => {
      const interp = ours(c, interpreterEngine);
      expect(ours(c, jitEngine)).toEqual(interp);
      if (c.redirect !== undefined) expect(interp.redirect).toEqual(c.redirect);
      if (!kernel.ok) return;
      const live = runObjectInKernelIfAble(`${DIR}${c.object}.o`, { program: c.program, dataIn: c.packet, ...(c.repeat ? { repeat: c.repeat } : {}), ...(c.mapInit ? { mapInit: c.mapInit } : {}) });
      if (live === undefined) return;
      const types = Object.fromEntries(Object.entries(live.mapInfo).map(([n, info]) => [n, info.type]));
      const kmaps = normaliseMaps(live.maps, types);
      expect({ retval: interp.retval, data: interp.data, maps: interp.maps })
        .toEqual({ retval: live.retval, data: live.dataOut, maps: Object.fromEntries(c.maps.map((n) => [n, kmaps[n]])) });
    });
  }
});
