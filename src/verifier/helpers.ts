/**
 * Helper prototypes (`struct bpf_func_proto`): argument and return types of
 * the Linux helpers the verifier checks calls against. Which program types
 * may call which helpers, and which are GPL-only, is in
 * helper-availability.ts (measured on the kernel).
 */

/** Base argument types (`enum bpf_arg_type`). */
export const A = {
  DONTCARE: 0,
  CONST_MAP_PTR: 1,
  PTR_TO_MAP_KEY: 2,
  PTR_TO_MAP_VALUE: 3,
  PTR_TO_MEM: 4,
  PTR_TO_ARENA: 5,
  CONST_SIZE: 6,
  CONST_SIZE_OR_ZERO: 7,
  PTR_TO_CTX: 8,
  ANYTHING: 9,
  PTR_TO_SPIN_LOCK: 10,
  PTR_TO_SOCK_COMMON: 11,
  PTR_TO_SOCKET: 12,
  PTR_TO_BTF_ID: 13,
  PTR_TO_RINGBUF_MEM: 14,
  CONST_ALLOC_SIZE_OR_ZERO: 15,
  PTR_TO_BTF_ID_SOCK_COMMON: 16,
  PTR_TO_PERCPU_BTF_ID: 17,
  PTR_TO_FUNC: 18,
  PTR_TO_STACK: 19,
  PTR_TO_CONST_STR: 20,
  PTR_TO_TIMER: 21,
  KPTR_XCHG_DEST: 22,
  PTR_TO_DYNPTR: 23,
} as const;

/** Argument type flags (share bit positions with register type flags where the kernel does). */
export const AF = {
  MAYBE_NULL: 1 << 8,
  RDONLY: 1 << 9,
  UNINIT: 1 << 17,
  WRITE: 1 << 18,
  FIXED_SIZE: 1 << 19,
  RELEASE: 1 << 20,
  ALIGNED: 1 << 21,
} as const;

/** Return types (`enum bpf_return_type`, base). */
export const R = {
  INTEGER: 0,
  VOID: 1,
  PTR_TO_MAP_VALUE: 2,
  PTR_TO_SOCKET: 3,
  PTR_TO_TCP_SOCK: 4,
  PTR_TO_SOCK_COMMON: 5,
  PTR_TO_MEM: 6,
  PTR_TO_MEM_OR_BTF_ID: 7,
  PTR_TO_BTF_ID: 8,
} as const;

/** Return flags. */
export const RF = {
  MAYBE_NULL: 1 << 8,
  RDONLY: 1 << 9,
  RINGBUF: 1 << 10,
} as const;

/** A helper prototype. */
export interface FuncProto {
  ret: number;
  args: number[];
  /** Fixed sizes for MEM_FIXED_SIZE arguments. */
  argSize?: number[];
  pktAccess?: boolean;
  /** Changes packet data (invalidates packet pointers). */
  changesPkt?: boolean;
  mightSleep?: boolean;
  /** `fn->allowed`: only some tracing attach points may call it ("helper call is not allowed in probe" elsewhere). */
  allowedOnlyForTracing?: boolean;
  /** Return BTF type name for RET_PTR_TO_BTF_ID. */
  retBtf?: string;
  /** `arg_btf_id` of ARG_PTR_TO_BTF_ID arguments, by struct name (resolved in the kernel BTF). */
  argBtf?: (string | undefined)[];
}

