/**
 * Parsing of option values, with errors that name the option. The
 * `valid*` functions are commander argument parsers: a bad value is a
 * usage error (exit status 2) reported before the command does anything,
 * the same way for every command.
 */
import { InvalidArgumentError } from 'commander';
import type { ClassicFormat } from '../cbpf/listings.js';
import { TsbpfError } from '../errors.js';
import { attachTypeId, progTypeId } from '../hooks/program-types.js';
import { MAX_REPEAT } from '../hooks/test-run.js';

/**
 * A bad option value found only once the command runs (a malformed
 * `--map-init NAME=FILE`, `--write-action ACTION=FILE`): a usage error
 * like commander's own, exit status 2.
 */
export class UsageError extends TsbpfError {}

/** A positive integer option value. */
export function parseCount(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim())) throw new TsbpfError(`${option}: '${text}' is not a positive integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new TsbpfError(`${option}: '${text}' is out of range`);
  return n;
}

/** Parses `--repeat`: the kernel's u32, where 0 means one run. */
export function parseRepeat(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new TsbpfError(`--repeat: '${text}' is not an integer from 0 to ${MAX_REPEAT}`);
  const n = Number(text);
  if (n > MAX_REPEAT) throw new TsbpfError(`--repeat: ${text} is out of range (0 to ${MAX_REPEAT}, the kernel's u32)`);
  return n === 0 ? 1 : n;
}

/** Runs `fn`, adding `file` to the location of any tsbpf error it throws. */
export function inFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TsbpfError && e.location.file === undefined) throw e.withLocation({ file });
    throw e;
  }
}

/** A commander argument parser that accepts a value when `check` does not throw, and keeps it as given. */
function validator(check: (value: string) => unknown): (value: string) => string {
  return (value) => {
    try {
      check(value);
    } catch (e) {
      throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
    }
    return value;
  };
}

/** One of `choices` (`--engine`, `--syntax`, `--format`). */
export function validChoice(choices: readonly string[]): (value: string) => string {
  return validator((v) => {
    if (!choices.includes(v)) throw new Error(`choose one of: ${choices.join(', ')}`);
  });
}

/** A positive integer (`--budget`, `--cpus`). */
export const validCount = validator((v) => {
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)) || Number(v) <= 0) throw new Error('expected a positive integer');
});
/** `--repeat`: 0 to 2^32-1. */
export const validRepeat = validator((v) => {
  if (!/^\d+$/.test(v.trim()) || Number(v) > MAX_REPEAT) throw new Error(`expected an integer from 0 to ${MAX_REPEAT} (the kernel's u32; 0 runs once)`);
});
/** `--log-level`: 0, 1 or 2. */
export const validLogLevel = validator((v) => {
  if (!['0', '1', '2'].includes(v.trim())) throw new Error('expected 0, 1 or 2');
});
/** `--prog-type`: a kernel program type name or alias. */
export const validProgType = validator(progTypeId);
/** `--attach-type`: a kernel attach type name. */
export const validAttachType = validator(attachTypeId);
/** A number of nanoseconds (`--advance-timers`). */
export const validNanoseconds = validator((v) => {
  if (!/^\d+$/.test(v)) throw new Error(`expected a number of nanoseconds, not '${v}'`);
});

/** Counts `-d` flags as tcpdump does: `-d`, `-dd` (two), `-ddd` (three). */
export function countFlag(_value: string, count: number): number {
  return count + 1;
}

/** The classic listing `-d` given `count` times asks for (none: `-d`'s). */
export function listingFormat(count: number): ClassicFormat {
  if (count > 3) throw new UsageError('-d, -dd or -ddd: at most three d');
  return count === 2 ? 'dd' : count === 3 ? 'ddd' : 'd';
}
