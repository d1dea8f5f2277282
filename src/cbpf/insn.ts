/**
 * Classic BPF instructions: Linux's `struct sock_filter` (`code`, `jt`,
 * `jf`, `k`), the opcode fields of `<linux/filter.h>` / libpcap's
 * `<pcap/bpf.h>`, and the Linux ancillary-load offsets. Everything else in
 * cbpf/ (interpreter, formats, checker, translation to eBPF, the
 * pcap-filter compiler) speaks these.
 */

/** One classic instruction (`struct sock_filter`, `struct bpf_insn` in libpcap). */
export interface CbpfInsn {
  /** Opcode: class | size/op | mode/src (16 bits). */
  code: number;
  /** Jump offset when the condition holds (conditional jumps; 0..255). */
  jt: number;
  /** Jump offset when it does not. */
  jf: number;
  /** The constant: an immediate, an offset, a scratch slot or a jump distance (u32). */
  k: number;
}

/** Instruction classes (low 3 bits). */
export const Class = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07 } as const;
/** Load sizes (bits 3-4 of loads). */
export const Size = { W: 0x00, H: 0x08, B: 0x10 } as const;
/** Load modes (bits 5-7 of loads). */
export const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0 } as const;
/** ALU operations (bits 4-7). */
export const AluOp = { ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0 } as const;
/** Jump operations (bits 4-7). */
export const JmpOp = { JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40 } as const;
/** Operand source of ALU and jumps (bit 3): the constant or X. */
export const Src = { K: 0x00, X: 0x08 } as const;
/** What `ret` returns (bits 3-4). */
export const RetVal = { K: 0x00, X: 0x08, A: 0x10 } as const;
/** MISC operations. */
export const MiscOp = { TAX: 0x00, TXA: 0x80 } as const;

/** Scratch memory words `M[0..15]` (BPF_MEMWORDS). */
export const MEMWORDS = 16;
/** Longest program Linux and libpcap accept (BPF_MAXINSNS). */
export const MAXINSNS = 4096;

/** The class of an opcode. */
export function cls(code: number): number {
  return code & 0x07;
}
/** The size field of a load or store. */
export function size(code: number): number {
  return code & 0x18;
}
/** The mode field of a load or store. */
export function mode(code: number): number {
  return code & 0xe0;
}
/** The operation of an ALU or jump instruction. */
export function op(code: number): number {
  return code & 0xf0;
}
/** The source (K or X) of an ALU or jump instruction. */
export function src(code: number): number {
  return code & 0x08;
}
/** The return-value field of `ret`. */
export function rval(code: number): number {
  return code & 0x18;
}
/** The operation of a MISC instruction. */
export function miscOp(code: number): number {
  return code & 0xf8;
}

/**
 * Linux's ancillary loads: an absolute load at `SKF_AD_OFF + n` reads
 * socket-buffer metadata instead of packet bytes (`ld #proto`, `ld
 * #vlan_tci`...). libpcap itself emits only the VLAN ones (on Linux).
 */
export const SKF_AD_OFF = -0x1000;
/** Offsets after {@link SKF_AD_OFF} (`<linux/filter.h>`). */
export const Ancillary = {
  PROTOCOL: 0, PKTTYPE: 4, IFINDEX: 8, NLATTR: 12, NLATTR_NEST: 16, MARK: 20, QUEUE: 24, HATYPE: 28, RXHASH: 32,
  CPU: 36, ALU_XOR_X: 40, VLAN_TAG: 44, VLAN_TAG_PRESENT: 48, PAY_OFFSET: 52, RANDOM: 56, VLAN_TPID: 60,
} as const;
/** End of the ancillary area (SKF_AD_MAX). */
export const SKF_AD_MAX = 64;
export { SKF_NET_OFF, SKF_LL_OFF } from '../isa/uapi.js';

/** Builds an instruction (jt/jf default 0). */
export function insn(code: number, k = 0, jt = 0, jf = 0): CbpfInsn {
  return { code, jt, jf, k: k >>> 0 };
}
