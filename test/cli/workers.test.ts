/**
 * `tsbpf xdp|tc|socket --workers N`: a packet program on N worker threads
 * over one shared memory. Programs whose result does not depend on the
 * order across flows give the same verdicts, output files and maps with
 * 1, 2 and 4 workers; counters updated with atomics and hash-map inserts
 * (several workers inserting the same keys included) add up exactly to the
 * packet count; per-CPU maps have a slot per worker that sums to the
 * single-worker value; maps that cannot be shared are refused by name.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureWriter } from '../../src/capture/write.js';
import { tempDir, tsbpf } from '../support/cli.js';
import { EXAMPLES_DIR } from '../examples/manifest.js';

const ex = (name: string) => join(EXAMPLES_DIR, name);
const FLOW_COUNT = fileURLToPath(new URL('../fixtures/pkt/flow_count.o', import.meta.url));
const TRAFFIC = fileURLToPath(new URL('../../samples/traffic.pcap', import.meta.url));

/** A small deterministic generator (xorshift32), so the capture is the same on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/**
 * `count` packets of `flows` flows: IPv4 UDP and TCP in both directions,
 * IPv6 UDP, and ARP, interleaved at random (each flow's packets in order).
 */
function syntheticCapture(dir: string, count: number, flows: number): string {
  const rnd = random(12);
  const w = new CaptureWriter({ format: 'pcap', interfaces: [{ linkType: 1, snapLen: 65535 }] });
  const records: Uint8Array[] = [w.header()];
  for (let i = 0; i < count; i++) {
    const flow = Math.floor(rnd() * flows);
    const kind = flow % 10;
    const reply = rnd() < 0.5;
    let frame: Uint8Array;
    if (kind === 9) {
      frame = new Uint8Array(42);
      frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, flow >> 8, flow & 255, 0x08, 0x06]);
    } else if (kind === 8) {
      frame = new Uint8Array(14 + 40 + 8 + 16);
      frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd, 0x60]);
      const v = new DataView(frame.buffer);
      v.setUint16(18, 24);
      frame[20] = 17;
      frame[21] = 64;
      frame.set([0x20, 0x01, 0x0d, 0xb8], reply ? 38 : 22);
      v.setUint16(reply ? 52 : 36, flow);
      frame.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], reply ? 22 : 38);
      v.setUint16(reply ? 56 : 54, 1000 + flow);
      v.setUint16(reply ? 54 : 56, 53);
      v.setUint16(58, 24);
    } else {
      const tcp = kind < 4;
      frame = new Uint8Array(14 + 20 + (tcp ? 20 : 8) + Math.floor(rnd() * 64));
      frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45]);
      const v = new DataView(frame.buffer);
      v.setUint16(16, frame.length - 14);
      frame[22] = 64;
      frame[23] = tcp ? 6 : 17;
      const client = 0x0a000000 + flow;
      const server = 0xc0a80001 + (flow % 7);
      v.setUint32(26, reply ? server : client);
      v.setUint32(30, reply ? client : server);
      v.setUint16(34, reply ? 80 : 10000 + flow);
      v.setUint16(36, reply ? 10000 + flow : 80);
      if (tcp) frame[46] = 0x50;
      else v.setUint16(38, frame.length - 34);
    }
    records.push(w.packet({ data: frame, sec: 1_700_000_000 + Math.floor(i / 1000), nsec: (i % 1000) * 1000 }));
  }
  const path = join(dir, 'flows.pcap');
  writeFileSync(path, Buffer.concat(records));
  return path;
}

interface MapEntryJson {
  key: string;
  value?: string;
  values?: string[];
}

/** Sums 8-byte little-endian lanes of hex values (counters), wrapping at 2^64. */
function sumLanes(values: readonly string[]): string {
  const lanes: bigint[] = [];
  for (const hex of values) {
    for (let i = 0; i * 16 < hex.length; i++) {
      const lane = hex.slice(i * 16, i * 16 + 16).padEnd(16, '0');
      const le = BigInt('0x' + (lane.match(/../g) ?? []).reverse().join(''));
      lanes[i] = ((lanes[i] ?? 0n) + le) & 0xffff_ffff_ffff_ffffn;
    }
  }
  return lanes.map((l) => l.toString(16)).join(',');
}

