import { describe, expect, it } from 'vitest';
import { VmError } from '../../errors.js';
import { RingBufMap, RingBuffer } from './ringbuf.js';
import { MapError, MapType, RINGBUF_BUSY_BIT, RINGBUF_DISCARD_BIT } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, jmp, ldmap, mapMachine, mov, movr, run, signed, st } from '../../../test/support/map-programs.js';

const rspec = (size = 4096): MapSpec => ({ name: 'events', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size });

/** reserve `size` bytes, write `tag` as the first u32, then submit (or discard); returns 0, or 1 when the reservation failed. */
const reserveProgram = (ring: RingBufMap, size: number, tag: number, discard = false) => [
  ldmap(1, ring), mov(2, size), mov(3, 0), call(131),
  jmp('jne', 0, 0, 2), mov(0, 1), exit,
  st(4, 0, 0, tag),
  movr(1, 0), mov(2, 0), call(discard ? 133 : 132),
  mov(0, 0), exit,
];

/** bpf_ringbuf_output of 8 bytes from the stack; returns the helper result. */
const outputProgram = (ring: RingBufMap, v: number) => [
  st(8, 10, -8, v), ldmap(1, ring), movr(2, 10), add(2, -8), mov(3, 8), mov(4, 0), call(130), exit,
];

const queryProgram = (ring: RingBufMap, flags: number) => [ldmap(1, ring), mov(2, flags), call(134), exit];

function drain(ring: RingBufMap): number[][] {
  const out: number[][] = [];
  ring.consume((data) => {
    out.push([...data]);
  });
  return out;
}

