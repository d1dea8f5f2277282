/** The eBPF instruction set: opcodes, typed instructions, encode and decode. */
export * from './opcode.js';
export * from './instruction.js';
export { decodeAt, decodeSlot, decodeProgram, isKnownOpcode, readSlot } from './decode.js';
export { encode, encodeProgram, toSlots, writeSlot } from './encode.js';
export { checkStructure, layoutOf } from './structure.js';
export type { ProgramLayout } from './structure.js';
export { HELPER_NAMES, MAX_HELPER_ID, helperId, helperName } from './helpers.js';
