/**
 * The classic BPF interpreter, with libpcap's semantics (`bpf_filter`):
 * A, X and `M[0..15]` start at 0; loads are big-endian; a load outside the
 * captured bytes ends the filter with 0 (no match); division or modulo by
 * an X of 0 ends it with 0; shifts by X of 32 or more give 0; `ja`'s
 * constant is signed, because libpcap's `ip6 protochain` code jumps
 * backwards. With `linux` set, absolute and indirect loads at Linux's
 * special offsets read socket-buffer metadata (`SKF_AD_OFF`) or bytes
 * relative to the network and link-layer headers (`SKF_NET_OFF`,
 * `SKF_LL_OFF`), as the kernel's socket filters do; libpcap (reading a
 * capture) treats those loads as out of bounds.
 */
import { TsbpfError } from '../errors.js';
import { AluOp, Ancillary, Class, JmpOp, MEMWORDS, MiscOp, Mode, RetVal, SKF_AD_MAX, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, Size, Src } from './insn.js';
import type { CbpfInsn } from './insn.js';

/** Socket-buffer metadata the Linux ancillary loads read (`ld #proto`...); what is absent reads as 0. */
export interface SkbMetadata {
  /** `skb->protocol`: the EtherType, host order (0x0800 for IPv4). */
  protocol?: number;
  /** `skb->pkt_type` (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing). */
  pktType?: number;
  ifindex?: number;
  mark?: number;
  queue?: number;
  /** The device type (`ARPHRD_*`; 1 for Ethernet). */
  hatype?: number;
  rxhash?: number;
  cpu?: number;
  /** The VLAN tag taken out of the packet, if any (`skb_vlan_tag_present`). */
  vlanTci?: number;
  /** Its TPID (0x8100 by default when a tag is present). */
  vlanTpid?: number;
  /** Offset of the transport payload (`SKF_AD_PAY_OFFSET`; 0 when unknown). */
  payOffset?: number;
  /** Offset of the network header in the packet (`SKF_NET_OFF` loads; default 14 for Ethernet). */
  networkOffset?: number;
  /** `SKF_AD_RANDOM`: a u32 per call (default Math.random). */
  random?: () => number;
}

/** Options of {@link runClassic}. */
export interface ClassicRunOptions {
  /** The packet's length on the wire (`ld len`; default: the captured length). */
  wireLen?: number;
  /** Linux socket-filter semantics for the special offsets (ancillary loads), with this metadata. */
  linux?: SkbMetadata;
  /** Most instructions one run may execute before it is stopped (backward `ja`s can loop; default 1,000,000). */
  budget?: number;
}

/** A classic program that could not run to the end (a bad instruction, a jump out of the program, the budget spent). */
export class ClassicRunError extends TsbpfError {
  constructor(reason: string, readonly pc: number) {
    super(`${reason} (insn ${pc})`, { insn: pc });
  }
}

const OUT = Symbol('out of bounds');

// The opcode fields as plain module constants: the hot loop then reads no imported bindings (which some
// module loaders turn into getters).
const C_LD = Class.LD, C_LDX = Class.LDX, C_ST = Class.ST, C_STX = Class.STX, C_ALU = Class.ALU, C_JMP = Class.JMP, C_RET = Class.RET, C_MISC = Class.MISC;
const M_ABS = Mode.ABS, M_IND = Mode.IND, M_LEN = Mode.LEN, M_IMM = Mode.IMM, M_MEM = Mode.MEM, M_MSH = Mode.MSH;
const S_W = Size.W, S_H = Size.H, S_B = Size.B;
const R_K = RetVal.K, R_A = RetVal.A, R_X = RetVal.X;
const SRC_X = Src.X;
const A_ADD = AluOp.ADD, A_SUB = AluOp.SUB, A_MUL = AluOp.MUL, A_DIV = AluOp.DIV, A_MOD = AluOp.MOD, A_OR = AluOp.OR, A_AND = AluOp.AND,
  A_XOR = AluOp.XOR, A_LSH = AluOp.LSH, A_RSH = AluOp.RSH, A_NEG = AluOp.NEG;
