/** `bpf_loop`: calls a BPF callback up to `nr_loops` times (Linux 5.17+). */
import { helperIdentity } from '../helper-call.js';
import type { Helper } from '../helper-call.js';
import { Limits } from '../../isa/uapi.js';

/** Largest `nr_loops` Linux accepts (BPF_MAX_LOOPS). */
export const BPF_MAX_LOOPS = Limits.LOOPS;

/** `bpf_loop(nr_loops, callback_fn, callback_ctx, flags)`. */
export function loopHelpers(): Helper[] {
  return [
    {
      ...helperIdentity('bpf_loop'), fn: (c) => {
        const nr = c.u32(1);
        const fn = c.u64(2);
        const ctx = c.u64(3);
        if (c.u64(4) !== 0n) return c.ret(-22);
        if (nr > BPF_MAX_LOOPS) return c.ret(-7);
        for (let i = 0; i < nr; i++) {
          if (c.invoke(fn, [BigInt(i), ctx]) !== 0n) return c.ret(i + 1);
        }
        c.ret(nr);
      },
    },
  ];
}
