/**
 * `tsbpf xdp|tc|socket` semantics against the kernel: the example programs
 * over every packet of a capture built from examples/inputs (twice over, so
 * per-flow state matters), maps kept between packets. The kernel runs the
 * same packets one BPF_PROG_TEST_RUN after another against one loaded
 * object (bpftool); tsbpf streams them through a PacketStream, on both
 * engines. Each packet's return value (and, for XDP and tc, output bytes)
 * and every map at the end must agree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/read.js';
import { CaptureWriter } from '../../src/capture/write.js';
import { parseObject } from '../../src/loader/object.js';
import { loadCollection } from '../../src/runtime/collection.js';
import { dumpMaps, toHex } from '../../src/runtime/map-io.js';
import { PacketStream } from '../../src/runtime/packet-stream.js';
import type { PacketHook } from '../../src/runtime/packet-stream.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import { jitEngine } from '../../src/jit/jit-engine.js';
import { kernelAvailable, normaliseMaps, runObjectInKernelIfAble } from '../support/bpftool.js';
import { EXAMPLES_DIR } from '../examples/manifest.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping packet streams against the kernel: ${kernel.reason}`);

const INPUTS = fileURLToPath(new URL('inputs/', `file://${EXAMPLES_DIR}/`));
const frames = readdirSync(INPUTS).filter((f) => f.endsWith('.bin')).sort().map((f) => new Uint8Array(readFileSync(INPUTS + f)))
  .filter((f) => f.length >= 14);

/** The frames, twice over, as a pcapng capture read back: the stream sees what a file gives it. */
function capture(): Uint8Array[] {
  const w = new CaptureWriter({ format: 'pcapng', interfaces: [{ linkType: 1, snapLen: 65535, name: 'eth0' }] });
  const parts = [w.header(), ...[...frames, ...frames].map((data, i) => w.packet({ data, sec: 0, nsec: i * 1000 }))];
  const r = new CaptureReader();
  const got = parts.flatMap((p) => r.push(p));
  r.end();
  return got.map((p) => p.data);
}

/** `clock`: maps holding bpf_ktime_get_ns() values, compared by their keys only. */
const CASES: { object: string; program: string; hook: PacketHook; clock?: string[] }[] = [
  { object: 'proto_count.o', program: 'proto_count', hook: 'xdp' },
  { object: 'xdp_firewall.o', program: 'xdp_firewall', hook: 'xdp' },
  { object: 'parser.o', program: 'parser', hook: 'xdp' },
  { object: 'vlan_strip.o', program: 'vlan_strip', hook: 'xdp' },
  { object: 'rate_limit.o', program: 'rate_limit', hook: 'tc', clock: ['rl_windows'] },
  { object: 'nat_rewrite.o', program: 'nat_rewrite', hook: 'tc' },
  { object: 'sock_filter.o', program: 'sock_filter', hook: 'socket' },
  { object: 'csum_loop.o', program: 'csum_loop', hook: 'socket' },
];

describe.skipIf(!kernel.ok)('packet streams against the kernel (maps kept between packets)', () => {
  const packets = capture();
  for (const c of CASES) {
    it(`${c.object} (${c.hook}) over ${packets.length} packets`, { timeout: 120_000 }, () => {
      const path = `${EXAMPLES_DIR}/${c.object}`;
      const k = runObjectInKernelIfAble(path, { program: c.program, inputs: packets.map((dataIn) => ({ dataIn })) });
      if (k === undefined) return;
      for (const engine of [interpreterEngine, jitEngine]) {
        const object = parseObject(new Uint8Array(readFileSync(path)), { name: c.object, possibleCpus: 2 });
        const collection = loadCollection(object, { possibleCpus: 2 });
        const stream = new PacketStream(collection, collection.program({ name: c.program }), c.hook, engine);
        packets.forEach((frame, i) => {
          const o = stream.run(frame, i);
          const kr = k.runs[i]!;
          // a packet the kernel's test run refuses (EINVAL) is refused here too, and the stream goes on
          expect(o.refused !== undefined, `${engine.name} packet ${i}: ${o.refused ?? ''}`).toBe(kr.error === 'EINVAL');
          if (o.refused !== undefined) return;
          expect(o.retval, `${engine.name} packet ${i}`).toBe(kr.retval);
          if (c.hook !== 'socket') expect(toHex(o.data), `${engine.name} packet ${i}`).toBe(kr.dataOut);
        });
        const types = Object.fromEntries(collection.maps.map((m) => [m.name, m.typeName]));
        const clockless = (maps: Record<string, { key?: string; value: string }[]>) => Object.fromEntries(Object.entries(maps)
          .map(([name, entries]) => [name, c.clock?.includes(name) ? entries.map((e) => ({ key: e.key, value: 'time' })) : entries]));
        expect(clockless(normaliseMaps(dumpMaps(collection) as never, types)), engine.name).toEqual(clockless(normaliseMaps(k.maps, types)));
        expect(stream.summary.packets).toBe(packets.length);
      }
    });
  }
});
