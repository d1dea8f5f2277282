/**
 * The programs of a request: instructions from hex with map references
 * resolved, and BPF_PROG_LOAD with the request's log level, flags and
 * attach type.
 */
import { release } from 'node:os';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, LDDW_OPCODE } from '../bpf/syscall-abi.js';
import { Errno } from '../bpf/errno.js';
import { DEFAULT_LOG_SIZE, clampLogSize, loadProgram } from '../bpf/prog-commands.js';
import { inputError } from './failure.js';
import { field, has, intField, parseHex, text, type Fields } from './fields.js';
import type { OracleMap } from './oracle-maps.js';
import { PROG_FLAGS, attachTypeNum, progTypeNum } from './oracle-names.js';
import { flagsNum } from './fields.js';

/** What the kernel said about one program. */
export interface Loaded {
  /** fd, or -1 when refused. */
  fd: number;
  errno: number;
  log: string;
  logTruncated: boolean;
  /** Accepted by the verifier. */
  accepted: boolean;
  /** EPERM before the verifier ran (it would have logged why). */
  refused: boolean;
  /** The last "processed N insns" of the log, or null. */
  insnProcessed: number | null;
}

/**
 * A copy of `insns` in which every `lddw` with src_reg 1 (BPF_PSEUDO_MAP_FD)
 * or 2 (BPF_PSEUDO_MAP_VALUE) has imm = N meaning "maps[N]", replaced by
 * that map's fd.
 */
export function patchInsns(insns: Uint8Array, maps: readonly OracleMap[], what: string): Uint8Array {
  if (insns.length % 8) throw inputError(`${what}: ${insns.length} bytes is not a whole number of 8-byte instructions`);
  if (!insns.length) throw inputError(`${what}: no instructions`);
  const code = Uint8Array.from(insns);
  const view = new DataView(code.buffer);
  const count = code.length / 8;
  for (let i = 0; i < count;) {
    const off = i * 8;
    if (code[off] === LDDW_OPCODE) {
      const src = code[off + 1]! >> 4;
      if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE) {
        const idx = view.getInt32(off + 4, true);
        if (idx < 0 || idx >= maps.length) throw inputError(`${what}: instruction ${i}: lddw map index ${idx} out of range (${maps.length} maps)`);
        view.setInt32(off + 4, maps[idx]!.fd, true);
      }
      i += 2;
    } else {
      i += 1;
    }
  }
  return code;
}

let kernelVersionCode: number | undefined;

/** LINUX_VERSION_CODE of the running kernel (`6.18.44` → 0x6122c), for `kern_version`. */
function kernelVersion(): number {
  if (kernelVersionCode === undefined) {
    const nums = [...(release().match(/\d+/g) ?? []).slice(0, 3), '0', '0', '0'].map(Number);
    kernelVersionCode = (nums[0]! << 16) + (nums[1]! << 8) + Math.min(nums[2]!, 255);
  }
  return kernelVersionCode;
}

const PROCESSED = /processed (\d+) insns/g;

/** The number of the last "processed N insns" line of a log. */
export function insnProcessed(log: string): number | null {
  let last: string | undefined;
  for (const m of log.matchAll(PROCESSED)) last = m[1];
  return last === undefined ? null : Number(last);
}

/** Loads the program described by `req` (its `insns` field) against `maps`. */
export function loadFromRequest(req: Fields, maps: readonly OracleMap[], what = 'insns'): Loaded {
  const type = progTypeNum(field(req, 'prog_type'));
  const insns = patchInsns(parseHex(field(req, 'insns'), what), maps, what);
  const license = has(req, 'license') ? text(req['license']) : 'GPL';
  const logLevel = intField(req, 'log_level', 1);
  const logSize = clampLogSize(intField(req, 'log_size', DEFAULT_LOG_SIZE));
  const flags = flagsNum(field(req, 'prog_flags'), PROG_FLAGS, 'prog flag');
  const expectedAttachType = attachTypeNum(field(req, 'expected_attach_type'));
  const kv = field(req, 'kern_version');
  const kernVersion = kv === undefined || kv === null ? kernelVersion() : Number(kv) >>> 0;
  const name = has(req, 'prog_name') ? text(req['prog_name']) : '';
  const ifindex = intField(req, 'prog_ifindex', 0);
  const attachBtfId = intField(req, 'attach_btf_id', 0);
  const r = loadProgram({
    type, insns, license, logLevel, logSize, flags, expectedAttachType, kernVersion, name: new TextEncoder().encode(name).subarray(0, 15),
    ifindex, attachBtfId, fdArray: maps.map((m) => m.fd),
  });
  return {
    fd: r.fd, errno: r.errno, log: r.log, logTruncated: r.logTruncated, accepted: r.fd >= 0,
    refused: r.errno === Errno.EPERM && !r.log, insnProcessed: insnProcessed(r.log),
  };
}
