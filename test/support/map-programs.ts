/**
 * Small program builders for the map tests: typed instructions, a machine
 * with the map helpers, and a runner.
 */
import { encodeProgram } from '../../src/isa/encode.js';
import { lddw } from '../../src/isa/instruction.js';
import type { AccessSize, Instruction, JmpOpName } from '../../src/isa/instruction.js';
import { HelperTable } from '../../src/vm/helper-call.js';
import { mapHelpers } from '../../src/vm/helpers/map-helpers.js';
import { interpret } from '../../src/vm/interpreter.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import type { BpfMap } from '../../src/vm/maps/bpf-map.js';

export { lddw };

/** `dst = imm` (64-bit). */
export const mov = (dst: number, imm: number): Instruction => ({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst, src: 0, imm });
/** `dst = src` (64-bit). */
export const movr = (dst: number, src: number): Instruction => ({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst, src, imm: 0 });
/** `dst += imm`. */
export const add = (dst: number, imm: number): Instruction => ({ kind: 'alu', op: 'add', wide: true, useReg: false, dst, src: 0, imm });
/** `*(size *)(dst + off) = imm`. */
export const st = (size: AccessSize, dst: number, off: number, imm: number): Instruction => ({ kind: 'st', size, dst, off, imm });
/** `*(size *)(dst + off) = src`. */
export const stx = (size: AccessSize, dst: number, off: number, src: number): Instruction => ({ kind: 'stx', size, dst, src, off });
/** `dst = *(size *)(src + off)`. */
export const ldx = (size: AccessSize, dst: number, src: number, off: number): Instruction => ({ kind: 'ldx', size, signed: false, dst, src, off });
/** Helper call. */
export const call = (id: number): Instruction => ({ kind: 'call', src: 0, imm: id });
/** `if dst OP imm goto +off`. */
export const jmp = (op: JmpOpName, dst: number, imm: number, off: number): Instruction => ({ kind: 'jmp', op, wide: true, useReg: false, dst, src: 0, imm, off });
export const exit: Instruction = { kind: 'exit' };
/** `rN = map pointer`. */
export const ldmap = (dst: number, map: BpfMap): Instruction => lddw(dst, BigInt(map.address));

/** A machine whose helper table holds the map helpers. */
export function mapMachine(options: { possibleCpus?: number; cpus?: number } = {}): Machine {
  return new Machine({ helpers: new HelperTable([...mapHelpers()]), ...options });
}

/** Runs `insns` on `machine` (CPU `cpu`) and returns r0. */
export function run(machine: Machine, insns: readonly Instruction[], cpu = 0): bigint {
  const prog = prepareProgram(encodeProgram(insns), { helpers: machine.helpers });
  return interpret(machine, prog, { cpu }).r0;
}

/** r0 as a signed number (helper results: -errno). */
export function signed(r0: bigint): number {
  return Number(BigInt.asIntN(64, r0));
}

/** Little-endian u32 bytes. */
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Little-endian u64 bytes. */
export function u64(v: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  return b;
}

/** The little-endian u32 at `off`. */
export function readU32(b: Uint8Array, off = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

/** The little-endian u64 at `off`. */
export function readU64(b: Uint8Array, off = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}

/** Hex of bytes. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Bytes of hex. */
export function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