describe('ring buffers', () => {
  it('deliver committed records in order, skipping discarded ones, in Linux\'s record format', () => {
    const m = mapMachine();
    const ring = m.maps.create(rspec()) as RingBufMap;
    expect(run(m, reserveProgram(ring, 4, 0x11))).toBe(0n);
    expect(run(m, reserveProgram(ring, 4, 0x22, true))).toBe(0n);
    expect(run(m, outputProgram(ring, 0x33))).toBe(0n);
    expect(run(m, reserveProgram(ring, 5, 0x44))).toBe(0n);
    const dv = m.space.data;
    // record 0: header len 4, pg_off 3 (Linux: data starts 3 pages into struct bpf_ringbuf)
    expect(dv.getUint32(ring.data.start, true)).toBe(4);
    expect(dv.getUint32(ring.data.start + 4, true)).toBe(3);
    expect(dv.getUint32(ring.data.start + 16, true)).toBe(4 | RINGBUF_DISCARD_BIT);
    expect(ring.producerPosition).toBe(16 + 16 + 16 + 16);
    expect(ring.records().map((r) => r.length)).toEqual([4, 8, 5]);
    expect(drain(ring)).toEqual([[0x11, 0, 0, 0], [0x33, 0, 0, 0, 0, 0, 0, 0], [0x44, 0, 0, 0, 0]]);
    expect(ring.consumerPosition).toBe(64);
    expect(drain(ring)).toEqual([]);
  });

  it('fail reservations when full (reserve returns NULL, output -EAGAIN) and recover after consuming', () => {
    const m = mapMachine();
    const ring = m.maps.create(rspec()) as RingBufMap;
    expect(run(m, reserveProgram(ring, 4000, 1))).toBe(0n); // 4008 bytes
    expect(run(m, reserveProgram(ring, 100, 2))).toBe(1n); // 4008 + 112 > 4095
    expect(run(m, reserveProgram(ring, 80, 3))).toBe(1n); // 4008 + 88 = 4096 > 4095: the ring keeps one byte free
    expect(run(m, reserveProgram(ring, 72, 4))).toBe(0n); // 4008 + 80 = 4088
    expect(signed(run(m, outputProgram(ring, 5)))).toBe(-11);
    expect(run(m, reserveProgram(ring, 4090, 6))).toBe(1n); // larger than the ring
    expect(ring.availableData).toBe(4088);
    expect(drain(ring).map((r) => r[0])).toEqual([1, 4]);
    expect(signed(run(m, outputProgram(ring, 5)))).toBe(0);
    expect(drain(ring).map((r) => r[0])).toEqual([5]);
  });

  it('wrap around: a record crossing the end is contiguous for the program and for the consumer', () => {
    const m = mapMachine();
    const ring = m.maps.create(rspec()) as RingBufMap;
    const pattern = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);
    let seed = 0;
    let sawWrap = false;
    for (let round = 0; round < 40; round++) {
      const size = 500 + ((round * 37) % 400);
      const before = ring.producerPosition % 4096;
      const rec = ring.reserve(size);
      expect(rec).not.toBe(0);
      if (before + 8 + size > 4096) sawWrap = true;
      m.space.write(rec, new Uint8Array(pattern(size, seed)));
      ring.commit(rec, false);
      const got = drain(ring);
      expect(got).toEqual([pattern(size, seed)]);
      if (before + 8 + size > 4096) {
        // Linux's second mapping: the tail of the record is also at the start of the ring.
        const tail = before + 8 + size - 4096;
        expect([...m.space.read(ring.data.start, tail)]).toEqual(pattern(size, seed).slice(size - tail));
      }
      seed++;
    }
    expect(sawWrap).toBe(true);
  });

  it('a reserved, unsubmitted record blocks the consumer until it is committed', () => {
    const m = mapMachine();
    const ring = m.maps.create(rspec()) as RingBufMap;
    const a = ring.reserve(8);
    const b = ring.reserve(8);
    m.space.data.setUint32(b, 2, true);
    ring.commit(b, false);
    expect(drain(ring)).toEqual([]);
    expect(m.space.data.getUint32(a - 8, true) & RINGBUF_BUSY_BIT).not.toBe(0);
    m.space.data.setUint32(a, 1, true);
    ring.commit(a, false);
    expect(drain(ring).map((r) => r[0])).toEqual([1, 2]);
    expect(() => ring.commit(a, false)).toThrow(VmError);
  });

  it('answer bpf_ringbuf_query', () => {
    const m = mapMachine();
    const ring = m.maps.create(rspec(8192)) as RingBufMap;
    run(m, outputProgram(ring, 1));
    run(m, outputProgram(ring, 2));
    expect(run(m, queryProgram(ring, 0))).toBe(32n); // BPF_RB_AVAIL_DATA
    expect(run(m, queryProgram(ring, 1))).toBe(8192n); // BPF_RB_RING_SIZE
    expect(run(m, queryProgram(ring, 2))).toBe(0n); // BPF_RB_CONS_POS
    expect(run(m, queryProgram(ring, 3))).toBe(32n); // BPF_RB_PROD_POS
    expect(run(m, queryProgram(ring, 9))).toBe(0n);
    ring.consume(() => undefined, 1);
    expect(run(m, queryProgram(ring, 2))).toBe(16n);
    expect(run(m, queryProgram(ring, 0))).toBe(16n);
  });

  it('stop consuming when the callback returns a negative number, like libbpf', () => {
    const m = mapMachine();
    const a = m.maps.create(rspec()) as RingBufMap;
    const b = m.maps.create({ ...rspec(), name: 'other' }) as RingBufMap;
    for (const v of [1, 2, 3]) run(m, outputProgram(a, v));
    run(m, outputProgram(b, 9));
    const seen: number[] = [];
    expect(a.consume((d) => (seen.push(d[0]!), d[0] === 2 ? -5 : 0))).toBe(-5);
    expect(seen).toEqual([1, 2]);
    const rb = new RingBuffer().add(a, (d) => void seen.push(d[0]!)).add(b, (d) => void seen.push(d[0]!));
    expect(rb.poll(100)).toBe(2);
    expect(seen).toEqual([1, 2, 3, 9]);
  });

  it('have no elements for bpf(2) (ENOTSUPP) and refuse element helpers', () => {
    const m = mapMachine();
    const ring = m.maps.create(rspec()) as RingBufMap;
    const err = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return e instanceof MapError ? e.errno : String(e);
      }
    };
    expect(err(() => ring.lookup(null))).toBe('ENOTSUPP');
    expect(err(() => ring.update(null, new Uint8Array(0)))).toBe('ENOTSUPP');
    expect(err(() => ring.nextKey(null))).toBe('ENOTSUPP');
    const lookup = [st(4, 10, -4, 0), movr(2, 10), add(2, -4), ldmap(1, ring), call(1), exit];
    expect(() => run(m, lookup)).toThrow(/cannot pass map_type 27 into func bpf_map_lookup_elem#1/);
    // submitting something that is not a record
    const bad = [movr(1, 10), add(1, -8), mov(2, 0), call(132), exit];
    expect(() => run(m, bad)).toThrow(/insn 3: bpf_ringbuf_submit: R1 = .* is not a record from bpf_ringbuf_reserve/);
    // reserve with flags returns NULL
    expect(run(m, [ldmap(1, ring), mov(2, 8), mov(3, 1), call(131), exit])).toBe(0n);
  });
});
