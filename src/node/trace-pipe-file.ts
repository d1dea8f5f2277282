/**
 * Host adapter: a trace pipe that outlives one command, so `tsbpf prog run`
 * can leave `bpf_trace_printk` output for `tsbpf prog tracelog` the way
 * programs leave it in /sys/kernel/tracing/trace_pipe.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where lines wait to be read: `$TSBPF_TRACE_PIPE`, or a file in the temp folder. */
export function tracePipePath(): string {
  return process.env['TSBPF_TRACE_PIPE'] ?? join(tmpdir(), `tsbpf-${typeof process.getuid === 'function' ? process.getuid() : 0}`, 'trace_pipe');
}

/** Appends formatted lines. */
export function appendTraceLines(lines: readonly string[]): void {
  if (lines.length === 0) return;
  const path = tracePipePath();
  mkdirSync(join(path, '..'), { recursive: true });
  appendFileSync(path, lines.map((l) => l + '\n').join(''));
}

/** Reads and removes every waiting line. */
export function drainTraceLines(): string[] {
  const path = tracePipePath();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  rmSync(path, { force: true });
  return text.split('\n').filter((l) => l !== '');
}