const ANY = A.ANYTHING;
const CTX = A.PTR_TO_CTX;
const MAP = A.CONST_MAP_PTR;
const KEY = A.PTR_TO_MAP_KEY;
const VALUE = A.PTR_TO_MAP_VALUE;
const MEM_RO = A.PTR_TO_MEM | AF.RDONLY;
const MEM_RO_NULL = A.PTR_TO_MEM | AF.RDONLY | AF.MAYBE_NULL;
const UNINIT_MEM = A.PTR_TO_MEM | AF.UNINIT | AF.WRITE;
const MEM_W_NULL = A.PTR_TO_MEM | AF.MAYBE_NULL | AF.WRITE;
const SIZE = A.CONST_SIZE;
const SIZE0 = A.CONST_SIZE_OR_ZERO;
const BTF_ID = A.PTR_TO_BTF_ID;
const SOCK_COMMON_BTF = A.PTR_TO_BTF_ID_SOCK_COMMON;
const DYNPTR = A.PTR_TO_DYNPTR;
const UNINIT_MEM_NOSIZE = A.PTR_TO_MEM | AF.UNINIT | AF.WRITE;
const INT = R.INTEGER;
const VOID = R.VOID;

function p(ret: number, args: number[], extra: Partial<FuncProto> = {}): FuncProto {
  return { ret, args, ...extra };
}

const probeRead = p(INT, [UNINIT_MEM, SIZE0, ANY]);
const csumReplace = p(INT, [CTX, ANY, ANY, ANY, ANY], { changesPkt: true });
// the socket lookups and syncookie helpers read their tuple or headers straight from the packet (pkt_access)
const skLookup = p(R.PTR_TO_SOCKET | RF.MAYBE_NULL, [CTX, MEM_RO, SIZE, ANY, ANY], { pktAccess: true });
const skcLookup = p(R.PTR_TO_SOCK_COMMON | RF.MAYBE_NULL, [CTX, MEM_RO, SIZE, ANY, ANY], { pktAccess: true });
const perfOut = p(INT, [CTX, MAP, ANY, MEM_RO, SIZE0]);
const noArgs = p(INT, []);
const ctxOnly = p(INT, [CTX]);
const ctxAny = p(INT, [CTX, ANY]);

/** Prototypes by helper id. */
/** Helpers whose prototype depends on the program type (a different `func_proto` per type). */
export function protoFor(funcId: number, progType: number): FuncProto | undefined {
  const SYSCALL = 31;
  const skbTypes = [1, 3, 4, 8, 10, 11, 12, 14, 19];
  if (funcId === 17) return skbTypes.includes(progType) ? p(INT, [CTX]) : p(INT, []); // bpf_get_cgroup_classid(_curr)
  if (progType === SYSCALL) {
    // syscall programs get the tracing flavours (BTF-typed pointers)
    if (funcId === 46) return p(INT, [A.PTR_TO_BTF_ID_SOCK_COMMON | AF.MAYBE_NULL]);
    if (funcId === 121) return p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0]);
    if (funcId === 188) return p(INT, [BTF_ID]);
    if (funcId === 107 || funcId === 108) return { ...PROTOS.get(funcId)!, allowedOnlyForTracing: true };
  }
  if (funcId === 124) {
    // bpf_sk_assign: sk_lookup's bpf_sk_lookup_assign takes a socket or NULL
    return progType === 30
      ? p(INT, [CTX, A.PTR_TO_SOCKET | AF.MAYBE_NULL, ANY])
      : p(INT, [CTX, A.PTR_TO_BTF_ID_SOCK_COMMON, ANY]);
  }
  return PROTOS.get(funcId);
}

/**
 * The prototypes tracing and LSM programs with an attach point get where
 * they differ from the others' (tracing_prog_func_proto,
 * bpf_lsm_func_proto): BTF-typed kernel objects instead of contexts.
 */
export function tracingProto(funcId: number, progType: number): FuncProto | undefined {
  const LSM = 29;
  switch (funcId) {
    case 46: return p(INT, [SOCK_COMMON_BTF | AF.MAYBE_NULL]);
    case 107:
      return progType === LSM
        ? p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, SOCK_COMMON_BTF, VALUE | AF.MAYBE_NULL, ANY])
        : p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'sock_common'] });
    case 108:
      return progType === LSM
        ? p(INT, [MAP, SOCK_COMMON_BTF])
        : p(INT, [MAP, BTF_ID | AF.MAYBE_NULL], { argBtf: [undefined, 'sock_common'] });
    case 111: return p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0], { argBtf: ['sk_buff'] });
    case 121: return p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0], { argBtf: ['xdp_buff'] });
    case 188: return p(INT, [BTF_ID], { argBtf: ['xdp_buff'] });
    case 49: return p(INT, [SOCK_COMMON_BTF, ANY, ANY, MEM_RO, SIZE]);
    case 57: return p(INT, [SOCK_COMMON_BTF, ANY, ANY, UNINIT_MEM, SIZE]);
    case 81: return p(R.PTR_TO_MAP_VALUE, [MAP, ANY]);
    default: return undefined;
  }
}

