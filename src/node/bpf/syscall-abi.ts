/**
 * The bpf(2) ABI this backend speaks (include/uapi/linux/bpf.h, Linux 6.x):
 * command numbers, the size of each command's part of `union bpf_attr`, and
 * the system call number per architecture. Attribute offsets live beside the
 * code that fills them (map-commands.ts, prog-commands.ts, ...).
 */

/** bpf(2) commands (`enum bpf_cmd`) used by this backend. */
export const BpfCommand = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  PROG_TEST_RUN: 10,
  OBJ_GET_INFO_BY_FD: 15,
  BTF_LOAD: 18,
  MAP_LOOKUP_AND_DELETE_ELEM: 21,
  MAP_FREEZE: 22,
} as const;

/** A bpf(2) command number. */
export type BpfCommandNumber = (typeof BpfCommand)[keyof typeof BpfCommand];

const COMMAND_NAMES = new Map<number, string>(Object.entries(BpfCommand).map(([name, n]) => [n, `BPF_${name}`]));

/** `BPF_PROG_LOAD` for 5, `bpf(99)` for a command this backend does not name. */
export function commandName(cmd: number): string {
  return COMMAND_NAMES.get(cmd) ?? `bpf(${cmd})`;
}

/**
 * Bytes passed to bpf(2) for each command: each covers the command's struct
 * in Linux 6.18; an older kernel with a shorter union accepts them because
 * the tail is zero.
 */
export const AttrSize = {
  MAP_CREATE: 96,
  MAP_ELEM: 32,
  PROG_LOAD: 168,
  PROG_TEST_RUN: 80,
  OBJ: 24,
  OBJ_INFO: 16,
  BTF_LOAD: 40,
} as const;

/** Largest verifier log the kernel takes (`log_size` must be <= UINT_MAX >> 2). */
export const MAX_LOG_SIZE = 2 ** 30 - 1;

/** Smallest verifier log the kernel takes when a log is asked for. */
export const MIN_LOG_SIZE = 128;

/** The bpf(2) system call number for Node's `process.arch` names. */
export const BPF_SYSCALL_NR: Readonly<Record<string, number>> = {
  x64: 321,
  arm64: 280,
  riscv64: 280,
  loong64: 280,
  ia32: 357,
  arm: 386,
  ppc64: 361,
  s390x: 351,
  mips64el: 5315,
};

/** Lddw (`BPF_LD | BPF_IMM | BPF_DW`) opcode: its src_reg selects a pseudo source. */
export const LDDW_OPCODE = 0x18;
/** `lddw` src_reg: imm is a map fd. */
export const BPF_PSEUDO_MAP_FD = 1;
/** `lddw` src_reg: imm is a map fd, the second imm an offset into its value. */
export const BPF_PSEUDO_MAP_VALUE = 2;
