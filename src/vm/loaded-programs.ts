/**
 * The programs loaded into a machine, by id: what prog arrays hold and what
 * `bpf_tail_call` jumps to.
 */
import type { PreparedProgram } from './prepared-program.js';

/**
 * What Linux fixes in a prog array with the first program that uses it or
 * is stored in it (`bpf_prog_map_compatible`): every other program must
 * match, so a tail call never lands in a program that reads another
 * context layout or return-value convention.
 */
export interface ProgramAttrs {
  /** `enum bpf_prog_type`. */
  readonly type: number;
  /** `enum bpf_attach_type` given at load (0 when none). */
  readonly expectedAttachType: number;
  /** Loaded with BPF_F_XDP_HAS_FRAGS. */
  readonly xdpHasFrags: boolean;
  /** How messages name these attributes (`xdp`, `cgroup_skb/cgroup_inet_egress`); numbers when absent. */
  readonly label?: string;
}

/** The attributes as messages print them. */
export function describeProgramAttrs(a: ProgramAttrs): string {
  return a.label ?? `type ${a.type}, attach type ${a.expectedAttachType}${a.xdpHasFrags ? ', xdp frags' : ''}`;
}

/** Whether two programs may share a prog array. */
export function sameProgramAttrs(a: ProgramAttrs, b: ProgramAttrs): boolean {
  return a.type === b.type && a.expectedAttachType === b.expectedAttachType && a.xdpHasFrags === b.xdpHasFrags;
}

/** Programs by id (ids start at 1, as file descriptors would). */
export class ProgramRegistry {
  private readonly byId = new Map<number, PreparedProgram>();
  private readonly attrsById = new Map<number, ProgramAttrs>();
  private next = 1;

  /** Registers `prog` (with its type, which prog arrays check) and returns its id. */
  add(prog: PreparedProgram, attrs?: ProgramAttrs): number {
    const id = this.next++;
    this.byId.set(id, prog);
    if (attrs) this.attrsById.set(id, attrs);
    return id;
  }

  /** The type of program `id`, when it was registered with one. */
  attrs(id: number): ProgramAttrs | undefined {
    return this.attrsById.get(id);
  }

  /** The program with `id`, if any. */
  get(id: number): PreparedProgram | undefined {
    return this.byId.get(id);
  }

  /** The id of `prog`, if registered. */
  idOf(prog: PreparedProgram): number | undefined {
    for (const [id, p] of this.byId) if (p === prog) return id;
    return undefined;
  }

  /** Every registered program with its id. */
  list(): { id: number; prog: PreparedProgram }[] {
    return [...this.byId].map(([id, prog]) => ({ id, prog }));
  }
}
