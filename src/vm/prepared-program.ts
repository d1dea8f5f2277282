/**
 * A program prepared for execution: decoded, structurally checked, and laid
 * out as flat typed arrays indexed by slot so the interpreter's inner loop
 * reads numbers, not objects.
 */
import { VmError } from '../errors.js';
import type { Instruction } from '../isa/instruction.js';
import { decodeProgram } from '../isa/decode.js';
import { checkStructure } from '../isa/structure.js';
import { helperName } from '../isa/helper-ids.js';
import type { HelperTable } from './helper-call.js';
import { BpfFunc } from '../isa/uapi.js';
import { runtimeKfuncId } from './helpers/kfuncs.js';
import type { LocalType } from './helpers/alloc.js';

/**
 * Value a `lddw rX, func` (pseudo source 4) loads: this base plus the slot of
 * the function. It lies above every address of an address space (at most
 * 1 GiB), so a function pointer can never be taken for data.
 */
export const FUNC_POINTER_BASE = 0x4000_0000;

/** Flat per-slot arrays of a prepared program. */
export interface PreparedProgram {
  /** Optional name (function or section), used in messages. */
  readonly name: string;
  /** The original bytes. */
  readonly bytes: Uint8Array;
  /** Number of 8-byte slots. */
  readonly slots: number;
  /** Instruction starting at each slot (undefined for a `lddw`'s second slot). */
  readonly bySlot: readonly (Instruction | undefined)[];
  /** Subprogram entry slots. */
  readonly subprogs: readonly number[];
  readonly code: Uint8Array;
  /** 2 × dst register (index of the low word in a register-pair array). */
  readonly dst2: Uint8Array;
  /** 2 × src register. */
  readonly src2: Uint8Array;
  readonly off: Int32Array;
  /** imm; for `lddw` the second slot's entry holds the high word. */
  readonly imm: Int32Array;
  /** Helpers this program calls (its program type's set); engines fall back to the machine's table. */
  readonly helpers?: HelperTable;
  /** The structs of the program's BTF by type id, as `bpf_obj_new` allocates them. */
  readonly localType?: (typeId: number) => LocalType | undefined;
}

/** Options for {@link prepareProgram}. */
export interface PrepareOptions {
  name?: string;
  /**
   * Helpers the program may call. A call of a Linux helper missing from the
   * table is accepted and fails when it executes; a call of an id that is no
   * Linux helper is refused unless `allowUnknownHelper` allows it.
   */
  helpers?: HelperTable;
  /** Allow `lddw` pseudo sources other than plain constants (resolved by a loader). */
  allowPseudo?: boolean;
  /** Ids that are no Linux helper but may appear (a loader's poisoned calls); calling one is a run-time error. */
  allowUnknownHelper?: (id: number) => boolean;
  /** The name of the kfunc a call at `slot` calls (from the loader's relocations), for messages. */
  kfuncName?: (slot: number) => string | undefined;
  /** The structs of the program's BTF (`bpf_obj_new` and the kfuncs that free objects read them). */
  localType?: (typeId: number) => LocalType | undefined;
}

/**
 * Decodes, checks and flattens `bytes`. Throws a `TsbpfError` naming
 * the instruction for malformed code, bad jumps, unknown helpers and
 * unresolved map references.
 */
