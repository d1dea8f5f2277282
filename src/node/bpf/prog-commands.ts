/**
 * Programs through bpf(2): BPF_PROG_LOAD with the verifier's log (grown and
 * retried while the kernel says ENOSPC) and BPF_PROG_TEST_RUN.
 */
import { AttrSize, BpfCommand, MAX_LOG_SIZE, MIN_LOG_SIZE } from './syscall-abi.js';
import { Attr } from './attr.js';
import { Errno } from './errno.js';
import { BpfSyscallError } from './syscall-errors.js';
import { nameBytes } from './map-commands.js';
import { addressOf, bpfRaw } from './syscall.js';

/** Default size of the first verifier log buffer: 16 MiB. */
export const DEFAULT_LOG_SIZE = 16 << 20;

/** What BPF_PROG_LOAD takes. */
export interface ProgLoadOptions {
  /** `enum bpf_prog_type` number. */
  type: number;
  /** Raw instructions, 8 bytes each, map references already resolved to fds. */
  insns: Uint8Array;
  /** License string (default "GPL"). */
  license?: string | Uint8Array;
  /** Verifier log level: 0 none, 1 verdict and errors, 2 every instruction, 4 statistics (bits). */
  logLevel?: number;
  /** First log buffer size (default 16 MiB; at least 128 bytes, at most 1 GiB). */
  logSize?: number;
  /** Grow the log and load again while the kernel answers ENOSPC (default true). */
  growLog?: boolean;
  /** `prog_flags` (BPF_F_STRICT_ALIGNMENT, BPF_F_SLEEPABLE, ...). */
  flags?: number;
  /** `enum bpf_attach_type` number. */
  expectedAttachType?: number;
  kernVersion?: number;
  /** Name: at most 15 bytes are kept. */
  name?: string | Uint8Array;
  ifindex?: number;
  attachBtfId?: number;
  /** `attach_prog_fd` / `attach_btf_obj_fd`. */
  attachFd?: number;
  /** fds that `BPF_PSEUDO_MAP_IDX` references index (and the maps the program may use). */
  fdArray?: readonly number[];
  /** BTF of the program (func_info / line_info refer to it). */
  btfFd?: number;
  funcInfo?: { recSize: number; bytes: Uint8Array };
  lineInfo?: { recSize: number; bytes: Uint8Array };
}

/** What the kernel said about a program. */
export interface ProgLoadResult {
  /** The program's fd (the caller closes it), or -1 when it was refused. */
  fd: number;
  /** 0, or the errno of the refusal (EACCES / EINVAL from the verifier, EPERM, ...). */
  errno: number;
  /** The verifier log ("" at log level 0). */
  log: string;
  /** The log was cut short: the kernel still said ENOSPC at the largest size. */
  logTruncated: boolean;
  /** Log size the kernel needed, terminating NUL included (`log_true_size`, Linux 6.4+; 0 before). */
  logTrueSize: number;
}

const encoder = new TextEncoder();

let sharedLog: Buffer | null = null;

/**
 * A log buffer of at least `size` bytes. Buffers up to the default size
 * are one buffer reused by every load; its pages are only touched as far
 * as logs reach. Larger ones are allocated for the call.
 */
function logBuffer(size: number): Buffer {
  if (size <= DEFAULT_LOG_SIZE) {
    sharedLog ??= Buffer.allocUnsafeSlow(DEFAULT_LOG_SIZE);
    return sharedLog;
  }
  return Buffer.allocUnsafeSlow(size);
}

/** The log text the kernel wrote: up to its NUL, never past what it said it wrote. */
function logText(buf: Buffer, size: number, trueSize: number): string {
  let end = buf.indexOf(0);
  if (end < 0 || end > size) end = size;
  if (trueSize > 0 && trueSize - 1 < end) end = trueSize - 1;
  return end <= 0 ? '' : buf.toString('utf8', 0, end);
}

/** Clamps a log size to what the kernel takes. */
export function clampLogSize(size: number): number {
  return Math.min(Math.max(size, MIN_LOG_SIZE), MAX_LOG_SIZE);
}

const attr = new Attr(AttrSize.PROG_LOAD);

/**
 * Loads a program. Never throws for the kernel's refusal: the result holds
 * the errno and the log. (Only a machine without bpf(2) throws.)
 */
