/**
 * BTF through bpf(2): BPF_BTF_LOAD of a raw `.BTF` blob, with the kernel's
 * BTF verifier log.
 */
import { AttrSize, BpfCommand, MAX_LOG_SIZE, MIN_LOG_SIZE } from './syscall-abi.js';
import { Attr } from './attr.js';
import { addressOf, bpfRaw } from './syscall.js';

/** What the kernel said about a BTF blob. */
export interface BtfLoadResult {
  /** The BTF object's fd (the caller closes it), or -1. */
  fd: number;
  /** 0, or the errno of the refusal. */
  errno: number;
  /** The BTF verifier's log ("" at log level 0). */
  log: string;
}

/** Loads a raw BTF blob (header, types, strings). Never throws for the kernel's refusal. */
export function loadBtf(btf: Uint8Array, options: { logLevel?: number; logSize?: number } = {}): BtfLoadResult {
  const logLevel = options.logLevel ?? 0;
  const logSize = Math.min(Math.max(options.logSize ?? 1 << 20, MIN_LOG_SIZE), MAX_LOG_SIZE);
  const log = logLevel ? new Uint8Array(logSize) : null;
  const a = new Attr(AttrSize.BTF_LOAD)
    .u64(0, addressOf(btf)).u64(8, addressOf(log)).u32(16, btf.length)
    .u32(20, log ? logSize : 0).u32(24, logLevel);
  const r = bpfRaw(BpfCommand.BTF_LOAD, a.bytes, AttrSize.BTF_LOAD);
  let text = '';
  if (log) {
    const end = log.indexOf(0);
    text = new TextDecoder().decode(log.subarray(0, end < 0 ? logSize : end));
  }
  return { fd: r < 0 ? -1 : r, errno: r < 0 ? -r : 0, log: text };
}
