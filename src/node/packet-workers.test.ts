/**
 * runCaptureOnWorkers as a library, and the attach path under it: a second
 * load attached to a shared memory finds every map at the same address
 * with its contents (and hash seed) as the first load left them.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../errors.js';
import { loadObjectFiles } from './objects.js';
import { runCaptureOnWorkers } from './packet-workers.js';
import { BloomFilterMap } from '../vm/maps/bloom.js';
import { RingBufMap } from '../vm/maps/ringbuf.js';

const FLOW_COUNT = fileURLToPath(new URL('../../test/fixtures/pkt/flow_count.o', import.meta.url));
const WORKER_QUEUE = fileURLToPath(new URL('../../test/fixtures/pkt/worker_queue.o', import.meta.url));
const FIREWALL = fileURLToPath(new URL('../../examples/xdp_firewall.o', import.meta.url));
const TRAFFIC = fileURLToPath(new URL('../../samples/traffic.pcap', import.meta.url));

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (b: Uint8Array | undefined) => (b === undefined ? -1 : Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)));

describe('attaching to a shared memory', () => {
  it('lays the maps out at the same addresses and leaves their contents alone', () => {
    const load = { files: [FLOW_COUNT], possibleCpus: 2, shared: true };
    const { collection: first } = loadObjectFiles(load);
    first.map('protos').update(u32(6), new Uint8Array(8).fill(1));
    first.map('totals').update(u32(0), new Uint8Array([42, 0, 0, 0, 0, 0, 0, 0]));
    const { collection: second } = loadObjectFiles(load, first.machine.space.share());
    expect(second.maps.map((m) => m.address)).toEqual(first.maps.map((m) => m.address));
    // the hash seed came from the memory, so the key is found; the array kept its value
    expect(second.map('protos').lookup(u32(6))).toEqual(new Uint8Array(8).fill(1));
    expect(u64(second.map('totals').lookup(u32(0)))).toBe(42);
    // and an insert through one is seen through the other
    second.map('protos').update(u32(17), new Uint8Array(8).fill(2));
    expect(first.map('protos').lookup(u32(17))).toEqual(new Uint8Array(8).fill(2));
  });
});

describe('runCaptureOnWorkers', () => {
  it('runs a capture on 2 workers, hands packets over in capture order, and the maps add up', async () => {
    const load = { files: [FLOW_COUNT], possibleCpus: 2, shared: true };
    const { collection } = loadObjectFiles(load);
    const program = collection.program({ name: 'flow_count' });
    const seen: number[] = [];
    const { summary } = await runCaptureOnWorkers(collection, {
      load, program, hook: 'xdp', engine: 'jit', workers: 2, capture: TRAFFIC, keepPassing: true,
      onPacket: (o, p) => {
        seen.push(p.index);
        expect(o.action).toBe('XDP_PASS');
        expect(o.data.length).toBeGreaterThan(0);
      },
    });
    expect(summary.packets).toBe(108);
    // the kept packets (those that pass: all but the 8 DNS packets flow_count redirects), in capture order
    expect(seen).toHaveLength(100);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(u64(collection.map('totals').lookup(u32(0)))).toBe(108);
    const perCpu = collection.map('percpu_packets').lookup(u32(0))!;
    expect(u64(perCpu.subarray(0, 8)) + u64(perCpu.subarray(8, 16))).toBe(108);
  });

  it('a worker\'s failure stops the run with its error, and every worker ends', async () => {
    const load = { files: [FLOW_COUNT], possibleCpus: 2, shared: true };
    const { collection } = loadObjectFiles(load);
    // each worker looks the engine up itself: a name no engine has fails there, before any packet
    const run = runCaptureOnWorkers(collection, { load, program: collection.program(), hook: 'xdp', engine: 'no-such-engine', workers: 2, capture: TRAFFIC });
    await expect(run).rejects.toThrow(TsbpfError);
    await expect(run).rejects.toThrow(/no-such-engine/);
  });

  it('a worker that lays the object out differently (other load options) stops the run before any packet', async () => {
    const { collection } = loadObjectFiles({ files: [FLOW_COUNT], possibleCpus: 2, shared: true });
    // per-CPU maps with 4 slots each: everything after the first one moves
    const load = { files: [FLOW_COUNT], possibleCpus: 4, shared: true };
    const run = runCaptureOnWorkers(collection, { load, program: collection.program(), hook: 'xdp', engine: 'jit', workers: 2, capture: TRAFFIC });
    await expect(run).rejects.toThrow(/laid the object out differently|layout/);
    expect(u64(collection.map('totals').lookup(u32(0)))).toBe(0);
  });

  it('loses no push into a queue, a stack, a bloom filter or a ring buffer from 4 workers', async () => {
    const load = { files: [WORKER_QUEUE], possibleCpus: 4, shared: true };
    const { collection } = loadObjectFiles(load);
    const { summary } = await runCaptureOnWorkers(collection, { load, program: collection.program(), hook: 'xdp', engine: 'jit', workers: 4, capture: TRAFFIC });
    expect(summary.packets).toBe(108);
    expect(summary.actions['XDP_PASS']?.packets).toBe(108);
    const all = [...Array(108).keys()];
    // every packet's ticket exactly once in each, whatever the interleaving
    for (const name of ['queue', 'stack']) {
      const tickets = collection.map(name).entries().map((e) => u64(e.value)).sort((a, b) => a - b);
      expect(tickets, name).toEqual(all);
    }
    const seen = collection.map('seen');
    expect(seen).toBeInstanceOf(BloomFilterMap);
    const bytes = (n: number) => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
    expect(all.filter((n) => !(seen as BloomFilterMap).contains(bytes(n)))).toEqual([]);
    const events = collection.map('events');
    expect(events).toBeInstanceOf(RingBufMap);
    expect((events as RingBufMap).records().map((r) => u64(r)).sort((a, b) => a - b)).toEqual(all);
  });

  it('refuses a program whose maps workers cannot share, naming the map', async () => {
    const load = { files: [FIREWALL], possibleCpus: 2, shared: true };
    const { collection } = loadObjectFiles(load);
    const run = runCaptureOnWorkers(collection, { load, program: collection.program(), hook: 'xdp', engine: 'jit', workers: 2, capture: TRAFFIC });
    await expect(run).rejects.toThrow(TsbpfError);
    await expect(run).rejects.toThrow(/map 'blocked' \(lpm_trie\)/);
  });
});
