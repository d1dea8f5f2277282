/**
 * A machine: the address space of a collection, its helpers and its CPUs.
 * Each CPU (worker) owns a register file and a call stack inside the address
 * space; per-CPU maps index their slots by CPU number.
 */
import { MAX_CALL_FRAMES, STACK_SIZE } from '../isa/opcode.js';
import { HelperCall, HelperTable } from './helper-call.js';
import { AddressSpace } from './memory.js';
import type { PreparedProgram } from './prepared-program.js';
import { ProgramRegistry } from './loaded-programs.js';
import { MapRegistry } from './maps/registry.js';
import type { AddressSpaceOptions, Region } from './memory.js';

/** Bytes of a CPU's register file: r0..r10 as 64-bit words, padded. */
export const REGFILE_SIZE = 96;

/** One CPU's private state inside the address space. */
export class Cpu {
  /** 8 frames of 512 bytes; frame 0's r10 is `stack.start + stack.size`. */
  readonly stack: Region;
  /** r0..r10, not accessible to programs. */
  readonly regfile: Region;
  /** The helper-call state of this CPU. */
  readonly call: HelperCall;

  constructor(readonly space: AddressSpace, readonly index: number) {
    this.stack = space.allocate(`stack[${index}]`, 'stack', MAX_CALL_FRAMES * STACK_SIZE, { align: 16 });
    this.regfile = space.allocate(`regs[${index}]`, 'internal', REGFILE_SIZE, { readable: false, writable: false, align: 16 });
    this.call = new HelperCall(space, this.regfile.start, index);
  }

  /** The frame pointer of call depth `depth` (0 = the entry function). */
  framePointer(depth: number): number {
    return this.stack.start + this.stack.size - depth * STACK_SIZE;
  }
}

/** Options for a new machine. */
export interface MachineOptions extends AddressSpaceOptions {
  /** An existing address space to use (for several programs of one collection). */
  space?: AddressSpace;
  helpers?: HelperTable;
  /** Number of CPUs (workers) to prepare up front; more are created on demand. */
  cpus?: number;
  /**
   * Number of possible CPUs: the slots of every per-CPU map created on this
   * machine, fixed when the map is created (default: `cpus`, else 1).
   */
  possibleCpus?: number;
}

/** The address space, helpers and CPUs programs run on. */
export class Machine {
  readonly space: AddressSpace;
  readonly helpers: HelperTable;
  /** Programs loaded into this machine (tail-call targets). */
  readonly programs = new ProgramRegistry();
  /**
   * Finds the program a `bpf_tail_call(ctx, map, index)` jumps to: `map` is
   * the map pointer the program passed. Set up by the map layer.
   */
  tailCallTarget: (mapAddr: number, index: number) => PreparedProgram | undefined = () => undefined;
  /**
   * Whether a network device with this ifindex exists (devmaps check the
   * devices they are given). The hooks layer answers from the network a
   * run sees; by default only `lo` (ifindex 1) exists, as in the kernel's
   * test-run namespace.
   */
  netDevice: (ifindex: number) => boolean = (ifindex) => ifindex === 1;
  /** Per-CPU slots of per-CPU maps (see {@link MachineOptions.possibleCpus}). */
  readonly possibleCpus: number;
  /** The maps of this machine, laid out in its address space. */
  readonly maps: MapRegistry;
  private readonly cpuList: Cpu[] = [];

  constructor(options: MachineOptions = {}) {
    this.space = options.space ?? new AddressSpace(options);
    this.helpers = options.helpers ?? new HelperTable();
    this.possibleCpus = Math.max(1, Math.trunc(options.possibleCpus ?? options.cpus ?? 1));
    this.maps = new MapRegistry(this);
    for (let i = 0; i < (options.cpus ?? 1); i++) this.cpu(i);
  }

  /** CPU `index`, created on first use. */
  cpu(index: number): Cpu {
    while (this.cpuList.length <= index) this.cpuList.push(new Cpu(this.space, this.cpuList.length));
    return this.cpuList[index]!;
  }

  /** Number of CPUs created so far. */
  get cpuCount(): number {
    return this.cpuList.length;
  }
}