export function prepareProgram(bytes: Uint8Array, options: PrepareOptions = {}): PreparedProgram {
  const { insns } = decodeProgram(bytes);
  const { bySlot, subprogs } = checkStructure(insns);
  const slots = bySlot.length;
  const code = new Uint8Array(slots);
  const dst2 = new Uint8Array(slots);
  const src2 = new Uint8Array(slots);
  const off = new Int32Array(slots);
  const imm = new Int32Array(slots);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let patched: Uint8Array | undefined;
  for (let pc = 0; pc < slots; pc++) {
    const at = pc * 8;
    code[pc] = view.getUint8(at);
    const regs = view.getUint8(at + 1);
    dst2[pc] = (regs & 0x0f) * 2;
    src2[pc] = (regs >> 4) * 2;
    off[pc] = view.getInt16(at + 2, true);
    imm[pc] = view.getInt32(at + 4, true);
    let insn = bySlot[pc];
    if (insn === undefined) continue;
    // kfuncs user space can run become calls of their helpers (fixup_kfunc_call's part here)
    if (insn.kind === 'call' && insn.src === 2) {
      const id = runtimeKfuncId(options.kfuncName?.(pc) ?? '');
      if (id !== undefined) {
        insn = bySlot[pc] = { ...insn, src: 0, imm: id };
        src2[pc] = 0;
        imm[pc] = id;
        // the program's bytes say so too, for the copies functionEntry prepares
        patched ??= bytes.slice();
        patched[pc * 8 + 1]! &= 0x0f;
        new DataView(patched.buffer).setInt32(pc * 8 + 4, id, true);
      }
    }
    // A Linux helper the table lacks loads: calling it is a run-time error (HelperTable.missing), so a program that
    // never reaches the call runs. Only ids that are no helper at all are refused here.
    if (insn.kind === 'call' && insn.src === 0 && insn.imm !== BpfFunc.tail_call && options.helpers && !options.helpers.get(insn.imm)
      && helperName(insn.imm) === undefined && !options.allowUnknownHelper?.(insn.imm)) {
      throw new VmError(`unknown helper #${insn.imm}: no such helper`, { insn: pc });
    }
    if (insn.kind === 'call' && insn.src === 2) {
      const name = options.kfuncName?.(pc);
      throw new VmError(`kfunc call${name ? ` of ${name}` : ''} (BTF id ${insn.imm}) is not supported in user space`, { insn: pc });
    }
    if (insn.kind === 'addr_space_cast') {
      throw new VmError('addr_space_cast needs an arena map, which tsbpf does not provide yet', { insn: pc });
    }
    if (insn.kind === 'lddw' && insn.pseudo !== 0 && insn.pseudo !== 4 && !options.allowPseudo) {
      throw new VmError(`unresolved lddw pseudo source ${insn.pseudo} (map or BTF reference): load the program through an object loader`, { insn: pc });
    }
  }
  // Function pointers become constants the engines recognise (see FUNC_POINTER_BASE).
  bySlot.forEach((insn, pc) => {
    if (insn?.kind === 'lddw' && insn.pseudo === 4) {
      imm[pc] = FUNC_POINTER_BASE + pc + 1 + insn.imm;
      imm[pc + 1] = 0;
      code[pc] = 0x18;
    }
  });
  return { name: options.name ?? 'prog', bytes: patched ?? bytes, slots, bySlot, subprogs, code, dst2, src2, off, imm, ...(options.helpers ? { helpers: options.helpers } : {}),
    ...(options.localType ? { localType: options.localType } : {}) };
}


const entries = new WeakMap<PreparedProgram, Map<number, PreparedProgram>>();

/**
 * A program that calls the function at `slot` of `prog` with the arguments
 * it is given and returns what it returns: `call slot; exit` in front of
 * `prog`'s code. Runs a callback (a timer's) outside the program's own run.
 */
export function functionEntry(prog: PreparedProgram, slot: number): PreparedProgram {
  let bySlot = entries.get(prog);
  if (!bySlot) entries.set(prog, (bySlot = new Map()));
  let entry = bySlot.get(slot);
  if (!entry) {
    const bytes = new Uint8Array(prog.bytes.length + 16);
    const v = new DataView(bytes.buffer);
    bytes[0] = 0x85; // call, src 1 (a bpf-to-bpf call): target = 0 + 1 + imm = slot + 2
    bytes[1] = 0x10;
    v.setInt32(4, slot + 1, true);
    bytes[8] = 0x95; // exit
    bytes.set(prog.bytes, 16);
    entry = prepareProgram(bytes, {
      name: `${prog.name}:callback@${slot}`, allowPseudo: true, allowUnknownHelper: () => true,
      ...(prog.helpers ? { helpers: prog.helpers } : {}),
    });
    bySlot.set(slot, entry);
  }
  return entry;
}