/** A map as a key → value object, per-CPU values summed: comparable across worker counts and hash seeds. */
function normalise(entries: readonly MapEntryJson[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) out[e.key] = e.values ? sumLanes(e.values) : sumLanes([e.value ?? '']);
  return out;
}

/** Runs a packet command with --json and --workers N; returns the parsed result. */
function run(hook: string, object: string, capture: string, workers: number, ...more: string[]): { packets: number; bytes: number; actions: Record<string, number>; maps: Record<string, MapEntryJson[]>; ports?: Record<string, number> } {
  const r = tsbpf(hook, object, '-r', capture, '--json', '--workers', String(workers), ...more);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** A hex value's first u64 lane as a number. */
const u64 = (hex: string) => Number(BigInt('0x' + (hex.slice(0, 16).match(/../g) ?? []).reverse().join('')));

describe('--workers', () => {
  const dir = tempDir();
  const flows = syntheticCapture(dir, 6000, 400);

  it('counters updated with atomics and hash-map inserts add up to the packet count; per-CPU slots sum to it', { timeout: 180_000 }, () => {
    const single = run('xdp', FLOW_COUNT, flows, 1);
    expect(single.packets).toBe(6000);
    for (const workers of [2, 4]) {
      const j = run('xdp', FLOW_COUNT, flows, workers);
      expect(j.packets).toBe(6000);
      expect(j.actions).toEqual({ XDP_PASS: 6000 });
      const totals = normalise(j.maps.totals!);
      // key 0: packets, key 1: bytes (atomic adds in an array map)
      expect(totals['00000000']).toBe((6000).toString(16));
      expect(totals['01000000']).toBe(j.bytes.toString(16));
      // one per-CPU slot per worker, summing to the single-worker count
      const percpu = j.maps.percpu_packets![0]!;
      expect(percpu.values).toHaveLength(workers);
      expect(percpu.values!.reduce((n, v) => n + u64(v), 0)).toBe(6000);
      // bpf_get_smp_processor_id is the worker index: every worker ran packets, and no other CPU did
      const seen = j.maps.per_cpu_seen!.map((e) => [parseInt(e.key.slice(0, 2), 16), u64(e.value!)] as const);
      expect(seen.map(([cpu]) => cpu).sort()).toEqual([...Array(workers).keys()]);
      expect(seen.reduce((n, [, c]) => n + c, 0)).toBe(6000);
      // hash inserts (per flow: one worker each; per protocol: every worker inserts the same keys) and LRU updates lose nothing
      for (const name of ['flows', 'lru_flows', 'protos', 'sizes']) {
        const m = normalise(j.maps[name]!);
        expect(Object.values(m).reduce((n, v) => n + parseInt(v, 16), 0), name).toBe(6000);
        expect(m, name).toEqual(normalise(single.maps[name]!));
      }
    }
  });

  // (vlan_strip is left out: it counts in .bss with plain increments, which concurrent CPUs lose, in the kernel too)
  const cases: { hook: string; object: string; write: string[]; scratch?: string }[] = [
    { hook: 'xdp', object: 'proto_count.o', write: [] },
    { hook: 'xdp', object: 'global_config.o', write: ['--write-action', 'XDP_DROP=drop.pcap'] },
    { hook: 'tc', object: 'nat_rewrite.o', write: ['--write-action', 'TC_ACT_SHOT=shot.pcap'] },
    { hook: 'socket', object: 'sock_filter.o', write: ['--write-action', 'DROP=drop.pcap'] },
    // tail calls through a prog array, atomic counters in .bss; its per-CPU scratch map holds each CPU's last packet, not counters
    { hook: 'xdp', object: 'tail_dispatch.o', write: ['--name', 'xdp_dispatch', '--write-action', 'XDP_TX=tx.pcap'], scratch: 'scratch_map' },
  ];
  for (const c of cases) {
    it(`${c.hook} ${c.object} gives the same verdicts, output files and maps on 1, 2 and 4 workers`, () => {
      for (const capture of [TRAFFIC, flows]) {
        const results = [1, 2, 4].map((workers) => {
          const out = join(dir, `${c.object}-w${workers}`);
          const args = ['-w', `${out}-pass.pcap`, ...c.write.map((a) => a.replace(/=(.*)$/, `=${out}-$1`))];
          const j = run(c.hook, ex(c.object), capture, workers, ...args);
          const files = [`${out}-pass.pcap`, ...c.write.filter((a) => a.includes('=')).map((a) => `${out}-${a.split('=')[1]}`)]
            .map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
          // the actions in the order they first appear, as one thread lists them
          return { summary: { packets: j.packets, bytes: j.bytes, actions: Object.entries(j.actions), ports: j.ports }, maps: Object.fromEntries(Object.entries(j.maps).filter(([k]) => k !== c.scratch).map(([k, v]) => [k, normalise(v)])), files };
        });
        expect(results[1], capture).toEqual(results[0]);
        expect(results[2], capture).toEqual(results[0]);
      }
    }, 180_000);
  }

  it('counts redirects per port and writes one file per port, as one thread does', () => {
    const files = [1, 2].map((workers) => {
      const out = join(dir, `redirect-w${workers}.pcap`);
      const j = run('xdp', FLOW_COUNT, TRAFFIC, workers, '--write-action', `XDP_REDIRECT=${out}`);
      // flow_count sends UDP to port 53 to ifindex 1
      expect(j.actions).toEqual({ XDP_PASS: 100, XDP_REDIRECT: 8 });
      expect(j.ports).toEqual({ if1: 8 });
      return readFileSync(join(dir, `redirect-w${workers}.if1.pcap`)).toString('hex');
    });
    expect(files[1]).toBe(files[0]);
  });

  it('the interpreter\'s atomics and hash inserts lose nothing on 2 workers either', () => {
    const j = run('xdp', FLOW_COUNT, flows, 2, '--engine', 'interp');
    expect(normalise(j.maps.totals!)['00000000']).toBe((6000).toString(16));
    for (const name of ['flows', 'lru_flows', 'protos', 'sizes']) {
      expect(Object.values(normalise(j.maps[name]!)).reduce((n, v) => n + parseInt(v, 16), 0), name).toBe(6000);
    }
  });

  it('a truncated capture: every packet before the damage runs and is written, then the file, offset and packet are named', () => {
    const cut = join(dir, 'cut.pcap');
    const bytes = readFileSync(flows);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    const outputs = [1, 2].map((workers) => {
      const out = join(dir, `cut-w${workers}.pcap`);
      const r = tsbpf('xdp', ex('proto_count.o'), '-r', cut, '-w', out, '--workers', String(workers));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/: truncated packet record \(\d+ bytes left\) at byte \d+ \(packet 5999\)$/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      return createHash('sha256').update(readFileSync(out)).digest('hex');
    });
    expect(outputs[1]).toBe(outputs[0]);
  });

  it('a program that fails on a packet: the packets before it are written, then the same error as on one thread', () => {
    const unavailable = fileURLToPath(new URL('../fixtures/pkt/unavailable.o', import.meta.url));
    const outputs = [1, 2].map((workers) => {
      const out = join(dir, `fault-w${workers}.pcap`);
      const r = tsbpf('xdp', unavailable, '--section', 'xdp', '-r', TRAFFIC, '-w', out, '--workers', String(workers));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^tsbpf: packet \d+: bpf_sk_lookup_tcp#84 at insn \d+: not available in user space$/m);
      return { stderr: r.stderr, file: createHash('sha256').update(readFileSync(out)).digest('hex') };
    });
    expect(outputs[1]).toEqual(outputs[0]);
  });

  it('refuses bad worker counts as usage errors', () => {
    for (const bad of ['0', '-1', '1.5', 'two']) {
      const r = tsbpf('xdp', ex('proto_count.o'), '-r', TRAFFIC, '--workers', bad);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(/--workers.*positive integer/);
    }
  });

  it('refuses a map that workers cannot share, naming it, before any packet runs', () => {
    const r = tsbpf('xdp', ex('xdp_firewall.o'), '-r', TRAFFIC, '--workers', '2');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/program 'xdp_firewall' cannot run on 2 workers: map 'blocked' \(lpm_trie\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // one worker is today's in-process path: the same program runs
    expect(tsbpf('xdp', ex('xdp_firewall.o'), '-r', TRAFFIC, '--workers', '1').status).toBe(0);
  });
});
