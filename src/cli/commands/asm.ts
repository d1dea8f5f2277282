/** `tsbpf asm` and `tsbpf disasm`. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assemble, disassemble } from '../../asm/index.js';
import type { Syntax } from '../../asm/index.js';
import { TsbpfError } from '../../errors.js';
import { programToWat } from '../../jit/index.js';
import { prepareProgram } from '../../vm/prepared-program.js';
import { loadProgramFile, readTextFile } from '../../node/files.js';
import { inFile, validChoice } from '../options.js';
import { out } from '../output.js';

const SYNTAXES: readonly Syntax[] = ['llvm', 'conformance', 'kernel'];

/** Registers `asm` and `disasm`. */
export function registerAsm(program: Command): void {
  program
    .command('asm')
    .description('assemble a text program (llvm or conformance syntax) into raw instructions')
    .argument('<in>', 'assembly file')
    .requiredOption('-o, --output <out.bin>', 'where to write the raw little-endian instructions')
    .option('--syntax <syntax>', 'auto, llvm, conformance', validChoice(['auto', 'llvm', 'conformance']), 'auto')
    .action((input: string, flags: { output: string; syntax: 'auto' | 'llvm' | 'conformance' }) => {
      const { bytes } = assemble(readTextFile(input), { syntax: flags.syntax, file: input });
      try {
        writeFileSync(flags.output, bytes);
      } catch (e) {
        throw new TsbpfError(`cannot write: ${e instanceof Error ? e.message : String(e)}`, { file: flags.output });
      }
      out(`${flags.output}: ${bytes.length / 8} instruction slots, ${bytes.length} bytes`);
    });

  program
    .command('disasm')
    .description('disassemble a program (raw .bin, or text that is assembled first)')
    .argument('<file>', 'program file')
    .option('--syntax <syntax>', 'llvm (llvm-objdump), conformance, kernel (verifier log)', validChoice(SYNTAXES), 'llvm')
    .option('--labels', 'print jump targets as labels instead of offsets')
    .option('--no-addresses', 'omit the slot numbers')
    .option('--wat', 'print the WebAssembly module the JIT generates (WAT text) instead')
    .option('--unsafe', 'with --wat: the unchecked-mode module (page guards instead of bounds checks, no budget)')
    .action((file: string, flags: { syntax: Syntax; labels?: boolean; addresses: boolean; wat?: boolean; unsafe?: boolean }) => {
      if (flags.wat) {
        const wat = inFile(file, () => programToWat(prepareProgram(loadProgramFile(file).bytes, { name: file, allowPseudo: true }), { checked: !flags.unsafe }));
        process.stdout.write(wat);
        return;
      }
      const text = inFile(file, () => disassemble(loadProgramFile(file).bytes, { syntax: flags.syntax, labels: flags.labels ?? false, addresses: flags.addresses }));
      process.stdout.write(text);
    });
}
