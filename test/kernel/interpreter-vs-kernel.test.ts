/**
 * Differential test: random ALU/jump/stack/atomic programs give the same
 * final registers and stack (written into the packet) and the same return
 * value in the interpreter as in the Linux kernel (BPF_PROG_TEST_RUN).
 */
import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../../src/isa/encode.js';
import { XdpContext } from '../../src/hooks/xdp.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import { interpret } from '../../src/vm/interpreter.js';
import { ask, kernelAvailable, toHex } from '../support/kernel-oracle.js';
import { randomStateProgram, STATE_BYTES } from '../support/random-programs.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping kernel differential tests: ${kernel.reason}`);

const PROGRAMS = 400;
const BASE_SEED = 0x5eed0000;

describe.skipIf(!kernel.ok)('interpreter vs Linux kernel', () => {
  it(`gives the kernel's registers, stack and return value for ${PROGRAMS} random programs`, () => {
    const packet = new Uint8Array(STATE_BYTES);
    const programs = Array.from({ length: PROGRAMS }, (_, i) => encodeProgram(randomStateProgram(BASE_SEED + i, 20 + (i % 60))));
    const replies = ask(programs.map((p) => ({ cmd: 'run', prog_type: 'xdp', insns: toHex(p), data_in: toHex(packet), repeat: 1 })));
    let compared = 0;
    for (let i = 0; i < PROGRAMS; i++) {
      const reply = replies[i]!;
      const seed = BASE_SEED + i;
      expect(reply.ok, `seed ${seed}: kernel refused the program: ${reply.error}\n${reply.log}`).toBe(true);
      const machine = new Machine();
      const xdp = new XdpContext(machine);
      xdp.load(packet);
      const result = interpret(machine, prepareProgram(programs[i]!), { args: [xdp.ctx.start] });
      expect({ seed, retval: Number(result.r0 & 0xffffffffn), data: toHex(xdp.dataOut()) })
        .toEqual({ seed, retval: reply.retval, data: reply.data_out });
      compared++;
    }
    console.log(`interpreter vs kernel: ${compared} random programs, identical registers, stack and return values`);
  });
});
