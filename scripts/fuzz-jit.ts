/**
 * The JIT's differential fuzzer on demand: random programs (test/jit/
 * random-programs.ts) on the interpreter and the JIT, in checked mode and,
 * when fault-free, unchecked mode; every fourth seed on shared memory.
 *
 *   npx tsx scripts/fuzz-jit.ts [--seed N] [--count N] [--length N]
 *
 * Prints each divergence with its seed (rerun one with --seed S --count 1)
 * and a summary; exits 1 when any was found.
 */
import { differential } from '../test/jit/differential.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seed = arg('seed', Date.now() % 1_000_000);
const count = arg('count', 10_000);
const length = arg('length', 0);
let bad = 0;
const t0 = performance.now();
for (let s = seed; s < seed + count; s++) {
  let d: string | null;
  try {
    d = differential(s, { shared: s % 4 === 0, ...(length > 0 ? { length } : {}) });
  } catch (e) {
    d = `exception: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
  }
  if (d !== null) {
    bad++;
    console.log(`seed ${s}: ${d}`);
  }
  if ((s - seed + 1) % 1000 === 0) console.error(`${s - seed + 1} seeds, ${bad} divergences`);
}
const ms = performance.now() - t0;
console.log(`${count} seeds from ${seed}: ${bad} divergences (${(ms / count).toFixed(1)} ms per seed)`);
process.exitCode = bad > 0 ? 1 : 0;
