/** The kernel's possible CPUs: how many slots a per-CPU map value has. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

let cached: number | undefined;

/**
 * Number of possible CPUs (/sys/devices/system/cpu/possible, e.g. `0-1` →
 * 2): per-CPU maps hold one value slot for each. Falls back to the online
 * CPUs.
 */
export function possibleCpus(): number {
  if (cached !== undefined) return cached;
  let count = 0;
  try {
    const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    for (const part of text.split(',')) {
      if (!part) continue;
      const [lo, hi] = part.split('-');
      count += hi === undefined ? 1 : Number(hi) - Number(lo) + 1;
    }
  } catch {
    count = cpus().length || 1;
  }
  cached = Math.max(count, 1);
  return cached;
}
