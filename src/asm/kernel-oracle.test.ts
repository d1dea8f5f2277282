/**
 * The running Linux kernel as the oracle of the `kernel` printer: programs
 * covering every instruction family are loaded with log_level 2 through the
 * project's kernel oracle (src/node/kernel-oracle), and every
 * `N: (xx) text` line of the verifier log must equal our text for the
 * instruction at slot N.
 */
import { describe, expect, it } from 'vitest';
import type { Instruction } from '../isa/index.js';
import { slotCount } from '../isa/index.js';
import { ask } from '../node/kernel-oracle/index.js';
import { assemble, formatInstruction } from './index.js';

const [probe] = ask([{ cmd: 'probe' }]);
const skip = !(probe?.ok && probe.bpf && probe['test_run']);
if (skip) console.log(`kernel oracle tests skipped: ${probe?.reason ?? probe?.error ?? 'bpf not available'}`);

const ARRAY = { type: 'array', key_size: 4, value_size: 8, max_entries: 4 };
const ARRAY1 = { type: 'array', key_size: 4, value_size: 8, max_entries: 1 };
const ARENA = { type: 'arena', key_size: 0, value_size: 0, max_entries: 1, flags: ['mmapable'], map_extra: 0x100000000 };

interface Case {
  name: string;
  /** Whether the verifier accepts it (all but one do). */
  accepted: boolean;
  maps?: object[];
  text: string;
}

const CASES: Case[] = [
  {
    name: 'ALU, ALU32, negation, byte swaps, sign extension, signed division',
    accepted: true,
    text: `
      r0 = 5
      r1 = 7
      w2 = -3
      r0 += 1
      r0 -= r1
      r0 *= 3
      r0 /= 3
      r0 |= r1
      r0 &= 0xff
      r0 <<= 3
      r0 >>= r1
      r0 %= 7
      r0 ^= r1
      r0 s>>= 2
      w0 += w2
      w0 -= 1
      w0 *= w1
      w0 /= 3
      w0 |= 1
      w0 &= w1
      w0 <<= 2
      w0 >>= 1
      w0 %= w1
      w0 ^= -1
      w0 s>>= w1
      r0 = -r0
      w0 = -w0
      r1 = le16 r1
      r1 = le32 r1
      r1 = le64 r1
      r1 = be16 r1
      r1 = be32 r1
      r1 = be64 r1
      r1 = bswap16 r1
      r1 = bswap32 r1
      r1 = bswap64 r1
      r2 = (s8)r1
      r2 = (s16)r1
      r2 = (s32)r1
      w2 = (s8)w1
      w2 = (s16)w1
      r1 s/= 3
      r1 s%= -5
      r1 s/= r2
      r1 s%= r2
      w1 s/= w2
      w1 s%= 7
      w1 = w2
      r3 = -2147483648
      r1 = 0x1122334455667788 ll
      r1 = -1 ll
      r1 = 0x7fffffff ll
      r0 = 0
      exit`,
  },
  {
    name: 'stores, loads, sign-extending loads, atomics, load-acquire/store-release, legacy packet loads',
    accepted: true,
    text: `
      r6 = r1
      r0 = 0
      *(u64 *)(r10 - 8) = r0
      *(u32 *)(r10 - 16) = 5
      *(u16 *)(r10 - 18) = -1
      *(u8 *)(r10 - 19) = 0x7f
      *(u64 *)(r10 - 32) = 0x1234
      *(u32 *)(r10 - 12) = w0
      *(u16 *)(r10 - 22) = r0
      *(u8 *)(r10 - 23) = r0
      r1 = *(u64 *)(r10 - 8)
      r1 = *(u32 *)(r10 - 16)
      r1 = *(u16 *)(r10 - 18)
      r1 = *(u8 *)(r10 - 19)
      r1 = *(s32 *)(r10 - 16)
      r1 = *(s16 *)(r10 - 18)
      r1 = *(s8 *)(r10 - 19)
      r1 = 1
      lock *(u64 *)(r10 - 8) += r1
      lock *(u64 *)(r10 - 8) |= r1
      lock *(u64 *)(r10 - 8) &= r1
      lock *(u64 *)(r10 - 8) ^= r1
      lock *(u32 *)(r10 - 16) += r1
      lock *(u32 *)(r10 - 16) |= w1
      lock *(u32 *)(r10 - 16) &= w1
      lock *(u32 *)(r10 - 16) ^= w1
      r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
      r1 = atomic_fetch_or((u64 *)(r10 - 8), r1)
      r1 = atomic_fetch_and((u64 *)(r10 - 8), r1)
      r1 = atomic_fetch_xor((u64 *)(r10 - 8), r1)
      w1 = atomic_fetch_add((u32 *)(r10 - 16), w1)
      w1 = atomic_fetch_or((u32 *)(r10 - 16), w1)
      w1 = atomic_fetch_and((u32 *)(r10 - 16), w1)
      w1 = atomic_fetch_xor((u32 *)(r10 - 16), w1)
      r1 = xchg_64(r10 - 8, r1)
      w1 = xchg32_32(r10 - 16, w1)
      r0 = 0
      r0 = cmpxchg_64(r10 - 8, r0, r1)
      w0 = cmpxchg32_32(r10 - 16, w0, w1)
      r2 = load_acquire((u64 *)(r10 - 8))
      w2 = load_acquire((u32 *)(r10 - 16))
      w2 = load_acquire((u16 *)(r10 - 18))
      w2 = load_acquire((u8 *)(r10 - 19))
      store_release((u64 *)(r10 - 8), r2)
      store_release((u32 *)(r10 - 16), w2)
      store_release((u16 *)(r10 - 18), w2)
      store_release((u8 *)(r10 - 19), w2)
      r0 = *(u8 *)skb[12]
      r0 = *(u16 *)skb[12]
      r0 = *(u32 *)skb[-0x200000]
      r7 = 4
      r0 = *(u8 *)skb[r7 + 2]
      r0 = *(u16 *)skb[r7 - 2]
      r0 = *(u32 *)skb[r7]
      r0 = 0
      exit`,
  },
  {
    name: 'conditional jumps (64 and 32 bits), goto, gotol, may_goto, helper and local calls, map loads',
    accepted: true,
    maps: [ARRAY, ARRAY1],
    text: `
      r6 = r1
      call bpf_get_prandom_u32
      r1 = r0
      r2 = 7
      w3 = w0
      if r1 == 0x5 goto +1
      if r1 != r2 goto pc+1
      if r1 > 3 goto +1
      if r1 >= r2 goto +1
      if r1 < -1 goto +1
      if r1 <= r2 goto +1
      if r1 s> 0x7fffffff goto +1
      if r1 s>= r2 goto +1
      if r1 s< -2 goto +1
      if r1 s<= r2 goto +1
      if r1 & 0x10 goto +1
      if r1 & r2 goto +1
      if w3 == 5 goto +1
      if w3 != w2 goto +1
      if w3 > 3 goto +1
      if w3 >= w2 goto +1
      if w3 < 3 goto +1
      if w3 <= w2 goto +1
      if w3 s> 3 goto +1
      if w3 s>= w2 goto +1
      if w3 s< -3 goto +1
      if w3 s<= w2 goto +1
      if w3 & 3 goto +1
      if w3 & w2 goto +1
      if r1 == 0x6 goto +1
      goto +1
      r0 = 1
      if r1 == 0x7 goto +1
      gotol +1
      r0 = 2
      may_goto +1
      r0 = 3
      r1 = 0
      *(u32 *)(r10 - 4) = r1
      r2 = r10
      r2 += -4
      ld_pseudo r1, 1, 0
      call bpf_map_lookup_elem
      if r0 == 0 goto +2
      r1 = *(u64 *)(r0 + 0)
      r0 = 0
      ld_pseudo r1, 2, 1, 4
      r1 = *(u32 *)(r1 + 0)
      ld_pseudo r1, 5, 0
      ld_pseudo r1, 6, 1, 0
      call sub
      call 5
      call bpf_get_smp_processor_id#8
      exit
    sub:
      r0 = 42
      exit`,
  },
  {
    name: 'arena address space casts',
    accepted: true,
    maps: [ARENA],
    text: `
      ld_pseudo r1, 1, 0
      r1 = 0
      r2 = addr_space_cast(r1, 0, 1)
      r3 = addr_space_cast(r2, 1, 0)
      r0 = 0
      exit`,
  },
  {
    // Rejected ("missing btf func_info": the oracle loads no BTF), but the
    // verifier's liveness listing prints every instruction first.
    name: 'function pointer (lddw src 4) for bpf_loop',
    accepted: false,
    text: `
      r1 = 5
      ld_pseudo r2, 4, cb
      r3 = 0
      r4 = 0
      call bpf_loop
      r0 = 0
      exit
    cb:
      r0 = 0
      exit`,
  },
];

