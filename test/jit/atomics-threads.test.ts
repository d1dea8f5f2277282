/**
 * Atomics on shared memory are real: two worker threads run the same
 * compiled program (lock add, 32- and 64-bit, and a cmpxchg retry loop) on
 * one shared `WebAssembly.Memory`, and no update is lost.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { compileToWasm } from '../../src/jit/index.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, memory, consts } = workerData;
const mod = new WebAssembly.Module(bytes);
const env = {};
for (const imp of WebAssembly.Module.imports(mod)) {
  if (imp.kind === 'memory') env[imp.name] = memory;
  else if (imp.kind === 'table') env[imp.name] = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
  else if (imp.kind === 'global') {
    const c = consts[imp.name];
    env[imp.name] = new WebAssembly.Global({ value: c.type, mutable: c.mutable }, c.type === 'i64' ? BigInt(c.value) : c.value);
  } else env[imp.name] = () => { throw new Error('unexpected call of ' + imp.name); };
}
const inst = new WebAssembly.Instance(mod, { env });
// Start together: wait for the main thread's go.
const flag = new Int32Array(memory.buffer, workerData.flag, 1);
parentPort.postMessage('ready');
Atomics.wait(flag, 0, 0);
parentPort.postMessage(String(inst.exports.run(0, 0)));
`;

const ITERATIONS = 2_000_000;

describe('atomics on shared memory', () => {
  it('lose no update when two threads run the program at once', async () => {
    const machine = new Machine({ shared: true, cpus: 3 });
    const counters = machine.space.allocate('counters', 'scratch', 32);
    const flag = machine.space.allocate('flag', 'internal', 8);
    let ready = 0;
    const go = () => {
      if (++ready < 2) return;
      const f = new Int32Array(machine.space.memory.buffer, flag.start, 1);
      Atomics.store(f, 0, 1);
      Atomics.notify(f, 0);
    };
    const src = `
      r6 = ${counters.start} ll
      r7 = ${ITERATIONS}
    loop:
      r8 = 1
      lock *(u64 *)(r6 + 0) += r8
      lock *(u32 *)(r6 + 8) += r8
    cas:
      r0 = *(u64 *)(r6 + 16)
      r2 = r0
      r1 = r0
      r1 += 1
      r0 = cmpxchg_64(r6 + 16, r0, r1)
      if r0 != r2 goto cas
      r7 -= 1
      if r7 != 0 goto loop
      r0 = 0
      exit
    `;
    const prog = prepareProgram(assemble(src).bytes);
    const { bytes } = compileToWasm(prog, { checked: false, machine });
    const runs = [1, 2].map((cpuIndex) => {
      const cpu = machine.cpu(cpuIndex);
      const consts = {
        regs: { type: 'i32', mutable: false, value: cpu.regfile.start },
        fpTop: { type: 'i32', mutable: false, value: cpu.stack.start + cpu.stack.size },
        stackLimit: { type: 'i32', mutable: false, value: cpu.stack.start },
        stackLo: { type: 'i64', mutable: false, value: String(cpu.stack.start) },
        cpu: { type: 'i32', mutable: false, value: cpuIndex },
        fpNow: { type: 'i32', mutable: true, value: 0 },
        faultReg: { type: 'i64', mutable: true, value: '0' },
        faultOff: { type: 'i32', mutable: true, value: 0 },
        faultInfo: { type: 'i32', mutable: true, value: 0 },
      };
      return new Promise<string>((resolve, reject) => {
        const w = new Worker(WORKER, { eval: true, workerData: { bytes, memory: machine.space.memory, consts, flag: flag.start } });
        w.on('message', (m: string) => {
          if (m === 'ready') return go();
          void w.terminate();
          resolve(m);
        });
        w.once('error', reject);
      });
    });
    expect(await Promise.all(runs)).toEqual(['0', '0']);
    const d = machine.space.data;
    expect(d.getBigUint64(counters.start, true)).toBe(BigInt(2 * ITERATIONS));
    expect(d.getUint32(counters.start + 8, true)).toBe(2 * ITERATIONS);
    expect(d.getBigUint64(counters.start + 16, true)).toBe(BigInt(2 * ITERATIONS));
  });
});