const J_JA = JmpOp.JA, J_JEQ = JmpOp.JEQ, J_JGT = JmpOp.JGT, J_JGE = JmpOp.JGE, J_JSET = JmpOp.JSET;
const X_TAX = MiscOp.TAX, X_TXA = MiscOp.TXA;

/** Runs `prog` on `packet`; returns the filter's result (u32: 0 rejects, else the bytes to keep). */
export function runClassic(prog: readonly CbpfInsn[], packet: Uint8Array, options: ClassicRunOptions = {}): number {
  const buflen = packet.length;
  const wirelen = options.wireLen ?? buflen;
  const linux = options.linux;
  const mem = new Uint32Array(MEMWORDS);
  let a = 0;
  let x = 0;
  let budget = options.budget ?? 1_000_000;
  for (let pc = 0; ; pc++) {
    if (pc < 0 || pc >= prog.length) throw new ClassicRunError('jump out of the program', pc);
    if (--budget < 0) throw new ClassicRunError(`instruction budget of ${options.budget ?? 1_000_000} spent`, pc);
    const { code, k } = prog[pc]!;
    switch (code & 0x07) {
      case C_RET:
        switch (code & 0x18) {
          case R_K: return k >>> 0;
          case R_A: return a >>> 0;
          case R_X: return x >>> 0;
          default: throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
        }
      case C_LD: {
        const bytes = loadBytes(code);
        switch (code & 0xe0) {
          case M_ABS: {
            const v = linux && (k | 0) < 0 ? special(linux, packet, k | 0, bytes, a, x) : bounded(packet, k >>> 0, bytes);
            if (v === OUT) return 0;
            a = v;
            break;
          }
          case M_IND: {
            // libpcap: k > buflen, X > buflen - k, or the bytes past the end fail (u32 arithmetic, no wrap-around)
            if (linux && ((x + k) | 0) < 0) {
              const v = special(linux, packet, (x + k) | 0, bytes, a, x);
              if (v === OUT) return 0;
              a = v;
              break;
            }
            if (k >>> 0 > buflen || x >>> 0 > buflen - (k >>> 0)) return 0;
            const v = bounded(packet, (x + k) >>> 0, bytes);
            if (v === OUT) return 0;
            a = v;
            break;
          }
          case M_LEN:
            if ((code & 0x18) !== S_W) throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
            a = wirelen;
            break;
          case M_IMM:
            a = k;
            break;
          case M_MEM:
            if (k >>> 0 >= MEMWORDS) throw new ClassicRunError(`scratch slot M[${k >>> 0}] out of range`, pc);
            a = mem[k]!;
            break;
          default:
            throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
        }
        break;
      }
      case C_LDX:
        switch (code & 0xe0) {
          case M_IMM: x = k; break;
          case M_LEN: x = wirelen; break;
          case M_MEM:
            if (k >>> 0 >= MEMWORDS) throw new ClassicRunError(`scratch slot M[${k >>> 0}] out of range`, pc);
            x = mem[k]!;
            break;
          case M_MSH: {
            if ((code & 0x18) !== S_B) throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
            const v = linux && (k | 0) < 0 ? special(linux, packet, k | 0, 1, a, x) : bounded(packet, k >>> 0, 1);
            if (v === OUT) return 0;
            x = (v & 0xf) << 2;
            break;
          }
          default:
            throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
        }
        break;
      case C_ST:
      case C_STX:
        if (k >>> 0 >= MEMWORDS) throw new ClassicRunError(`scratch slot M[${k >>> 0}] out of range`, pc);
        mem[k] = (code & 0x07) === C_ST ? a : x;
        break;
      case C_ALU: {
        const v = (code & 0x08) === SRC_X ? x >>> 0 : k >>> 0;
        switch (code & 0xf0) {
          case A_ADD: a = (a + v) >>> 0; break;
          case A_SUB: a = (a - v) >>> 0; break;
          case A_MUL: a = Math.imul(a, v) >>> 0; break;
          case A_DIV:
            if (v === 0) return 0;
            a = Math.floor((a >>> 0) / v) >>> 0;
            break;
          case A_MOD:
            if (v === 0) return 0;
            a = ((a >>> 0) % v) >>> 0;
            break;
          case A_OR: a = (a | v) >>> 0; break;
          case A_AND: a = (a & v) >>> 0; break;
          case A_XOR: a = (a ^ v) >>> 0; break;
          case A_LSH: a = v < 32 ? (a << v) >>> 0 : 0; break;
          case A_RSH: a = v < 32 ? (a >>> 0) >>> v : 0; break;
          case A_NEG: a = (-a) >>> 0; break;
          default: throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
        }
        break;
      }
      case C_JMP: {
        const o = code & 0xf0;
        if (o === J_JA) {
          pc += k | 0;
          break;
        }
        const v = (code & 0x08) === SRC_X ? x >>> 0 : k >>> 0;
        const av = a >>> 0;
        let taken: boolean;
        switch (o) {
          case J_JEQ: taken = av === v; break;
          case J_JGT: taken = av > v; break;
          case J_JGE: taken = av >= v; break;
          case J_JSET: taken = (av & v) !== 0; break;
          default: throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
        }
        pc += taken ? prog[pc]!.jt : prog[pc]!.jf;
        break;
      }
      case C_MISC:
        if ((code & 0xf8) === X_TAX) x = a;
        else if ((code & 0xf8) === X_TXA) a = x;
        else throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
        break;
      default:
        throw new ClassicRunError(`unknown opcode 0x${code.toString(16)}`, pc);
    }
  }
}

