/**
 * The batch path of `tsbpf xdp` (node/pcap-batches.ts) against the
 * per-packet path it stands in for (PacketStream.step over
 * forEachCapturedPacket): the same verdict for every packet, the same bytes
 * after the program, the same summary and the same maps, for every XDP
 * example over captures with refused frames; the same complaint, after
 * the same packets, about a damaged file; and no batch where a program
 * records redirect targets per packet.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jitEngine } from '../jit/index.js';
import { parseObject } from '../loader/object.js';
import { loadCollection } from '../runtime/collection.js';
import type { Collection } from '../runtime/collection.js';
import { dumpMaps } from '../runtime/map-io.js';
import { PacketStream } from '../runtime/packet-stream.js';
import { CaptureFile, forEachCapturedPacket } from './capture-files.js';
import { runPcapBatches } from './pcap-batches.js';

const root = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tsbpf-batches-'));
/** The XDP examples and their entry functions. */
const XDP_EXAMPLES: Record<string, string> = {
  proto_count: 'proto_count', xdp_firewall: 'xdp_firewall', tail_dispatch: 'xdp_dispatch', global_config: 'global_config', parser: 'parser',
  queue_stack: 'queue_stack', map_in_map: 'map_in_map', bloom: 'bloom', vlan_strip: 'vlan_strip',
};

function collectionOf(name: string): Collection {
  return loadCollection(parseObject(new Uint8Array(readFileSync(new URL(`examples/${name}.o`, root))), { name: `${name}.o` }));
}

/** A capture of the sample traffic and the example inputs, with frames the test run refuses (too short, too long) among them. */
function mixedCapture(): string {
  const path = join(dir, 'mixed.pcap');
  const frames: Uint8Array[] = [];
  forEachCapturedPacket(new URL('samples/traffic.pcap', root).pathname, (p) => { frames.push(p.data.slice()); });
  for (const f of ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv6_tcp_syn.bin', 'ipv4_tcp_telnet.bin', 'arp_request.bin', 'ipv4_icmp_echo.bin']) {
    frames.push(new Uint8Array(readFileSync(new URL(`examples/inputs/${f}`, root))));
  }
  frames.splice(3, 0, new Uint8Array(10), new Uint8Array(4000).fill(7));
  const w = new CaptureFile(path, { format: 'pcap', interfaces: [{ linkType: 1, snapLen: 65535 }] });
  // more than one batch (256 packets), and a partial last one
  for (let i = 0; i < 700; i++) w.write({ data: frames[i % frames.length]!, sec: i, nsec: i * 1000 });
  w.close();
  return path;
}

interface Seen { action: string; retval: number; bytes: string; sec: number }

function perPacket(name: string, capture: string): { seen: Seen[]; summary: unknown; maps: unknown } {
  const c = collectionOf(name);
  const stream = new PacketStream(c, c.program({ name: XDP_EXAMPLES[name]! }), 'xdp', jitEngine);
  const seen: Seen[] = [];
  forEachCapturedPacket(capture, (p, index) => {
    const o = stream.step(p.data, index, 1);
    seen.push({ action: o.action, retval: o.retval, bytes: Buffer.from(o.data).toString('hex'), sec: p.sec });
  });
  return { seen, summary: stream.summary.actions, maps: dumpMaps(c) };
}

function batched(name: string, capture: string): { seen: Seen[]; summary: unknown; maps: unknown } | null {
  const c = collectionOf(name);
  const program = c.program({ name: XDP_EXAMPLES[name]! });
  const stream = new PacketStream(c, program, 'xdp', jitEngine);
  const batch = c.xdpBatchFor(program, jitEngine, 256);
  if (batch === null) return null;
  const seen: Seen[] = [];
  const r = runPcapBatches(capture, stream, batch, (p) => {
    expect(p.index).toBe(seen.length);
    seen.push({ action: p.action, retval: p.retval, bytes: Buffer.from(p.bytes.subarray(p.start, p.end)).toString('hex'), sec: p.sec });
  });
  expect(r?.format).toBe('pcap');
  return { seen, summary: stream.summary.actions, maps: dumpMaps(c) };
}

