/**
 * The kernel oracle: the running Linux kernel's verifier and
 * BPF_PROG_TEST_RUN behind JSON-like requests (`probe`, `verify`, `run`),
 * in-process, through the bpf(2) backend. Every request gets one reply and
 * never an exception; every fd a request opens is closed before its reply,
 * except the maps that `verify` keeps for reuse (see
 * {@link KernelOracleOptions.reuseMaps}), which {@link KernelOracle.close}
 * closes.
 */
import { Capability, withCapabilitiesLowered } from '../bpf/capabilities.js';
import { possibleCpus } from '../bpf/cpus.js';
import { errnoName, errnoText } from '../bpf/errno.js';
import { BpfSyscallError, BpfUnavailableError } from '../bpf/syscall-errors.js';
import { libcStatus } from '../bpf/libc.js';
import { closeFd } from '../bpf/syscall.js';
import { OracleFailure, inputError } from './failure.js';
import { isObject, repr, type Fields } from './fields.js';
import { createMaps, dumpMap, initMaps, mapsKey, parseMaps, type OracleMap } from './oracle-maps.js';
import { progTypeNum } from './oracle-names.js';
import { loadFromRequest, type Loaded } from './oracle-programs.js';
import { probe } from './oracle-probe.js';
import type { OracleReply, OracleRunResult } from './protocol.js';
import { runInput } from './oracle-test-run.js';

/** How a {@link KernelOracle} works. */
export interface KernelOracleOptions {
  /**
   * Keep the maps of `verify` requests and give them to the next request
   * with the same maps list (default true). Verification does not change a
   * map, so this is safe for the types in {@link REUSABLE_MAP_TYPES}; lists
   * with any other type (prog arrays, which remember the first program
   * type that used them; devmaps, cpumaps, arenas, ...) are created and
   * closed per request, and so are the maps of every `run`.
   */
  reuseMaps?: boolean;
  /** How many distinct maps lists are kept (least recently used ones are closed). Default 16. */
  mapCacheSize?: number;
}

/** Map types whose maps `verify` may reuse across requests. */
export const REUSABLE_MAP_TYPES: ReadonlySet<string> = new Set([
  'hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps',
  'hash_of_maps', 'queue', 'stack', 'bloom_filter', 'ringbuf', 'perf_event_array', 'stack_trace',
]);

const COMMANDS = ['probe', 'verify', 'run'] as const;

/** File descriptors a request opened; closed when it ends. */
class Session {
  readonly fds: number[] = [];

  close(): void {
    for (const fd of this.fds) closeFd(fd);
    this.fds.length = 0;
  }
}

function loadResultJson(res: Loaded): OracleReply {
  const out: OracleReply = {
    ok: true, accepted: res.accepted, errno: res.errno, log: res.log, insn_processed: res.insnProcessed, log_truncated: res.logTruncated,
  };
  if (res.errno) {
    out.errno_name = errnoName(res.errno);
    out.error = errnoText(res.errno);
  }
  return out;
}

function notPermitted(res: Loaded): OracleFailure {
  return new OracleFailure(`BPF_PROG_LOAD not permitted: ${errnoText(res.errno)} (the verifier did not run)`, res.errno, 'load', { log: res.log });
}

/** Fields of a run request that each of its `inputs` inherits. */
const INHERITED_RUN_FIELDS = ['repeat', 'flags', 'cpu', 'batch_size', 'data_size_out', 'ctx_size_out'];

/** The running kernel as an oracle. */
export class KernelOracle {
  private readonly reuseMaps: boolean;
  private readonly cacheSize: number;
  /** Kept maps by caps and maps list, least recently used first. */
  private readonly cache = new Map<string, number[]>();

  constructor(options: KernelOracleOptions = {}) {
    this.reuseMaps = options.reuseMaps ?? true;
    this.cacheSize = Math.max(0, options.mapCacheSize ?? 16);
  }

  /** Answers a batch of requests, one reply each, in order. */
  ask(requests: readonly unknown[]): OracleReply[] {
    return requests.map((r) => this.handle(r));
  }

  /** Answers one request. Never throws. */
  handle(req: unknown): OracleReply {
    try {
      if (!isObject(req)) throw inputError('request must be a JSON object');
      const cmd = req['cmd'];
      if (typeof cmd !== 'string' || !(COMMANDS as readonly string[]).includes(cmd)) {
        throw inputError(`unknown cmd ${repr(cmd)} (one of: ${COMMANDS.join(', ')})`);
      }
      if (cmd === 'probe') return probe();
      const caps = req['caps'];
      if (caps !== undefined && caps !== null && caps !== 'bpf') throw inputError(`unknown caps ${repr(caps)} (known: bpf)`);
      const status = libcStatus();
      if (!status.ok) throw new OracleFailure(status.reason, 0, 'bpf');
      const go = () => (cmd === 'verify' ? this.verify(req, caps === 'bpf') : this.run(req));
      return caps === 'bpf' ? withCapabilitiesLowered([Capability.SYS_ADMIN, Capability.PERFMON], go) : go();
    } catch (err) {
      if (err instanceof OracleFailure) return err.toReply();
      if (err instanceof BpfSyscallError) return { ok: false, error: err.message, errno: err.errno, errno_name: err.errnoName };
      if (err instanceof BpfUnavailableError) return { ok: false, error: err.message, stage: 'bpf' };
      return { ok: false, error: `internal error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` };
    }
  }

