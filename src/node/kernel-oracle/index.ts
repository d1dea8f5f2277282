/**
 * The project's kernel oracle: the running Linux kernel's verifier and
 * BPF_PROG_TEST_RUN answering JSON-like requests (docs/testing.md lists
 * every field). {@link ask} uses one shared {@link KernelOracle} per
 * process; create your own for a separate map cache.
 */
import { KernelOracle } from './oracle.js';
import type { OracleReply } from './protocol.js';

export { KernelOracle, REUSABLE_MAP_TYPES } from './oracle.js';
export type { KernelOracleOptions } from './oracle.js';
export type {
  OracleRequest, OracleReply, OracleMapSpec, OracleProgramFields, OracleRunInput, OracleMapInit, OracleRunResult, OracleMapDump,
} from './protocol.js';
export { probe } from './oracle-probe.js';

let shared: KernelOracle | undefined;

/** The process's shared oracle. */
export function sharedOracle(): KernelOracle {
  shared ??= new KernelOracle();
  return shared;
}

/** Answers a batch of requests with the shared oracle: one reply per request, in order. */
export function ask(requests: readonly unknown[]): OracleReply[] {
  return sharedOracle().ask(requests);
}

/**
 * Answers request text as the command line does: a JSON object gives one
 * reply object, a JSON array an array of replies; text that is not JSON
 * gives an `ok: false` reply.
 */
export function answerJson(text: string, oracle: KernelOracle = sharedOracle()): OracleReply | OracleReply[] {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `request is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, stage: 'input' };
  }
  return Array.isArray(req) ? oracle.ask(req) : oracle.handle(req);
}
