/** `tsbpf conformance PATHS…`: runs files of the eBPF conformance format. */
import { validChoice } from '../options.js';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { runConformanceText } from '../../conformance/run-conformance.js';
import { ENGINE_NAMES, engineByName } from '../../engines.js';
import type { Engine } from '../../vm/engine.js';
import { collectFiles, readTextFile } from '../../node/files.js';
import { out } from '../output.js';

/** Registers `conformance`. */
export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .description('run eBPF conformance tests (.data files or folders of them); prints each failure and "N passed, M failed"')
    .argument('<paths...>', 'test files or folders')
    .option('--engine <name>', 'execution engine: interp, jit', validChoice(ENGINE_NAMES), 'interp')
    .option('--unsafe', 'run in unchecked mode (accesses guarded by page rights only, no budget)')
    .option('-v, --verbose', 'print passing tests too')
    .action((paths: string[], flags: { engine: string; verbose?: boolean; unsafe?: boolean }) => {
      const engine = flags.unsafe ? unchecked(engineByName(flags.engine)) : engineByName(flags.engine);
      const files = collectFiles(paths, '.data');
      let passed = 0;
      let failed = 0;
      for (const file of files) {
        const outcome = runConformanceText(readTextFile(file), basename(file), engine);
        if (outcome.passed) {
          passed++;
          if (flags.verbose) out(`PASS ${file}${outcome.reason ? ` (${outcome.reason})` : ''}`);
        } else {
          failed++;
          out(`FAIL ${file}: ${outcome.reason}`);
        }
      }
      out(`${passed} passed, ${failed} failed`);
      if (failed > 0) process.exitCode = 1;
    });
}

/** `engine` with every run in unchecked mode (`--unsafe`). */
function unchecked(engine: Engine): Engine {
  return {
    name: engine.name,
    load(machine, program) {
      const runner = engine.load(machine, program);
      return { run: (options = {}) => runner.run({ ...options, checked: false }) };
    },
  };
}
