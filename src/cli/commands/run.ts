/** `tsbpf run FILE`: runs a raw or assembled program with the conformance convention. */
import type { Command } from 'commander';
import { ENGINE_NAMES, engineByName } from '../../engines.js';
import { TsbpfError } from '../../errors.js';
import { HelperTable } from '../../vm/helper-call.js';
import { Machine } from '../../vm/machine.js';
import { prepareProgram } from '../../vm/prepared-program.js';
import { standardHelpers } from '../../vm/helpers/basic.js';
import { loadProgramFile, parseHex, readFileBytes } from '../../node/files.js';
import { err, hex64, out } from '../output.js';
import { printTraceStep } from '../trace.js';
import { inFile, parseCount, validChoice, validCount } from '../options.js';

interface RunFlags {
  mem?: string;
  memFile?: string;
  engine: string;
  json?: boolean;
  trace?: boolean;
  budget?: string;
  unsafe?: boolean;
  syntax: 'auto' | 'llvm' | 'conformance';
}

/** Registers `run`. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a program (.s/.asm text in either syntax, .bin raw instructions) with r1 = memory, r2 = its length; prints r0')
    .argument('<file>', 'program file')
    .option('--mem <hex>', 'input memory as hex bytes')
    .option('--mem-file <path>', 'input memory from a file')
    .option('--engine <name>', 'execution engine: interp, jit', validChoice(ENGINE_NAMES), 'interp')
    .option('--unsafe', 'unchecked mode: accesses guarded by page rights only, no default budget (only for programs a verifier accepted)')
    .option('--json', 'print {"r0":"0x…","insns":N}')
    .option('--trace', 'print every executed instruction with the registers it changed to stderr')
    .option('--budget <n>', 'stop after this many instructions (default 10000000)', validCount)
    .option('--syntax <syntax>', 'assembly syntax of text files: auto, llvm, conformance', validChoice(['auto', 'llvm', 'conformance']), 'auto')
    .action((file: string, flags: RunFlags) => {
      if (flags.mem !== undefined && flags.memFile !== undefined) throw new TsbpfError('give --mem or --mem-file, not both');
      const engine = engineByName(flags.engine);
      const { bytes } = loadProgramFile(file, flags.syntax);
      const mem = flags.mem !== undefined ? parseHex(flags.mem, '--mem') : flags.memFile !== undefined ? readFileBytes(flags.memFile) : null;
      const machine = new Machine({ helpers: new HelperTable(standardHelpers()) });
      let r1 = 0;
      if (mem !== null) {
        const region = machine.space.allocate('input', 'input', mem.length);
        machine.space.write(region.start, mem);
        r1 = region.start;
      }
      const prog = inFile(file, () => prepareProgram(bytes, { name: file, helpers: machine.helpers }));
      const budget = flags.budget !== undefined ? parseCount(flags.budget, '--budget') : undefined;
      const trace = flags.trace ? printTraceStep : undefined;
      // the JIT has no per-instruction hook: say so instead of silently switching engines
      if (trace && flags.engine === 'jit') err('note: --trace runs the program on the interpreter (the JIT cannot trace instructions)');
      const runner = engine.load(machine, prog);
      const checked = !flags.unsafe;
      // an unchecked JIT run counts instructions only under a budget: give it one that never runs out
      const limit = budget ?? (checked ? undefined : Number.MAX_SAFE_INTEGER);
      const result = inFile(file, () => runner.run({ args: [r1, mem?.length ?? 0], checked, ...(limit !== undefined ? { budget: limit } : {}), ...(trace ? { trace } : {}) }));
      const counted = result.insns >= 0;
      if (flags.json) out(JSON.stringify(counted ? { r0: hex64(result.r0), insns: result.insns } : { r0: hex64(result.r0) }));
      else out(`r0 = ${hex64(result.r0)} (${result.r0})${counted ? `, ${result.insns} instructions` : ''}`);
    });
}
