/** Parsing of option values, with errors that name the option. */
import { TsbpfError } from '../errors.js';

/** A positive integer option value. */
export function parseCount(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim())) throw new TsbpfError(`${option}: '${text}' is not a positive integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new TsbpfError(`${option}: '${text}' is out of range`);
  return n;
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