export function loadProgram(o: ProgLoadOptions): ProgLoadResult {
  const license = typeof o.license === 'string' || o.license === undefined ? encoder.encode(`${o.license ?? 'GPL'}\0`) : o.license;
  const logLevel = o.logLevel ?? 0;
  let logSize = clampLogSize(o.logSize ?? DEFAULT_LOG_SIZE);
  const fdArray = o.fdArray?.length ? new Int32Array(o.fdArray) : null;
  const fdArrayBytes = fdArray ? new Uint8Array(fdArray.buffer) : null;
  const name = nameBytes(o.name);
  for (;;) {
    const log = logLevel ? logBuffer(logSize) : null;
    if (log) {
      log[0] = 0;
      log[logSize - 1] = 0;
    }
    attr.clear()
      .u32(0, o.type).u32(4, Math.floor(o.insns.length / 8)).u64(8, addressOf(o.insns)).u64(16, addressOf(license))
      .u32(24, logLevel).u32(28, log ? logSize : 0).u64(32, addressOf(log))
      .u32(40, o.kernVersion ?? 0).u32(44, o.flags ?? 0).chars(48, 16, name)
      .u32(64, o.ifindex ?? 0).u32(68, o.expectedAttachType ?? 0).u32(72, o.btfFd ?? 0)
      .u32(108, o.attachBtfId ?? 0).u32(112, o.attachFd ?? 0);
    if (o.funcInfo) attr.u32(76, o.funcInfo.recSize).u64(80, addressOf(o.funcInfo.bytes)).u32(88, Math.floor(o.funcInfo.bytes.length / o.funcInfo.recSize));
    if (o.lineInfo) attr.u32(92, o.lineInfo.recSize).u64(96, addressOf(o.lineInfo.bytes)).u32(104, Math.floor(o.lineInfo.bytes.length / o.lineInfo.recSize));
    if (fdArrayBytes) attr.u64(120, addressOf(fdArrayBytes));
    const r = bpfRaw(BpfCommand.PROG_LOAD, attr.bytes, AttrSize.PROG_LOAD);
    const logTrueSize = attr.getU32(140);
    const text = log ? logText(log, logSize, logTrueSize) : '';
    const errno = r < 0 ? -r : 0;
    if (errno === Errno.ENOSPC && logLevel && (o.growLog ?? true) && logSize < MAX_LOG_SIZE) {
      logSize = Math.min(Math.max(logTrueSize + 4096, logSize * 4), MAX_LOG_SIZE);
      continue;
    }
    return { fd: r < 0 ? -1 : r, errno, log: text, logTruncated: errno === Errno.ENOSPC && logLevel !== 0, logTrueSize };
  }
}

/** What BPF_PROG_TEST_RUN takes. */
export interface TestRunOptions {
  progFd: number;
  /** Packet (or other data) in. */
  dataIn?: Uint8Array | null;
  /** Size of the data_out buffer (0: none). */
  dataSizeOut?: number;
  /** Context in (`struct xdp_md`, `struct __sk_buff`, tracing arguments, ...). */
  ctxIn?: Uint8Array | null;
  /** Size of the ctx_out buffer (0: none). */
  ctxSizeOut?: number;
  /** Repetitions (0 and 1 both mean one run; some types refuse anything but 0). */
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

/** What a test run gave back. */
export interface TestRunResult {
  /** r0 at exit (`__u32`). */
  retval: number;
  /** Average ns per repetition, as the kernel measured it. */
  duration: number;
  /** Bytes the kernel wrote to data_out (may exceed dataOut's length only on ENOSPC). */
  dataSizeOut: number;
  /** The data_out buffer (null when none was given). */
  dataOut: Uint8Array | null;
  ctxSizeOut: number;
  /** The ctx_out buffer (null when none was given). */
  ctxOut: Uint8Array | null;
  /** The ctx_in buffer as the kernel left it (syscall programs write their context back in place). */
  ctxIn: Uint8Array | null;
}

/** Runs a loaded program once (or `repeat` times). Throws {@link BpfSyscallError} when the kernel refuses. */
export function testRun(o: TestRunOptions): TestRunResult {
  const dataIn = o.dataIn?.length ? o.dataIn : null;
  const ctxIn = o.ctxIn?.length ? Uint8Array.from(o.ctxIn) : null;
  const dataOut = o.dataSizeOut ? new Uint8Array(o.dataSizeOut) : null;
  const ctxOut = o.ctxSizeOut ? new Uint8Array(o.ctxSizeOut) : null;
  const a = new Attr(AttrSize.PROG_TEST_RUN)
    .u32(0, o.progFd).u32(8, dataIn?.length ?? 0).u32(12, dataOut?.length ?? 0)
    .u64(16, addressOf(dataIn)).u64(24, addressOf(dataOut)).u32(32, o.repeat ?? 0)
    .u32(40, ctxIn?.length ?? 0).u32(44, ctxOut?.length ?? 0).u64(48, addressOf(ctxIn)).u64(56, addressOf(ctxOut))
    .u32(64, o.flags ?? 0).u32(68, o.cpu ?? 0).u32(72, o.batchSize ?? 0);
  const r = bpfRaw(BpfCommand.PROG_TEST_RUN, a.bytes, AttrSize.PROG_TEST_RUN);
  if (r < 0) throw new BpfSyscallError(BpfCommand.PROG_TEST_RUN, -r);
  return {
    retval: a.getU32(4), duration: a.getU32(36),
    dataSizeOut: a.getU32(12), dataOut, ctxSizeOut: a.getU32(44), ctxOut, ctxIn,
  };
}
