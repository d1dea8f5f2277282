/**
 * Typed errors. Every error a user can cause is a {@link TsbpfError}: it
 * carries where it happened (instruction index, source line, byte offset,
 * file, section) so the CLI can print one clear line and exit, never a stack
 * trace.
 */

/** Where an error happened; every field is optional. */
export interface ErrorLocation {
  /** Instruction index (in 8-byte slots) inside the program. */
  insn?: number;
  /** 1-based line of an assembly source. */
  line?: number;
  /** 1-based column of an assembly source. */
  column?: number;
  /** Byte offset inside a binary input (object file, raw program). */
  offset?: number;
  /** File name, when the input came from a file. */
  file?: string;
  /** ELF section or program name. */
  section?: string;
}

/** Base class of every error tsbpf raises on bad input. */
export class TsbpfError extends Error {
  /** Where the problem is. */
  readonly location: ErrorLocation;
  /** The reason alone, without the location prefix. */
  readonly reason: string;

  constructor(reason: string, location: ErrorLocation = {}) {
    super(formatLocated(reason, location));
    this.name = new.target.name;
    this.reason = reason;
    this.location = { ...location };
  }

  /**
   * A copy of this error (same class and fields) with more location facts:
   * outer layers add file names and sections to what inner layers knew.
   */
  withLocation(extra: ErrorLocation): TsbpfError {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as TsbpfError;
    Object.assign(copy, this);
    const location = { ...extra, ...this.location };
    Object.defineProperty(copy, 'location', { value: location, enumerable: true });
    Object.defineProperty(copy, 'message', { value: formatLocated(this.reason, location), writable: true, configurable: true });
    if (this.stack !== undefined) Object.defineProperty(copy, 'stack', { value: this.stack, writable: true, configurable: true });
    return copy;
  }
}

/** An instruction that cannot be decoded or encoded. */
export class InstructionError extends TsbpfError {}

/** Malformed assembly text. */
export class AssemblerError extends TsbpfError {}

/** A run-time fault: bad memory access, budget exhausted, bad call. */
export class VmError extends TsbpfError {}

/**
 * A packet a program cannot be given, as the kernel's test run refuses it
 * (EINVAL): shorter than its headers, larger than the buffer. A packet
 * stream counts it and goes on.
 */
export class PacketRefusedError extends TsbpfError {}

/** Formats `reason` with its location as `file:line:col: insn N: reason`. */
export function formatLocated(reason: string, loc: ErrorLocation): string {
  const parts: string[] = [];
  let head = '';
  if (loc.file !== undefined) head = loc.file;
  if (loc.line !== undefined) head += (head ? ':' : 'line ') + loc.line + (loc.column !== undefined ? ':' + loc.column : '');
  if (head) parts.push(head);
  if (loc.section !== undefined) parts.push(`section ${loc.section}`);
  if (loc.insn !== undefined) parts.push(`insn ${loc.insn}`);
  if (loc.offset !== undefined) parts.push(`offset ${loc.offset}`);
  return parts.length ? `${parts.join(': ')}: ${reason}` : reason;
}
