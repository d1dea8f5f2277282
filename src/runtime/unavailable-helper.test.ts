/**
 * A helper tsbpf cannot run (bpf_sk_lookup_tcp, test/fixtures/pkt/
 * unavailable.c) never blocks loading or verifying: the program runs until
 * it reaches the call, and then stops with an error naming the helper and
 * the instruction, on both engines. Calls of helpers the kernel does not
 * offer the program type are named as such.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm/index.js';
import { HookContexts } from '../hooks/contexts.js';
import { helpersForType } from '../hooks/type-helpers.js';
import { progTypeId } from '../hooks/program-types.js';
import { TestRunner } from '../hooks/test-run.js';
import { jitEngine } from '../jit/jit-engine.js';
import { parseObject } from '../loader/object.js';
import { interpreterEngine } from '../vm/engine.js';
import { UnavailableHelperError } from '../vm/helper-call.js';
import { Machine } from '../vm/machine.js';
import { prepareProgram } from '../vm/prepared-program.js';
import { loadCollection } from './collection.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const UDP = hex('02000000000a02000000000b0800 4500002400004000401166c30a0000010a000002 303901bb001042a7 0102030405060708');
const TCP = hex('02000000000a02000000000b0800 45000028123440004006149a0a0000010a000003 c82201bb00000001000000005002faf0ab5c0000');

describe.each([['interp', interpreterEngine], ['jit', jitEngine]] as const)('helpers tsbpf cannot run (%s)', (_n, engine) => {
  it('load and verify; the run stops only when the call executes', () => {
    const c = loadCollection(parseObject(new Uint8Array(readFileSync(new URL('../../test/fixtures/pkt/unavailable.o', import.meta.url))), { name: 'unavailable.o' }));
    const p = c.program({ name: 'lookup' });
    expect(c.verify(p).accepted).toBe(true);
    expect(c.run(p, { dataIn: UDP }, engine).retval).toBe(2);
    let error: unknown;
    try {
      c.run(p, { dataIn: TCP }, engine);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnavailableHelperError);
    expect((error as UnavailableHelperError).message).toBe('bpf_sk_lookup_tcp#84 at insn 33: not available in user space');
    expect([(error as UnavailableHelperError).helperId, (error as UnavailableHelperError).pc]).toEqual([84, 33]);
  });

  it('names helpers the program type is not offered', () => {
    const contexts = new HookContexts();
    const machine = new Machine();
    const runner = new TestRunner(machine, contexts);
    // bpf_xdp_adjust_head (44) from a tc program: the kernel's verifier refuses it; an unverified run stops at it.
    const prog = prepareProgram(assemble('r0 = 0\ncall 44\nexit').bytes, { helpers: helpersForType(progTypeId('sched_cls'), contexts) });
    expect(() => runner.run(prog, progTypeId('sched_cls'), engine, { dataIn: UDP })).toThrow('bpf_xdp_adjust_head#44 at insn 1: not available to sched_cls programs');
  });
});
