/**
 * Issue 10's soundness holes that are not the verifier's alone: what the
 * runtime must refuse so that an accepted program cannot reach what it may
 * not. Each case is checked against the kernel (bpftool / the kernel
 * oracle) where the machine allows it, and on both engines.
 * The verifier-only cases (byte swaps, maybe_fork_scalars, inner-map
 * nullness, sleepable map types) are `soundness/*` programs of the
 * differential corpus (test/verifier/corpus/handwritten.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../../src/errors.js';
import { parseObject } from '../../src/loader/object.js';
import { loadCollection } from '../../src/runtime/collection.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import { jitEngine } from '../../src/jit/index.js';
import { MapError } from '../../src/vm/maps/types.js';
import { BpftoolError, kernelAvailable, runObjectInKernel } from '../support/bpftool.js';
import { ask, kernelAvailable as oracleAvailable } from '../support/kernel-oracle.js';
import { toHex } from './corpus/common.js';

const FIXTURES = new URL('../fixtures/soundness/', import.meta.url);
const ENGINES = [interpreterEngine, jitEngine];
const FRAME = new Uint8Array(64);

function open(file: string, possibleCpus = 1) {
  const bytes = new Uint8Array(readFileSync(new URL(file, FIXTURES)));
  return loadCollection(parseObject(bytes, { name: file }), { possibleCpus });
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

describe('a prog array holds programs of one type (case 5)', () => {
  it('refuses a tc program in the prog array an XDP program uses; takes another XDP program', () => {
    for (const engine of ENGINES) {
      const c = open('tail_mixed.o');
      const jump = c.map('jump');
      const tc = c.program({ name: 'tc_mark' });
      const drop = c.program({ name: 'xdp_drop' });
      let err: unknown;
      try {
        jump.update(u32(0), u32(tc.id), 0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MapError);
      expect((err as MapError).errno).toBe('EINVAL');
      expect((err as MapError).message).toMatch(/sched_cls.*cannot join.*xdp/);
      expect(jump.entries()).toEqual([]);
      jump.update(u32(0), u32(drop.id), 0);
      expect(c.run(c.program({ name: 'xdp_entry' }), { dataIn: FRAME }, engine).retval).toBe(1);
    }
  });

  it('a program whose prog array is bound to another type is refused before it runs', () => {
    for (const engine of ENGINES) {
      const c = open('tail_shared.o');
      const tc = c.program({ name: 'tc_entry' });
      expect(c.program({ name: 'xdp_entry' }).loadError).toBeUndefined();
      expect(tc.loadError).toMatch(/prog array 'jump', which holds xdp programs: a sched_cls program cannot tail-call/);
      const verdict = c.verify(tc);
      expect(verdict.accepted).toBe(false);
      expect(verdict.errno).toBe('EINVAL');
      expect(() => c.run(tc, { dataIn: FRAME }, engine)).toThrow(/cannot run: it uses prog array 'jump'/);
      expect(c.run(c.program({ name: 'xdp_entry' }), { dataIn: FRAME }, engine).retval).toBe(2);
    }
  });

  it('the kernel refuses the same update (bpftool)', (ctx) => {
    const avail = kernelAvailable();
    if (!avail.ok) {
      console.log(`kernel check skipped: ${avail.reason}`);
      ctx.skip();
      return;
    }
    const path = new URL('tail_mixed.o', FIXTURES).pathname;
    expect(() => runObjectInKernel(path, { program: 'xdp_entry', dataIn: FRAME, mapInit: { jump: [{ key: '00000000', value: 'prog:tc_mark' }] } }))
      .toThrow(BpftoolError);
    const ok = runObjectInKernel(path, { program: 'xdp_entry', dataIn: FRAME, mapInit: { jump: [{ key: '00000000', value: 'prog:xdp_drop' }] } });
    expect(ok.retval).toBe(1);
    // libbpf loads xdp_entry first; the kernel then refuses tc_entry, and with it the object.
    const shared = new URL('tail_shared.o', FIXTURES).pathname;
    expect(() => runObjectInKernel(shared, { program: 'xdp_entry', dataIn: FRAME })).toThrow(BpftoolError);
  });
});

describe('runs stay on the CPUs the verifier assumed (case 7)', () => {
  it('verifies bpf_get_smp_processor_id() against the collection\'s possible CPUs and refuses other CPUs', () => {
    const c = open('tail_mixed.o', 3);
    const xdp = c.program({ name: 'xdp_drop' });
    expect(c.run(xdp, { dataIn: FRAME, cpu: 2 }).retval).toBe(1);
    expect(() => c.run(xdp, { dataIn: FRAME, cpu: 3 })).toThrow(/CPU 3 is not one of the 3 possible CPUs/);
  });
});

describe('repeat is the kernel\'s u32 (case 8)', () => {
  it('takes 0 as one run and refuses counts beyond 2^32-1 with a clear error', () => {
    const c = open('tail_mixed.o');
    const xdp = c.program({ name: 'xdp_drop' });
    expect(c.run(xdp, { dataIn: FRAME, repeat: 0 }).retval).toBe(1);
    for (const repeat of [2 ** 32, 99_999_999_999, -1, 1.5]) {
      expect(() => c.run(xdp, { dataIn: FRAME, repeat })).toThrow(TsbpfError);
      expect(() => c.run(xdp, { dataIn: FRAME, repeat })).toThrow(/repeat must be an integer from 0 to 4294967295/);
    }
  });
});

describe('contexts are as large as the verifier lets a program use (case 6)', () => {
  it('records the largest context and tracepoint-buffer offsets (max_ctx_offset, max_tp_access)', () => {
    const c = open('ctx_sizes.o');
    expect(c.verify(c.program({ name: 'sys_far' })).maxCtxOffset).toBe(1008);
    expect(c.verify(c.program({ name: 'tp_far' })).maxCtxOffset).toBe(4008);
    const w = c.verify(c.program({ name: 'tp_writable' }));
    expect([w.accepted, w.maxCtxOffset, w.maxTpAccess]).toEqual([true, 8, 4008]);
  });

  it('a syscall program needs a ctx_in that covers what it uses, as in the kernel', (ctx) => {
    const ctxFor = (n: number) => {
      const b = new Uint8Array(n);
      if (n > 1000) b[1000] = 7;
      return b;
    };
    for (const engine of ENGINES) {
      const c = open('ctx_sizes.o');
      const sys = c.program({ name: 'sys_far' });
      expect(c.run(sys, { ctxIn: ctxFor(1008) }, engine).retval).toBe(1);
      expect(() => c.run(sys, { ctxIn: ctxFor(1007) }, engine)).toThrow(/up to byte 1008: ctx_in must be at least that long, not 1007 bytes \(EINVAL/);
      expect(() => c.run(sys, {}, engine)).toThrow(/not 0 bytes/);
    }
    const avail = oracleAvailable();
    if (!avail.ok) {
      console.log(`kernel check skipped: ${avail.reason}`);
      ctx.skip();
      return;
    }
    const insns = toHex(open('ctx_sizes.o').program({ name: 'sys_far' }).spec.insns);
    const replies = ask([1008, 1007, 0].map((n) => ({
      cmd: 'run' as const, prog_type: 'syscall', prog_flags: ['sleepable'], insns, repeat: 0, ...(n ? { ctx_in: toHex(ctxFor(n)) } : {}),
    })));
    expect(replies.map((r) => (r.ok ? r.retval : /EINVAL/.test(String(r.error)) ? 'EINVAL' : r.error))).toEqual([1, 'EINVAL', 'EINVAL']);
  });

  it('a tracepoint program reading 4 KiB into its record gets a context that long (zeroes past ctx_in)', () => {
    for (const engine of ENGINES) {
      const c = open('ctx_sizes.o');
      expect(c.run(c.program({ name: 'tp_far' }), { ctxIn: new Uint8Array(16).fill(0xff) }, engine).retval).toBe(3);
    }
  });

  it('refuses to test-run types whose contexts hold pointers to objects it does not build', () => {
    const c = open('ctx_sizes.o');
    expect(() => c.run(c.program({ name: 'tp_writable' }), { ctxIn: new Uint8Array(96) }))
      .toThrow(/raw_tracepoint_writable program cannot be test-run: its first argument points to the tracepoint's writable buffer/);
  });

  it('clears the nullable socket pointer of an sk_lookup context whatever ctx_in says', () => {
    for (const engine of ENGINES) {
      const c = open('ctx_sizes.o');
      const ctxIn = new Uint8Array(72);
      new DataView(ctxIn.buffer).setBigUint64(0, 0x10000n, true); // a forged "socket" address
      expect(c.run(c.program({ name: 'lookup' }), { ctxIn }, engine).retval).toBe(1); // SK_PASS: ctx->sk is NULL
    }
  });
});
