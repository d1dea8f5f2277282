/**
 * `bpf_trace_printk`, `bpf_trace_vprintk` and `bpf_snprintf`. Printed lines
 * go to a {@link TracePipe}, tsbpf's counterpart of
 * /sys/kernel/tracing/trace_pipe (the CLI's `tsbpf prog tracelog`).
 */
import { helperIdentity } from '../helper-call.js';
import type { Helper, HelperCall } from '../helper-call.js';
import { bpfFormat, readCString } from './printf-format.js';

/** One line written by a program. */
export interface TraceLine {
  /** CPU that printed it. */
  cpu: number;
  /** Monotonic time in nanoseconds. */
  timeNs: bigint;
  /** Text without the trailing newline. */
  text: string;
}

/** Collects trace output and hands it to subscribers as it comes. */
export class TracePipe {
  private readonly lines: TraceLine[] = [];
  private readonly listeners = new Set<(line: TraceLine) => void>();

  /** Most lines kept for {@link drain}; older ones are dropped. */
  constructor(readonly capacity = 65536) {}

  /** Adds a line. */
  write(line: TraceLine): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
    for (const l of this.listeners) l(line);
  }

  /** Takes every buffered line (like reading trace_pipe). */
  drain(): TraceLine[] {
    return this.lines.splice(0, this.lines.length);
  }

  /** Calls `fn` for each new line; returns an unsubscribe function. */
  subscribe(fn: (line: TraceLine) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Formats a line as trace_pipe shows it. */
export function formatTraceLine(line: TraceLine, comm: string, pid: number): string {
  const secs = Number(line.timeNs / 1000n) / 1e6;
  return `${`${comm}-${pid}`.padStart(16)} [${String(line.cpu).padStart(3, '0')}] ${secs.toFixed(6).padStart(13)}: bpf_trace_printk: ${line.text}`;
}

const MAX_TRACE_ARGS = 3;
const MAX_VARARGS = 12;
const EINVAL = -22;
const E2BIG = -7;

/** Reads the format string argument: `size` bytes that must end with NUL. */
function formatArg(c: HelperCall, arg: number, size: number): string | null {
  if (size === 0) return null;
  const addr = c.ptr(arg, size);
  if (c.space.bytes[addr + size - 1] !== 0) return null;
  return readCString(c.space, addr, size);
}

/** Reads `len` bytes of u64 arguments at argument register `arg`. */
function varArgs(c: HelperCall, arg: number, len: number): bigint[] | null {
  if (len % 8 !== 0 || len / 8 > MAX_VARARGS) return null;
  if (len === 0) return [];
  const addr = c.ptr(arg, len);
  const out: bigint[] = [];
  for (let i = 0; i < len; i += 8) out.push(c.space.data.getBigUint64(addr + i, true));
  return out;
}

/** Options of {@link printkHelpers}. */
export interface PrintkOptions {
  pipe: TracePipe;
  clock: () => bigint;
}

/** The printk family, writing to `pipe`. */
export function printkHelpers({ pipe, clock }: PrintkOptions): Helper[] {
  const emit = (c: HelperCall, text: string) => {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    pipe.write({ cpu: c.cpu, timeNs: clock(), text: body });
    c.ret(text.length);
  };
  return [
    {
      ...helperIdentity('bpf_trace_printk'), fn: (c) => {
        const fmt = formatArg(c, 1, c.u32(2));
        const text = fmt === null ? null : bpfFormat(fmt, [c.u64(3), c.u64(4), c.u64(5)].slice(0, MAX_TRACE_ARGS), c.space);
        if (text === null) return c.ret(EINVAL);
        emit(c, text);
      },
    },
    {
      ...helperIdentity('bpf_trace_vprintk'), fn: (c) => {
        const fmt = formatArg(c, 1, c.u32(2));
        const args = varArgs(c, 3, c.u32(4));
        if (args === null && c.u32(4) / 8 > MAX_VARARGS) return c.ret(E2BIG);
        const text = fmt === null || args === null ? null : bpfFormat(fmt, args, c.space);
        if (text === null) return c.ret(EINVAL);
        emit(c, text);
      },
    },
    {
      ...helperIdentity('bpf_snprintf'), fn: (c) => {
        const size = c.u32(2);
        const fmt = readCString(c.space, c.num(3), 4096);
        const args = varArgs(c, 4, c.u32(5));
        if (args === null && c.u32(5) / 8 > MAX_VARARGS) return c.ret(E2BIG);
        const text = fmt === null || args === null ? null : bpfFormat(fmt, args, c.space);
        if (text === null) return c.ret(EINVAL);
        const encoded = new TextEncoder().encode(text);
        if (size > 0) {
          const dst = c.ptr(1, size, true);
          const n = Math.min(encoded.length, size - 1);
          c.space.bytes.set(encoded.subarray(0, n), dst);
          c.space.bytes[dst + n] = 0;
        }
        c.ret(encoded.length + 1);
      },
    },
  ];
}