/** A load of `bytes` at `k` (u32 arithmetic as libpcap's C), or OUT past the captured bytes. */
function bounded(packet: Uint8Array, k: number, bytes: number): number | typeof OUT {
  if (k > packet.length || bytes > packet.length - k) return OUT;
  return read(packet, k, bytes);
}

/** Linux's special offsets: ancillary data, or bytes relative to the network or link-layer header. */
function special(m: SkbMetadata, packet: Uint8Array, off: number, bytes: number, a: number, x: number): number | typeof OUT {
  if (off >= SKF_AD_OFF && off < SKF_AD_OFF + SKF_AD_MAX) return ancillary(m, off - SKF_AD_OFF, a, x);
  const base = off >= SKF_NET_OFF && off < SKF_AD_OFF ? (m.networkOffset ?? 14) + (off - SKF_NET_OFF) : off >= SKF_LL_OFF && off < SKF_NET_OFF ? off - SKF_LL_OFF : -1;
  if (base < 0 || base + bytes > packet.length) return OUT;
  return read(packet, base, bytes);
}

/** Bytes a load of this size reads. */
function loadBytes(code: number): number {
  switch (code & 0x18) {
    case S_W: return 4;
    case S_H: return 2;
    case S_B: return 1;
    default: return 0;
  }
}

function read(p: Uint8Array, at: number, bytes: number): number {
  if (bytes === 1) return p[at]!;
  if (bytes === 2) return (p[at]! << 8) | p[at + 1]!;
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

/** Linux's ancillary loads (the kernel's classic-to-eBPF conversion gives each a meaning). */
function ancillary(m: SkbMetadata, off: number, a: number, x: number): number | typeof OUT {
  switch (off) {
    case Ancillary.PROTOCOL: return (m.protocol ?? 0) & 0xffff;
    case Ancillary.PKTTYPE: return m.pktType ?? 0;
    case Ancillary.IFINDEX: return m.ifindex ?? 0;
    case Ancillary.MARK: return m.mark ?? 0;
    case Ancillary.QUEUE: return m.queue ?? 0;
    case Ancillary.HATYPE: return m.hatype ?? 0;
    case Ancillary.RXHASH: return m.rxhash ?? 0;
    case Ancillary.CPU: return m.cpu ?? 0;
    case Ancillary.ALU_XOR_X: return (a ^ x) >>> 0;
    case Ancillary.VLAN_TAG: return (m.vlanTci ?? 0) & 0xffff;
    case Ancillary.VLAN_TAG_PRESENT: return m.vlanTci !== undefined ? 1 : 0;
    case Ancillary.VLAN_TPID: return m.vlanTci !== undefined ? (m.vlanTpid ?? 0x8100) : 0;
    case Ancillary.PAY_OFFSET: return m.payOffset ?? 0;
    case Ancillary.RANDOM: return (m.random ? m.random() : Math.floor(Math.random() * 2 ** 32)) >>> 0;
    default: return OUT; // netlink attribute searches and unknown offsets: nothing to read here
  }
}
