/**
 * Errors of the bpf(2) backend: a system call the kernel refused (with its
 * errno), and a machine on which bpf(2) cannot be reached at all.
 */
import { TsbpfError } from '../../errors.js';
import { commandName } from './syscall-abi.js';
import { errnoName, errnoText } from './errno.js';

/** The kernel answered a bpf(2) (or related) system call with an error. */
export class BpfSyscallError extends TsbpfError {
  /** The command, e.g. `BPF_MAP_CREATE` (or `mmap`, `capset`). */
  readonly command: string;
  /** The errno number the kernel returned. */
  readonly errno: number;
  /** Its name, e.g. `EACCES`. */
  readonly errnoName: string;

  constructor(command: number | string, errno: number, context?: string) {
    const name = typeof command === 'number' ? commandName(command) : command;
    super(`${context ? `${context}: ` : ''}${name} failed: ${errnoText(errno)}`);
    this.command = name;
    this.errno = errno;
    this.errnoName = errnoName(errno);
  }
}

/** bpf(2) cannot be used here: not Linux, koffi missing, unknown architecture. */
export class BpfUnavailableError extends TsbpfError {}
