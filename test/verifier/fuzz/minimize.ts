/**
 * Delta debugging of a divergence: drop instructions (ranges, then single
 * ones), turn conditional jumps into nothing or into `goto`, simplify
 * immediates, keeping every candidate whose divergence persists (same
 * verdicts on both sides, same messages up to the numbers in them).
 * Candidates are checked with tsbpf first (cheap) and the survivors with
 * the kernel in one batch per round.
 */
import { fromHex, toHex } from '../corpus/common.js';
import { classify, kernelVerdicts, tsbpfVerdict, type DivergenceClass, type Verdict } from './driver.js';
import { execChecked } from './exec.js';
import type { OracleMap } from '../corpus/common.js';

export interface Slot {
  code: number;
  regs: number;
  off: number;
  imm: number;
}

export function decode(hex: string): Slot[] {
  const b = fromHex(hex);
  const v = new DataView(b.buffer);
  const out: Slot[] = [];
  for (let i = 0; i < b.length; i += 8) out.push({ code: b[i]!, regs: b[i + 1]!, off: v.getInt16(i + 2, true), imm: v.getInt32(i + 4, true) });
  return out;
}

export function encode(slots: readonly Slot[]): string {
  const b = new Uint8Array(slots.length * 8);
  const v = new DataView(b.buffer);
  slots.forEach((s, i) => {
    b[i * 8] = s.code;
    b[i * 8 + 1] = s.regs;
    v.setInt16(i * 8 + 2, s.off, true);
    v.setInt32(i * 8 + 4, s.imm, true);
  });
  return toHex(b);
}

const cls = (code: number): number => code & 7;
const isLddw = (s: Slot): boolean => s.code === 0x18;

/** How slot `s` refers to another slot: by `off` (jumps), by `imm` (calls, gotol, function addresses), or not. */
function jumpField(s: Slot): 'off' | 'imm' | null {
  const c = cls(s.code);
  if (s.code === 0x18) return (s.regs >> 4) === 4 ? 'imm' : null; // ld_imm64 of a function address
  if (c !== 5 && c !== 6) return null; // JMP, JMP32
  const op = s.code & 0xf0;
  if (op === 0x80) return (s.regs >> 4) === 1 ? 'imm' : null; // call: bpf-to-bpf only
  if (op === 0x90) return null; // exit
  if (op === 0x00 && c === 6) return 'imm'; // gotol
  return 'off';
}

/** Slots that start an instruction (not the second half of a lddw). */
function starts(slots: readonly Slot[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < slots.length; i++) {
    out.push(i);
    if (isLddw(slots[i]!)) i++;
  }
  return out;
}

/** Removes slots [from, to), fixing every jump over or into the gap. */
export function removeRange(slots: readonly Slot[], from: number, to: number): Slot[] {
  const n = to - from;
  const map = (p: number): number => (p >= to ? p - n : p >= from ? from : p);
  const out: Slot[] = [];
  for (let i = 0; i < slots.length; i++) {
    if (i >= from && i < to) continue;
    const s = { ...slots[i]! };
    const f = jumpField(s);
    if (f) {
      const target = i + 1 + (f === 'off' ? s.off : s.imm);
      const rel = map(target) - map(i) - 1;
      if (f === 'off') {
        if (rel < -32768 || rel > 32767) return [...slots];
        s.off = rel;
      } else {
        s.imm = rel;
      }
    }
    out.push(s);
    if (isLddw(slots[i]!) && i + 1 < slots.length) {
      out.push({ ...slots[i + 1]! });
      i++;
    }
  }
  return out;
}

