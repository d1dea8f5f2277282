/**
 * Test support (Node only): running the LLVM tools that serve as the oracle
 * for the LLVM syntax, and what llvm-objdump-19 prints for an instruction.
 */
import { spawnSync } from 'node:child_process';
import type { Instruction } from '../../src/isa/index.js';
import { formatLlvm, llvmHex } from '../../src/asm/llvm-printer.js';

/** The tools the LLVM oracle tests need. */
export const LLVM_TOOLS = ['clang-19', 'llvm-mc-19', 'llvm-objdump-19', 'llvm-objcopy-19'] as const;

/** Tools from {@link LLVM_TOOLS} that cannot be run here. */
export function missingLlvmTools(): string[] {
  return LLVM_TOOLS.filter((tool) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status !== 0);
}

/** Runs a command; throws with its stderr when it fails. */
export function run(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}${r.error ? String(r.error) : ''}`);
  return r.stdout;
}

/** One instruction line of `llvm-objdump -d`. */
export interface ObjdumpLine {
  /** Section the line belongs to. */
  section: string;
  /** Slot number objdump printed. */
  slot: number;
  /** The instruction bytes (8 or 16). */
  bytes: Uint8Array;
  /** The instruction text, without objdump's ` <target>` annotation. */
  text: string;
}

/** Runs `llvm-objdump-19 -d` (with `--mcpu=` when given) and parses its instruction lines. */
export function objdump(object: string, mcpu?: string): ObjdumpLine[] {
  const args = ['-d', object];
  if (mcpu) args.push(`--mcpu=${mcpu}`);
  const lines: ObjdumpLine[] = [];
  let section = '';
  for (const line of run('llvm-objdump-19', args).split('\n')) {
    const sec = /^Disassembly of section (.*):$/.exec(line);
    if (sec) section = sec[1]!;
    const m = /^\s*(\d+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\s*\t(.*)$/.exec(line);
    if (!m) continue;
    const bytes = Uint8Array.from(m[2]!.split(' ').map((b) => parseInt(b, 16)));
    lines.push({ section, slot: Number(m[1]), bytes, text: m[3]!.replace(/ <[^<>\s]+>$/, '') });
  }
  return lines;
}

/**
 * What llvm-objdump-19 prints for `insn`, and with which `--mcpu`: our LLVM
 * text, except where docs/assembly.md documents that objdump loses
 * information (our text then carries it; objdump's is derived here).
 */
export function objdumpView(insn: Instruction): { text: string; mcpu: 'default' | 'v3' } {
  switch (insn.kind) {
    case 'atomic':
      // LLVM 19 has no load-acquire/store-release. Its decoder ignores imm for the
      // 32/64-bit BPF_ATOMIC add, so load_acquire (imm 0x100) comes out as `lock +=`.
      if (insn.op === 'load_acq' && insn.size >= 4) return { text: formatLlvm({ ...insn, op: 'add' }), mcpu: 'default' };
      if (insn.op === 'load_acq' || insn.op === 'store_rel') return { text: '<unknown>', mcpu: 'default' };
      // 32-bit atomics other than `lock ... += rN` need the alu32 decoder tables.
      if (insn.size === 4 && (insn.fetch || insn.op !== 'add')) return { text: formatLlvm(insn), mcpu: 'v3' };
      break;
    case 'call':
      if (insn.src !== 0) return { text: `call ${llvmHex(insn.imm)}`, mcpu: 'default' };
      break;
    case 'lddw':
      if (insn.pseudo !== 0) return { text: formatLlvm({ ...insn, imm2: 0 }), mcpu: 'default' };
      break;
    case 'ldind':
      return { text: formatLlvm({ ...insn, imm: 0 }), mcpu: 'default' };
    default:
      break;
  }
  return { text: formatLlvm(insn), mcpu: 'default' };
}

/** Whether llvm-mc-19 can assemble our LLVM text of `insn` (see docs/assembly.md). */
export function llvmMcAccepts(insn: Instruction): boolean {
  switch (insn.kind) {
    case 'atomic':
      return insn.op !== 'load_acq' && insn.op !== 'store_rel'; // LLVM 20+
    case 'call':
      return insn.src === 0; // `call pc+N`, `call kfunc N`: tsbpf spellings
    case 'lddw':
      return insn.pseudo === 0 || insn.imm2 === 0; // ld_pseudo has no second immediate
    case 'ldind':
      return insn.imm === 0; // LLVM's skb[rN] has no offset
    default:
      return true;
  }
}
