/** The eBPF instruction set (opcodes, typed instructions, encode and decode) and Linux's BPF vocabulary (uapi.ts). */
export * from './opcode.js';
export * from './instruction.js';
export { decodeAt, decodeSlot, decodeProgram, isKnownOpcode, readSlot } from './decode.js';
export { encode, encodeProgram, toSlots, writeSlot } from './encode.js';
export { checkStructure, checkSubprogBounds, layoutOf } from './structure.js';
export type { ProgramLayout, StructureFault } from './structure.js';
export * from './uapi.js';
// what each helper takes and returns (`struct bpf_func_proto`), for the verifier and the tools.
export {
  A as ArgType, AF as ArgFlag, R as RetType, RF as RetFlag, PROTOS as HELPER_PROTOS, protoFor, tracingProto,
  helperChangesPktData, isSyncCallbackHelper,
} from './helper-protos.js';
export type { FuncProto } from './helper-protos.js';