export const PROTOS: ReadonlyMap<number, FuncProto> = new Map<number, FuncProto>([
  [1, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, KEY], { pktAccess: true })],
  [2, p(INT, [MAP, KEY, VALUE, ANY], { pktAccess: true })],
  [3, p(INT, [MAP, KEY], { pktAccess: true })],
  [4, probeRead],
  [5, noArgs],
  [6, p(INT, [MEM_RO, SIZE])],
  [7, noArgs],
  [8, noArgs],
  [9, p(INT, [CTX, ANY, MEM_RO, SIZE, ANY], { changesPkt: true })],
  [10, csumReplace],
  [11, csumReplace],
  [12, p(VOID, [CTX, MAP, ANY])],
  [13, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [14, noArgs],
  [15, noArgs],
  [16, p(INT, [UNINIT_MEM, SIZE])],
  [17, ctxOnly],
  [18, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [19, p(INT, [CTX], { changesPkt: true })],
  [20, p(INT, [CTX, UNINIT_MEM, SIZE, ANY])],
  [21, p(INT, [CTX, MEM_RO, SIZE, ANY])],
  [22, p(INT, [MAP, ANY])],
  [23, p(INT, [ANY, ANY])],
  [24, ctxOnly],
  [25, perfOut],
  [26, p(INT, [CTX, ANY, UNINIT_MEM, SIZE])],
  [27, p(INT, [CTX, MAP, ANY])],
  [28, p(INT, [MEM_RO_NULL, SIZE0, MEM_RO_NULL, SIZE0, ANY], { pktAccess: true })],
  [29, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [30, p(INT, [CTX, MEM_RO, SIZE])],
  [31, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [32, ctxAny],
  [33, p(INT, [CTX, MAP, ANY])],
  [34, ctxOnly],
  [35, noArgs],
  [36, p(INT, [ANY, MEM_RO, SIZE])],
  [37, p(INT, [MAP, ANY])],
  [38, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [39, p(INT, [CTX, ANY], { changesPkt: true })],
  [40, ctxAny],
  [41, ctxOnly],
  [42, noArgs],
  [43, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [44, p(INT, [CTX, ANY], { changesPkt: true })],
  [45, probeRead],
  [46, ctxOnly],
  [47, ctxOnly],
  [48, ctxAny],
  [49, p(INT, [CTX, ANY, ANY, MEM_RO, SIZE])],
  [50, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [51, p(INT, [MAP, ANY, ANY])],
  [52, p(INT, [CTX, MAP, ANY, ANY])],
  [53, p(INT, [CTX, MAP, KEY, ANY])],
  [54, p(INT, [CTX, ANY], { changesPkt: true })],
  [55, p(INT, [MAP, ANY, UNINIT_MEM, SIZE])],
  [56, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [57, p(INT, [CTX, ANY, ANY, UNINIT_MEM, SIZE])],
  [58, p(INT, [CTX, ANY])],
  [59, ctxAny],
  [60, p(INT, [CTX, MAP, ANY, ANY])],
  [61, ctxAny],
  [62, ctxAny],
  [63, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [64, p(INT, [CTX, MEM_RO, SIZE])],
  [65, p(INT, [CTX, ANY], { changesPkt: true })],
  [66, p(INT, [CTX, ANY, UNINIT_MEM, SIZE, ANY])],
  [67, p(INT, [CTX, UNINIT_MEM, SIZE0, ANY])],
  [68, p(INT, [CTX, ANY, UNINIT_MEM, SIZE, ANY])],
  [69, p(INT, [CTX, A.PTR_TO_MEM | AF.WRITE, SIZE, ANY])],
  [70, p(INT, [CTX, MAP, KEY, ANY])],
  [71, p(INT, [CTX, MAP, KEY, ANY])],
  [72, p(INT, [CTX, MAP, KEY, ANY])],
  [73, p(INT, [CTX, ANY, MEM_RO, SIZE], { changesPkt: true })],
  [74, p(INT, [CTX, ANY, MEM_RO, SIZE], { changesPkt: true })],
  [75, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [76, p(INT, [CTX, ANY, MEM_RO, SIZE], { changesPkt: true })],
  [77, ctxOnly],
  [78, p(INT, [CTX, ANY, ANY, ANY])],
  [79, ctxOnly],
  [80, noArgs],
  [81, p(R.PTR_TO_MAP_VALUE, [MAP, ANY])],
  [82, p(INT, [CTX, MAP, KEY, ANY])],
  [83, ctxAny],
  [84, skLookup],
  [85, skLookup],
  [86, p(INT, [A.PTR_TO_BTF_ID_SOCK_COMMON | AF.RELEASE])],
  [87, p(INT, [MAP, VALUE, ANY])],
  [88, p(INT, [MAP, VALUE | AF.UNINIT | AF.WRITE])],
  [89, p(INT, [MAP, VALUE | AF.UNINIT | AF.WRITE])],
  [90, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [91, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [92, p(INT, [CTX, ANY, ANY])],
  [93, p(VOID, [A.PTR_TO_SPIN_LOCK])],
  [94, p(VOID, [A.PTR_TO_SPIN_LOCK])],
  [95, p(R.PTR_TO_SOCKET | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON])],
  [96, p(R.PTR_TO_TCP_SOCK | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON])],
  [97, ctxOnly],
  [98, p(R.PTR_TO_SOCKET | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON])],
  [99, skcLookup],
  [100, p(INT, [A.PTR_TO_BTF_ID_SOCK_COMMON, MEM_RO, SIZE, MEM_RO, SIZE], { pktAccess: true })],
  [101, p(INT, [CTX, UNINIT_MEM, SIZE, ANY])],
  [102, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [103, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [104, p(INT, [CTX, MEM_RO, SIZE])],
  [105, p(INT, [MEM_RO, SIZE, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 0, 8] })],
  [106, p(INT, [MEM_RO, SIZE, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 0, 8] })],
  [109, p(INT, [ANY])],
  [112, probeRead],
  [113, probeRead],
  [114, probeRead],
  [115, probeRead],
  [116, p(INT, [BTF_ID, ANY], { argBtf: ['tcp_sock'] })],
  [117, p(INT, [ANY])],
  [118, noArgs],
  [119, p(INT, [CTX, A.PTR_TO_MEM | AF.MAYBE_NULL | AF.WRITE, SIZE0, ANY])],
  [120, p(INT, [ANY, ANY, UNINIT_MEM, SIZE])],
  [121, perfOut],
  [122, p(INT, [CTX | AF.MAYBE_NULL])],
  [123, p(INT, [ANY])],
  [125, noArgs],
  [126, p(INT, [BTF_ID, MEM_RO, SIZE, MEM_RO_NULL, SIZE0], { argBtf: ['seq_file'] })],
  [127, p(INT, [BTF_ID, MEM_RO, SIZE0], { argBtf: ['seq_file'] })],
  [128, p(INT, [SOCK_COMMON_BTF])],
  [129, p(INT, [SOCK_COMMON_BTF, ANY])],
  [130, p(INT, [MAP, MEM_RO, SIZE0, ANY])],
  [131, p(R.PTR_TO_MEM | RF.MAYBE_NULL | RF.RINGBUF, [MAP, A.CONST_ALLOC_SIZE_OR_ZERO, ANY])],
  [132, p(VOID, [A.PTR_TO_RINGBUF_MEM | AF.RELEASE, ANY])],
  [133, p(VOID, [A.PTR_TO_RINGBUF_MEM | AF.RELEASE, ANY])],
  [134, p(INT, [MAP, ANY])],
  [135, ctxAny],
  [141, p(INT, [A.PTR_TO_BTF_ID, UNINIT_MEM, SIZE0, ANY], { argBtf: ['task_struct'] })],
  [145, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'inode'] })],
  [146, p(INT, [MAP, BTF_ID | AF.MAYBE_NULL], { argBtf: [undefined, 'inode'] })],
  [148, p(INT, [UNINIT_MEM, SIZE0, ANY], { mightSleep: true })],
  [150, p(INT, [BTF_ID, MEM_RO, SIZE0, ANY], { argBtf: ['seq_file'] })],
  [151, ctxOnly],
  [152, p(INT, [ANY, MEM_RO_NULL, SIZE0, ANY])],
  [155, p(INT, [ANY, ANY])],
  [159, p(INT, [BTF_ID, ANY], { argBtf: ['linux_binprm'] })],
  [160, noArgs],
  [161, p(INT, [BTF_ID, UNINIT_MEM, SIZE], { argBtf: ['inode'] })],
  [193, p(INT, [BTF_ID, UNINIT_MEM, SIZE], { argBtf: ['file'] })],
  [163, p(INT, [CTX, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.WRITE, ANY, ANY], { argSize: [0, 0, 4] })],
  [164, p(INT, [MAP, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY])],
  [165, p(INT, [MEM_W_NULL, SIZE0, A.PTR_TO_CONST_STR, MEM_RO_NULL, SIZE0])],
  [173, ctxOnly],
  [174, ctxOnly],
  [177, p(INT, [MEM_RO, SIZE, MEM_RO_NULL, SIZE0])],
  [181, p(INT, [ANY, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY])],
  [182, p(INT, [MEM_RO, SIZE, A.PTR_TO_CONST_STR])],
  [183, p(INT, [CTX, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 8] })],
  [184, p(INT, [CTX, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 8] })],
  [185, ctxOnly],
  [186, noArgs],
  [187, p(INT, [ANY])],
  [188, ctxOnly],
  [189, p(INT, [CTX, ANY, UNINIT_MEM, SIZE])],
  [190, p(INT, [CTX, ANY, MEM_RO, SIZE])],
  [192, p(INT, [CTX, ANY, ANY])],
  [195, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, KEY, ANY])],
  [208, noArgs],
  [107, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, SOCK_COMMON_BTF, VALUE | AF.MAYBE_NULL, ANY])],
  [108, p(INT, [MAP, SOCK_COMMON_BTF])],
  [110, p(INT, [SOCK_COMMON_BTF, MEM_RO, SIZE, MEM_RO, SIZE], { pktAccess: true })],
  [111, p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0], { argBtf: ['sk_buff'] })],
  [136, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp6_sock' })],
  [137, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp_sock' })],
  [138, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp_timewait_sock' })],
  [139, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp_request_sock' })],
  [140, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'udp6_sock' })],
  [142, p(INT, [CTX, A.PTR_TO_MEM | AF.WRITE, SIZE, ANY])],
  [143, p(INT, [CTX, MEM_RO, SIZE, ANY])],
  [144, p(INT, [CTX, ANY, ANY])],
  [147, p(INT, [BTF_ID, A.PTR_TO_MEM | AF.WRITE, SIZE0], { allowedOnlyForTracing: true, argBtf: ['path'] })],
  [149, p(INT, [A.PTR_TO_MEM | AF.WRITE, SIZE, MEM_RO, SIZE, ANY])],
  [153, p(R.PTR_TO_MEM_OR_BTF_ID | RF.MAYBE_NULL, [A.PTR_TO_PERCPU_BTF_ID, ANY])],
  [154, p(R.PTR_TO_MEM_OR_BTF_ID, [A.PTR_TO_PERCPU_BTF_ID])],
  [156, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'task_struct'] })],
  [157, p(INT, [MAP, BTF_ID], { argBtf: [undefined, 'task_struct'] })],
  [158, p(R.PTR_TO_BTF_ID, [], { retBtf: 'task_struct' })],
  [162, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [BTF_ID], { argBtf: ['file'], retBtf: 'socket' })],
  [166, p(INT, [ANY, MEM_RO, SIZE])],
  [167, p(INT, [MEM_RO, SIZE, ANY, ANY])],
  [168, p(INT, [ANY])],
  [169, p(INT, [A.PTR_TO_TIMER, MAP, ANY])],
  [170, p(INT, [A.PTR_TO_TIMER, A.PTR_TO_FUNC])],
  [171, p(INT, [A.PTR_TO_TIMER, ANY, ANY])],
  [172, p(INT, [A.PTR_TO_TIMER])],
  [175, p(R.PTR_TO_BTF_ID, [BTF_ID], { argBtf: ['task_struct'], retBtf: 'pt_regs' })],
  [176, p(INT, [UNINIT_MEM_NOSIZE, SIZE0])],
  [178, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'unix_sock' })],
  [179, p(INT, [MEM_RO, SIZE0, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 0, 8] })],
  [180, p(INT, [BTF_ID, ANY, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY], { argBtf: ['task_struct'] })],
  [191, p(INT, [UNINIT_MEM_NOSIZE, SIZE0, ANY, BTF_ID, ANY], { mightSleep: true, argBtf: [undefined, undefined, undefined, 'task_struct'] })],
  [194, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [A.KPTR_XCHG_DEST, BTF_ID | AF.MAYBE_NULL | AF.RELEASE])],
  [196, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON], { retBtf: 'mptcp_sock' })],
  [197, p(INT, [UNINIT_MEM_NOSIZE, SIZE0, ANY, DYNPTR | AF.UNINIT])],
  [198, p(INT, [MAP, ANY, ANY, DYNPTR | AF.UNINIT])],
  [199, p(VOID, [DYNPTR | AF.RELEASE, ANY])],
  [200, p(VOID, [DYNPTR | AF.RELEASE, ANY])],
  [201, p(INT, [UNINIT_MEM_NOSIZE, SIZE0, DYNPTR | AF.RDONLY, ANY, ANY])],
  [202, p(INT, [DYNPTR | AF.RDONLY, ANY, MEM_RO, SIZE0, ANY])],
  [203, p(R.PTR_TO_MEM | RF.MAYBE_NULL, [DYNPTR | AF.RDONLY, ANY, A.CONST_ALLOC_SIZE_OR_ZERO])],
  [204, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, MEM_RO, SIZE], { argSize: [20], pktAccess: true })],
  [205, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, MEM_RO, SIZE], { argSize: [40], pktAccess: true })],
  [206, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE], { argSize: [20, 20], pktAccess: true })],
  [207, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE], { argSize: [40, 20], pktAccess: true })],
  [209, p(INT, [MAP, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY])],
  [210, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'cgroup'] })],
  [211, p(INT, [MAP, BTF_ID | AF.MAYBE_NULL], { argBtf: [undefined, 'cgroup'] })],
]);

/** Whether a helper changes packet data (`bpf_helper_changes_pkt_data`). */
export function helperChangesPktData(id: number): boolean {
  return PROTOS.get(id)?.changesPkt === true;
}

/** Helpers that call a callback synchronously (`is_sync_callback_calling_function`). */
export function isSyncCallbackHelper(id: number): boolean {
  return id === 164 || id === 180 || id === 181 || id === 209;
}

export const HELPER_TAIL_CALL = 12;
export const HELPER_LOOP = 181;
export const HELPER_FOR_EACH_MAP_ELEM = 164;
export const HELPER_RINGBUF_RESERVE = 131;
export const HELPER_GET_LOCAL_STORAGE = 81;
export const HELPER_SNPRINTF = 165;
export const HELPER_TIMER_SET_CALLBACK = 170;
