/**
 * The interface every execution engine implements (the interpreter now, the
 * WebAssembly JIT later), so tools such as the conformance runner and the
 * CLI take any engine.
 */
import type { Machine } from './machine.js';
import type { PreparedProgram } from './prepared-program.js';
import { Execution, runExecution } from './interpreter.js';
import type { RunOptions, RunResult } from './interpreter.js';

/** A program made ready to run on one engine. */
export interface LoadedRunner {
  /** Runs the program once. */
  run(options?: RunOptions): RunResult;
  /**
   * Runs the program once per context address (r1 = the address, r2..r5 =
   * 0) and returns each run's r0; a fault stops the batch with its error.
   * The JIT does the whole batch in one call into WebAssembly.
   */
  runBatch?(ctxAddrs: Uint32Array, options?: Pick<RunOptions, 'checked' | 'budget' | 'cpu' | 'safeAccesses'> & { view?: boolean }): BigUint64Array;
}

/** An execution engine. */
export interface Engine {
  /** Short name used on the command line (`interp`, `jit`). */
  readonly name: string;
  /** Prepares `program` to run on `machine`. */
  load(machine: Machine, program: PreparedProgram): LoadedRunner;
}

/** The reference interpreter as an {@link Engine}; each runner reuses one execution state per CPU and mode. */
export const interpreterEngine: Engine = {
  name: 'interp',
  load(machine, program) {
    const executions = new Map<number, Execution>();
    return {
      run(options = {}) {
        const checked = options.checked ?? true;
        const key = (options.cpu ?? 0) * 2 + (checked ? 1 : 0);
        let exec = executions.get(key);
        if (exec === undefined) {
          exec = new Execution(machine, program, checked, options.cpu ?? 0, options.args ?? []);
          executions.set(key, exec);
        } else {
          exec.reset(options.args ?? []);
        }
        exec.safeAccesses = options.safeAccesses;
        return runExecution(exec, options);
      },
      runBatch(ctxAddrs, options = {}) {
        const out = new BigUint64Array(ctxAddrs.length);
        const args = [0];
        const each = { ...options, args };
        for (let i = 0; i < ctxAddrs.length; i++) {
          args[0] = ctxAddrs[i]!;
          out[i] = this.run(each).r0;
        }
        return out;
      },
    };
  },
};
