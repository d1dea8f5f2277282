/** The eBPF instruction set: opcodes, typed instructions, encode and decode. */
export * from './opcode.js';
export * from './instruction.js';
export { decodeAt, decodeSlot, decodeProgram, isKnownOpcode, readSlot } from './decode.js';
export { encode, encodeProgram, toSlots, writeSlot } from './encode.js';
