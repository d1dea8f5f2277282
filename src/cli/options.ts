/** Parsing of option values, with errors that name the option. */
import { TsbpfError } from '../errors.js';
import { MAX_REPEAT } from '../hooks/test-run.js';

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
