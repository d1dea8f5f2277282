/**
 * The programs loaded into a machine, by id: what prog arrays hold and what
 * `bpf_tail_call` jumps to.
 */
import type { PreparedProgram } from './program.js';

/** Programs by id (ids start at 1, as file descriptors would). */
export class ProgramRegistry {
  private readonly byId = new Map<number, PreparedProgram>();
  private next = 1;

  /** Registers `prog` and returns its id. */
  add(prog: PreparedProgram): number {
    const id = this.next++;
    this.byId.set(id, prog);
    return id;
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
