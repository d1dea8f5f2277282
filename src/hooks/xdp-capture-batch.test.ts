/**
 * The capture driver's WebAssembly flow hash against runtime/flow-hash.ts,
 * which the worker threads' dealing has used all along: the same worker
 * for every frame, so a flow goes where it went before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flowHash } from '../runtime/flow-hash.js';
import { captureBatchKernels } from './xdp-capture-batch.js';

const memory = new WebAssembly.Memory({ initial: 2 });
const kernels = captureBatchKernels(memory, false);
const AT = 1000;

function wasmHash(frame: Uint8Array): number {
  new Uint8Array(memory.buffer).set(frame, AT);
  return kernels.flowHash(AT, frame.length);
}

/** Frames that reach every branch: VLAN tags, IPv4 (options, fragments, port protocols), IPv6, short and cut frames. */
const frames = fc.record({
  tags: fc.array(fc.constantFrom(0x8100, 0x88a8, 0x0800), { maxLength: 3 }),
  type: fc.constantFrom(0x0800, 0x86dd, 0x0806, 0x8100),
  version: fc.constantFrom(4, 6, 5),
  ihl: fc.integer({ min: 0, max: 15 }),
  proto: fc.constantFrom(6, 17, 132, 136, 1, 58, 0),
  fragment: fc.constantFrom(0, 0x2000, 0x0001, 0x4000, 0xc000),
  // (size 'max': fast-check otherwise keeps arrays to a few bytes, too short for an IPv6 header)
  body: fc.uint8Array({ minLength: 0, maxLength: 120, size: 'max' }),
  cut: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 140 })),
}).map(({ tags, type, version, ihl, proto, fragment, body, cut }) => {
  const b: number[] = [...Array.from({ length: 12 }, (_, i) => (i * 37 + body.length) & 0xff)];
  for (const t of tags) b.push(t >> 8, t & 0xff, 0, 5);
  b.push(type >> 8, type & 0xff);
  const l3 = [(version << 4) | ihl, 0, 0, 40, 0, 0, fragment >> 8, fragment & 0xff, 64, proto];
  if (type === 0x86dd) l3[6] = proto;
  b.push(...l3, ...body);
  return Uint8Array.from(b.slice(0, Math.max(0, b.length - cut)));
});

describe('capture driver flow hash', () => {
  it('equals flowHash on random frames', () => {
    fc.assert(fc.property(frames, (frame) => { expect(wasmHash(frame)).toBe(flowHash(frame)); }), { numRuns: 20_000 });
  });

  it('equals flowHash on fixed frames of each kind', () => {
    const tcp4 = Uint8Array.from([...new Array(12).fill(1), 8, 0, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 80, ...new Array(16).fill(0)]);
    for (const f of [tcp4, tcp4.subarray(0, 13), new Uint8Array(0), new Uint8Array(60)]) expect(wasmHash(f)).toBe(flowHash(f));
  });
});
