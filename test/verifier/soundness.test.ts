/**
 * Soundness: a program tsbpf's verifier accepts never faults in the
 * interpreter's checked mode. Seeded random XDP programs (packet checks and
 * accesses, map lookups, pointer arithmetic, spills, helper calls, ring
 * buffer records, loops) are verified; every accepted one runs on packets
 * of many sizes with map contents in place, and must finish without a
 * memory fault, an unknown-helper error or an exhausted budget.
 *
 * TSBPF_SOUNDNESS_SEEDS scales the number of programs (default 4000, about
 * 1100 of them accepted).
 */
import { describe, expect, it } from 'vitest';
import { XdpContext } from '../../src/hooks/xdp.js';
import { helperTable } from '../../src/vm/helpers/index.js';
import { interpret } from '../../src/vm/interpreter.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import { rng } from '../support/random-programs.js';
import { verifyEntry, sourceBytes, toHex, verifierMap } from './corpus/common.js';
import { randomVerifierProgram } from './corpus/random.js';

const SEEDS = Number(process.env['TSBPF_SOUNDNESS_SEEDS'] ?? 4000);

/** Replaces `lddw rX, map_fd N` (src 1) with the address of map N, as a loader does. */
function resolveMaps(bytes: Uint8Array, addresses: readonly number[]): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  for (let pc = 0; pc * 8 < out.length; pc++) {
    if (out[pc * 8] !== 0x18) continue;
    const src = out[pc * 8 + 1]! >> 4;
    if (src === 1) {
      out[pc * 8 + 1] = out[pc * 8 + 1]! & 0x0f;
      view.setInt32(pc * 8 + 4, addresses[view.getInt32(pc * 8 + 4, true)]! | 0, true);
      view.setInt32(pc * 8 + 12, 0, true);
    }
    pc++;
  }
  return out;
}

describe('verifier soundness', () => {
  it(`accepted random programs never fault in checked mode (${SEEDS} programs)`, { timeout: 120_000 }, () => {
    let accepted = 0;
    let runs = 0;
    const faults: string[] = [];
    // One machine for every program: its maps fill up as programs run, which only adds cases.
    const machine = new Machine({ helpers: helperTable({}) });
    const mapSpecs = randomVerifierProgram(0, { type: 'xdp' }).maps ?? [];
    const maps = mapSpecs.map((m, i, all) => {
      const spec = verifierMap(m, all);
      return machine.maps.create({ name: `m${i}`, type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags ?? 0 });
    });
    const xdp = new XdpContext(machine);
    let verifyMs = 0;
    let runMs = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const source = randomVerifierProgram(500_000 + seed, { type: 'xdp', bounded: true });
      const entry = { ...source, insns: toHex(sourceBytes(source)) };
      let t = performance.now();
      const verdict = verifyEntry(entry, 0);
      verifyMs += performance.now() - t;
      if (!verdict.accepted) continue;
      accepted++;
      t = performance.now();
      const r = rng(seed);
      // some hash entries, so lookups hit as well as miss
      for (let k = 0; k < 6; k++) {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, k, true);
        const value = new Uint8Array(48).map(() => Math.floor(r() * 256));
        if (r() < 0.7) maps[0]!.update(key, value, 0);
        if (k < 4) maps[1]!.update(key, value, 0);
      }
      const bytes = resolveMaps(sourceBytes(source), maps.map((m) => m.address));
      const prog = prepareProgram(bytes, { helpers: machine.helpers });
      for (const len of [14, 15, 20, 34, 41, 64, 100]) {
        const packet = new Uint8Array(len).map(() => Math.floor(r() * 256));
        xdp.load(packet);
        runs++;
        try {
          interpret(machine, prog, { args: [xdp.ctx.start], checked: true, budget: 5_000_000 });
        } catch (err) {
          faults.push(`seed ${500_000 + seed}, packet of ${len} bytes: ${err instanceof Error ? err.message : String(err)}\n${source.asm}`);
          break;
        }
      }
      runMs += performance.now() - t;
      if (faults.length >= 3) break;
    }
    console.log(`soundness: ${accepted} of ${SEEDS} random XDP programs accepted, ${runs} checked runs, ${faults.length} faults `
      + `(verifier ${verifyMs.toFixed(0)} ms, runs ${runMs.toFixed(0)} ms)`);
    expect(faults).toEqual([]);
    expect(accepted).toBeGreaterThan(SEEDS / 10);
  });
});
