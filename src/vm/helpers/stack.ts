/**
 * Stack traces: `bpf_get_stackid` (27) and `bpf_get_stack` (67)
 * (kernel/bpf/stackmap.c). User space has no kernel (or user) call chain
 * to walk, so tsbpf's stacks are always empty, and the helpers give what
 * Linux gives for an empty call chain: `bpf_get_stackid` -EFAULT ("no
 * usable stack"; nothing is stored), `bpf_get_stack` 0 bytes with the
 * buffer zeroed (-EFAULT when asked to skip frames). Flag errors are
 * Linux's.
 */
import { VmError } from '../../errors.js';
import { helperIdentity } from '../helper-call.js';
import type { Helper } from '../helper-call.js';
import { MapDirectory } from '../maps/directory.js';
import { MapType } from '../../isa/uapi.js';

const EINVAL = -22;
const EFAULT = -14;
const SKIP_MASK = 0xffn;
const USER_STACK = 1n << 8n;
const FAST_STACK_CMP = 1n << 9n;
const REUSE_STACKID = 1n << 10n;
const USER_BUILD_ID = 1n << 11n;
/** `sizeof(struct bpf_stack_build_id)`. */
const BUILD_ID_SIZE = 32;

/** The stack helpers. */
export function stackHelpers(): Helper[] {
  return [
    {
      ...helperIdentity('bpf_get_stackid'), fn: (c) => {
        const map = MapDirectory.of(c.space).byAddress(c.num(2));
        if (!map || map.type !== MapType.STACK_TRACE) {
          throw new VmError(`bpf_get_stackid: R2 = ${c.space.describe(c.num(2))} is not a stack trace map (the Linux verifier refuses this call)`, { insn: c.pc });
        }
        const flags = c.u64(3);
        if (flags & ~(SKIP_MASK | USER_STACK | FAST_STACK_CMP | REUSE_STACKID)) return c.ret(EINVAL);
        c.ret(EFAULT);
      },
    },
    {
      ...helperIdentity('bpf_get_stack'), fn: (c) => {
        const size = c.u32(3);
        const buf = c.ptr(2, size, true);
        const flags = c.u64(4);
        c.space.bytes.fill(0, buf, buf + size);
        if (flags & ~(SKIP_MASK | USER_STACK | USER_BUILD_ID)) return c.ret(EINVAL);
        if (!(flags & USER_STACK) && flags & USER_BUILD_ID) return c.ret(EINVAL);
        if (size % (flags & USER_BUILD_ID ? BUILD_ID_SIZE : 8)) return c.ret(EINVAL);
        c.ret(flags & SKIP_MASK ? EFAULT : 0);
      },
    },
  ];
}
