/** How verifier results are printed: libbpf's log framing on stderr, and the JSON rows of `verify`/`prog load`. */
import { TsbpfError } from '../errors.js';
import type { VerifyResult } from '../verifier/index.js';
import { err } from './output.js';

const ERRNO_TEXT: Record<string, string> = {
  EACCES: 'Permission denied', EINVAL: 'Invalid argument', E2BIG: 'Argument list too long', EFAULT: 'Bad address',
  ENOTSUPP: 'unknown error (524)', EPERM: 'Operation not permitted', ENOSPC: 'No space left on device',
};
const ERRNO_NUM: Record<string, number> = {
  EACCES: 13, EINVAL: 22, E2BIG: 7, EFAULT: 14, ENOTSUPP: 524, EPERM: 1, ENOSPC: 28, ESRCH: 3, ENOTSUP: 95, EOPNOTSUPP: 95, ENOENT: 2, EBADF: 9,
};

/** One program's verdict as `--json` prints it. */
export interface VerdictRow {
  name: string;
  section: string;
  type: string;
  accepted: boolean;
  error: string | null;
  insns_processed: number;
}

/** The JSON row of a verified program. */
export function verdictRow(name: string, section: string, type: string, result: VerifyResult): VerdictRow {
  return { name, section, type, accepted: result.accepted, error: result.error, insns_processed: result.insnsProcessed };
}

/**
 * Prints a program's verifier log to stderr as libbpf frames it: always for
 * a rejected program (with the failure lines), for an accepted one only when
 * a log level was asked for.
 */
export function printVerifierLog(name: string, result: VerifyResult, level: 0 | 1 | 2): void {
  if (result.stage === 'loader') {
    // libbpf refused it before the kernel saw it: its message, then bpftool's failure line.
    process.stderr.write(result.log);
    err(`prog '${name}': failed to load: -${ERRNO_NUM[result.errno ?? 'EINVAL'] ?? 22}`);
    return;
  }
  if (!result.accepted) {
    const errno = result.errno ?? 'EINVAL';
    err(`prog '${name}': BPF program load failed: ${ERRNO_TEXT[errno] ?? errno}`);
    err(`prog '${name}': -- BEGIN PROG LOAD LOG --`);
    process.stderr.write(level > 0 ? result.log : logTail(result.log));
    err('-- END PROG LOAD LOG --');
    err(`prog '${name}': failed to load: -${ERRNO_NUM[errno] ?? 22}`);
  } else if (level > 0) {
    err(`prog '${name}': -- BEGIN PROG LOAD LOG --`);
    process.stderr.write(result.log);
    err('-- END PROG LOAD LOG --');
  }
}

/** Lines of a rejected program's log shown without `--log-level`: the end, where the failure is. */
export const LOG_TAIL_LINES = 40;

/**
 * The last {@link LOG_TAIL_LINES} lines of a log, after a line saying how
 * many came before: a program over the complexity limit logs a million
 * lines, and the reason is at the end.
 */
export function logTail(log: string): string {
  const lines = log.endsWith('\n') ? log.slice(0, -1).split('\n') : log.split('\n');
  if (lines.length <= LOG_TAIL_LINES) return log;
  const skipped = lines.length - LOG_TAIL_LINES;
  return `... ${skipped} earlier line${skipped === 1 ? '' : 's'} (--log-level 1 prints the whole log)\n${lines.slice(skipped).join('\n')}\n`;
}

/** Parses `--log-level`. */
export function parseLogLevel(text: string): 0 | 1 | 2 {
  if (text === '0' || text === '1' || text === '2') return Number(text) as 0 | 1 | 2;
  throw new TsbpfError(`--log-level must be 0, 1 or 2 (got '${text}')`);
}
