/**
 * The `tsbpf` command. Thin: it parses flags and calls the library. Any
 * {@link TsbpfError} becomes one line on stderr and exit status 1; usage
 * errors exit with 2. No stack trace reaches the user for bad input.
 */
import { Command, CommanderError } from 'commander';
import { TsbpfError } from '../errors.js';
import { registerAsm } from './commands/asm.js';
import { registerBtf } from './commands/btf.js';
import { registerMap } from './commands/map.js';
import { registerProg } from './commands/prog.js';
import { registerConformance } from './commands/conformance.js';
import { registerDemo } from './commands/demo.js';
import { registerKernelOracle } from './commands/kernel-oracle.js';
import { registerRun } from './commands/run.js';
import { registerVerify } from './commands/verify.js';
import { registerPackets } from './commands/packets.js';
import { registerFilter } from './commands/filter.js';
import { registerSeccomp } from './commands/seccomp.js';
import { UsageError } from './options.js';
import { err } from './output.js';

/** Exit status for a usage error (unknown flag, missing argument). */
export const EXIT_USAGE = 2;
/** Exit status for bad input or a failed run. */
export const EXIT_FAILURE = 1;

/** Builds the command tree. */
export function buildCli(): Command {
  const program = new Command();
  program
    .name('tsbpf')
    .description('A BPF system in TypeScript: assemble, disassemble, verify and run eBPF programs')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerAsm(program);
  registerConformance(program);
  registerProg(program);
  registerMap(program);
  registerBtf(program);
  registerDemo(program);
  registerVerify(program);
  registerPackets(program);
  registerFilter(program);
  registerSeccomp(program);
  registerKernelOracle(program);
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs the CLI with `argv` (without the node and script entries); returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      err(`error: ${e.reason}`);
      err('(run with --help for usage)');
      return EXIT_USAGE;
    }
    if (e instanceof TsbpfError) {
      err(`tsbpf: ${e.message}`);
      return EXIT_FAILURE;
    }
    err(`tsbpf: internal error: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['TSBPF_DEBUG']) err(e instanceof Error && e.stack ? e.stack : '');
    return 3;
  }
}