/** Candidate simplifications of `slots`, largest first. */
function* candidates(slots: readonly Slot[]): Generator<Slot[]> {
  const st = starts(slots);
  // ranges of instructions, halving
  for (let len = Math.floor(st.length / 2); len >= 2; len = Math.floor(len / 2)) {
    for (let k = 0; k + len <= st.length; k += len) {
      const from = st[k]!;
      const to = k + len < st.length ? st[k + len]! : slots.length;
      yield removeRange(slots, from, to);
    }
  }
  // single instructions
  for (let k = 0; k < st.length; k++) {
    const from = st[k]!;
    yield removeRange(slots, from, from + (isLddw(slots[from]!) ? 2 : 1));
  }
  // conditional jumps into gotos
  for (const i of st) {
    const s = slots[i]!;
    const c = cls(s.code);
    const op = s.code & 0xf0;
    if ((c === 5 || c === 6) && op !== 0x00 && op !== 0x80 && op !== 0x90 && s.code !== 0xe5) {
      const out = slots.map((x) => ({ ...x }));
      out[i] = { code: 0x05, regs: 0, off: s.off, imm: 0 };
      yield out;
    }
  }
  // immediates towards 0
  for (const i of st) {
    const s = slots[i]!;
    if (jumpField(s) || s.code === 0x85) continue;
    if (isLddw(s)) {
      if ((s.regs >> 4) !== 0) continue;
      const hi = slots[i + 1]!;
      if (hi.imm !== 0 || s.imm < -1 || s.imm > 1) {
        const out = slots.map((x) => ({ ...x }));
        out[i]!.imm = 0;
        out[i + 1]!.imm = 0;
        yield out;
      }
      continue;
    }
    const c = cls(s.code);
    const op = s.code & 0xf0;
    const kForm = (s.code & 0x08) === 0;
    const aluK = (c === 4 || c === 7) && kForm && op !== 0x80 && op !== 0xd0;
    const jmpK = (c === 5 || c === 6) && kForm && op !== 0x00 && op !== 0x80 && op !== 0x90 && s.code !== 0xe5;
    if (!aluK && !jmpK && c !== 2) continue;
    const isShiftOrDiv = (c === 4 || c === 7) && [0x30, 0x60, 0x70, 0x90, 0xc0, 0xd0].includes(s.code & 0xf0);
    // only towards 0 (0, or 1 from a larger magnitude), so rounds cannot cycle
    for (const v of [0, 1]) {
      if (v === s.imm || (isShiftOrDiv && v === 0) || (v === 1 && (s.imm === 0 || s.imm === -1))) continue;
      const out = slots.map((x) => ({ ...x }));
      out[i]!.imm = v;
      yield out;
    }
  }
}

/** Messages compared up to their numbers. */
function norm(e: string | null): string {
  return (e ?? '').replace(/0x[0-9a-f]+|-?\d+/g, 'N');
}

/** The program context a candidate is verified in. */
export interface MinimizeEntry {
  prog_type: string;
  insns: string;
  maps?: OracleMap[];
  prog_flags?: string[];
  expected_attach_type?: string;
  seed: number;
}

export interface MinimizeResult {
  insns: string;
  tsbpf: Verdict;
  kernel: Verdict | null;
  rounds: number;
  checked: number;
}

/**
 * Shrinks `e` while its divergence of class `cls0` persists. `useKernel`:
 * ask the kernel for each round's survivors (needed for every class but
 * `fault`). Stops after `maxRounds` successful steps.
 */
export function minimize(e: MinimizeEntry, cls0: DivergenceClass | 'processed', t0: Verdict, k0: Verdict | null, useKernel: boolean, maxRounds = 60): MinimizeResult {
  let cur = decode(e.insns);
  let curT = t0;
  let curK = k0;
  let rounds = 0;
  let checked = 0;
  const entry = (insns: string) => ({ ...e, insns });
  const faultOf = (insns: string): string | null => execChecked(fromHex(insns), e.prog_type, e.maps ?? [], e.seed, 6).fault;
  while (rounds < maxRounds) {
    const survivors: { insns: string; t: Verdict }[] = [];
    const seen = new Set<string>();
    for (const cand of candidates(cur)) {
      const insns = encode(cand);
      if (insns === encode(cur) || seen.has(insns) || cand.length === 0) continue;
      seen.add(insns);
      let t: Verdict;
      try {
        t = tsbpfVerdict(entry(insns));
      } catch {
        continue;
      }
      checked++;
      if (t.accepted !== t0.accepted || norm(t.error) !== norm(t0.error)) continue;
      if (cls0 === 'fault') {
        if (faultOf(insns) === null) continue;
        survivors.push({ insns, t });
        break;
      }
      survivors.push({ insns, t });
      if (survivors.length >= 64) break;
    }
    if (survivors.length === 0) break;
    let next: { insns: string; t: Verdict; k: Verdict | null } | null = null;
    if (cls0 === 'fault') {
      next = { ...survivors[0]!, k: null };
    } else if (useKernel) {
      const ks = kernelVerdicts(survivors.map((s) => entry(s.insns)), 64);
      for (let i = 0; i < survivors.length; i++) {
        const k = ks[i];
        if (!k || !k0) continue;
        if (k.accepted !== k0.accepted || norm(k.error) !== norm(k0.error)) continue;
        if (cls0 === 'processed') {
          // same verdicts and messages, another insn_processed (a pruning or precision difference)
          if (classify(survivors[i]!.t, k, null) !== null || k.insn_processed === survivors[i]!.t.insn_processed) continue;
        } else if (classify(survivors[i]!.t, k, null) !== cls0) continue;
        next = { ...survivors[i]!, k };
        break;
      }
    }
    if (!next) break;
    cur = decode(next.insns);
    curT = next.t;
    curK = next.k ?? curK;
    rounds++;
  }
  return { insns: encode(cur), tsbpf: curT, kernel: curK, rounds, checked };
}