  /** Closes every map kept for reuse. The oracle stays usable. */
  close(): void {
    for (const fds of this.cache.values()) for (const fd of fds) closeFd(fd);
    this.cache.clear();
  }

  /** How many map fds are kept open for reuse. */
  get keptMaps(): number {
    let n = 0;
    for (const fds of this.cache.values()) n += fds.length;
    return n;
  }

  /** Gives `maps` their fds: kept ones, or new ones (kept when reusable, else closed with the session). */
  private acquireMaps(maps: OracleMap[], session: Session, reusable: boolean, caps: boolean): void {
    const key = reusable && this.reuseMaps && this.cacheSize > 0 && maps.length > 0 && maps.every((m) => REUSABLE_MAP_TYPES.has(m.typeName))
      ? `${caps ? 'bpf' : 'all'}:${mapsKey(maps)}` : null;
    if (key !== null) {
      const fds = this.cache.get(key);
      if (fds) {
        this.cache.delete(key);
        this.cache.set(key, fds);
        maps.forEach((m, i) => { m.fd = fds[i]!; });
        return;
      }
    }
    try {
      createMaps(maps);
    } catch (err) {
      for (const m of maps) session.fds.push(m.fd);
      throw err;
    }
    if (key === null) {
      for (const m of maps) session.fds.push(m.fd);
      return;
    }
    this.cache.set(key, maps.map((m) => m.fd));
    while (this.cache.size > this.cacheSize) {
      const [oldest, fds] = this.cache.entries().next().value as [string, number[]];
      for (const fd of fds) closeFd(fd);
      this.cache.delete(oldest);
    }
  }

  private verify(req: Fields, caps: boolean): OracleReply {
    const session = new Session();
    try {
      const maps = parseMaps(req, possibleCpus);
      this.acquireMaps(maps, session, true, caps);
      const res = loadFromRequest(req, maps);
      session.fds.push(res.fd);
      if (res.refused) throw notPermitted(res);
      return loadResultJson(res);
    } finally {
      session.close();
    }
  }

  private run(req: Fields): OracleReply {
    const session = new Session();
    try {
      const maps = parseMaps(req, possibleCpus);
      this.acquireMaps(maps, session, false, false);
      const progType = progTypeNum(req['prog_type']);
      const res = loadFromRequest(req, maps);
      if (res.refused) throw notPermitted(res);
      if (!res.accepted) {
        throw new OracleFailure(`program rejected by the verifier: ${errnoText(res.errno)}`, res.errno, 'load', {
          accepted: false, log: res.log, insn_processed: res.insnProcessed,
        });
      }
      session.fds.push(res.fd);
      const extraFds = this.loadExtraPrograms(req, maps, session);
      initMaps(req, maps, res.fd, extraFds);
      const inputs = req['inputs'];
      let results: OracleRunResult[];
      if (inputs === undefined || inputs === null) {
        results = [runInput(res.fd, progType, req)];
      } else {
        if (!Array.isArray(inputs) || inputs.length === 0) throw inputError('inputs must be a non-empty list');
        results = inputs.map((inp: unknown, n) => {
          if (!isObject(inp)) throw inputError(`inputs[${n}] must be an object`);
          const merged: Record<string, unknown> = {};
          for (const k of INHERITED_RUN_FIELDS) if (req[k] !== undefined) merged[k] = req[k];
          Object.assign(merged, inp);
          return runInput(res.fd, progType, merged);
        });
      }
      const out: OracleReply = { ok: true, ...results[results.length - 1]! };
      if (inputs !== undefined && inputs !== null) out.results = results;
      out.log = res.log;
      out.insn_processed = res.insnProcessed;
      const dumpMaps = req['dump_maps'];
      if (dumpMaps === undefined || dumpMaps === null ? true : Boolean(dumpMaps)) out.maps = maps.filter((m) => m.dump).map(dumpMap);
      return out;
    } finally {
      session.close();
    }
  }

  /** Loads `progs` (each inherits the main program's fields); returns their fds. */
  private loadExtraPrograms(req: Fields, maps: readonly OracleMap[], session: Session): number[] {
    const extra = req['progs'] ?? [];
    if (!Array.isArray(extra)) throw inputError('progs must be a list');
    return extra.map((p: unknown, k) => {
      if (!isObject(p)) throw inputError(`progs[${k}] must be an object`);
      const res = loadFromRequest({ ...req, ...p }, maps, `progs[${k}].insns`);
      if (!res.accepted) {
        throw new OracleFailure(`progs[${k}] rejected by the verifier: ${errnoText(res.errno)}`, res.errno, 'load', { accepted: false, prog: k, log: res.log });
      }
      session.fds.push(res.fd);
      return res.fd;
    });
  }
}