describe('XDP over a pcap in batches', () => {
  const capture = mixedCapture();
  for (const name of Object.keys(XDP_EXAMPLES)) {
    it(`${name}: every packet, the summary and the maps as packet by packet`, () => {
      const ours = batched(name, capture);
      expect(ours, 'batch path taken').not.toBeNull();
      const reference = perPacket(name, capture);
      expect(ours!.seen.length).toBe(700);
      expect(ours!.seen.filter((s) => s.action === 'REFUSED').length).toBeGreaterThan(0);
      expect(ours).toEqual(reference);
    });
  }

  it('a truncated file: the packets before the damage run, then the same error as packet by packet', () => {
    const whole = readFileSync(capture);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const c = collectionOf('proto_count');
    const program = c.program({ name: 'proto_count' });
    const stream = new PacketStream(c, program, 'xdp', jitEngine);
    let handed = 0;
    let ours = '';
    try {
      runPcapBatches(cut, stream, c.xdpBatchFor(program, jitEngine, 256)!, () => { handed++; });
    } catch (err) {
      ours = (err as Error).message;
    }
    const m = /cut\.pcap: truncated packet record \(\d+ bytes left\) at byte \d+ \(packet (\d+)\)$/.exec(ours);
    expect(m, ours).not.toBeNull();
    expect(handed).toBe(Number(m![1]));
    expect(handed).toBeGreaterThan(600);
    let generic = '';
    try {
      forEachCapturedPacket(cut, () => {});
    } catch (err) {
      generic = (err as Error).message;
    }
    expect(ours).toBe(generic);
  });

  it('leaves what is not a pcap of Ethernet frames to the general path, having run nothing', () => {
    const c = collectionOf('proto_count');
    const program = c.program({ name: 'proto_count' });
    const stream = new PacketStream(c, program, 'xdp', jitEngine);
    const ng = join(dir, 'x.pcapng');
    const w = new CaptureFile(ng, { format: 'pcapng', interfaces: [{ linkType: 1, snapLen: 65535 }] });
    w.write({ data: new Uint8Array(60), sec: 0, nsec: 0 });
    w.close();
    const raw = join(dir, 'raw.pcap');
    const r = new CaptureFile(raw, { format: 'pcap', interfaces: [{ linkType: 101, snapLen: 65535 }] });
    r.write({ data: new Uint8Array(40), sec: 0, nsec: 0 });
    r.close();
    for (const path of [ng, raw]) expect(runPcapBatches(path, stream, c.xdpBatchFor(program, jitEngine, 256)!, () => {})).toBeNull();
    expect(stream.summary.packets).toBe(0);
  });

  it('a program that fails on a packet: the packets before it are handed over, then the same error as packet by packet', () => {
    const load = () => loadCollection(parseObject(new Uint8Array(readFileSync(new URL('test/fixtures/pkt/unavailable.o', root))), { name: 'unavailable.o' }));
    const traffic = new URL('samples/traffic.pcap', root).pathname;
    const a = load();
    const pa = a.program({ section: 'xdp' });
    let handed = 0;
    let ours = '';
    try {
      runPcapBatches(traffic, new PacketStream(a, pa, 'xdp', jitEngine), a.xdpBatchFor(pa, jitEngine, 256)!, () => { handed++; });
    } catch (err) {
      ours = (err as Error).message;
    }
    const b = load();
    const stream = new PacketStream(b, b.program({ section: 'xdp' }), 'xdp', jitEngine);
    let stepped = 0;
    let theirs = '';
    try {
      forEachCapturedPacket(traffic, (p, index) => { stream.step(p.data, index, 1); stepped++; });
    } catch (err) {
      theirs = (err as Error).message;
    }
    expect(ours).toMatch(/^packet \d+: bpf_sk_lookup_tcp#84 at insn \d+: not available in user space$/);
    expect(ours).toBe(theirs);
    expect(handed).toBe(stepped);
    expect(handed).toBeGreaterThan(0);
  });

  it('no batch for a program that records where packets go', () => {
    const c = loadCollection(parseObject(new Uint8Array(readFileSync(new URL('test/fixtures/pkt/xdp_redirect.o', root))), { name: 'xdp_redirect.o' }));
    expect(c.xdpBatchFor(c.program({ name: 'xdp_redirect' }), jitEngine, 256)).toBeNull();
  });
});
