/**
 * Stack slot liveness, used to forget dead stack slots in explored states
 * (clean_func_state) so that more states compare equal. Reads are recorded
 * as the verifier meets them, per function and instruction (a read of a
 * caller's stack is recorded at the call site in the caller); a backward
 * dataflow over each function's control-flow graph, with full 8-byte
 * stores through r10 as the only kills, gives the slots that may be read
 * later. This is conservative: a slot considered dead is never read on any
 * explored path from that point.
 */
import type { Env } from './env.js';
import { BPF_DW, BPF_MEM, BPF_ST, BPF_STX, cls, mode, size } from './insn.js';
import { containingSubprog, successors } from './cfg.js';

/** Per-program liveness data. */
export class StackLiveness {
  /** Slots read at each instruction (bit i: fp-(i+1)*8). */
  readonly reads: bigint[];
  /** Slots always fully written by each instruction. */
  readonly kills: bigint[];
  private live: bigint[] | null = null;
  private dirty = true;
  private succ: number[][] | null = null;

  constructor(private readonly env: Env) {
    this.reads = new Array<bigint>(env.len).fill(0n);
    this.kills = new Array<bigint>(env.len).fill(0n);
    for (let i = 0; i < env.len; i++) {
      const insn = env.insns[i]!;
      const k = cls(insn.code);
      if ((k === BPF_STX || k === BPF_ST) && mode(insn.code) === BPF_MEM && size(insn.code) === BPF_DW
        && insn.dst === 10 && insn.off < 0 && insn.off >= -512 && insn.off % 8 === 0) {
        this.kills[i] = 1n << BigInt((-insn.off - 1) >> 3);
      }
    }
  }

  /** Records a read of slot `spi` at instruction `idx`. */
  read(idx: number, spi: number): void {
    const bit = 1n << BigInt(spi);
    if ((this.reads[idx]! & bit) === 0n) {
      this.reads[idx] = this.reads[idx]! | bit;
      this.dirty = true;
    }
  }

  /** Whether slot `spi` may be read at or after instruction `idx` (of that instruction's function). */
  alive(idx: number, spi: number): boolean {
    if (this.dirty || !this.live) this.compute();
    return (this.live![idx]! & (1n << BigInt(spi))) !== 0n;
  }

  private compute(): void {
    const env = this.env;
    const n = env.len;
    this.succ ??= Array.from({ length: n }, (_, i) => successors(env, i).filter((s) => s < n));
    const live = this.live ?? new Array<bigint>(n).fill(0n);
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = n - 1; i >= 0; i--) {
        let out = 0n;
        for (const s of this.succ[i]!) out |= live[s]!;
        const v = (out & ~this.kills[i]!) | this.reads[i]!;
        if (v !== live[i]) {
          live[i] = v;
          changed = true;
        }
      }
    }
    this.live = live;
    this.dirty = false;
  }
}

/** bpf_mark_stack_read: frame `frameno` slot `spi` read by the current instruction. */
export function markStackRead(env: Env, frameno: number, spi: number): void {
  const st = env.cur;
  const idx = frameno === st.curframe ? env.insnIdx : st.frames[frameno + 1]!.callsite;
  if (idx >= 0) env.liveness.read(idx, spi);
}

/** bpf_mark_stack_write: nothing to record (kills are static). */
export function markStackWrite(_env: Env, _frameno: number, _spi: number): void {
  // Kills are computed statically from r10-based full-slot stores.
}

export { containingSubprog };
