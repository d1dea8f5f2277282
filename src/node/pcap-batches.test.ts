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
/** Every program's entry function: the examples' and the fixtures'. */
const ENTRIES: Record<string, string> = { ...XDP_EXAMPLES, verdict_mix: 'verdict_mix' };

/** Objects of the tests beside the examples, by name: their path under the repository. */
const FIXTURES: Record<string, string> = { verdict_mix: 'test/fixtures/pkt/verdict_mix.o' };

function collectionOf(name: string): Collection {
  const path = FIXTURES[name] ?? `examples/${name}.o`;
  return loadCollection(parseObject(new Uint8Array(readFileSync(new URL(path, root))), { name: `${name}.o` }));
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

/** A packet as written: verdict, bytes after the program, timestamp (microseconds, as a pcap is written) and length on the wire. */
interface Seen { action: string; retval: number; bytes: string; sec: number; usec: number; orig: number }

function perPacket(name: string, capture: string): { seen: Seen[]; summary: unknown; maps: unknown } {
  const c = collectionOf(name);
  const stream = new PacketStream(c, c.program({ name: ENTRIES[name]! }), 'xdp', jitEngine);
  const seen: Seen[] = [];
  forEachCapturedPacket(capture, (p, index) => {
    const o = stream.step(p.data, index, 1);
    seen.push({
      action: o.action, retval: o.retval, bytes: Buffer.from(o.data).toString('hex'), sec: p.sec, usec: Math.floor(p.nsec / 1000),
      orig: o.data.length + Math.max(0, p.origLen - p.data.length),
    });
  });
  return { seen, summary: stream.summary.actions, maps: dumpMaps(c) };
}

function batched(name: string, capture: string): { seen: Seen[]; summary: unknown; maps: unknown } | null {
  const c = collectionOf(name);
  const program = c.program({ name: ENTRIES[name]! });
  const stream = new PacketStream(c, program, 'xdp', jitEngine);
  const batch = c.xdpBatchFor(program, jitEngine, 256);
  if (batch === null) return null;
  const seen: Seen[] = [];
  // every verdict kept, each through its own sink: the records arrive in file order across the sinks
  const r = runPcapBatches(capture, stream, batch, (action, retval) => ({
    writeRecords(bytes: Uint8Array, start: number, end: number, count: number): void {
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      let records = 0;
      for (let at = start; at < end; records++) {
        const length = v.getUint32(at + 8, true);
        seen.push({
          action, retval, bytes: Buffer.from(bytes.subarray(at + 16, at + 16 + length)).toString('hex'), sec: v.getUint32(at, true),
          usec: v.getUint32(at + 4, true), orig: v.getUint32(at + 12, true),
        });
        at += 16 + length;
      }
      expect(records).toBe(count);
    },
  }));
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

  it('verdicts of every code, unnamed and past 8, in the order the frames choose: the same counts, in the same order, as packet by packet', () => {
    const frames: Uint8Array[] = [];
    forEachCapturedPacket(capture, (p) => { frames.push(p.data.slice()); });
    // whole batches of named verdicts, batches where an unusual verdict comes first or late, refused frames among them
    const pattern = (i: number): number => (i < 300 ? [2, 1, 2, 3][i % 4]! : i < 600 ? [6, 2, 9, 2, 15, 4, 0, 5, 7, 12][i % 10]! : (i * 7) % 16);
    const path = join(dir, 'verdicts.pcap');
    const w = new CaptureFile(path, { format: 'pcap', interfaces: [{ linkType: 1, snapLen: 65535 }] });
    for (let i = 0; i < 900; i++) {
      const frame = frames[i % frames.length]!.slice();
      if (frame.length >= 14) frame[11] = pattern(i) ^ frame[13]!;
      w.write({ data: frame, sec: i, nsec: 0 });
    }
    w.close();
    const ours = batched('verdict_mix', path)!;
    const reference = perPacket('verdict_mix', path);
    // verdicts of 8 and more have no sink on this path: counted, never written
    expect(ours).toEqual({ ...reference, seen: reference.seen.filter((x) => x.retval < 8) });
    expect(reference.seen.length - ours.seen.length).toBeGreaterThan(100);
    expect(Object.keys(ours.summary as object)).toEqual(Object.keys(reference.summary as object));
    expect(Object.keys(ours.summary as object).length).toBeGreaterThan(12);
  });

  it('a big-endian capture with nanoseconds, a small snapshot length and frames cut short: as packet by packet', () => {
    // the mixed capture rewritten: big-endian, nanosecond timestamps (not whole microseconds), snaplen 100 and longer wire lengths
    const src = readFileSync(capture);
    const parts: Buffer[] = [];
    const head = Buffer.alloc(24);
    head.writeUInt32BE(0xa1b23c4d, 0);
    head.writeUInt16BE(2, 4);
    head.writeUInt16BE(4, 6);
    head.writeUInt32BE(100, 16);
    head.writeUInt32BE(1, 20);
    parts.push(head);
    for (let at = 24, i = 0; at < src.length; i++) {
      const caplen = src.readUInt32LE(at + 8);
      const rec = Buffer.alloc(16);
      rec.writeUInt32BE(src.readUInt32LE(at), 0);
      rec.writeUInt32BE(src.readUInt32LE(at + 4) * 1000 + (i % 1000), 4);
      rec.writeUInt32BE(caplen, 8);
      rec.writeUInt32BE(caplen + (i % 3) * 10, 12);
      parts.push(rec, src.subarray(at + 16, at + 16 + caplen));
      at += 16 + caplen;
    }
    const be = join(dir, 'big-endian.pcap');
    writeFileSync(be, Buffer.concat(parts));
    for (const name of ['xdp_firewall', 'parser', 'vlan_strip']) {
      const ours = batched(name, be);
      expect(ours).toEqual(perPacket(name, be));
      expect(ours!.seen.some((x) => x.orig > x.bytes.length / 2)).toBe(true);
    }
  });

  it('kept frames of more than the output area in one batch (refused jumbo frames): all of them, in order', () => {
    const path = join(dir, 'jumbo.pcap');
    const w = new CaptureFile(path, { format: 'pcap', interfaces: [{ linkType: 1, snapLen: 262144 }] });
    const syn = new Uint8Array(readFileSync(new URL('examples/inputs/ipv4_tcp_syn.bin', root)));
    for (let i = 0; i < 600; i++) w.write({ data: i % 10 === 3 ? new Uint8Array(60000).fill(i & 0xff) : syn, sec: i, nsec: 0 });
    w.close();
    const ours = batched('proto_count', path);
    expect(ours!.seen.filter((x) => x.action === 'REFUSED').length).toBe(60);
    expect(ours).toEqual(perPacket('proto_count', path));
  });

  it('a truncated file: the packets before the damage run, then the same error as packet by packet', () => {
    const whole = readFileSync(capture);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const c = collectionOf('proto_count');
    const program = c.program({ name: 'proto_count' });
    const stream = new PacketStream(c, program, 'xdp', jitEngine);
    let ours = '';
    try {
      runPcapBatches(cut, stream, c.xdpBatchFor(program, jitEngine, 256)!, () => undefined);
    } catch (err) {
      ours = (err as Error).message;
    }
    const handed = stream.summary.packets;
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
    for (const path of [ng, raw]) expect(runPcapBatches(path, stream, c.xdpBatchFor(program, jitEngine, 256)!, () => undefined)).toBeNull();
    expect(stream.summary.packets).toBe(0);
  });

  it('a program that fails on a packet: the packets before it are handed over, then the same error as packet by packet', () => {
    const load = () => loadCollection(parseObject(new Uint8Array(readFileSync(new URL('test/fixtures/pkt/unavailable.o', root))), { name: 'unavailable.o' }));
    const traffic = new URL('samples/traffic.pcap', root).pathname;
    const a = load();
    const pa = a.program({ section: 'xdp' });
    let ours = '';
    const batchedStream = new PacketStream(a, pa, 'xdp', jitEngine);
    const faulting = a.xdpBatchFor(pa, jitEngine, 256)!;
    try {
      runPcapBatches(traffic, batchedStream, faulting, () => undefined);
    } catch (err) {
      ours = (err as Error).message;
    }
    const handed = batchedStream.summary.packets;
    // every slot of the cut-short batch counts as written all over, so the next batch starts from zeros
    const view = a.machine.space.data;
    for (let k = 0; k <= handed; k++) {
      const slot = faulting.slotTable + 16 * k;
      const buffer = view.getUint32(slot + 4, true);
      const cell = view.getUint32(slot + 8, true);
      expect([view.getUint32(cell, true), view.getUint32(cell + 4, true)]).toEqual([buffer, buffer + 4096]);
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