const LINE = /^\s*(\d+): (?:[.0-9]{10} )?(\([0-9a-f]{2}\) .*?)(?:\s+;.*)?$/;

describe.skipIf(skip)('kernel printer against the Linux verifier log', () => {
  for (const c of CASES) {
    it(c.name, (ctx) => {
      const prog = assemble(c.text, { syntax: 'llvm' });
      const [reply] = ask([{
        cmd: 'verify', prog_type: 'socket_filter', log_level: 2,
        insns: Buffer.from(prog.bytes).toString('hex'), ...(c.maps ? { maps: c.maps } : {}),
      }]);
      if (!reply) throw new Error('no reply');
      // A map type this kernel does not let us create (arenas need more than CAP_BPF on some kernels).
      if (!reply.ok && /BPF_MAP_CREATE failed/.test(reply.error ?? '')) {
        console.log(`${c.name}: skipped: ${reply.error}`);
        ctx.skip();
      }
      expect(reply.ok, reply.error).toBe(true);
      expect(reply.accepted, reply.log).toBe(c.accepted);
      const bySlot = new Map<number, Instruction>();
      let slot = 0;
      for (const insn of prog.insns) {
        bySlot.set(slot, insn);
        slot += slotCount(insn);
      }
      const seen = new Set<number>();
      const mismatches: string[] = [];
      for (const line of reply.log!.split('\n')) {
        const m = LINE.exec(line);
        if (!m) continue;
        const at = Number(m[1]);
        const insn = bySlot.get(at);
        expect(insn, line).toBeDefined();
        const ours = formatInstruction(insn!, { syntax: 'kernel' });
        const theirs = m[2]!.trimEnd();
        // Map and BTF pseudo sources print the kernel address they resolve to.
        const resolved = insn!.kind === 'lddw' && insn!.pseudo !== 0 && insn!.pseudo !== 4;
        const same = resolved ? theirs.startsWith(`(18) r${insn!.kind === 'lddw' ? insn!.dst : 0} = 0x`) : theirs === ours;
        if (!same) mismatches.push(`${at}: kernel '${theirs}', tsbpf '${ours}'`);
        seen.add(at);
      }
      expect(mismatches).toEqual([]);
      // A rejected program's log may stop before the kernel printed every instruction (6.18 refuses
      // a function pointer without func_info before its liveness listing); an accepted one's may not.
      if (c.accepted) expect([...bySlot.keys()].filter((s) => !seen.has(s))).toEqual([]);
      else expect(seen.size).toBeGreaterThan(0);
    });
  }
});
