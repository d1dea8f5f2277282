/**
 * The helper-call interface shared by every engine. Arguments and the
 * return value travel through the calling CPU's register file, which lives
 * in the address space (so the interpreter and the JIT hand helpers the same
 * bytes): r0..r10 as little-endian 64-bit words at `regs + 8 * n`.
 */
import { VmError } from '../errors.js';
import { helperId, helperName } from '../isa/helper-ids.js';
import type { HelperName } from '../isa/helper-ids.js';
import type { AddressSpace } from './memory.js';
import type { PreparedProgram } from './prepared-program.js';
import { LibbpfPoison, isPoisonedCall } from '../isa/uapi.js';

/** The state a helper sees during one call. */
export class HelperCall {
  /** Instruction index of the call (for error messages). */
  pc = 0;
  /** Name of the helper being called (for error messages; set by the engine before each call). */
  helper = '';
  /** The program making the call (set by the engine before each call; tail calls change it). */
  program: PreparedProgram | undefined = undefined;

  /**
   * Runs a BPF callback (a function pointer the program loaded with
   * `lddw rX, func`) with r1..r5 = `args` and returns its r0. The engine
   * running the program sets this for the duration of a run.
   */
  invoke: (target: bigint, args: readonly bigint[]) => bigint = () => {
    throw new VmError('no program is running: callbacks cannot be invoked', { insn: this.pc });
  };

  constructor(
    /** The collection's address space. */
    readonly space: AddressSpace,
    /** Address of the calling CPU's register file. */
    readonly regs: number,
    /** Index of the calling CPU (worker). */
    readonly cpu: number,
  ) {}

  /** Argument `n` (1..5) as an unsigned 64-bit value. */
  u64(n: number): bigint {
    return this.space.data.getBigUint64(this.regs + 8 * n, true);
  }

  /** Argument `n` as a signed 64-bit value. */
  i64(n: number): bigint {
    return this.space.data.getBigInt64(this.regs + 8 * n, true);
  }

  /** Low 32 bits of argument `n`, unsigned. */
  u32(n: number): number {
    return this.space.data.getUint32(this.regs + 8 * n, true);
  }

  /** Low 32 bits of argument `n`, signed. */
  i32(n: number): number {
    return this.space.data.getInt32(this.regs + 8 * n, true);
  }

  /** Argument `n` as a number; exact for values below 2^53. */
  num(n: number): number {
    const d = this.space.data;
    return d.getUint32(this.regs + 8 * n + 4, true) * 4294967296 + d.getUint32(this.regs + 8 * n, true);
  }

  /**
   * Argument `n` as a pointer to `size` bytes that the program may access:
   * throws a {@link VmError} naming the helper, the argument and the address
   * unless one region that allows the access holds them all. This is where
   * every helper checks the program memory it reads or writes through a
   * pointer argument; a region's pages have its rights, so what passes also
   * passes the page guard (docs/architecture.md): a verifier bug in helper
   * argument checking cannot make a helper write the runtime's state, a
   * read-only map, or read a write-only one.
   */
  ptr(n: number, size: number, write = false): number {
    const addr = this.num(n);
    if (size === 0) return addr;
    const region = this.space.regionAt(addr, size);
    if (region === undefined || (write ? !region.writable : !region.readable)) {
      const who = this.helper === '' ? '' : `${this.helper}: `;
      throw new VmError(`${who}helper argument R${n} = ${this.space.describe(addr)} is not a ${write ? 'writable' : 'readable'} region of ${size} bytes`, { insn: this.pc });
    }
    return addr;
  }

  /** Sets r0. */
  ret(value: number | bigint): void {
    const d = this.space.data;
    if (typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff) {
      // Small results (most helpers) need no BigInt: low word, and the sign for negative errnos.
      d.setInt32(this.regs, value | 0, true);
      d.setInt32(this.regs + 4, value < 0 ? -1 : 0, true);
      return;
    }
    const v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : BigInt.asUintN(64, BigInt(Math.trunc(value)));
    d.setBigUint64(this.regs, v, true);
  }
}

/** A helper function: reads its arguments from `call`, sets r0 with `call.ret`. */
export type HelperFn = (call: HelperCall) => void;

/** A helper as a table entry: Linux's id and name. */
export interface Helper {
  readonly id: number;
  readonly name: string;
  readonly fn: HelperFn;
}

/** The id and name of Linux helper `name` (ids come from isa/uapi.ts, never spelled in a table). */
export function helperIdentity(name: HelperName): { id: number; name: HelperName } {
  return { id: helperId(name)!, name };
}

/**
 * A helper call that cannot run: a Linux helper this table does not provide
 * (user space cannot honour it, or the program type does not offer it), a
 * call a loader poisoned, or an id that is no helper at all. Programs that
 * call such helpers load and verify; the run stops only when the call
 * executes (docs/helpers.md).
 */
export class UnavailableHelperError extends VmError {
  constructor(
    /** The helper id called. */
    readonly helperId: number,
    /** Instruction index of the call. */
    readonly pc: number,
    reason: string,
  ) {
    super(`${helperName(helperId) ?? 'helper'}#${helperId} at insn ${pc}: ${reason}`);
  }
}


/** Helpers by id, as a program environment provides them. */
export class HelperTable {
  private readonly byId = new Map<number, Helper>();

  /**
   * @param unavailable why a Linux helper this table lacks cannot run (e.g.
   *   "not available to xdp programs"); default "not available in user space".
   */
  constructor(helpers: Iterable<Helper> = [], readonly unavailable?: (id: number) => string | undefined) {
    for (const h of helpers) this.add(h);
  }

  /**
   * The error a call of helper `id` at instruction `pc` raises when the table
   * has no such helper: both engines throw it when the call executes.
   */
  missing(id: number, pc: number): UnavailableHelperError {
    if (id === LibbpfPoison.CORE_CALL) {
      return new UnavailableHelperError(id, pc, 'call poisoned by a failed CO-RE relocation (the field or type does not exist in the target BTF)');
    }
    if (isPoisonedCall(id)) {
      return new UnavailableHelperError(id, pc, 'call to a weak kernel function (kfunc) that does not exist in user space');
    }
    if (helperName(id) === undefined) return new UnavailableHelperError(id, pc, 'no such helper');
    return new UnavailableHelperError(id, pc, this.unavailable?.(id) ?? 'not available in user space');
  }

  /** Adds or replaces a helper. */
  add(helper: Helper): this {
    this.byId.set(helper.id, helper);
    return this;
  }

  /** The helper with Linux id `id`, if present. */
  get(id: number): Helper | undefined {
    return this.byId.get(id);
  }

  /** Every helper, ordered by id. */
  list(): Helper[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}
