/**
 * Hand-written verifier programs: for each rule a program that breaks it
 * (one per message tsbpf implements) and near misses the kernel accepts.
 * The kernel's verdicts are recorded by scripts/record-verifier-corpus.ts
 * into test/fixtures/verifier/handwritten.json.
 */
import { localVmlinux, m, type OracleMap, type SourceProgram } from './common.js';
import { HELPERS_BY_TYPE } from '../../../src/isa/uapi.js';
import { A, AF, PROTOS, protoFor } from '../../../src/isa/helper-protos.js';

type Raw = readonly [number, number, number, number, number];

const out: SourceProgram[] = [];

function p(name: string, prog_type: string, asm: string, extra: Partial<SourceProgram> = {}): void {
  out.push({ name, prog_type, asm, ...extra });
}

function raw(name: string, prog_type: string, insns: Raw[], extra: Partial<SourceProgram> = {}): void {
  out.push({ name, prog_type, raw: insns, ...extra });
}

const EXIT0: Raw[] = [[0xb7, 0, 0, 0, 0], [0x95, 0, 0, 0, 0]];
const HASH = m('hash:4:8:16');
const ARRAY = m('array:4:48:4');
const RINGBUF = m('ringbuf:0:0:4096');

/** The usual map lookup with key 0 on the stack: r0 = lookup(map 0, &key). */
const LOOKUP = `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4
  ld_pseudo r1, 1, 0
  call bpf_map_lookup_elem
`;

/** XDP packet bounds check for `n` bytes: r2 = data, r3 = data_end; jumps to `out` when short. */
const pkt = (n: number) => `
  r2 = *(u32 *)(r1 + 0)
  r3 = *(u32 *)(r1 + 4)
  r4 = r2
  r4 += ${n}
  if r4 > r3 goto out
`;

const SKB_PKT = (n: number) => `
  r2 = *(u32 *)(r1 + 76)
  r3 = *(u32 *)(r1 + 80)
  r4 = r2
  r4 += ${n}
  if r4 > r3 goto out
`;

function structural(): void {
  raw('struct/unknown-opcode', 'xdp', [[0xff, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/unknown-opcode-8d', 'xdp', [[0x8d, 1, 0, 0, 0], ...EXIT0]);
  raw('struct/alu-reserved-off', 'xdp', [[0x07, 0, 0, 1, 1], ...EXIT0]);
  raw('struct/alu-reserved-src', 'xdp', [[0x07, 0, 1, 0, 1], ...EXIT0]);
  raw('struct/alu-x-reserved-imm', 'xdp', [[0xb7, 1, 0, 0, 0], [0x0f, 0, 1, 0, 5], ...EXIT0]);
  raw('struct/mov-reserved-off', 'xdp', [[0xbf, 0, 1, 3, 0], ...EXIT0]);
  raw('struct/mov-imm-reserved-src', 'xdp', [[0xb7, 0, 2, 0, 0], [0x95, 0, 0, 0, 0]]);
  raw('struct/movsx-ok', 'xdp', [[0xb7, 1, 0, 0, -1], [0xbf, 0, 1, 8, 0], [0x57, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/neg-reserved', 'xdp', [[0xb7, 0, 0, 0, 0], [0x87, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/end-reserved', 'xdp', [[0xb7, 0, 0, 0, 0], [0xd4, 0, 0, 0, 17], [0x95, 0, 0, 0, 0]]);
  raw('struct/end-reserved-src', 'xdp', [[0xb7, 0, 0, 0, 0], [0xd4, 0, 1, 0, 16], [0x95, 0, 0, 0, 0]]);
  raw('struct/bswap-ok', 'xdp', [[0xb7, 0, 0, 0, 0x100], [0xd7, 0, 0, 0, 16], [0x57, 0, 0, 0, 3], [0x95, 0, 0, 0, 0]]);
  raw('struct/div-reserved-off', 'xdp', [[0xb7, 0, 0, 0, 8], [0x37, 0, 0, 2, 2], [0x95, 0, 0, 0, 0]]);
  raw('struct/sdiv-ok', 'xdp', [[0xb7, 0, 0, 0, 8], [0x37, 0, 0, 1, 2], [0x57, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/ldx-reserved-imm', 'xdp', [[0x61, 0, 1, 0, 1], ...EXIT0.slice(1)]);
  raw('struct/st-reserved-src', 'xdp', [[0x62, 10, 1, -4, 0], ...EXIT0]);
  raw('struct/stx-reserved-imm', 'xdp', [[0x63, 10, 1, -4, 3], ...EXIT0]);
  raw('struct/ja-reserved', 'xdp', [[0x05, 0, 1, 0, 0], ...EXIT0]);
  raw('struct/ja-reserved-imm', 'xdp', [[0x05, 0, 0, 0, 1], ...EXIT0]);
  raw('struct/gotol-ok', 'xdp', [[0x06, 0, 0, 0, 1], [0x05, 0, 0, -1, 0], ...EXIT0]);
  raw('struct/gotol-reserved', 'xdp', [[0x06, 0, 0, 1, 0], ...EXIT0]);
  raw('struct/call-reserved', 'xdp', [[0x85, 1, 0, 0, 7], ...EXIT0]);
  raw('struct/call-reserved-off', 'xdp', [[0x85, 0, 0, 1, 7], ...EXIT0]);
  raw('struct/exit-reserved', 'xdp', [[0xb7, 0, 0, 0, 0], [0x95, 1, 0, 0, 0]]);
  raw('struct/exit-reserved-imm', 'xdp', [[0xb7, 0, 0, 0, 0], [0x95, 0, 0, 0, 1]]);
  raw('struct/jmp-reserved-imm', 'xdp', [[0xb7, 0, 0, 0, 0], [0x1d, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/jmp-imm-reserved-src', 'xdp', [[0xb7, 0, 0, 0, 0], [0x15, 0, 1, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/jmp-bad-opcode', 'xdp', [[0xb7, 0, 0, 0, 0], [0xf5, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/jmp32-ja-x', 'xdp', [[0xb7, 0, 0, 0, 0], [0x0e, 0, 0, 0, 0], [0x95, 0, 0, 0, 0]]);
  raw('struct/alu-bad-opcode', 'xdp', [[0xb7, 0, 0, 0, 0], [0xe7, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/alu32-bad-opcode', 'xdp', [[0xb7, 0, 0, 0, 0], [0xf4, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('struct/lddw-last', 'xdp', [[0xb7, 0, 0, 0, 0], [0x18, 1, 0, 0, 0]]);
  raw('struct/lddw-bad-second', 'xdp', [[0x18, 1, 0, 0, 0], [0x07, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/lddw-reserved-off', 'xdp', [[0x18, 1, 0, 1, 0], [0, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/lddw-unknown-src', 'xdp', [[0x18, 1, 7, 0, 0], [0, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/lddw-map-idx', 'xdp', [[0x18, 1, 5, 0, 0], [0, 0, 0, 0, 0], ...EXIT0], { maps: [HASH] });
  raw('struct/lddw-map-value-hash', 'xdp', [[0x18, 1, 2, 0, 0], [0, 0, 0, 0, 0], ...EXIT0], { maps: [HASH] });
  raw('struct/lddw-map-value-array', 'xdp', [[0x18, 1, 2, 0, 0], [0, 0, 0, 0, 8], [0x61, 0, 1, 0, 0], [0x95, 0, 0, 0, 0]], { maps: [ARRAY] });
  raw('struct/lddw-map-value-oob', 'xdp', [[0x18, 1, 2, 0, 0], [0, 0, 0, 0, 48], ...EXIT0], { maps: [ARRAY] });
  raw('struct/lddw-map-value-idx', 'xdp', [[0x18, 1, 6, 0, 0], [0, 0, 0, 0, 40], [0x79, 0, 1, 0, 0], [0x57, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]], { maps: [ARRAY] });
  raw('struct/lddw-map-value-read-oob', 'xdp', [[0x18, 1, 2, 0, 0], [0, 0, 0, 0, 44], [0x79, 0, 1, 0, 0], [0x95, 0, 0, 0, 0]], { maps: [ARRAY] });
  raw('struct/ld-bad-mode', 'socket_filter', [[0x38, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/ldabs-reserved', 'socket_filter', [[0xbf, 6, 1, 0, 0], [0x20, 1, 0, 0, 0], ...EXIT0]);
  raw('struct/ldabs-dw', 'socket_filter', [[0xbf, 6, 1, 0, 0], [0x38, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/ldx-bad-mode', 'xdp', [[0x81, 0, 1, 0, 0], ...EXIT0.slice(1)]);
  raw('struct/st-atomic-bad-op', 'xdp', [[0x7a, 10, 0, -8, 0], [0xb7, 1, 0, 0, 1], [0xdb, 10, 1, -8, 0x10], ...EXIT0]);
  raw('struct/atomic-bad-size', 'xdp', [[0x7a, 10, 0, -8, 0], [0xb7, 1, 0, 0, 1], [0xcb, 10, 1, -8, 0], ...EXIT0]);
  raw('struct/atomic-h', 'xdp', [[0x7a, 10, 0, -8, 0], [0xb7, 1, 0, 0, 1], [0xd3, 10, 1, -8, 0], ...EXIT0]);
  raw('struct/dst-r11', 'xdp', [[0xb7, 11, 0, 0, 0], ...EXIT0]);
  raw('struct/src-r11', 'xdp', [[0xbf, 0, 11, 0, 0], [0x95, 0, 0, 0, 0]]);
  raw('struct/empty-like', 'xdp', [[0x95, 0, 0, 0, 0]]);
  p('struct/fallthrough-end', 'xdp', 'r0 = 0');
  p('struct/fallthrough-end-2', 'xdp', 'r0 = 0\nif r0 == 0 goto +1\nexit\nr0 = 1');
  p('struct/jump-out-of-range', 'xdp', 'r0 = 0\nif r1 == 0 goto +5\nexit');
  p('struct/jump-out-of-range-back', 'xdp', 'r0 = 0\ngoto -5\nexit');
  p('struct/jump-to-end', 'xdp', 'r0 = 0\nif r1 == 0 goto +1\nexit');
  p('struct/jump-into-lddw', 'xdp', 'r0 = 0\nif r1 == 0 goto +1\nr2 = 0x1122334455 ll\nexit');
  p('struct/goto-into-lddw', 'xdp', 'r0 = 0\ngoto +1\nr2 = 0x1122334455 ll\nexit');
  p('struct/unreachable', 'xdp', 'r0 = 0\nexit\nr0 = 1\nexit');
  p('struct/unreachable-after-goto', 'xdp', 'r0 = 0\ngoto +1\nr0 = 1\nexit');
  p('struct/unreachable-lddw', 'xdp', 'r0 = 0\nexit\nr0 = 1 ll\nexit');
  p('struct/back-edge-infinite', 'xdp', 'r0 = 0\nl: r0 += 0\ngoto l\nexit');
  p('struct/self-loop', 'xdp', 'r0 = 0\nl: goto l\nexit');
  p('struct/infinite-loop-cond', 'xdp', 'r0 = 0\nl: if r0 == 0 goto l\nexit');
  p('struct/bounded-loop', 'xdp', 'r0 = 0\nl: r0 += 1\nif r0 < 10 goto l\nr0 = 2\nexit');
  p('struct/bounded-loop-100', 'xdp', 'r0 = 0\nr1 = 0\nl: r1 += 3\nr0 += 1\nif r0 < 100 goto l\nr0 = 2\nexit');
  p('struct/bounded-loop-jmp32', 'xdp', 'w0 = 0\nl: w0 += 1\nif w0 < 20 goto l\nr0 = 2\nexit');
  p('struct/loop-unbounded-rand', 'xdp', 'call bpf_get_prandom_u32\nl: r0 += 1\nif r0 != 10 goto l\nr0 = 2\nexit');
  p('struct/loop-down', 'xdp', 'r1 = 16\nl: r1 += -1\nif r1 s> 0 goto l\nr0 = 2\nexit');
  p('struct/loop-nested', 'xdp', 'r1 = 0\nouter: r2 = 0\ninner: r2 += 1\nif r2 < 4 goto inner\nr1 += 1\nif r1 < 4 goto outer\nr0 = 2\nexit');
  p('struct/loop-too-long', 'xdp', 'r0 = 0\nl: r0 += 1\nif r0 < 600000 goto l\nr0 = 2\nexit');
  p('struct/call-out-of-range', 'xdp', 'call pc+5\nr0 = 0\nexit');
  p('struct/call-to-self-loop', 'xdp', 'call f\nr0 = 0\nexit\nf: call f\nr0 = 0\nexit');
  p('struct/subprog-fallthrough', 'xdp', 'call f\nr0 = 0\nexit\nf: r0 = 0');
  p('struct/subprog-jump-out', 'xdp', 'call f\nr0 = 0\nexit\nf: r0 = 0\ngoto -3\nexit');
  p('struct/subprog-ok', 'xdp', 'call f\nr0 &= 1\nexit\nf: r0 = 1\nexit');
  p('struct/subprog-last-jmp', 'xdp', 'call f\nr0 = 0\nexit\nf: r0 = 1\nif r0 == 1 goto +1\nexit\ngoto -2');
  p('struct/subprog-unreachable', 'xdp', 'call f\nr0 = 0\nexit\nf: r0 = 1\nexit\nr0 = 2\nexit');
  p('struct/subprog-call-depth', 'xdp', `call f1\nr0 = 0\nexit
f1: call f2\nexit\nf2: call f3\nexit\nf3: call f4\nexit\nf4: call f5\nexit\nf5: call f6\nexit\nf6: call f7\nexit\nf7: call f8\nexit\nf8: call f9\nexit\nf9: r0 = 0\nexit`);
  p('struct/subprog-call-depth-ok', 'xdp', `call f1\nr0 = 0\nexit
f1: call f2\nexit\nf2: call f3\nexit\nf3: call f4\nexit\nf4: call f5\nexit\nf5: call f6\nexit\nf6: call f7\nexit\nf7: r0 = 0\nexit`);
  p('struct/subprog-stack-too-large', 'xdp', 'call f\n*(u64 *)(r10 - 504) = r1\nr0 = 0\nexit\nf: *(u64 *)(r10 - 32) = r1\nr0 = 0\nexit');
  p('struct/subprog-stack-ok', 'xdp', 'call f\n*(u64 *)(r10 - 256) = r1\nr0 = 0\nexit\nf: *(u64 *)(r10 - 256) = r1\nr0 = 0\nexit');
  raw('struct/ld-imm-not-dw', 'xdp', [[0x10, 1, 0, 0, 0], [0, 0, 0, 0, 0], ...EXIT0]);
  raw('struct/ld-mem-mode', 'socket_filter', [[0xbf, 6, 1, 0, 0], [0x60, 0, 0, 0, 0], ...EXIT0]);
  const subs: string[] = [];
  for (let i = 0; i < 257; i++) subs.push(`call f${i}`);
  subs.push('r0 = 0', 'exit');
  for (let i = 0; i < 257; i++) subs.push(`f${i}: r0 = 0`, 'exit');
  p('struct/too-many-subprogs', 'xdp', subs.join('\n'));
  p('struct/subprog-recursion', 'xdp', 'call f\nr0 = 0\nexit\nf: r1 = 0\ncall g\nexit\ng: call f\nexit');
  // jump sequence too complex: 8193 pending branches
  const many: string[] = ['call bpf_get_prandom_u32'];
  for (let i = 0; i < 8200; i++) many.push('if r0 == 5 goto +0');
  many.push('r0 = 0', 'exit');
  p('struct/jmp-seq-too-complex', 'xdp', many.join('\n'));
  const fewer: string[] = ['call bpf_get_prandom_u32'];
  for (let i = 0; i < 3000; i++) fewer.push('if r0 == 5 goto +0');
  fewer.push('r0 = 0', 'exit');
  p('struct/jmp-seq-ok', 'xdp', fewer.join('\n'));
  const big: string[] = [];
  for (let i = 0; i < 5000; i++) big.push('r0 = 0');
  big.push('exit');
  p('struct/big-straight', 'xdp', big.join('\n'));
}

function registers(): void {
  p('reg/read-uninit-r0-exit', 'xdp', 'exit');
  p('reg/read-uninit-r2', 'xdp', 'r0 = r2\nexit');
  p('reg/read-uninit-alu', 'xdp', 'r0 = 0\nr0 += r5\nexit');
  p('reg/read-uninit-after-call', 'xdp', 'r1 = 1\ncall bpf_get_prandom_u32\nr0 = r1\nexit');
  p('reg/callee-saved-after-call', 'xdp', 'r6 = 1\ncall bpf_get_prandom_u32\nr0 = r6\nexit');
  p('reg/write-fp', 'xdp', 'r10 = 0\nr0 = 0\nexit');
  p('reg/write-fp-alu', 'xdp', 'r10 += 8\nr0 = 0\nexit');
  p('reg/write-fp-load', 'xdp', '*(u64 *)(r10 - 8) = r1\nr10 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('reg/read-fp-ok', 'xdp', 'r1 = r10\nr0 = 0\nexit');
  p('reg/exit-r0-ctx', 'xdp', 'r0 = r1\nexit');
  p('reg/exit-r0-fp', 'xdp', 'r0 = r10\nexit');
  p('reg/exit-r0-ctx-sock', 'socket_filter', 'r0 = r1\nexit');
  p('reg/exit-r0-map-ptr', 'xdp', 'ld_pseudo r0, 1, 0\nexit', { maps: [HASH] });
  p('reg/exit-r0-lookup', 'xdp', LOOKUP + 'exit', { maps: [HASH] });
  p('reg/exit-r0-pkt', 'xdp', 'r0 = *(u32 *)(r1 + 0)\nexit');
  p('reg/r0-partially-uninit-path', 'xdp', 'call bpf_get_prandom_u32\nif r0 == 0 goto +2\nr0 = 1\nexit\nr1 = r3\nexit');
}

function alu(): void {
  p('alu/div-by-zero-imm', 'xdp', 'r0 = 1\nr0 /= 0\nexit');
  p('alu/mod-by-zero-imm', 'xdp', 'r0 = 1\nr0 %= 0\nexit');
  p('alu/div32-by-zero-imm', 'xdp', 'w0 = 1\nw0 /= 0\nexit');
  p('alu/div-by-zero-reg-ok', 'xdp', 'r0 = 1\nr1 = 0\nr0 /= r1\nexit');
  p('alu/sdiv-by-zero-imm', 'xdp', 'r0 = 1\nr0 s/= 0\nexit');
  p('alu/shift-64', 'xdp', 'r0 = 1\nr0 <<= 64\nexit');
  p('alu/shift-63-ok', 'xdp', 'r0 = 1\nr0 <<= 63\nr0 >>= 63\nexit');
  p('alu/shift32-32', 'xdp', 'w0 = 1\nw0 >>= 32\nexit');
  p('alu/ashift-neg', 'xdp', 'r0 = 1\nr0 s>>= -1\nexit');
  p('alu/shift-reg-unknown-ok', 'xdp', 'call bpf_get_prandom_u32\nr1 = 1\nr1 <<= r0\nr0 = 0\nexit');
  p('alu/neg', 'xdp', 'r0 = 3\nr0 = -r0\nr0 += 5\nexit');
  p('alu/end16', 'xdp', 'r0 = 0x0102\nr0 = be16 r0\nr0 &= 1\nexit');
  p('alu/ret-range-bad', 'xdp', 'r0 = 0x0102\nr0 = be16 r0\nexit');
  p('alu/mul-range', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 3\nr0 *= 3\nif r0 > 9 goto +2\nr0 = 1\nexit\nr0 = r1\nexit');
  p('alu/and-range', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 7\nif r0 > 7 goto +1\nexit\nr0 = r1\nexit');
  p('alu/or-range', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 3\nr0 |= 4\nif r0 < 4 goto +2\nr0 = 3\nexit\nr0 = r1\nexit');
  p('alu/xor-range', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 3\nr0 ^= 3\nif r0 > 3 goto +2\nr0 = 3\nexit\nr0 = r1\nexit');
  p('alu/rsh-range', 'xdp', 'call bpf_get_prandom_u32\nr0 >>= 62\nif r0 > 3 goto +1\nexit\nr0 = r1\nexit');
  p('alu/arsh-range', 'xdp', 'call bpf_get_prandom_u32\nr0 s>>= 62\nif r0 s> 1 goto +3\nif r0 s< -2 goto +2\nr0 = 3\nexit\nr0 = r1\nexit');
  p('alu/sub-range', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 3\nr1 = 10\nr1 -= r0\nif r1 < 7 goto +2\nr0 = 2\nexit\nr0 = r2\nexit');
  p('alu/alu32-zext', 'xdp', 'r0 = -1\nw0 += 0\nif r0 > 0xffffffff goto +2\nr0 = 2\nexit\nr0 = r2\nexit');
  p('alu/mov32-sx', 'xdp', 'r1 = 0xff\nw0 = (s8)w1\nif w0 != -1 goto +2\nr0 = 2\nexit\nr0 = r2\nexit');
  p('alu/mov64-sx32', 'xdp', 'r1 = 0x80000000 ll\nr0 = (s32)r1\nif r0 s> 0 goto +2\nr0 = 2\nexit\nr0 = r2\nexit');
  p('alu/div-unknown', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 255\nr0 /= 16\nif r0 > 15 goto +2\nr0 = 2\nexit\nr0 = r2\nexit');
  p('alu/mod-unknown', 'xdp', 'call bpf_get_prandom_u32\nr0 %= 3\nif r0 > 2 goto +2\nr0 = 2\nexit\nr0 = r2\nexit');
  p('alu/const-fold-branch', 'xdp', 'r0 = 5\nr0 *= 7\nif r0 == 35 goto +1\nr0 = r2\nr0 = 1\nexit');
  p('alu/bswap64', 'xdp', 'r0 = 1\nr0 = bswap64 r0\nr0 >>= 56\nexit');
  p('alu/u32-wrap', 'xdp', 'w0 = -1\nw0 += 2\nif w0 != 1 goto +1\nexit\nr0 = r3\nexit');
  p('alu/lsh-unknown-range', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 0xf\nr0 <<= 2\nif r0 > 60 goto +2\nr0 = 2\nexit\nr0 = r3\nexit');
  p('alu/s32-range-branch', 'xdp', 'call bpf_get_prandom_u32\nif w0 s> 5 goto +3\nif w0 s< 0 goto +2\nw0 += 1\nexit\nr0 = 2\nexit');
  p('alu/jset-refine', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 6\nif r0 & 1 goto +2\nr0 = 2\nexit\nr0 = r4\nexit');
  p('alu/jset-nonzero', 'xdp', 'call bpf_get_prandom_u32\nif r0 & 4 goto +2\nr0 = 2\nexit\nr0 &= 1\nexit');
  p('alu/jmp-reg-reg', 'xdp', 'call bpf_get_prandom_u32\nr6 = r0\ncall bpf_get_prandom_u32\nr6 &= 15\nr0 &= 7\nif r0 > r6 goto +2\nr0 = 2\nexit\nif r6 > 6 goto +1\nr0 = r4\nr0 = 1\nexit');
  p('alu/jmp32-reg', 'xdp', 'call bpf_get_prandom_u32\nw1 = 10\nif w0 < w1 goto +2\nr0 = 2\nexit\nif w0 > 9 goto +1\nexit\nr0 = r4\nexit');
}

function pointers(): void {
  p('ptr/ctx-add-const-ok', 'xdp', 'r1 += 4\nr0 = *(u32 *)(r1 + 0)\nr0 = 2\nexit');
  p('ptr/ctx-add-var', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 4\nr1 = r6\nr6 = r1\nexit');
  p('ptr/ctx-var-off', 'xdp', 'r6 = r1\ncall bpf_get_prandom_u32\nr0 &= 4\nr6 += r0\nr0 = *(u32 *)(r6 + 0)\nr0 = 2\nexit');
  p('ptr/ctx-modified-deref', 'sched_cls', 'r1 += 4\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit');
  p('ptr/ctx-negative-off', 'xdp', 'r1 += -4\nr0 = *(u32 *)(r1 + 4)\nr0 = 2\nexit');
  p('ptr/ctx-mul', 'xdp', 'r1 *= 2\nr0 = 2\nexit');
  p('ptr/ctx-and', 'xdp', 'r1 &= 2\nr0 = 2\nexit');
  p('ptr/ctx-or', 'xdp', 'r1 |= 2\nr0 = 2\nexit');
  p('ptr/ctx-lsh', 'xdp', 'r1 <<= 2\nr0 = 2\nexit');
  p('ptr/ctx-neg', 'xdp', 'r1 = -r1\nr0 = 2\nexit');
  p('ptr/ctx-32bit', 'xdp', 'w1 += 2\nr0 = 2\nexit');
  p('ptr/ctx-mov32', 'xdp', 'w0 = w1\nr0 = 2\nexit');
  p('ptr/ctx-end', 'xdp', 'r1 = be16 r1\nr0 = 2\nexit');
  p('ptr/ptr-plus-ptr', 'xdp', 'r2 = r10\nr1 += r2\nr0 = 2\nexit');
  p('ptr/ptr-minus-ptr-same', 'xdp', 'r2 = r10\nr3 = r10\nr3 += -8\nr2 -= r3\nr0 = r2\nr0 &= 1\nexit');
  p('ptr/ptr-minus-ptr-diff', 'xdp', 'r2 = r10\nr2 -= r1\nr0 = 2\nexit');
  p('ptr/scalar-minus-ptr', 'xdp', 'r2 = 0\nr2 -= r1\nr0 = 2\nexit');
  p('ptr/scalar-plus-ptr', 'xdp', 'r2 = 8\nr2 += r10\n*(u64 *)(r2 - 16) = 0\nr0 = 2\nexit');
  p('ptr/fp-sub-var', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 7\nr1 = r10\nr1 -= r0\nr0 = 2\nexit');
  p('ptr/fp-sub-const-ok', 'xdp', 'r1 = r10\nr1 -= 8\n*(u64 *)(r1 + 0) = 0\nr0 = 2\nexit');
  p('ptr/map-ptr-arith', 'xdp', 'ld_pseudo r1, 1, 0\nr1 += 8\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-ptr-deref', 'xdp', 'ld_pseudo r1, 1, 0\nr0 = *(u64 *)(r1 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/or-null-arith', 'xdp', LOOKUP + 'r0 += 4\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/or-null-deref', 'xdp', LOOKUP + 'r0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/pkt-end-arith', 'xdp', 'r2 = *(u32 *)(r1 + 4)\nr2 += 4\nr0 = 2\nexit');
  p('ptr/pkt-end-deref', 'xdp', 'r2 = *(u32 *)(r1 + 4)\nr0 = *(u8 *)(r2 + 0)\nr0 = 2\nexit');
  p('ptr/scalar-deref', 'xdp', 'r1 = 0\nr0 = *(u8 *)(r1 + 0)\nr0 = 2\nexit');
  p('ptr/scalar-store', 'xdp', 'r1 = 64\n*(u8 *)(r1 + 0) = 1\nr0 = 2\nexit');
  p('ptr/ptr-to-32bit-alu-scalar', 'xdp', 'r2 = r10\nw2 += 1\nr0 = 2\nexit');
  p('ptr/leak-via-map', 'xdp', LOOKUP + 'if r0 == 0 goto +1\n*(u64 *)(r0 + 0) = r10\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-value-add-unbounded', 'xdp', LOOKUP + 'if r0 == 0 goto +4\nr6 = r0\ncall bpf_get_prandom_u32\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-value-add-bounded', 'xdp', LOOKUP + 'if r0 == 0 goto +5\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-value-add-bounded-oob', 'xdp', LOOKUP + 'if r0 == 0 goto +5\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\nr6 += r0\nr0 = *(u8 *)(r6 + 1)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-value-neg-var', 'xdp', LOOKUP + 'if r0 == 0 goto +6\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\nr0 -= 4\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-value-huge-const', 'xdp', LOOKUP + 'if r0 == 0 goto +4\nr1 = 0x40000000 ll\nr0 += r1\nr0 = *(u8 *)(r0 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/map-value-neg-huge-const', 'xdp', LOOKUP + 'if r0 == 0 goto +4\nr1 = -0x40000000 ll\nr0 += r1\nr0 = 2\nexit', { maps: [HASH] });
  p('ptr/stack-var-off-read', 'xdp', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\ncall bpf_get_prandom_u32\nr0 &= 8\nr1 = r10\nr1 += -16\nr1 += r0\nr0 = *(u64 *)(r1 + 0)\nr0 = 2\nexit');
  p('ptr/stack-var-off-write', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 8\nr1 = r10\nr1 += -16\nr1 += r0\n*(u64 *)(r1 + 0) = 0\nr0 = 2\nexit');
  p('ptr/stack-var-off-oob', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 16\nr1 = r10\nr1 += -16\nr1 += r0\n*(u64 *)(r1 + 0) = 0\nr0 = 2\nexit');
  p('ptr/stack-var-off-unbounded', 'xdp', 'call bpf_get_prandom_u32\nr1 = r10\nr1 += r0\n*(u64 *)(r1 + 0) = 0\nr0 = 2\nexit');
  p('ptr/stack-var-off-misaligned-ok', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 4\nr1 = r10\nr1 += -16\nr1 += r0\n*(u32 *)(r1 + 0) = 0\nr0 = 2\nexit');
  p('ptr/stack-var-off-misaligned', 'xdp', 'call bpf_get_prandom_u32\nr0 &= 4\nr1 = r10\nr1 += -16\nr1 += r0\n*(u64 *)(r1 + 0) = 0\nr0 = 2\nexit');
}

function stack(): void {
  p('stack/write-oob-low', 'xdp', '*(u64 *)(r10 - 520) = 0\nr0 = 2\nexit');
  p('stack/write-oob-high', 'xdp', '*(u64 *)(r10 + 0) = 0\nr0 = 2\nexit');
  p('stack/write-oob-partial', 'xdp', '*(u64 *)(r10 - 4) = 0\nr0 = 2\nexit');
  p('stack/read-oob-low', 'xdp', 'r0 = *(u64 *)(r10 - 520)\nr0 = 2\nexit');
  p('stack/read-oob-high', 'xdp', 'r0 = *(u32 *)(r10 + 4)\nr0 = 2\nexit');
  p('stack/read-512-ok', 'xdp', '*(u64 *)(r10 - 512) = 1\nr0 = *(u64 *)(r10 - 512)\nexit');
  p('stack/read-uninit-ok', 'xdp', 'r0 = *(u64 *)(r10 - 8)\nr0 = 2\nexit');
  p('stack/misaligned-write', 'xdp', '*(u64 *)(r10 - 12) = 0\nr0 = 2\nexit');
  p('stack/misaligned-read', 'xdp', '*(u64 *)(r10 - 16) = 0\nr0 = *(u32 *)(r10 - 14)\nr0 = 2\nexit');
  p('stack/misaligned-u16', 'xdp', '*(u16 *)(r10 - 3) = 0\nr0 = 2\nexit');
  p('stack/spill-fill-ptr', 'xdp', '*(u64 *)(r10 - 8) = r1\nr2 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r2 + 0)\nr0 = 2\nexit');
  p('stack/spill-fill-scalar', 'xdp', 'r1 = 5\n*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 8)\nif r0 == 5 goto +1\nr0 = r3\nr0 = 2\nexit');
  p('stack/spill-fill-32', 'xdp', 'r1 = 1\n*(u32 *)(r10 - 8) = r1\nr0 = *(u32 *)(r10 - 8)\nif r0 == 1 goto +1\nr0 = r3\nexit');
  p('stack/spill-ptr-partial-fill', 'xdp', '*(u64 *)(r10 - 8) = r1\nr0 = *(u32 *)(r10 - 8)\nr0 = 2\nexit');
  p('stack/spill-ptr-partial-fill-hi', 'xdp', '*(u64 *)(r10 - 8) = r1\nr0 = *(u32 *)(r10 - 4)\nr0 = 2\nexit');
  p('stack/spill-ptr-32', 'xdp', '*(u32 *)(r10 - 8) = r1\nr0 = 2\nexit');
  p('stack/overwrite-ptr-partial', 'xdp', '*(u64 *)(r10 - 8) = r1\n*(u8 *)(r10 - 8) = 0\nr2 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r2 + 0)\nr0 = 2\nexit');
  p('stack/overwrite-ptr-then-read', 'xdp', '*(u64 *)(r10 - 8) = r1\n*(u32 *)(r10 - 4) = 0\nr2 = *(u64 *)(r10 - 8)\nr0 = 2\nexit');
  p('stack/zero-fill', 'xdp', '*(u64 *)(r10 - 8) = 0\nr0 = *(u8 *)(r10 - 3)\nif r0 == 0 goto +1\nr0 = r3\nr0 = 2\nexit');
  p('stack/misc-fill', 'xdp', 'call bpf_get_prandom_u32\n*(u32 *)(r10 - 8) = r0\nr0 = *(u64 *)(r10 - 8)\nr0 = 2\nexit');
  p('stack/fp-spill-and-use', 'xdp', 'r1 = r10\n*(u64 *)(r10 - 8) = r1\nr2 = *(u64 *)(r10 - 8)\n*(u64 *)(r2 - 16) = 0\nr0 = 2\nexit');
  p('stack/fp-store-into-self-oob', 'xdp', 'r1 = r10\n*(u64 *)(r10 - 8) = r1\nr2 = *(u64 *)(r10 - 8)\n*(u64 *)(r2 + 8) = 0\nr0 = 2\nexit');
  p('stack/atomic-add', 'xdp', '*(u64 *)(r10 - 8) = 0\nr1 = 1\nlock *(u64 *)(r10 - 8) += r1\nr0 = *(u64 *)(r10 - 8)\nr0 = 2\nexit');
  p('stack/atomic-fetch', 'xdp', '*(u64 *)(r10 - 8) = 0\nr1 = 1\nr1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\nr0 = r1\nr0 &= 1\nexit');
  p('stack/atomic-uninit', 'xdp', 'r1 = 1\nlock *(u64 *)(r10 - 8) += r1\nr0 = 2\nexit');
  p('stack/atomic-ptr-slot', 'xdp', '*(u64 *)(r10 - 8) = r1\nr1 = 1\nlock *(u64 *)(r10 - 8) += r1\nr0 = 2\nexit');
  p('stack/atomic-ptr-src', 'xdp', '*(u64 *)(r10 - 8) = 0\nlock *(u64 *)(r10 - 8) += r1\nr0 = 2\nexit');
  p('stack/cmpxchg', 'xdp', '*(u64 *)(r10 - 8) = 0\nr0 = 0\nr1 = 5\nr0 = cmpxchg_64(r10 - 8, r0, r1)\nr0 = 2\nexit');
  p('stack/cmpxchg-r0-uninit', 'xdp', '*(u64 *)(r10 - 8) = 0\nr1 = 5\nr0 = cmpxchg_64(r10 - 8, r0, r1)\nr0 = 2\nexit');
  p('stack/xchg', 'xdp', '*(u64 *)(r10 - 8) = 0\nr1 = 5\nr1 = xchg_64(r10 - 8, r1)\nr0 = 2\nexit');
  p('stack/atomic32', 'xdp', '*(u32 *)(r10 - 8) = 0\nw1 = 1\nlock *(u32 *)(r10 - 8) += w1\nr0 = 2\nexit');
  p('stack/atomic-misaligned', 'xdp', '*(u64 *)(r10 - 16) = 0\nw1 = 1\nlock *(u32 *)(r10 - 14) += w1\nr0 = 2\nexit');
  p('stack/load-acquire', 'xdp', '*(u64 *)(r10 - 8) = 0\nr0 = load_acquire((u64 *)(r10 - 8))\nr0 = 2\nexit');
  p('stack/store-release', 'xdp', 'r1 = 0\nstore_release((u64 *)(r10 - 8), r1)\nr0 = 2\nexit');
  p('stack/depth-512', 'xdp', '*(u8 *)(r10 - 512) = 0\nr0 = 2\nexit');
  p('stack/ctx-spill-fill-deref', 'sched_cls', '*(u64 *)(r10 - 16) = r1\nr1 = 0\nr1 = *(u64 *)(r10 - 16)\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit');
  p('stack/spill-bounded-fill-use', 'xdp', LOOKUP + 'if r0 == 0 goto +9\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\n*(u64 *)(r10 - 16) = r0\nr1 = *(u64 *)(r10 - 16)\nr6 += r1\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit\nr0 = 2\nexit', { maps: [HASH] });
  p('stack/spill-bounded-fill32-use', 'xdp', LOOKUP + 'if r0 == 0 goto +9\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\n*(u64 *)(r10 - 16) = r0\nr1 = *(u32 *)(r10 - 16)\nr6 += r1\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit\nr0 = 2\nexit', { maps: [HASH] });
  p('stack/spill32-bounded-fill64', 'xdp', LOOKUP + 'if r0 == 0 goto +9\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\n*(u32 *)(r10 - 16) = r0\nr1 = *(u64 *)(r10 - 16)\nr6 += r1\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit\nr0 = 2\nexit', { maps: [HASH] });
}

function mapValues(): void {
  p('map/lookup-null-check', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr0 = *(u64 *)(r0 + 0)\nr0 &= 1\nexit', { maps: [HASH] });
  p('map/lookup-no-null-check', 'xdp', LOOKUP + 'r0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/lookup-null-check-ne', 'xdp', LOOKUP + 'if r0 != 0 goto +2\nr0 = 2\nexit\nr1 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/lookup-null-check-wrong-branch', 'xdp', LOOKUP + 'if r0 != 0 goto +2\nr1 = *(u64 *)(r0 + 0)\nexit\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-oob-read', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u64 *)(r0 + 4)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-oob-write', 'xdp', LOOKUP + 'if r0 == 0 goto +2\n*(u32 *)(r0 + 8) = 1\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-neg-off', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u8 *)(r0 - 1)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-last-byte', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u8 *)(r0 + 7)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-misaligned-ok', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u32 *)(r0 + 2)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-write-ptr', 'xdp', LOOKUP + 'if r0 == 0 goto +2\n*(u64 *)(r0 + 0) = r1\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-copy-null-check', 'xdp', LOOKUP + 'r6 = r0\nif r0 == 0 goto +2\nr1 = *(u64 *)(r6 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-copy-null-check-after-add', 'xdp', LOOKUP + 'r6 = r0\nr6 += 0\nif r0 == 0 goto +2\nr1 = *(u64 *)(r6 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-two-lookups-one-check', 'xdp', LOOKUP + 'r6 = r0\n' + LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u64 *)(r6 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('map/array-lookup', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u64 *)(r0 + 40)\nr0 = 2\nexit', { maps: [ARRAY] });
  p('map/array-lookup-oob', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = *(u64 *)(r0 + 44)\nr0 = 2\nexit', { maps: [ARRAY] });
  p('map/key-not-stack', 'xdp', 'r2 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/key-uninit-ok', 'xdp', 'r2 = r10\nr2 += -4\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/key-stack-oob', 'xdp', 'r2 = r10\nr2 += -2\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/map-not-map', 'xdp', '*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nr1 = 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/map-is-ctx', 'xdp', '*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/key-from-map-value', 'xdp', LOOKUP + 'if r0 == 0 goto +4\nr2 = r0\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/key-from-pkt', 'xdp', pkt(4) + 'ld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nout: r0 = 2\nexit', { maps: [HASH] });
  p('map/key-from-pkt-short', 'xdp', pkt(2) + 'ld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nout: r0 = 2\nexit', { maps: [HASH] });
  p('map/update', 'xdp', '*(u32 *)(r10 - 4) = 0\n*(u64 *)(r10 - 16) = 0\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\nr4 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_update_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/update-value-short', 'xdp', '*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -4\nr4 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_update_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/update-flags-ptr', 'xdp', '*(u32 *)(r10 - 4) = 0\n*(u64 *)(r10 - 16) = 0\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\nr4 = r10\nld_pseudo r1, 1, 0\ncall bpf_map_update_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/delete', 'xdp', '*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, 0\ncall bpf_map_delete_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/delete-array', 'xdp', '*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, 0\ncall bpf_map_delete_elem\nr0 = 2\nexit', { maps: [ARRAY] });
  p('map/lookup-ringbuf', 'xdp', LOOKUP + 'r0 = 2\nexit', { maps: [RINGBUF] });
  p('map/lookup-prog-array', 'xdp', LOOKUP + 'r0 = 2\nexit', { maps: [m('prog_array:4:4:4')] });
  p('map/lookup-percpu-array', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [m('percpu_array:4:8:4')] });
  p('map/lookup-lru', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [m('lru_hash:4:8:4')] });
  p('map/queue-push', 'xdp', '*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nr3 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_push_elem\nr0 = 2\nexit', { maps: [m('queue:0:8:4')] });
  p('map/queue-pop', 'xdp', 'r2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_pop_elem\nr0 = *(u64 *)(r10 - 8)\nr0 = 2\nexit', { maps: [m('queue:0:8:4')] });
  p('map/queue-lookup', 'xdp', LOOKUP + 'r0 = 2\nexit', { maps: [m('queue:0:8:4')] });
  p('map/push-on-hash', 'xdp', '*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nr3 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_push_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('map/rdonly-prog-write', 'xdp', LOOKUP + 'if r0 == 0 goto +1\n*(u64 *)(r0 + 0) = 1\nr0 = 2\nexit', { maps: [m('array:4:8:1:rdonly_prog')] });
  p('map/rdonly-prog-read', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [m('array:4:8:1:rdonly_prog')] });
  p('map/wronly-prog-read', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [m('array:4:8:1:wronly_prog')] });
  p('map/wronly-prog-write', 'xdp', LOOKUP + 'if r0 == 0 goto +1\n*(u64 *)(r0 + 0) = 1\nr0 = 2\nexit', { maps: [m('array:4:8:1:wronly_prog')] });
  p('map/update-rdonly-prog', 'xdp', '*(u32 *)(r10 - 4) = 0\n*(u64 *)(r10 - 16) = 0\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\nr4 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_update_elem\nr0 = 2\nexit', { maps: [m('array:4:8:1:rdonly_prog')] });
  p('map/in-map-lookup', 'xdp', LOOKUP + 'if r0 == 0 goto +6\nr1 = r0\n*(u32 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\nr0 = 2\nexit\nr0 = 2\nexit', { maps: [m('array:4:8:1'), { ...m('array_of_maps:4:4:1'), inner_map: 0 }] });
  p('map/value-atomic', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = 1\nlock *(u64 *)(r0 + 0) += r1\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-atomic-oob', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = 1\nlock *(u64 *)(r0 + 4) += r1\nr0 = 2\nexit', { maps: [HASH] });
  p('map/value-var-off-check', 'xdp', LOOKUP + 'if r0 == 0 goto +8\nr6 = r0\ncall bpf_get_prandom_u32\nif r0 > 40 goto +4\nr6 += r0\nr0 = *(u64 *)(r6 + 0)\nr0 = 2\nexit\nr0 = 2\nexit\nexit', { maps: [ARRAY] });
  p('map/value-var-off-check-oob', 'xdp', LOOKUP + 'if r0 == 0 goto +8\nr6 = r0\ncall bpf_get_prandom_u32\nif r0 > 41 goto +4\nr6 += r0\nr0 = *(u64 *)(r6 + 0)\nr0 = 2\nexit\nr0 = 2\nexit\nexit', { maps: [ARRAY] });
  p('map/value-var-off-signed', 'xdp', LOOKUP + 'if r0 == 0 goto +8\nr6 = r0\ncall bpf_get_prandom_u32\nif r0 s> 40 goto +4\nr6 += r0\nr0 = *(u64 *)(r6 + 0)\nr0 = 2\nexit\nr0 = 2\nexit\nexit', { maps: [ARRAY] });
  p('map/value-ptr-cmp-bound', 'xdp', LOOKUP + 'if r0 == 0 goto +3\nr1 = r0\nr1 += 8\nif r1 > r0 goto +0\nr0 = 2\nexit', { maps: [HASH] });
}

function packets(): void {
  const OUT = '\nout: r0 = 2\nexit';
  p('pkt/read-ok', 'xdp', pkt(14) + 'r0 = *(u16 *)(r2 + 12)' + OUT);
  p('pkt/read-no-check', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr0 = *(u8 *)(r2 + 0)\nr0 = 2\nexit');
  p('pkt/read-past-range', 'xdp', pkt(14) + 'r0 = *(u16 *)(r2 + 13)' + OUT);
  p('pkt/read-neg', 'xdp', pkt(14) + 'r0 = *(u8 *)(r2 - 1)' + OUT);
  p('pkt/write-ok', 'xdp', pkt(14) + '*(u8 *)(r2 + 0) = 1' + OUT);
  p('pkt/write-sock-filter', 'socket_filter', SKB_PKT(14) + '*(u8 *)(r2 + 0) = 1' + OUT);
  p('pkt/read-sock-filter', 'socket_filter', SKB_PKT(14) + 'r0 = *(u8 *)(r2 + 0)' + OUT);
  p('pkt/tc-read-write', 'sched_cls', SKB_PKT(14) + 'r0 = *(u8 *)(r2 + 0)\n*(u8 *)(r2 + 1) = 0' + OUT);
  p('pkt/cgroup-skb-read', 'cgroup_skb', SKB_PKT(14) + 'r0 = *(u8 *)(r2 + 0)\nr0 = 1\nexit\nout: r0 = 1\nexit');
  p('pkt/cgroup-skb-write', 'cgroup_skb', SKB_PKT(14) + '*(u8 *)(r2 + 0) = 1\nr0 = 1\nexit\nout: r0 = 1\nexit');
  p('pkt/lwt-write', 'lwt_in', SKB_PKT(14) + '*(u8 *)(r2 + 0) = 1' + OUT);
  p('pkt/lwt-xmit-write', 'lwt_xmit', SKB_PKT(14) + '*(u8 *)(r2 + 0) = 1' + OUT);
  p('pkt/sk-skb-write', 'sk_skb', SKB_PKT(14) + '*(u8 *)(r2 + 0) = 1' + OUT);
  p('pkt/check-reversed', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r3 < r4 goto out\nr0 = *(u64 *)(r2 + 0)' + OUT);
  p('pkt/check-ge', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r3 >= r4 goto +2\nr0 = 2\nexit\nr0 = *(u64 *)(r2 + 0)' + OUT);
  p('pkt/check-ge-wrong', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r4 >= r3 goto +2\nr0 = 2\nexit\nr0 = *(u64 *)(r2 + 0)' + OUT);
  p('pkt/check-lt', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r4 < r3 goto +2\nr0 = 2\nexit\nr0 = *(u64 *)(r2 + 0)' + OUT);
  p('pkt/check-le', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r4 <= r3 goto +2\nr0 = 2\nexit\nr0 = *(u64 *)(r2 + 0)' + OUT);
  p('pkt/check-le-fall', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r4 <= r3 goto +2\nr0 = *(u64 *)(r2 + 0)\nexit\nr0 = 2' + OUT);
  p('pkt/check-eq-end', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r4 == r3 goto +2\nr0 = 2\nexit\nr0 = *(u64 *)(r2 + 0)' + OUT);
  p('pkt/var-off-read', 'xdp', pkt(64) + 'r5 = *(u8 *)(r2 + 0)\nr5 &= 15\nr2 += r5\nr0 = *(u8 *)(r2 + 0)' + OUT);
  p('pkt/var-off-then-check', 'xdp', pkt(1) + 'r5 = *(u8 *)(r2 + 0)\nr5 &= 15\nr2 += r5\nr4 = r2\nr4 += 4\nif r4 > r3 goto out\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/var-off-unbounded', 'xdp', pkt(1) + 'r5 = *(u32 *)(r2 + 0)\nr2 += r5\nr4 = r2\nr4 += 4\nif r4 > r3 goto out\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/var-off-too-big', 'xdp', pkt(4) + 'r5 = *(u32 *)(r2 + 0)\nr5 &= 0xffff\nr2 += r5\nr4 = r2\nr4 += 4\nif r4 > r3 goto out\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/var-off-neg', 'xdp', pkt(4) + 'r5 = *(u32 *)(r2 + 0)\nr5 &= 0xf\nr5 -= 8\nr2 += r5\nr4 = r2\nr4 += 4\nif r4 > r3 goto out\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/big-const', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 0x10000\nif r4 > r3 goto out\nr0 = *(u8 *)(r2 + 0)' + OUT);
  p('pkt/const-0xffff', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 0xffff\nif r4 > r3 goto out\nr0 = *(u8 *)(r2 + 0)' + OUT);
  p('pkt/meta-read', 'xdp', 'r2 = *(u32 *)(r1 + 8)\nr3 = *(u32 *)(r1 + 0)\nr4 = r2\nr4 += 4\nif r4 > r3 goto out\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/meta-no-check', 'xdp', 'r2 = *(u32 *)(r1 + 8)\nr0 = *(u32 *)(r2 + 0)\nr0 = 2\nexit');
  p('pkt/meta-vs-end', 'xdp', 'r2 = *(u32 *)(r1 + 8)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 4\nif r4 > r3 goto out\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/data-end-cmp-copy', 'xdp', pkt(8) + 'r5 = r2\nr0 = *(u32 *)(r5 + 4)' + OUT);
  p('pkt/range-lost-after-add', 'xdp', pkt(8) + 'r2 += 4\nr0 = *(u32 *)(r2 + 4)' + OUT);
  p('pkt/range-kept-after-add', 'xdp', pkt(8) + 'r2 += 4\nr0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/helper-adjust-invalidates', 'xdp', pkt(8) + 'r6 = r2\nr2 = 4\ncall bpf_xdp_adjust_head\nr0 = *(u32 *)(r6 + 0)' + OUT);
  p('pkt/misaligned-ok', 'xdp', pkt(8) + 'r0 = *(u32 *)(r2 + 1)' + OUT);
  p('pkt/strict-misaligned', 'xdp', pkt(8) + 'r0 = *(u32 *)(r2 + 1)' + OUT, { prog_flags: ['strict_alignment'] });
  p('pkt/strict-aligned', 'xdp', pkt(8) + 'r0 = *(u32 *)(r2 + 2)' + OUT, { prog_flags: ['strict_alignment'] });
  p('pkt/ptr-cmp-unknown', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nif r2 > r3 goto +1\nr0 = *(u8 *)(r2 + 0)\nr0 = 2\nexit');
  p('pkt/end-minus-data', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr3 -= r2\nr0 = r3\nr0 &= 1\nexit');
  p('pkt/sk-skb-end-check', 'sk_skb', SKB_PKT(4) + 'r0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/flow-dissector', 'flow_dissector', SKB_PKT(4) + 'r0 = *(u32 *)(r2 + 0)' + OUT);
  p('pkt/flow-keys', 'flow_dissector', 'r2 = *(u64 *)(r1 + 144)\nr0 = *(u32 *)(r2 + 0)\n*(u16 *)(r2 + 2) = 1\nr0 = 0\nexit');
  p('pkt/flow-keys-oob', 'flow_dissector', 'r2 = *(u64 *)(r1 + 144)\nr0 = *(u32 *)(r2 + 56)\nr0 = 0\nexit');
  p('pkt/xdp-pkt-load-u64', 'xdp', pkt(16) + 'r0 = *(u64 *)(r2 + 8)' + OUT);
  p('pkt/xdp-pkt-atomic', 'xdp', pkt(16) + 'r1 = 1\nlock *(u64 *)(r2 + 8) += r1' + OUT);
  p('pkt/data-plus-var-cmp', 'xdp', pkt(16) + 'r5 = *(u8 *)(r2 + 0)\nr4 = r2\nr4 += r5\nr4 += 2\nif r4 > r3 goto out\nr0 = *(u8 *)(r4 - 1)' + OUT);
}

function ctx(): void {
  const rd = (t: string, off: number, size: 1 | 2 | 4 | 8, extra: Partial<SourceProgram> = {}, ret = 0) => {
    const ty = ({ 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const)[size];
    const o = off < 0 ? `- ${-off}` : `+ ${off}`;
    p(`ctx/${t}-read-${off}-${size}${extra.expected_attach_type ? '-' + extra.expected_attach_type : ''}`, t, `r0 = *(${ty} *)(r1 ${o})\nr0 = ${ret}\nexit`, extra);
  };
  const wr = (t: string, off: number, size: 1 | 2 | 4 | 8, extra: Partial<SourceProgram> = {}, ret = 0) => {
    const ty = ({ 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const)[size];
    p(`ctx/${t}-write-${off}-${size}${extra.expected_attach_type ? '-' + extra.expected_attach_type : ''}`, t, `r2 = 0\n*(${ty} *)(r1 + ${off}) = r2\nr0 = ${ret}\nexit`, extra);
  };
  for (const [off, size] of [[0, 4], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [24, 4], [0, 8], [2, 2], [0, 1], [-4, 4], [28, 4]] as const) rd('xdp', off, size, {}, 2);
  for (const [off, size] of [[0, 4], [0, 8], [12, 4]] as const) wr('xdp', off, size, {}, 2);
  for (const [off, size] of [[0, 4], [0, 2], [0, 1], [1, 1], [2, 2], [3, 1], [4, 4], [8, 4], [48, 4], [64, 4], [76, 4], [80, 4], [140, 4], [152, 8], [168, 8], [184, 4], [188, 4], [192, 4], [196, 4], [400, 4]] as const) {
    rd('sched_cls', off, size);
    rd('socket_filter', off, size);
  }
  for (const [off, size] of [[8, 4], [16, 4], [48, 4], [52, 4], [64, 4], [68, 4], [76, 4], [152, 8]] as const) {
    wr('sched_cls', off, size);
    wr('socket_filter', off, size);
    wr('cgroup_skb', off, size, {}, 1);
  }
  for (const [off, size] of [[76, 4], [140, 4], [80, 4], [96, 4], [168, 8]] as const) {
    rd('cgroup_skb', off, size, {}, 1);
    rd('sk_skb', off, size);
    rd('lwt_in', off, size);
    rd('flow_dissector', off, size);
  }
  for (const [off, size] of [[0, 8], [8, 8], [160, 8], [168, 8], [4, 4], [0, 4], [-8, 8]] as const) rd('kprobe', off, size);
  wr('kprobe', 0, 8);
  for (const [off, size] of [[0, 8], [8, 8], [16, 8], [4, 4], [8191, 1], [8192, 1], [12, 4]] as const) rd('tracepoint', off, size);
  for (const [off, size] of [[0, 8], [8, 8], [96, 8], [4, 4]] as const) rd('raw_tracepoint', off, size);
  for (const [off, size] of [[0, 8], [168, 8], [176, 8], [184, 8], [192, 8], [172, 4]] as const) rd('perf_event', off, size);
  for (const [off, size] of [[0, 4], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [24, 4], [28, 4], [32, 4], [36, 4], [40, 4], [44, 4], [48, 4], [52, 4], [56, 4], [60, 4], [64, 4], [68, 4], [72, 4], [76, 4], [80, 4], [84, 4], [88, 4], [92, 4], [96, 4], [100, 4], [184, 8], [192, 8], [200, 8], [208, 8]] as const) rd('sock_ops', off, size, {}, 1);
  for (const [off, size] of [[0, 4], [4, 4], [8, 4], [12, 4], [16, 4], [24, 4], [32, 4], [36, 4], [64, 4]] as const) rd('cgroup_sock', off, size, {}, 1);
  wr('cgroup_sock', 8, 4, {}, 1);
  wr('cgroup_sock', 4, 4, {}, 1);
  for (const [off, size] of [[0, 4], [4, 4], [8, 4], [24, 4], [40, 4], [44, 4], [48, 4], [52, 4], [56, 4], [64, 8]] as const) {
    rd('cgroup_sock_addr', off, size, { expected_attach_type: 'cgroup_inet4_connect' }, 1);
  }
  wr('cgroup_sock_addr', 4, 4, { expected_attach_type: 'cgroup_inet4_connect' }, 1);
  wr('cgroup_sock_addr', 24, 4, { expected_attach_type: 'cgroup_inet4_connect' }, 1);
  wr('cgroup_sock_addr', 24, 4, { expected_attach_type: 'cgroup_inet6_connect' }, 1);
  for (const [off, size] of [[0, 4], [4, 4], [8, 4], [12, 4]] as const) rd('cgroup_device', off, size, {}, 1);
  for (const [off, size] of [[0, 8], [8, 8], [16, 4], [20, 4], [24, 4], [28, 4], [32, 8]] as const) rd('cgroup_sockopt', off, size, { expected_attach_type: 'cgroup_getsockopt' }, 1);
  for (const [off, size] of [[0, 4], [4, 4], [8, 4]] as const) rd('cgroup_sysctl', off, size, {}, 1);
  wr('cgroup_sysctl', 4, 4, {}, 1);
  for (const [off, size] of [[0, 8], [8, 8], [16, 4], [20, 4], [24, 4], [28, 4], [44, 4], [48, 4], [52, 4], [56, 4], [64, 4], [68, 4]] as const) rd('sk_msg', off, size);
  for (const [off, size] of [[0, 8], [8, 8], [16, 4], [20, 4], [24, 4], [28, 4], [32, 4], [36, 8]] as const) rd('sk_reuseport', off, size);
  for (const [off, size] of [[0, 8], [8, 4], [12, 4], [16, 4], [36, 4], [40, 4], [44, 4], [48, 4]] as const) rd('sk_lookup', off, size, { expected_attach_type: 'sk_lookup' });
  for (const [off, size] of [[0, 8], [8, 8]] as const) rd('syscall', off, size, { prog_flags: ['sleepable'] });
  rd('lwt_seg6local', 76, 4);
  rd('sched_act', 76, 4);
  rd('lwt_out', 76, 4);
  wr('lwt_out', 76, 4);
  p('ctx/ctx-store-imm', 'sched_cls', '*(u32 *)(r1 + 48) = 1\nr0 = 0\nexit');
  p('ctx/ctx-store-ptr', 'sched_cls', '*(u64 *)(r1 + 48) = r1\nr0 = 0\nexit');
  p('ctx/ctx-atomic', 'sched_cls', 'r2 = 1\nlock *(u32 *)(r1 + 48) += w2\nr0 = 0\nexit');
  p('ctx/ctx-var', 'sched_cls', 'r2 = *(u32 *)(r1 + 0)\nr2 &= 4\nr1 += r2\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit');
  p('ctx/ctx-misaligned', 'sched_cls', 'r0 = *(u32 *)(r1 + 2)\nr0 = 0\nexit');
  p('ctx/ctx-strict-misaligned', 'sched_cls', 'r0 = *(u16 *)(r1 + 1)\nr0 = 0\nexit', { prog_flags: ['strict_alignment'] });
}

function helpers(): void {
  const STR = '*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\n';
  p('helper/invalid-id', 'xdp', 'call 300\nr0 = 2\nexit');
  p('helper/id-0', 'xdp', 'call 0\nr0 = 2\nexit');
  p('helper/not-for-type', 'xdp', 'call bpf_get_current_pid_tgid\nr0 = 2\nexit');
  p('helper/not-for-type-2', 'socket_filter', 'r2 = 0\ncall bpf_skb_store_bytes\nr0 = 0\nexit');
  p('helper/kprobe-pid', 'kprobe', 'call bpf_get_current_pid_tgid\nr0 = 0\nexit');
  p('helper/gpl-only-trace-printk', 'kprobe', STR + 'r2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit', { license: 'Proprietary' });
  p('helper/gpl-trace-printk-ok', 'kprobe', STR + 'r2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit', { license: 'GPL' });
  p('helper/gpl-dual', 'kprobe', STR + 'r2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit', { license: 'Dual BSD/GPL' });
  p('helper/gpl-only-probe-read', 'kprobe', 'r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = 0\nexit', { license: 'MIT' });
  p('helper/non-gpl-ok', 'xdp', 'call bpf_get_prandom_u32\nr0 = 2\nexit', { license: 'MIT' });
  p('helper/size-not-const-ok', 'kprobe', 'call bpf_get_prandom_u32\nr2 = r0\nr2 &= 7\nr2 += 1\n' + STR + 'call bpf_trace_printk\nr0 = 0\nexit');
  p('helper/size-unbounded', 'kprobe', 'call bpf_get_prandom_u32\nr2 = r0\n' + STR + 'call bpf_trace_printk\nr0 = 0\nexit');
  p('helper/size-neg', 'kprobe', 'call bpf_get_prandom_u32\nr2 = r0\nr2 &= 7\nr2 -= 4\n' + STR + 'call bpf_trace_printk\nr0 = 0\nexit');
  p('helper/size-zero', 'kprobe', STR + 'r2 = 0\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/size-too-big', 'kprobe', STR + 'r2 = 16\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/size-ptr', 'kprobe', STR + 'r2 = r10\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/mem-scalar', 'kprobe', 'r1 = 0\nr2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/mem-ctx', 'kprobe', 'r2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/mem-uninit-stack-ok', 'kprobe', 'r1 = r10\nr1 += -8\nr2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/mem-map-value', 'kprobe', LOOKUP + 'if r0 == 0 goto +3\nr1 = r0\nr2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit', { maps: [HASH] });
  p('helper/mem-map-value-too-big', 'kprobe', LOOKUP + 'if r0 == 0 goto +3\nr1 = r0\nr2 = 9\ncall bpf_trace_printk\nr0 = 0\nexit', { maps: [HASH] });
  p('helper/uninit-mem-ok', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 16\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = *(u64 *)(r10 - 16)\nr0 = 0\nexit');
  p('helper/uninit-mem-oob', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 24\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = 0\nexit');
  p('helper/uninit-mem-var-size', 'kprobe', 'call bpf_get_prandom_u32\nr2 = r0\nr2 &= 15\nr1 = r10\nr1 += -16\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = 0\nexit');
  p('helper/uninit-mem-zero-ok', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 0\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = 0\nexit');
  p('helper/uninit-mem-spill-clobber', 'kprobe', '*(u64 *)(r10 - 16) = r1\nr1 = r10\nr1 += -16\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel\nr1 = *(u64 *)(r10 - 16)\nr0 = *(u64 *)(r1 + 0)\nr0 = 0\nexit');
  p('helper/ctx-arg-not-ctx', 'xdp', 'r1 = 0\nr2 = 4\ncall bpf_xdp_adjust_head\nr0 = 2\nexit');
  p('helper/ctx-arg-modified', 'xdp', 'r1 += 4\nr2 = 4\ncall bpf_xdp_adjust_head\nr0 = 2\nexit');
  p('helper/anything-ptr-ok', 'xdp', 'r1 = r10\ncall bpf_get_prandom_u32\nr0 = 2\nexit');
  p('helper/arg-uninit', 'xdp', 'r2 = 4\nr1 = r6\ncall bpf_xdp_adjust_head\nr0 = 2\nexit');
  p('helper/skb-load-bytes', 'sched_cls', 'r2 = 0\nr3 = r10\nr3 += -8\nr4 = 8\ncall bpf_skb_load_bytes\nr0 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('helper/skb-load-bytes-to-pkt', 'sched_cls', SKB_PKT(8) + 'r3 = r2\nr2 = 0\nr4 = 8\ncall bpf_skb_load_bytes\nout: r0 = 0\nexit');
  p('helper/skb-load-bytes-to-ctx', 'sched_cls', 'r2 = 0\nr3 = r1\nr4 = 8\ncall bpf_skb_load_bytes\nr0 = 0\nexit');
  // socket lookups may take their tuple from the packet (.pkt_access)
  for (const t of ['sched_cls', 'xdp', 'sk_skb', 'cgroup_skb']) {
    const xdp = t === 'xdp';
    for (const id of [84, 85, 99]) {
      p(`helper/sk-lookup-pkt/${t}/${id}`, t, `r2 = *(u32 *)(r1 + ${xdp ? 0 : 76})\nr3 = *(u32 *)(r1 + ${xdp ? 4 : 80})\nr0 = r2\nr0 += 64\nif r0 > r3 goto +7\nr3 = 36\nr4 = 0\nr5 = 0\ncall ${id}\nif r0 == 0 goto +2\nr1 = r0\ncall bpf_sk_release\nr0 = ${xdp ? 2 : 0}\nexit`);
    }
    p(`helper/sk-lookup-pkt/${t}/short`, t, `r2 = *(u32 *)(r1 + ${xdp ? 0 : 76})\nr3 = *(u32 *)(r1 + ${xdp ? 4 : 80})\nr0 = r2\nr0 += 16\nif r0 > r3 goto +7\nr3 = 36\nr4 = 0\nr5 = 0\ncall 84\nif r0 == 0 goto +2\nr1 = r0\ncall bpf_sk_release\nr0 = ${xdp ? 2 : 0}\nexit`);
  }
  p('helper/csum-diff', 'sched_cls', '*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('helper/csum-diff-null-size', 'sched_cls', 'r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('helper/csum-diff-null-nonzero', 'sched_cls', 'r1 = 0\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('helper/redirect-map', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 0\nr3 = 0\ncall bpf_redirect_map\nexit', { maps: [m('devmap:4:4:4')] });
  p('helper/redirect-map-hash', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 0\nr3 = 0\ncall bpf_redirect_map\nexit', { maps: [HASH] });
  p('helper/tail-call', 'xdp', 'ld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_tail_call\nr0 = 2\nexit', { maps: [m('prog_array:4:4:4')] });
  p('helper/tail-call-hash', 'xdp', 'ld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_tail_call\nr0 = 2\nexit', { maps: [HASH] });
  p('helper/tail-call-not-ctx', 'xdp', 'r1 = 0\nld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_tail_call\nr0 = 2\nexit', { maps: [m('prog_array:4:4:4')] });
  p('helper/prog-array-lookup', 'xdp', LOOKUP + 'r0 = 2\nexit', { maps: [m('prog_array:4:4:4')] });
  p('helper/perf-output', 'xdp', '*(u64 *)(r10 - 8) = 0\nr4 = r10\nr4 += -8\nld_pseudo r2, 1, 0\nr3 = 0xffffffff ll\nr5 = 8\ncall bpf_perf_event_output\nr0 = 2\nexit', { maps: [m('perf_event_array:4:4:2')] });
  p('helper/perf-output-wrong-map', 'xdp', '*(u64 *)(r10 - 8) = 0\nr4 = r10\nr4 += -8\nld_pseudo r2, 1, 0\nr3 = 0\nr5 = 8\ncall bpf_perf_event_output\nr0 = 2\nexit', { maps: [HASH] });
  p('helper/ringbuf-output', 'xdp', '*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output\nr0 = 2\nexit', { maps: [RINGBUF] });
  p('helper/ringbuf-output-hash', 'xdp', '*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output\nr0 = 2\nexit', { maps: [HASH] });
  p('helper/get-smp-id-range', 'xdp', 'call bpf_get_smp_processor_id\nif r0 > 1 goto +1\nexit\nr0 = r5\nexit');
  p('helper/ktime', 'xdp', 'call bpf_ktime_get_ns\nr0 = 2\nexit');
  p('helper/snprintf', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 16\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_snprintf\nr0 = 0\nexit');
  p('helper/snprintf-const-str', 'kprobe', 'ld_pseudo r3, 2, 0, 0\nr1 = r10\nr1 += -16\nr2 = 16\nr4 = 0\nr5 = 0\ncall bpf_snprintf\nr0 = 0\nexit', { maps: [m('array:4:8:1:rdonly_prog')] });
  p('helper/loop-no-btf', 'xdp', 'r1 = 4\nld_pseudo r2, 4, 4\nr3 = 0\nr4 = 0\ncall bpf_loop\nr0 = 2\nexit\nr0 = 0\nexit');
  p('helper/loop-scalar-cb', 'xdp', 'r1 = 4\nr2 = 0\nr3 = 0\nr4 = 0\ncall bpf_loop\nr0 = 2\nexit');
  p('helper/jiffies', 'kprobe', 'call bpf_jiffies64\nr0 = 0\nexit');
  p('helper/current-comm', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 16\ncall bpf_get_current_comm\nr0 = 0\nexit');
  p('helper/current-comm-pkt', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 17\ncall bpf_get_current_comm\nr0 = 0\nexit');
  p('helper/xdp-adjust-tail', 'xdp', 'r2 = -4\ncall bpf_xdp_adjust_tail\nr0 = 2\nexit');
  p('helper/skb-pull-data', 'sched_cls', 'r6 = r1\nr2 = 14\ncall bpf_skb_pull_data\nr1 = r6\n' + SKB_PKT(14) + 'r0 = *(u8 *)(r2 + 0)\nout: r0 = 0\nexit');
  p('helper/skb-change-invalidates', 'sched_cls', 'r6 = r1\n' + SKB_PKT(14) + 'r7 = r2\nr1 = r6\nr2 = 14\ncall bpf_skb_pull_data\nr0 = *(u8 *)(r7 + 0)\nout: r0 = 0\nexit');
  p('helper/sk-lookup-release', 'sched_cls', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 24) = 0\n*(u64 *)(r10 - 32) = 0\n*(u64 *)(r10 - 40) = 0\nr2 = r10\nr2 += -40\nr3 = 12\nr4 = 0\nr5 = 0\ncall bpf_sk_lookup_tcp\nif r0 == 0 goto +2\nr1 = r0\ncall bpf_sk_release\nr0 = 0\nexit');
  p('helper/sk-lookup-leak', 'sched_cls', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 24) = 0\n*(u64 *)(r10 - 32) = 0\n*(u64 *)(r10 - 40) = 0\nr2 = r10\nr2 += -40\nr3 = 12\nr4 = 0\nr5 = 0\ncall bpf_sk_lookup_tcp\nr0 = 0\nexit');
  p('helper/sk-lookup-read', 'sched_cls', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 24) = 0\n*(u64 *)(r10 - 32) = 0\n*(u64 *)(r10 - 40) = 0\nr2 = r10\nr2 += -40\nr3 = 12\nr4 = 0\nr5 = 0\ncall bpf_sk_lookup_tcp\nif r0 == 0 goto +4\nr6 = *(u32 *)(r0 + 4)\nr1 = r0\ncall bpf_sk_release\nr0 = 0\nexit\nexit');
  p('helper/sk-release-null', 'sched_cls', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 24) = 0\n*(u64 *)(r10 - 32) = 0\n*(u64 *)(r10 - 40) = 0\nr2 = r10\nr2 += -40\nr3 = 12\nr4 = 0\nr5 = 0\ncall bpf_sk_lookup_tcp\nr1 = r0\ncall bpf_sk_release\nr0 = 0\nexit');
}

function ringbuf(): void {
  const RES = 'ld_pseudo r1, 1, 0\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\n';
  const maps = [RINGBUF];
  p('ringbuf/reserve-submit', 'xdp', RES + 'if r0 == 0 goto +4\n*(u64 *)(r0 + 0) = 1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/reserve-discard', 'xdp', RES + 'if r0 == 0 goto +3\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nexit', { maps });
  p('ringbuf/leak', 'xdp', RES + 'r0 = 2\nexit', { maps });
  p('ringbuf/leak-after-check', 'xdp', RES + 'if r0 == 0 goto +1\nr0 = 2\nr0 = 2\nexit', { maps });
  p('ringbuf/submit-null', 'xdp', RES + 'r1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/write-oob', 'xdp', RES + 'if r0 == 0 goto +4\n*(u64 *)(r0 + 4) = 1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/double-submit', 'xdp', RES + 'if r0 == 0 goto +7\nr6 = r0\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr1 = r6\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/use-after-submit', 'xdp', RES + 'if r0 == 0 goto +5\nr6 = r0\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\n*(u64 *)(r6 + 0) = 1\nr0 = 2\nexit', { maps });
  p('ringbuf/submit-modified', 'xdp', RES + 'if r0 == 0 goto +4\nr1 = r0\nr1 += 4\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/submit-not-ringbuf', 'xdp', 'r1 = r10\nr1 += -8\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/reserve-var-size', 'xdp', 'call bpf_get_prandom_u32\nr2 = r0\nr2 &= 7\nld_pseudo r1, 1, 0\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +3\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/reserve-wrong-map', 'xdp', RES + 'r0 = 2\nexit', { maps: [HASH] });
  p('ringbuf/reserve-leak-one-path', 'xdp', RES + 'if r0 == 0 goto +6\nr6 = r0\ncall bpf_get_prandom_u32\nif r0 == 0 goto +3\nr1 = r6\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/spill-ref', 'xdp', RES + 'if r0 == 0 goto +5\n*(u64 *)(r10 - 8) = r0\nr1 = *(u64 *)(r10 - 8)\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps });
  p('ringbuf/tail-call-with-ref', 'xdp', RES + 'if r0 == 0 goto +8\nr6 = r0\nr1 = r6\nr1 = *(u64 *)(r10 - 8)\nr0 = 2\nr1 = r6\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps: [RINGBUF, m('prog_array:4:4:4')] });
  p('ringbuf/ldabs-with-ref', 'sched_cls', 'r6 = r1\n' + RES + 'if r0 == 0 goto +5\nr7 = r0\nr0 = *(u8 *)skb[0]\nr1 = r7\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 0\nexit', { maps });
  p('ringbuf/output', 'xdp', '*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output\nr0 = 2\nexit', { maps });
  p('ringbuf/query', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 0\ncall bpf_ringbuf_query\nr0 = 2\nexit', { maps });
}

function calls(): void {
  p('call/simple', 'xdp', 'call f\nexit\nf: r0 = 2\nexit');
  p('call/args', 'xdp', 'r1 = 5\ncall f\nexit\nf: r0 = r1\nr0 &= 1\nexit');
  p('call/callee-reads-uninit', 'xdp', 'call f\nexit\nf: r0 = r6\nexit');
  p('call/callee-reads-uninit-r2', 'xdp', 'call f\nexit\nf: r0 = r2\nexit');
  p('call/return-ctx', 'xdp', 'call f\nr0 = 2\nexit\nf: r0 = r1\nexit');
  p('call/return-stack', 'xdp', 'call f\nr0 = 2\nexit\nf: r0 = r10\nexit');
  p('call/return-caller-stack-ok', 'xdp', 'r1 = r10\ncall f\nr0 = 2\nexit\nf: r0 = r1\nexit');
  p('call/pass-stack-ptr', 'xdp', '*(u64 *)(r10 - 8) = 7\nr1 = r10\nr1 += -8\ncall f\nexit\nf: r0 = *(u64 *)(r1 + 0)\nr0 &= 1\nexit');
  p('call/write-caller-stack', 'xdp', 'r1 = r10\nr1 += -8\ncall f\nr0 = *(u64 *)(r10 - 8)\nr0 &= 1\nexit\nf: *(u64 *)(r1 + 0) = 1\nr0 = 0\nexit');
  p('call/spill-ptr-caller-stack', 'xdp', 'r1 = r10\nr1 += -8\ncall f\nr0 = 2\nexit\nf: r2 = r10\n*(u64 *)(r1 + 0) = r2\nr0 = 0\nexit');
  p('call/callee-saved-preserved', 'xdp', 'r6 = 1\ncall f\nr0 = r6\nexit\nf: r0 = 0\nexit');
  p('call/r1-clobbered', 'xdp', 'r1 = 1\ncall f\nr0 = r1\nexit\nf: r0 = 0\nexit');
  p('call/return-range-check', 'xdp', 'call f\nexit\nf: r0 = 9\nexit');
  p('call/helper-in-subprog', 'xdp', 'call f\nexit\nf: call bpf_get_prandom_u32\nr0 &= 1\nexit');
  p('call/pkt-in-subprog', 'xdp', 'call f\nr0 = 2\nexit\nf: ' + pkt(4) + 'r0 = *(u32 *)(r2 + 0)\nout: r0 = 0\nexit');
  p('call/map-in-subprog', 'xdp', 'call f\nr0 = 2\nexit\nf: ' + LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 0\nexit', { maps: [HASH] });
  p('call/ret-map-value', 'xdp', 'call f\nif r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit\nf: ' + LOOKUP + 'exit', { maps: [HASH] });
  p('call/ret-uninit', 'xdp', 'call f\nr0 = 2\nexit\nf: exit');
  p('call/deep-stack', 'xdp', 'call f\nr0 = 2\nexit\nf: *(u64 *)(r10 - 512) = 0\ncall g\nr0 = 0\nexit\ng: *(u64 *)(r10 - 8) = 0\nr0 = 0\nexit');
  p('call/ringbuf-in-subprog-leak', 'xdp', 'call f\nr0 = 2\nexit\nf: ld_pseudo r1, 1, 0\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nr0 = 0\nexit', { maps: [RINGBUF] });
  p('call/ringbuf-return-ref', 'xdp', 'call f\nif r0 == 0 goto +3\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit\nf: ld_pseudo r1, 1, 0\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nexit', { maps: [RINGBUF] });
  p('call/tail-call-in-subprog', 'xdp', 'call f\nr0 = 2\nexit\nf: ld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_tail_call\nr0 = 0\nexit', { maps: [m('prog_array:4:4:4')] });
  p('call/ldabs-in-subprog', 'socket_filter', 'r6 = r1\ncall f\nr0 = 0\nexit\nf: r0 = *(u8 *)skb[0]\nr0 = 0\nexit');
  p('call/loop-call', 'xdp', 'r6 = 0\nl: call f\nr6 += 1\nif r6 < 4 goto l\nr0 = 2\nexit\nf: r0 = 0\nexit');
  p('call/recursive-scalar', 'xdp', 'r1 = 3\ncall f\nr0 = 2\nexit\nf: if r1 == 0 goto +2\nr1 -= 1\ncall f\nr0 = 0\nexit');
}

function returns(): void {
  p('ret/xdp-unknown', 'xdp', 'call bpf_get_prandom_u32\nexit');
  p('ret/xdp-any-const', 'xdp', 'r0 = 12345\nexit');
  p('ret/sock-filter-any', 'socket_filter', 'call bpf_get_prandom_u32\nexit');
  p('ret/cgroup-skb-2', 'cgroup_skb', 'r0 = 2\nexit');
  p('ret/cgroup-skb-3', 'cgroup_skb', 'r0 = 3\nexit', { expected_attach_type: 'cgroup_inet_egress' });
  p('ret/cgroup-skb-egress-3', 'cgroup_skb', 'r0 = 3\nexit', { expected_attach_type: 'cgroup_inet_egress' });
  p('ret/cgroup-skb-unknown', 'cgroup_skb', 'call bpf_get_prandom_u32\nexit');
  p('ret/cgroup-skb-range', 'cgroup_skb', 'call bpf_get_prandom_u32\nr0 &= 1\nexit');
  p('ret/cgroup-skb-ptr', 'cgroup_skb', 'r0 = r1\nexit');
  p('ret/cgroup-skb-uninit', 'cgroup_skb', 'exit');
  p('ret/cgroup-sock-2', 'cgroup_sock', 'r0 = 2\nexit');
  p('ret/cgroup-sock-release', 'cgroup_sock', 'r0 = 2\nexit', { expected_attach_type: 'cgroup_inet_sock_release' });
  p('ret/cgroup-sock-addr-2', 'cgroup_sock_addr', 'r0 = 2\nexit', { expected_attach_type: 'cgroup_inet4_connect' });
  p('ret/cgroup-sock-addr-recvmsg-2', 'cgroup_sock_addr', 'r0 = 2\nexit', { expected_attach_type: 'cgroup_udp4_recvmsg' });
  p('ret/cgroup-sock-addr-bind-3', 'cgroup_sock_addr', 'r0 = 3\nexit', { expected_attach_type: 'cgroup_inet4_bind' });
  p('ret/cgroup-sock-addr-bind-4', 'cgroup_sock_addr', 'r0 = 4\nexit', { expected_attach_type: 'cgroup_inet4_bind' });
  p('ret/sock-ops-2', 'sock_ops', 'r0 = 2\nexit');
  p('ret/cgroup-device-2', 'cgroup_device', 'r0 = 2\nexit');
  p('ret/cgroup-sysctl-2', 'cgroup_sysctl', 'r0 = 2\nexit');
  p('ret/cgroup-sockopt-2', 'cgroup_sockopt', 'r0 = 2\nexit', { expected_attach_type: 'cgroup_getsockopt' });
  p('ret/sk-lookup-2', 'sk_lookup', 'r0 = 2\nexit', { expected_attach_type: 'sk_lookup' });
  p('ret/sk-lookup-1', 'sk_lookup', 'r0 = 1\nexit', { expected_attach_type: 'sk_lookup' });
  p('ret/netfilter-2', 'netfilter', 'r0 = 2\nexit', { expected_attach_type: 'netfilter' });
  p('ret/kprobe-any', 'kprobe', 'r0 = 99\nexit');
  p('ret/kprobe-ptr', 'kprobe', 'r0 = r1\nexit');
  p('ret/tracepoint-ptr', 'tracepoint', 'r0 = r10\nexit');
  p('ret/sk-msg-2', 'sk_msg', 'r0 = 2\nexit');
  p('ret/sk-skb-9', 'sk_skb', 'r0 = 9\nexit');
  p('ret/sk-reuseport-9', 'sk_reuseport', 'r0 = 9\nexit');
  p('ret/flow-dissector-9', 'flow_dissector', 'r0 = 9\nexit');
  p('ret/lwt-9', 'lwt_in', 'r0 = 9\nexit');
  p('ret/perf-event-9', 'perf_event', 'r0 = 9\nexit');
  p('ret/syscall-9', 'syscall', 'r0 = 9\nexit', { prog_flags: ['sleepable'] });
  p('ret/syscall-not-sleepable', 'syscall', 'r0 = 9\nexit');
  p('ret/xdp-sleepable', 'xdp', 'r0 = 2\nexit', { prog_flags: ['sleepable'] });
  p('ret/cgroup-skb-jmp32-range', 'cgroup_skb', 'call bpf_get_prandom_u32\nif w0 > 1 goto +1\nexit\nr0 = 0\nexit');
  p('ret/cgroup-skb-hi-bits', 'cgroup_skb', 'call bpf_get_prandom_u32\nif w0 > 1 goto +1\nexit\nr0 = 0\nexit');
}

function legacy(): void {
  p('ldabs/ok', 'socket_filter', 'r6 = r1\nr0 = *(u8 *)skb[12]\nr0 = 0\nexit');
  p('ldabs/ind-ok', 'socket_filter', 'r6 = r1\nr7 = 2\nr0 = *(u16 *)skb[r7 + 12]\nr0 = 0\nexit');
  p('ldabs/r6-not-ctx', 'socket_filter', 'r6 = 0\nr0 = *(u8 *)skb[12]\nr0 = 0\nexit');
  p('ldabs/r6-uninit', 'socket_filter', 'r0 = *(u8 *)skb[12]\nr0 = 0\nexit');
  p('ldabs/xdp', 'xdp', 'r6 = r1\nr0 = *(u8 *)skb[12]\nr0 = 0\nexit');
  p('ldabs/kprobe', 'kprobe', 'r6 = r1\nr0 = *(u8 *)skb[12]\nr0 = 0\nexit');
  p('ldabs/tc', 'sched_cls', 'r6 = r1\nr0 = *(u32 *)skb[0]\nr0 = 0\nexit');
  p('ldabs/clobbers', 'socket_filter', 'r6 = r1\nr1 = 1\nr0 = *(u8 *)skb[12]\nr0 = r1\nexit');
  p('ldabs/ind-uninit', 'socket_filter', 'r6 = r1\nr0 = *(u8 *)skb[r7 + 12]\nr0 = 0\nexit');
  p('ldabs/ind-ptr', 'socket_filter', 'r6 = r1\nr7 = r10\nr0 = *(u8 *)skb[r7 + 12]\nr0 = 0\nexit');
  p('ldabs/cgroup-skb', 'cgroup_skb', 'r6 = r1\nr0 = *(u8 *)skb[12]\nr0 = 1\nexit');
  p('ldabs/r0-result-known-range', 'socket_filter', 'r6 = r1\nr0 = *(u8 *)skb[12]\nif r0 > 255 goto +1\nexit\nr0 = r3\nexit');
}

function misc(): void {
  const PA = m('prog_array:4:4:4');
  void PA;
  // map pointers read as kernel structs
  for (const [mt, map] of [['hash', HASH], ['array', ARRAY], ['ringbuf', RINGBUF]] as const) {
    p(`mapptr/${mt}-read`, 'xdp', 'ld_pseudo r1, 1, 0\nr0 = *(u32 *)(r1 + 8)\nr0 = 2\nexit', { maps: [map] });
    p(`mapptr/${mt}-write`, 'xdp', 'ld_pseudo r1, 1, 0\n*(u32 *)(r1 + 8) = 1\nr0 = 2\nexit', { maps: [map] });
    p(`mapptr/${mt}-neg`, 'xdp', 'ld_pseudo r1, 1, 0\nr0 = *(u32 *)(r1 - 8)\nr0 = 2\nexit', { maps: [map] });
    p(`mapptr/${mt}-beyond`, 'xdp', 'ld_pseudo r1, 1, 0\nr0 = *(u32 *)(r1 + 4000)\nr0 = 2\nexit', { maps: [map] });
  }
  // may_goto
  raw('maygoto/simple', 'xdp', [[0xb7, 0, 0, 0, 0], [0xe5, 0, 0, 1, 0], [0x07, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('maygoto/bad-imm', 'xdp', [[0xb7, 0, 0, 0, 0], [0xe5, 0, 0, 1, 5], [0x07, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('maygoto/bad-src', 'xdp', [[0xb7, 0, 0, 0, 0], [0xe5, 0, 1, 1, 0], [0x07, 0, 0, 0, 1], [0x95, 0, 0, 0, 0]]);
  raw('maygoto/loop', 'xdp', [[0xb7, 0, 0, 0, 0], [0xe5, 0, 0, 2, 0], [0x07, 0, 0, 0, 1], [0x05, 0, 0, -3, 0], [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0]]);
  raw('maygoto/loop-unknown', 'xdp', [[0x85, 0, 0, 0, 7], [0xe5, 0, 0, 2, 0], [0x07, 0, 0, 0, 1], [0x05, 0, 0, -3, 0], [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0]]);
  raw('maygoto/loop-stack', 'xdp', [[0x7a, 10, 0, -8, 0], [0xe5, 0, 0, 4, 0], [0x79, 1, 10, -8, 0], [0x07, 1, 0, 0, 1], [0x7b, 10, 1, -8, 0], [0x05, 0, 0, -5, 0], [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0]]);
  raw('maygoto/loop-map-index', 'xdp', [
    [0x62, 10, 0, -4, 0], [0xbf, 2, 10, 0, 0], [0x07, 2, 0, 0, -4], [0x18, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0x85, 0, 0, 0, 1],
    [0x55, 0, 0, 2, 0], [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0],
    [0xb7, 6, 0, 0, 0], [0xe5, 0, 0, 6, 0], [0xbf, 1, 0, 0, 0], [0x0f, 1, 6, 0, 0], [0x71, 2, 1, 0, 0], [0x07, 6, 0, 0, 1], [0x57, 6, 0, 0, 31], [0x05, 0, 0, -7, 0],
    [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0]], { maps: [ARRAY] });
  raw('maygoto/loop-map-index-oob', 'xdp', [
    [0x62, 10, 0, -4, 0], [0xbf, 2, 10, 0, 0], [0x07, 2, 0, 0, -4], [0x18, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0x85, 0, 0, 0, 1],
    [0x55, 0, 0, 2, 0], [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0],
    [0xb7, 6, 0, 0, 0], [0xe5, 0, 0, 6, 0], [0xbf, 1, 0, 0, 0], [0x0f, 1, 6, 0, 0], [0x71, 2, 1, 0, 0], [0x07, 6, 0, 0, 1], [0x57, 6, 0, 0, 63], [0x05, 0, 0, -7, 0],
    [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0]], { maps: [ARRAY] });
  // more helper argument rules
  p('helper/size-unbounded-positive', 'kprobe', 'call bpf_get_prandom_u32\nr2 = r0\nr2 >>= 1\n*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\ncall bpf_trace_printk\nr0 = 0\nexit');
  p('helper/var-off-stack-key', 'xdp', '*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 8) = 0\ncall bpf_get_prandom_u32\nr0 &= 8\nr2 = r10\nr2 += -16\nr2 += r0\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('helper/var-off-stack-key-oob', 'xdp', '*(u64 *)(r10 - 16) = 0\ncall bpf_get_prandom_u32\nr0 &= 16\nr2 = r10\nr2 += -16\nr2 += r0\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('helper/might-sleep', 'kprobe', 'r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_copy_from_user\nr0 = 0\nexit');
  p('helper/sleepable-ok', 'syscall', 'r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_copy_from_user\nr0 = 0\nexit', { prog_flags: ['sleepable'] });
  p('helper/sk-release-unacquired', 'sched_cls', 'r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +1\ncall bpf_sk_release\nr0 = 0\nexit');
  p('helper/sk-read-oob', 'sched_cls', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 24) = 0\n*(u64 *)(r10 - 32) = 0\n*(u64 *)(r10 - 40) = 0\nr2 = r10\nr2 += -40\nr3 = 12\nr4 = 0\nr5 = 0\ncall bpf_sk_lookup_tcp\nif r0 == 0 goto +4\nr6 = *(u32 *)(r0 + 200)\nr1 = r0\ncall bpf_sk_release\nr0 = 0\nexit\nexit');
  p('helper/sk-write', 'sched_cls', '*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 24) = 0\n*(u64 *)(r10 - 32) = 0\n*(u64 *)(r10 - 40) = 0\nr2 = r10\nr2 += -40\nr3 = 12\nr4 = 0\nr5 = 0\ncall bpf_sk_lookup_tcp\nif r0 == 0 goto +4\n*(u32 *)(r0 + 4) = 1\nr1 = r0\ncall bpf_sk_release\nr0 = 0\nexit\nexit');
  p('helper/skb-sk-read', 'sched_cls', 'r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +1\nr0 = *(u32 *)(r1 + 4)\nr0 = 0\nexit');
  p('helper/skb-sk-fullsock', 'sched_cls', 'r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +4\ncall bpf_sk_fullsock\nif r0 == 0 goto +2\nr0 = *(u32 *)(r0 + 8)\nr0 = 0\nexit');
  p('helper/tcp-sock', 'sched_cls', 'r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto +4\ncall bpf_tcp_sock\nif r0 == 0 goto +2\nr0 = *(u32 *)(r0 + 4)\nr0 = 0\nexit');
  p('helper/skb-sk-no-null-check', 'sched_cls', 'r1 = *(u64 *)(r1 + 168)\nr0 = *(u32 *)(r1 + 4)\nr0 = 0\nexit');
  // loads from different pointer types at one instruction
  p('misc/same-insn-different-ptrs', 'sched_cls', 'r6 = r1\ncall bpf_get_prandom_u32\n*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\nif r0 == 0 goto +1\nr1 = r6\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit');
  p('misc/same-insn-stack-and-map', 'xdp', LOOKUP + 'if r0 == 0 goto +5\nr6 = r0\ncall bpf_get_prandom_u32\nr1 = r10\nr1 += -8\nif r0 == 0 goto +1\nr1 = r6\nr0 = *(u32 *)(r1 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/load-acquire-ctx', 'xdp', 'r0 = load_acquire((u32 *)(r1 + 0))\nr0 = 2\nexit');
  p('misc/store-release-ctx', 'sched_cls', 'r2 = 1\nstore_release((u32 *)(r1 + 48), w2)\nr0 = 0\nexit');
  p('misc/atomic-pkt', 'xdp', pkt(8) + 'r1 = 1\nlock *(u64 *)(r2 + 0) += r1\nout: r0 = 2\nexit');
  p('misc/atomic-map-value-fetch', 'xdp', LOOKUP + 'if r0 == 0 goto +3\nr1 = 1\nr1 = atomic_fetch_add((u64 *)(r0 + 0), r1)\nr0 = r1\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/atomic-ringbuf-mem', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +6\n*(u64 *)(r0 + 0) = 0\nr1 = 1\nlock *(u64 *)(r0 + 0) += r1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit\nr0 = 2\nexit', { maps: [RINGBUF] });
  p('misc/jmp32-ptr-null-check', 'xdp', LOOKUP + 'if w0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/ptr-cmp-ptr-null', 'xdp', LOOKUP + 'r1 = r10\nif r0 == r1 goto +1\nr0 = 2\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/null-check-via-ptr-eq', 'xdp', LOOKUP + 'r6 = r0\n' + LOOKUP + 'if r0 != r6 goto +2\nr0 = 2\nexit\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/map-value-or-null-cmp-nonzero', 'xdp', LOOKUP + 'if r0 == 1 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/map-value-or-null-to-helper', 'xdp', LOOKUP + 'r2 = r0\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [HASH] });
  p('misc/xdp-sock-map-redirect', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 0\nr3 = 0\ncall bpf_redirect_map\nexit', { maps: [m('xskmap:4:4:4')] });
  p('misc/cpumap-redirect', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 0\nr3 = 0\ncall bpf_redirect_map\nexit', { maps: [m('cpumap:4:4:4')] });
  p('misc/lpm-lookup', 'xdp', '*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 2\nexit', { maps: [m('lpm_trie:8:8:16:no_prealloc')] });
  p('misc/stack-map-peek', 'xdp', 'r2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_peek_elem\nr0 = 2\nexit', { maps: [m('stack:0:8:4')] });
  p('misc/bloom-push-peek', 'xdp', '*(u64 *)(r10 - 8) = 1\nr2 = r10\nr2 += -8\nr3 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_push_elem\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_peek_elem\nr0 = 2\nexit', { maps: [m('bloom_filter:0:8:16')] });
  p('misc/percpu-hash-lookup', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [m('percpu_hash:4:8:4')] });
  p('misc/hash-of-maps', 'xdp', LOOKUP + 'if r0 == 0 goto +7\nr1 = r0\n*(u32 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\nif r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { maps: [m('array:4:8:1'), { ...m('hash_of_maps:4:4:1'), inner_map: 0 }] });
  p('misc/ringbuf-reserve-dynamic-too-big', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 8192\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +3\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nexit', { maps: [RINGBUF] });
  p('misc/ringbuf-mem-oob', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +4\nr1 = *(u8 *)(r0 + 8)\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nexit', { maps: [RINGBUF] });
  p('misc/ringbuf-mem-var-ok', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +9\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 7\nr1 = r6\nr1 += r0\n*(u8 *)(r1 + 8) = 1\nr1 = r6\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nexit', { maps: [RINGBUF] });
  p('misc/ringbuf-mem-var-oob', 'xdp', 'ld_pseudo r1, 1, 0\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +9\nr6 = r0\ncall bpf_get_prandom_u32\nr0 &= 15\nr1 = r6\nr1 += r0\n*(u8 *)(r1 + 8) = 1\nr1 = r6\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nexit', { maps: [RINGBUF] });
  p('misc/tail-call-leak-ref', 'xdp', 'r6 = r1\nld_pseudo r1, 1, 0\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto +7\nr7 = r0\nr1 = r6\nld_pseudo r2, 1, 1\nr3 = 0\ncall bpf_tail_call\nr1 = r7\nr2 = 0\ncall bpf_ringbuf_discard\nr0 = 2\nexit', { maps: [RINGBUF, m('prog_array:4:4:4')] });
  p('misc/get-stackid', 'kprobe', 'ld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_get_stackid\nr0 = 0\nexit', { maps: [m('stack_trace:4:64:16')] });
  p('misc/get-stackid-wrong-map', 'kprobe', 'ld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_get_stackid\nr0 = 0\nexit', { maps: [HASH] });
  p('misc/perf-event-read', 'kprobe', 'ld_pseudo r1, 1, 0\nr2 = 0\ncall bpf_perf_event_read\nr0 = 0\nexit', { maps: [m('perf_event_array:4:4:2')] });
  p('misc/current-task-under-cgroup', 'kprobe', 'ld_pseudo r1, 1, 0\nr2 = 0\ncall bpf_current_task_under_cgroup\nr0 = 0\nexit', { maps: [m('cgroup_array:4:4:2')] });
  p('misc/probe-read-str-kprobe', 'kprobe', 'r1 = r10\nr1 += -16\nr2 = 16\nr3 = *(u64 *)(r1 + 0)\ncall bpf_probe_read_kernel_str\nr0 = 0\nexit');
  p('misc/probe-read-kprobe-ctx', 'kprobe', 'r3 = *(u64 *)(r1 + 104)\nr1 = r10\nr1 += -16\nr2 = 16\ncall bpf_probe_read_kernel\nr0 = *(u64 *)(r10 - 16)\nr0 = 0\nexit');
  p('misc/tracepoint-read', 'tracepoint', 'r0 = *(u64 *)(r1 + 8)\nr0 = *(u32 *)(r1 + 16)\nr0 = 0\nexit');
  p('misc/raw-tp-args', 'raw_tracepoint', 'r2 = *(u64 *)(r1 + 0)\nr3 = *(u64 *)(r1 + 8)\nr0 = 0\nexit');
  p('misc/perf-event-sample', 'perf_event', 'r2 = *(u64 *)(r1 + 168)\nr0 = 0\nexit');
  p('misc/sock-ops-cb-flags', 'sock_ops', 'r2 = 1\ncall bpf_sock_ops_cb_flags_set\nr0 = 1\nexit');
  p('misc/sk-msg-pull', 'sk_msg', 'r2 = 0\nr3 = 8\nr4 = 0\ncall bpf_msg_pull_data\nr0 = 1\nexit');
  p('misc/sk-msg-data', 'sk_msg', 'r2 = *(u64 *)(r1 + 0)\nr3 = *(u64 *)(r1 + 8)\nr4 = r2\nr4 += 4\nif r4 > r3 goto +1\nr0 = *(u32 *)(r2 + 0)\nr0 = 1\nexit');
  p('misc/cgroup-sysctl-get-name', 'cgroup_sysctl', 'r2 = r10\nr2 += -16\nr3 = 16\nr4 = 0\ncall bpf_sysctl_get_name\nr0 = 1\nexit');
  p('misc/sk-lookup-assign', 'sk_lookup', 'r2 = 0\nr3 = 0\ncall bpf_sk_assign\nr0 = 1\nexit', { expected_attach_type: 'sk_lookup' });
  p('misc/xdp-load-bytes', 'xdp', 'r2 = 0\nr3 = r10\nr3 += -8\nr4 = 8\ncall bpf_xdp_load_bytes\nr0 = 2\nexit');
  p('misc/xdp-get-buff-len', 'xdp', 'call bpf_xdp_get_buff_len\nr0 = 2\nexit');
  p('misc/fib-lookup', 'xdp', 'r2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_fib_lookup\nr0 = 2\nexit');
  p('misc/fib-lookup-short', 'xdp', 'r2 = r10\nr2 += -32\nr3 = 32\nr4 = 0\ncall bpf_fib_lookup\nr0 = 2\nexit');
  p('misc/skb-get-tunnel-key', 'sched_cls', 'r2 = r10\nr2 += -48\nr3 = 44\nr4 = 0\ncall bpf_skb_get_tunnel_key\nr0 = 0\nexit');
  p('misc/get-socket-cookie', 'sched_cls', 'call bpf_get_socket_cookie\nr0 = 0\nexit');
  p('misc/strtol', 'cgroup_sysctl', '*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\nr4 = r10\nr4 += -16\ncall bpf_strtol\nr0 = 1\nexit');
  p('misc/strtol-misaligned-res', 'cgroup_sysctl', '*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\nr4 = r10\nr4 += -20\ncall bpf_strtol\nr0 = 1\nexit');
  p('misc/loop-with-helper', 'xdp', 'r6 = 0\nl: call bpf_get_prandom_u32\nr6 += 1\nif r6 < 10 goto l\nr0 = 2\nexit');
  p('misc/loop-accumulate-ptr', 'xdp', LOOKUP + 'if r0 == 0 goto +6\nr6 = 0\nr1 = r0\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nr6 += 1\nif r6 < 48 goto -4\nr0 = 2\nexit', { maps: [ARRAY] });
  p('misc/loop-accumulate-ptr-oob', 'xdp', LOOKUP + 'if r0 == 0 goto +6\nr6 = 0\nr1 = r0\nr2 = *(u8 *)(r1 + 0)\nr1 += 1\nr6 += 1\nif r6 < 49 goto -4\nr0 = 2\nexit', { maps: [ARRAY] });
  p('misc/loop-pkt-walk', 'xdp', 'r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr6 = 0\nl: r4 = r2\nr4 += 1\nif r4 > r3 goto out\nr0 = *(u8 *)(r2 + 0)\nr2 += 1\nr6 += 1\nif r6 < 64 goto l\nout: r0 = 2\nexit');
  p('misc/nested-calls-loop', 'xdp', 'r6 = 0\nl: r1 = r6\ncall f\nr6 += 1\nif r6 < 8 goto l\nr0 = 2\nexit\nf: r0 = r1\nr0 &= 3\nexit');
}

/**
 * Every helper a few program types may call, with three sets of arguments
 * (all zero; the context, stack buffers and sizes; a map, stack key and
 * value): the messages show each prototype's argument types.
 */
function helperSweep(): void {
  const types: [string, Partial<SourceProgram>][] = [
    ['sched_cls', {}], ['xdp', {}], ['kprobe', {}], ['sock_ops', {}], ['sk_msg', {}],
    ['cgroup_sock_addr', { expected_attach_type: 'cgroup_inet4_connect' }], ['syscall', { prog_flags: ['sleepable'] }],
  ];
  const zeroStack = Array.from({ length: 8 }, (_, i) => `*(u64 *)(r10 - ${8 * (i + 1)}) = 0`).join('\n');
  for (const [type, extra] of types) {
    for (const id of HELPERS_BY_TYPE[type] ?? []) {
      p(`sweep/${type}/${id}/zero`, type, `r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`, extra);
      p(`sweep/${type}/${id}/ctx`, type, `r6 = r1\n${zeroStack}\nr1 = r6\nr2 = r10\nr2 += -64\nr3 = 8\nr4 = r10\nr4 += -32\nr5 = 8\ncall ${id}\nr0 = 0\nexit`, extra);
      p(`sweep/${type}/${id}/map`, type, `${zeroStack}\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -64\nr3 = r10\nr3 += -32\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`,
        { ...extra, maps: [HASH] });
    }
  }
}

/** Pointer leak checks of a loader with CAP_BPF but without CAP_PERFMON. */
function leaks(): void {
  const caps = { caps: 'bpf' as const };
  p('leak/return-fp', 'xdp', 'r0 = r10\nexit', caps);
  p('leak/return-ctx', 'socket_filter', 'r0 = r1\nexit', caps);
  p('leak/return-map-value', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nexit\nr0 = 2\nexit', { ...caps, maps: [HASH] });
  p('leak/return-scalar-ok', 'xdp', 'r0 = 2\nexit', caps);
  p('leak/into-map', 'xdp', LOOKUP + 'if r0 == 0 goto +2\n*(u64 *)(r0 + 0) = r10\nr0 = 2\nexit', { ...caps, maps: [HASH] });
  p('leak/into-map-scalar-ok', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nr1 = 7\n*(u64 *)(r0 + 0) = r1\nr0 = 2\nexit', { ...caps, maps: [HASH] });
  p('leak/into-ctx', 'sched_cls', '*(u32 *)(r1 + 48) = r1\nr0 = 0\nexit', caps);
  p('leak/into-packet', 'xdp', pkt(8) + '*(u64 *)(r2 + 0) = r1\nout: r0 = 2\nexit', caps);
  p('leak/into-helper', 'xdp', 'r1 = r10\ncall bpf_get_prandom_u32\nr0 = 2\nexit', caps);
  p('leak/into-helper-arg', 'xdp', 'r2 = r10\ncall bpf_xdp_adjust_head\nr0 = 2\nexit', caps);
  p('leak/compare-ptr-reg', 'xdp', 'r2 = r10\nr3 = r10\nif r2 > r3 goto +0\nr0 = 2\nexit', caps);
  p('leak/compare-ptr-imm', 'xdp', 'r2 = r10\nif r2 > 5 goto +0\nr0 = 2\nexit', caps);
  p('leak/compare-scalar-ptr', 'xdp', 'r2 = r10\nr3 = 4\nif r3 > r2 goto +0\nr0 = 2\nexit', caps);
  p('leak/compare-pkt-ok', 'xdp', pkt(8) + 'r0 = *(u8 *)(r2 + 0)\nout: r0 = 2\nexit', caps);
  p('leak/null-check-ok', 'xdp', LOOKUP + 'if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 = 2\nexit', { ...caps, maps: [HASH] });
  p('leak/ptr-minus-ptr', 'xdp', 'r2 = r10\nr3 = r10\nr2 -= r3\nr0 = 2\nexit', caps);
  p('leak/partial-copy', 'xdp', 'w2 = w10\nr0 = 2\nexit', caps);
  p('leak/sext-copy', 'xdp', 'r2 = (s32)r10\nr0 = 2\nexit', caps);
  p('leak/atomic-ptr', 'xdp', LOOKUP + 'if r0 == 0 goto +2\nlock *(u64 *)(r0 + 0) += r10\nr0 = 2\nexit', { ...caps, maps: [HASH] });
  p('leak/spill-ok', 'xdp', '*(u64 *)(r10 - 8) = r1\nr2 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r2 + 0)\nr0 = 2\nexit', caps);
}

/**
 * Reductions of what real projects' objects (Cilium's datapath, libbpf-bootstrap,
 * xdp-tools, bcc's libbpf-tools) showed: each differed from the kernel before
 * the fix it names (docs/verifier.md, "Real-world objects").
 */
function realWorld(): void {
  const at = (a: string): Partial<SourceProgram> => ({ expected_attach_type: a });
  const ld = (name: string, t: string, off: number, size: 4 | 8, a: string, ret = 1) =>
    p(`realworld/ctx-${name}`, t, `r0 = *(${size === 8 ? 'u64' : 'u32'} *)(r1 + ${off})\nr0 = ${ret}\nexit`, at(a));
  const st = (name: string, t: string, off: number, a: string, ret = 1) =>
    p(`realworld/ctx-${name}`, t, `r2 = 0\n*(u32 *)(r1 + ${off}) = r2\nr0 = ${ret}\nexit`, at(a));
  // Context fields by expected attach type (sock_addr_is_valid_access, __sock_filter_check_attach_type,
  // cg_sockopt_is_valid_access, xdp_is_valid_access): Cilium's cgroup/connect6, sendmsg6, post_bind4/6
  ld('post-bind4-src-ip4', 'cgroup_sock', 24, 4, 'cgroup_inet4_post_bind');
  ld('post-bind4-src-port', 'cgroup_sock', 44, 4, 'cgroup_inet4_post_bind');
  ld('post-bind6-src-ip6', 'cgroup_sock', 28, 4, 'cgroup_inet6_post_bind');
  ld('post-bind4-src-ip6', 'cgroup_sock', 28, 4, 'cgroup_inet4_post_bind');
  ld('sock-create-src-ip4', 'cgroup_sock', 24, 4, 'cgroup_inet_sock_create');
  st('post-bind4-write-mark', 'cgroup_sock', 16, 'cgroup_inet4_post_bind');
  st('sock-release-write-mark', 'cgroup_sock', 16, 'cgroup_inet_sock_release');
  ld('connect6-user-ip6', 'cgroup_sock_addr', 8, 4, 'cgroup_inet6_connect');
  ld('connect6-user-ip6-wide', 'cgroup_sock_addr', 8, 8, 'cgroup_inet6_connect');
  ld('connect6-user-ip4', 'cgroup_sock_addr', 4, 4, 'cgroup_inet6_connect');
  ld('sendmsg6-msg-src-ip6', 'cgroup_sock_addr', 44, 4, 'cgroup_udp6_sendmsg');
  ld('sendmsg4-msg-src-ip4', 'cgroup_sock_addr', 40, 4, 'cgroup_udp4_sendmsg');
  ld('connect4-msg-src-ip4', 'cgroup_sock_addr', 40, 4, 'cgroup_inet4_connect');
  st('sendmsg4-write-msg-src-ip4', 'cgroup_sock_addr', 40, 'cgroup_udp4_sendmsg');
  ld('recvmsg6-user-ip6', 'cgroup_sock_addr', 8, 4, 'cgroup_udp6_recvmsg');
  ld('getpeername6-user-ip6', 'cgroup_sock_addr', 12, 4, 'cgroup_inet6_getpeername');
  ld('unix-connect-user-ip4', 'cgroup_sock_addr', 4, 4, 'cgroup_unix_connect');
  ld('unix-connect-user-port', 'cgroup_sock_addr', 24, 4, 'cgroup_unix_connect');
  ld('xdp-devmap-egress-ifindex', 'xdp', 20, 4, 'xdp_devmap', 2);
  ld('xdp-egress-ifindex', 'xdp', 20, 4, 'xdp', 2);
  st('setsockopt-write-level', 'cgroup_sockopt', 24, 'cgroup_setsockopt');
  st('getsockopt-write-level', 'cgroup_sockopt', 24, 'cgroup_getsockopt');
  ld('setsockopt-read-retval', 'cgroup_sockopt', 36, 4, 'cgroup_setsockopt');
  // Helpers by expected attach type (sock_addr_func_proto, cgroup_common_func_proto)
  const BIND = '*(u64 *)(r10 - 16) = 0\n*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -16\nr3 = 16\ncall bpf_bind\nr0 = 1\nexit';
  p('realworld/helper-bind-connect4', 'cgroup_sock_addr', BIND, at('cgroup_inet4_connect'));
  p('realworld/helper-bind-bind4', 'cgroup_sock_addr', BIND, at('cgroup_inet4_bind'));
  p('realworld/helper-set-retval-recvmsg4', 'cgroup_sock_addr', 'r1 = 0\ncall bpf_set_retval\nr0 = 1\nexit', at('cgroup_udp4_recvmsg'));
  p('realworld/helper-set-retval-sendmsg4', 'cgroup_sock_addr', 'r1 = 0\ncall bpf_set_retval\nr0 = 1\nexit', at('cgroup_udp4_sendmsg'));
  p('realworld/helper-setsockopt-setsockopt', 'cgroup_sockopt', 'r0 = 1\nexit', at('cgroup_setsockopt'));
  // __update_reg64_bounds: a range and a tnum with one value in common make a constant (tnum_step)
  p('realworld/tnum-single-value-min', 'xdp', 'r2 = *(u32 *)(r1 + 16)\nw2 &= 512\nif w2 == 0 goto out\nr2 -= 512\nif r2 == 0 goto out\nr0 = *(u64 *)(r2 + 0)\nout:\nr0 = 2\nexit');
  p('realworld/tnum-single-value-max', 'xdp', 'r2 = *(u32 *)(r1 + 16)\nr2 &= 6\nif r2 < 5 goto out\nr2 -= 6\nif r2 == 0 goto out\nr0 = *(u64 *)(r2 + 0)\nout:\nr0 = 2\nexit');
  p('realworld/tnum-single-value-mid', 'xdp', 'r2 = *(u32 *)(r1 + 16)\nr2 &= 12\nif r2 < 5 goto out\nif r2 > 9 goto out\nr2 -= 8\nif r2 == 0 goto out\nr0 = *(u64 *)(r2 + 0)\nout:\nr0 = 2\nexit');
  p('realworld/tnum-two-values', 'xdp', 'r2 = *(u32 *)(r1 + 16)\nr2 &= 12\nif r2 < 5 goto out\nr2 -= 8\nif r2 == 0 goto out\nr0 = *(u64 *)(r2 + 0)\nout:\nr0 = 2\nexit');
  // scalar_byte_swap: a swapped or truncated value loses its link to the register it was copied from
  const swap = (name: string, op: string) => p(`realworld/${name}`, 'xdp',
    `r2 = *(u32 *)(r1 + 16)\nr2 &= 255\nr3 = r2\nr3 = ${op} r3\nif r3 > 7 goto out\nr4 = r10\nr4 += -8\nr4 += r2\nr0 = *(u8 *)(r4 + 0)\nout:\nr0 = 2\nexit`);
  swap('bswap-be16-clears-id', 'be16');
  swap('bswap-le16-clears-id', 'le16');
  swap('bswap-le32-clears-id', 'le32');
  swap('bswap-bswap64-clears-id', 'bswap64');
  swap('bswap-le64-keeps-id', 'le64');
  // maybe_fork_scalars: x in [-1, 0] with `& K` / `| K` forks; the x = 0 branch runs the instruction again
  const ARR = { maps: [m('array:4:8:1')] };
  p('realworld/fork-and', 'xdp', 'call bpf_get_prandom_u32\nw0 s>>= 31\nw0 &= -134\nr1 = r0\nr1 += 1\nr0 = 2\nexit');
  p('realworld/fork-and-bounds', 'xdp', LOOKUP + 'if r0 == 0 goto out\nr6 = r0\ncall bpf_get_prandom_u32\nr0 s>>= 63\nr0 &= 7\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nout:\nr0 = 2\nexit', ARR);
  p('realworld/fork-or-reexecutes', 'xdp', LOOKUP + 'if r0 == 0 goto out\nr6 = r0\ncall bpf_get_prandom_u32\nr0 s>>= 63\nr0 |= 8\nif r0 s< 0 goto out\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nout:\nr0 = 2\nexit', ARR);
  p('realworld/fork-or-alu32', 'xdp', LOOKUP + 'if r0 == 0 goto out\nr6 = r0\ncall bpf_get_prandom_u32\nw0 s>>= 31\nw0 |= 8\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nout:\nr0 = 2\nexit', ARR);
  // Stack liveness (kernel/bpf/liveness.c): an instruction not visited yet writes nothing, and
  // live_before is brought up to date only when a path ends
  const freq = { prog_flags: ['test_state_freq'] };
  const LIVE = 'r2 = *(u32 *)(r1 + 0)\nr6 = r2\nr6 &= 7\n*(u64 *)(r10 - 8) = r1\nif r2 == 0 goto b1\n*(u64 *)(r10 - 8) = r2\n';
  p('realworld/live-unvisited-store', 'socket_filter', LIVE + 'rd:\nr0 = *(u64 *)(r10 - 8)\np:\nif r6 > 100 goto s\nr0 = 0\nexit\ns:\n*(u64 *)(r10 - 8) = r1\ngoto rd\nb1:\ngoto p', freq);
  p('realworld/live-partial-store', 'socket_filter', LIVE + 'rd:\nr0 = *(u64 *)(r10 - 8)\np:\nif r6 > 100 goto s\nr0 = 0\nexit\ns:\n*(u32 *)(r10 - 8) = r2\ngoto rd\nb1:\ngoto p', freq);
  p('realworld/live-updated-at-path-end', 'socket_filter', LIVE + 'p:\nif r6 > 100 goto x\nr0 = 0\nexit\nx:\nr0 = *(u64 *)(r10 - 8)\ngoto p\nb1:\ngoto x', freq);
}

/**
 * The bpf_fastcall rule (src/verifier/fastcall.ts): a caller at the
 * 512-byte stack limit and a callee `f` whose spills and fills around
 * bpf_get_smp_processor_id leave its stack depth, or not: the pattern's
 * shape (the call not inlined, a jump into it, two pairs, the slots of the
 * longest of two patterns), what breaks the contract (loads, stores,
 * atomics, variable offsets, helpers reading or writing the slots and the
 * zero-sized reads that do not, a callee using the caller's slots through
 * a pointer) and the program types whose bpf_get_smp_processor_id is
 * inlined. The combined stack is 528 (or 544) bytes without the rule.
 */
function fastcall(): void {
  p('realworld/fastcall/cumulative', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/cumulative-nofill', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr0 = 0\nexit');
  p('realworld/fastcall/cumulative-prandom', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_prandom_u32\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/cumulative-cur-task', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_current_task\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/cumulative-jump-into-call', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\nif r1 == 0 goto c\n*(u64 *)(r10 - 8) = r1\nc:\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/cumulative-jump-to-fill', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\nif r1 == 0 goto c\ncall bpf_get_smp_processor_id\nc:\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/two-pairs', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\nr2 = 1\n*(u64 *)(r10 - 24) = r2\n*(u64 *)(r10 - 32) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 32)\nr2 = *(u64 *)(r10 - 24)\n*(u64 *)(r10 - 8) = r2\nr0 = 0\nexit');
  p('realworld/fastcall/jump-to-outer-stx', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr2 = 1\nif r1 == 0 goto s\ns:\n*(u64 *)(r10 - 24) = r2\n*(u64 *)(r10 - 32) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 32)\nr2 = *(u64 *)(r10 - 24)\n*(u64 *)(r10 - 8) = r2\nr0 = 0\nexit');
  p('realworld/fastcall/bad-fixed-read', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = r10\nr1 += -8\nr1 = *(u64 *)(r1 + 0)\nr0 = 0\nexit');
  p('realworld/fastcall/bad-helper-write', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel\nr0 = 0\nexit');
  p('realworld/fastcall/keep-stack', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_prandom_u32\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/jump-to-inner-stx-2', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr2 = 1\n*(u64 *)(r10 - 16) = r2\nif r1 == 0 goto s\ns:\n*(u64 *)(r10 - 24) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 24)\nr2 = *(u64 *)(r10 - 16)\nr0 = 0\nexit');
  p('realworld/fastcall/ja-to-fill', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\nif r1 == 0 goto x\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nl:\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit\nx:\ngoto l');
  p('realworld/fastcall/bad-helper-read', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/main-pattern', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\n*(u64 *)(r10 - 504) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 504)\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 16) = r1\nr0 = 0\nexit');
  p('realworld/fastcall/main-pattern-callee-writes', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\n*(u64 *)(r10 - 504) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 504)\nr1 = r10\nr1 += -504\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 16) = r1\nr2 = 0\n*(u64 *)(r1 + 0) = r2\nr0 = 0\nexit');
  p('realworld/fastcall/main-pattern-callee-reads', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\n*(u64 *)(r10 - 504) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 504)\nr1 = r10\nr1 += -504\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 16) = r1\nr2 = *(u64 *)(r1 + 0)\nr0 = 0\nexit');
  p('realworld/fastcall/main-pattern-callee-reads-own', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\n*(u64 *)(r10 - 504) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 504)\nr1 = r10\nr1 += -504\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 16) = r1\nr2 = *(u64 *)(r10 - 16)\nr0 = 0\nexit');
  p('realworld/fastcall/helper-null', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/ptr-only', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = r10\nr1 += -8\nr0 = 0\nexit');
  p('realworld/fastcall/helper-read-size0', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = r10\nr1 += -8\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/map-key-read', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nr0 = 0\nexit', { maps: [m('hash:8:8:4')] });
  p('realworld/fastcall/st-into-region', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\n*(u32 *)(r10 - 4) = 0\nr0 = 0\nexit');
  p('realworld/fastcall/narrow-read-region', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr1 = *(u32 *)(r10 - 4)\nr0 = 0\nexit');
  p('realworld/fastcall/atomic-region', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr2 = 1\nlock *(u64 *)(r10 - 8) += r2\nr0 = 0\nexit');
  p('realworld/fastcall/main-pattern-callee-helper-reads', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\n*(u64 *)(r10 - 504) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 504)\nr1 = r10\nr1 += -504\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 16) = r1\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/main-pattern-callee-reads-own-ptr', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\n*(u64 *)(r10 - 504) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 504)\nr1 = r10\nr1 += -504\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 16) = r1\nr2 = r10\nr2 += -16\nr2 = *(u64 *)(r2 + 0)\nr0 = 0\nexit');
  p('realworld/fastcall/helper-read-above-region', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr2 = 1\n*(u64 *)(r10 - 16) = r2\n*(u64 *)(r10 - 24) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 24)\nr1 = r10\nr1 += -16\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/helper-read-straddle', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr2 = 1\n*(u64 *)(r10 - 16) = r2\n*(u64 *)(r10 - 24) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 24)\nr1 = r10\nr1 += -20\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/below-region-st', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\n*(u32 *)(r10 - 16) = 0\nr0 = 0\nexit');
  p('realworld/fastcall/below-region-read-only-on-dead-path', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr2 = 0\nif r2 == 0 goto o\n*(u32 *)(r10 - 4) = 0\no:\nr0 = 0\nexit');
  p('realworld/fastcall/var-off-read', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 &= 3\nr0 -= 4\nr1 = r10\nr1 += r0\nr0 = *(u8 *)(r1 + 0)\nr0 = 0\nexit');
  p('realworld/fastcall/helper-zero-size-var', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 &= 3\nr0 -= 4\nr1 = r10\nr1 += r0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/helper-var-size', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\ncall bpf_get_prandom_u32\nr6 = r0\nr1 = 7\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr2 = r6\nr2 &= 7\nr1 = r10\nr1 += -8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/helper-var-ptr-size0', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\ncall bpf_get_prandom_u32\nr6 = r0\nr1 = 7\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = r6\nr0 &= 3\nr0 -= 8\nr1 = r10\nr1 += r0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/helper-var-ptr-size1', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\ncall bpf_get_prandom_u32\nr6 = r0\nr1 = 7\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = r6\nr0 &= 3\nr0 -= 8\nr1 = r10\nr1 += r0\nr2 = 1\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff\nr0 = 0\nexit');
  p('realworld/fastcall/store-above-one-pair', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 488) = r1\ncall f\nr0 = 2\nexit\nf:\nr5 = 35\n*(u64 *)(r10 - 32) = r5\ncall bpf_get_smp_processor_id\nr5 = *(u64 *)(r10 - 32)\n*(u64 *)(r10 - 8) = r5\nr0 = 0\nexit');
  p('realworld/fastcall/two-calls-longest-512', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 2\nexit\nf:\nr5 = 35\n*(u64 *)(r10 - 32) = r5\ncall bpf_get_smp_processor_id\nr5 = *(u64 *)(r10 - 32)\nr4 = 83\nr5 = 5\nr3 = 82\n*(u64 *)(r10 - 16) = r3\n*(u64 *)(r10 - 24) = r5\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\nr5 = *(u64 *)(r10 - 24)\nr3 = *(u64 *)(r10 - 16)\nr0 = 0\nexit');
  p('realworld/fastcall/two-calls-longest', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr5 = 35\n*(u64 *)(r10 - 32) = r5\ncall bpf_get_smp_processor_id\nr5 = *(u64 *)(r10 - 32)\nr4 = 83\nr5 = 5\nr3 = 82\n*(u64 *)(r10 - 16) = r3\n*(u64 *)(r10 - 24) = r5\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\nr5 = *(u64 *)(r10 - 24)\nr3 = *(u64 *)(r10 - 16)\nr0 = 0\nexit');
  p('realworld/fastcall/two-calls-longest-first', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr4 = 83\nr5 = 5\nr3 = 82\n*(u64 *)(r10 - 16) = r3\n*(u64 *)(r10 - 24) = r5\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\nr5 = *(u64 *)(r10 - 24)\nr3 = *(u64 *)(r10 - 16)\nr5 = 35\n*(u64 *)(r10 - 32) = r5\ncall bpf_get_smp_processor_id\nr5 = *(u64 *)(r10 - 32)\nr0 = 0\nexit');
  p('realworld/fastcall/slots-of-longest-pattern', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr4 = 1\nr5 = 2\n*(u64 *)(r10 - 24) = r5\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\nr5 = *(u64 *)(r10 - 24)\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\n*(u64 *)(r10 - 16) = r4\nr0 = 0\nexit');
  p('realworld/fastcall/store-in-longest-patterns-slot-480', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 480) = r1\ncall f\nr0 = 2\nexit\nf:\nr4 = 1\nr5 = 2\n*(u64 *)(r10 - 24) = r5\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\nr5 = *(u64 *)(r10 - 24)\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\n*(u64 *)(r10 - 24) = r4\nr0 = 0\nexit');
  p('realworld/fastcall/store-in-longest-patterns-slot', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 496) = r1\ncall f\nr0 = 2\nexit\nf:\nr4 = 1\nr5 = 2\n*(u64 *)(r10 - 24) = r5\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\nr5 = *(u64 *)(r10 - 24)\n*(u64 *)(r10 - 32) = r4\ncall bpf_get_smp_processor_id\nr4 = *(u64 *)(r10 - 32)\n*(u64 *)(r10 - 24) = r4\nr0 = 0\nexit');
  // a callee's access to its caller's frame is checked against the caller's slots only
  p('realworld/fastcall/callee-reads-caller-elsewhere', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\nr1 = r10\nr1 += -512\ncall f\nr0 = 2\nexit\nf:\nr6 = r1\nr2 = 1\nr3 = 2\n*(u64 *)(r10 - 8) = r3\n*(u64 *)(r10 - 16) = r2\ncall bpf_get_smp_processor_id\nr2 = *(u64 *)(r10 - 16)\nr3 = *(u64 *)(r10 - 8)\nr0 = *(u64 *)(r6 + 0)\nr0 = 0\nexit');
  p('realworld/fastcall/callee-writes-caller-elsewhere', 'xdp', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\nr1 = r10\nr1 += -512\ncall f\nr0 = 2\nexit\nf:\nr6 = r1\nr2 = 1\nr3 = 2\n*(u64 *)(r10 - 8) = r3\n*(u64 *)(r10 - 16) = r2\ncall bpf_get_smp_processor_id\nr2 = *(u64 *)(r10 - 16)\nr3 = *(u64 *)(r10 - 8)\n*(u64 *)(r6 + 0) = r2\nr0 = 0\nexit');
  for (const t of ['socket_filter', 'sched_cls', 'kprobe', 'tracepoint', 'perf_event', 'cgroup_skb', 'sk_skb', 'lwt_in', 'lwt_xmit', 'raw_tracepoint', 'flow_dissector', 'sk_msg']) p(`realworld/fastcall/type-${t}`, t, 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 1\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit');
  p('realworld/fastcall/type-cgroup_sock_addr', 'cgroup_sock_addr', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 1\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit', { expected_attach_type: 'cgroup_inet4_connect' });
  p('realworld/fastcall/type-syscall', 'syscall', 'r1 = 42\n*(u64 *)(r10 - 512) = r1\ncall f\nr0 = 0\nexit\nf:\n*(u64 *)(r10 - 8) = r1\ncall bpf_get_smp_processor_id\nr1 = *(u64 *)(r10 - 8)\nr0 = 0\nexit', { prog_flags: ['sleepable'] });
}

/**
 * Issue 10's soundness holes, each shaped as the attack it allowed: a
 * store that would land outside a writable map value (in the read-only
 * map beside it) or a lookup result used without a NULL check.
 */
function soundness(): void {
  // map 0 writable, map 1 read-only for programs: a store out of map 0's value could reach map 1
  const RW_RO = { maps: [m('array:4:8:1'), m('array:4:8:1:rdonly_prog')] };
  const LOOK0 = LOOKUP + 'if r0 == 0 goto out\nr6 = r0\n';
  // 1. scalar_byte_swap resets the id: a bound on the swapped copy does not bound the original
  for (const op of ['be16', 'be32', 'le16', 'le32', 'bswap16', 'bswap32', 'bswap64']) {
    p(`soundness/bswap-${op}-unlinks-store`, 'xdp', LOOK0
      + `call bpf_get_prandom_u32\nr0 &= 0xffff\nr1 = r0\nr1 = ${op} r1\nif r1 > 7 goto out\nr6 += r0\nr1 = 1\n*(u8 *)(r6 + 0) = r1\nout:\nr0 = 2\nexit`, RW_RO);
  }
  p('soundness/le64-keeps-link-store', 'xdp', LOOK0
    + 'call bpf_get_prandom_u32\nr0 &= 0xffff\nr1 = r0\nr1 = le64 r1\nif r1 > 7 goto out\nr6 += r0\nr1 = 1\n*(u8 *)(r6 + 0) = r1\nout:\nr0 = 2\nexit', RW_RO);
  // 2. maybe_fork_scalars: the x = 0 path runs `x |= K` again, so it holds K, not 0
  p('soundness/fork-or-store', 'xdp', LOOK0
    + 'call bpf_get_prandom_u32\nr0 s>>= 63\nr0 |= 16\nif r0 s< 0 goto out\nr6 += r0\nr1 = 1\n*(u8 *)(r6 + 0) = r1\nout:\nr0 = 2\nexit', RW_RO);
  p('soundness/fork-or-store-alu32', 'xdp', LOOK0
    + 'call bpf_get_prandom_u32\nw0 s>>= 31\nw0 |= 16\nr6 += r0\nr1 = 1\n*(u8 *)(r6 + 0) = r1\nout:\nr0 = 2\nexit', RW_RO);
  p('soundness/fork-and-store', 'xdp', LOOK0
    + 'call bpf_get_prandom_u32\nr0 s>>= 63\nr0 &= 7\nr6 += r0\nr1 = 1\n*(u8 *)(r6 + 0) = r1\nout:\nr0 = 2\nexit', RW_RO);
  // 3. a constant-key lookup in an inner array stays maybe-NULL when the template has BPF_F_INNER_MAP
  const INNER = (flags: string) => ({ maps: [m(`array:4:8:4${flags}`), { ...m('array_of_maps:4:4:1'), inner_map: 0 }] });
  const OUTER_LOOKUP = '*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, 1\ncall bpf_map_lookup_elem\nif r0 == 0 goto out\n'
    + 'r1 = r0\n*(u32 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\n';
  p('soundness/inner-map-flag-keeps-null', 'xdp', OUTER_LOOKUP + 'r1 = 1\n*(u64 *)(r0 + 0) = r1\nout:\nr0 = 2\nexit', INNER(':inner_map'));
  p('soundness/inner-map-no-flag-elides-null', 'xdp', OUTER_LOOKUP + 'r1 = 1\n*(u64 *)(r0 + 0) = r1\nout:\nr0 = 2\nexit', INNER(''));
  p('soundness/inner-map-flag-null-checked', 'xdp', OUTER_LOOKUP + 'if r0 == 0 goto out\nr1 = 1\n*(u64 *)(r0 + 0) = r1\nout:\nr0 = 2\nexit', INNER(':inner_map'));
  p('soundness/array-inner-map-flag-keeps-null', 'xdp', LOOKUP + 'r1 = 1\n*(u64 *)(r0 + 0) = r1\nr0 = 2\nexit', { maps: [m('array:4:8:4:inner_map')] });
  // 4. sleepable programs: array, hash, ringbuf, local storage, queue/stack maps only (also as inner maps)
  const sleepable = { prog_flags: ['sleepable'] };
  const USE = 'ld_pseudo r1, 1, 0\nr0 = 0\nexit';
  for (const t of ['prog_array:4:4:4', 'perf_event_array:4:4:4', 'lpm_trie:8:8:4:no_prealloc', 'devmap:4:4:4', 'bloom_filter:0:8:4', 'stack_trace:4:8:4']) {
    p(`soundness/sleepable-${t.split(':')[0]}`, 'syscall', USE, { ...sleepable, maps: [m(t)] });
  }
  for (const t of ['hash:4:8:4', 'lru_percpu_hash:4:8:4', 'percpu_array:4:8:4', 'queue:0:8:4', 'ringbuf:0:0:4096', 'user_ringbuf:0:0:4096']) {
    p(`soundness/sleepable-ok-${t.split(':')[0]}`, 'syscall', USE, { ...sleepable, maps: [m(t)] });
  }
  const OF = 'ld_pseudo r1, 1, 1\nr0 = 0\nexit';
  p('soundness/sleepable-array-of-lpm', 'syscall', OF, { ...sleepable, maps: [m('lpm_trie:8:8:4:no_prealloc'), { ...m('array_of_maps:4:4:1'), inner_map: 0 }] });
  p('soundness/sleepable-hash-of-array', 'syscall', OF, { ...sleepable, maps: [m('array:4:8:4'), { ...m('hash_of_maps:4:4:1'), inner_map: 0 }] });
  p('soundness/not-sleepable-prog-array', 'kprobe', USE, { maps: [m('prog_array:4:4:4')] });
  // Socket pointers: only the fields bpf_sock*_is_valid_access allows, at their sizes (the fuzzer found
  // tsbpf accepting any aligned offset below the struct's end)
  const SK = 'r6 = *(u64 *)(r1 + 168)\nif r6 == 0 goto out\n';
  const FULL = 'r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto out\ncall bpf_sk_fullsock\nr6 = r0\nif r6 == 0 goto out\n';
  const TCP = 'r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto out\ncall bpf_tcp_sock\nr6 = r0\nif r6 == 0 goto out\n';
  const rd = (name: string, setup: string, w: string, off: number) =>
    p(`soundness/sock-${name}`, 'sched_cls', `${setup}r2 = *(${w} *)(r6 + ${off})\nout:\nr0 = 0\nexit`);
  rd('common-family-u32', SK, 'u32', 0);
  rd('common-family-u8', SK, 'u8', 0);
  rd('common-u64', SK, 'u64', 0);
  rd('common-type-u32', SK, 'u32', 8);
  rd('common-src-ip4-u8', SK, 'u8', 24);
  rd('common-dst-port-u16', SK, 'u16', 40);
  rd('common-dst-port-u16-hi', SK, 'u16', 42);
  rd('common-past-end', SK, 'u32', 80);
  rd('full-mark-u32', FULL, 'u32', 16);
  rd('full-mark-u8', FULL, 'u8', 16);
  rd('full-protocol-u16', FULL, 'u16', 12);
  rd('full-state-u8', FULL, 'u8', 49);
  rd('tcp-snd-cwnd-u32', TCP, 'u32', 4);
  rd('tcp-bytes-received-u64', TCP, 'u64', 80);
  rd('tcp-bytes-received-u32', TCP, 'u32', 84);
  rd('tcp-past-end', TCP, 'u32', 112);
}

/** Byte offset of `path` in struct `name` of the machine's kernel BTF (the corpus is recorded on that kernel). */
function kOff(name: string, ...path: string[]): number {
  const btf = localVmlinux();
  if (!btf) throw new Error('the kernel BTF corpus programs need /sys/kernel/btf/vmlinux');
  const id = btf.idsByName(name).find((i) => btf.typeById(i).kind === 'STRUCT');
  if (id === undefined) throw new Error(`struct ${name} is not in the kernel BTF`);
  return btf.fieldOffset(id, path).bitOffset / 8;
}

/**
 * Programs typed by the kernel's BTF: tp_btf and iterator programs (their
 * attach points, arguments and helpers), loads through kernel object
 * pointers and their trust, helpers with BTF-typed arguments.
 * fentry/fexit/fmod_ret and LSM programs cannot be loaded on the machine the
 * corpus is recorded on (the kernel refuses them with EPERM before
 * verifying), so they have no recorded verdicts.
 */
function kernelBtf(): void {
  if (!localVmlinux()) return;
  const WAKEUP = { attach_btf: 'btf_trace_sched_wakeup', expected_attach_type: 'trace_raw_tp' };
  const SWITCH = { attach_btf: 'btf_trace_sched_switch', expected_attach_type: 'trace_raw_tp' };
  const TCP_PROBE = { attach_btf: 'btf_trace_tcp_probe', expected_attach_type: 'trace_raw_tp' };
  const KFREE_SKB = { attach_btf: 'btf_trace_kfree_skb', expected_attach_type: 'trace_raw_tp' };
  const ITER_TASK = { attach_btf: 'bpf_iter_task', expected_attach_type: 'trace_iter' };
  const tp = (name: string, asm: string, extra: Partial<SourceProgram> = WAKEUP) => p(`btf/${name}`, 'tracing', asm, extra);
  const PID = kOff('task_struct', 'pid');
  const MM = kOff('task_struct', 'mm');
  const PARENT = kOff('task_struct', 'real_parent');
  const COMM = kOff('task_struct', 'comm');
  const SK = kOff('sk_buff', 'sk');
  const LEN = kOff('sk_buff', 'len');
  const FAMILY = kOff('sock', '__sk_common', 'skc_family');
  const SRTT = kOff('tcp_sock', 'srtt_us');
  const MM_USERS = kOff('mm_struct', 'mm_users');
  const ret0 = 'r0 = 0\nexit';
  // context arguments (btf_ctx_access)
  tp('tp/arg0-task-pid', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`);
  tp('tp/arg0-task-comm-u8', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u8 *)(r1 + ${COMM + 3})\n${ret0}`);
  tp('tp/arg0-ldsx-pid', `r1 = *(u64 *)(r1 + 0)\nr0 = *(s16 *)(r1 + ${PID})\nif r0 s> 32767 goto l\nr0 = 0\nexit\nl:\nr0 = *(u64 *)(r0 + 0)\nexit`);
  tp('tp/arg1-missing', `r1 = *(u64 *)(r1 + 8)\n${ret0}`);
  tp('tp/arg-u32-of-pointer', `r1 = *(u32 *)(r1 + 0)\n${ret0}`);
  tp('tp/arg-offset-4', `r1 = *(u32 *)(r1 + 4)\n${ret0}`);
  tp('tp/arg-offset-2', `r1 = *(u32 *)(r1 + 2)\n${ret0}`);
  tp('tp/ctx-write', `r2 = 0\n*(u64 *)(r1 + 0) = r2\n${ret0}`);
  tp('tp/ctx-beyond', `r1 = *(u64 *)(r1 + 96)\n${ret0}`);
  tp('tp/ctx-negative', `r1 = *(u64 *)(r1 - 8)\n${ret0}`);
  tp('tp/ctx-modified', `r1 += 8\nr1 = *(u64 *)(r1 + 0)\n${ret0}`);
  tp('tp/switch-scalar-arg', `r2 = *(u64 *)(r1 + 0)\nr3 = *(u8 *)(r1 + 24)\nr4 = *(u32 *)(r1 + 24)\nr0 = r4\nr0 &= 0\nexit`, SWITCH);
  tp('tp/switch-next-pid', `r1 = *(u64 *)(r1 + 16)\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`, SWITCH);
  tp('tp/switch-arg4-missing', `r1 = *(u64 *)(r1 + 32)\n${ret0}`, SWITCH);
  tp('tp/trusted-not-null', `r1 = *(u64 *)(r1 + 0)\nif r1 == 0 goto l\nr0 = *(u32 *)(r1 + ${PID})\nl:\n${ret0}`);
  // loads through kernel object pointers (btf_struct_access)
  tp('tp/beyond-struct', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r1 + 20000)\n${ret0}`);
  tp('tp/member-end', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u64 *)(r1 + ${PID + 2})\n${ret0}`);
  tp('tp/ptr-member-partial', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r1 + ${MM})\n${ret0}`);
  tp('tp/write-through', `r1 = *(u64 *)(r1 + 0)\nr2 = 0\n*(u32 *)(r1 + ${PID}) = r2\n${ret0}`);
  tp('tp/st-through', `r1 = *(u64 *)(r1 + 0)\n*(u32 *)(r1 + ${PID}) = 0\n${ret0}`);
  tp('tp/atomic-through', `r1 = *(u64 *)(r1 + 0)\nr2 = 1\nlock *(u32 *)(r1 + ${PID}) += w2\n${ret0}`);
  tp('tp/negative-off', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r1 - 8)\n${ret0}`);
  tp('tp/fixed-off', `r1 = *(u64 *)(r1 + 0)\nr1 += ${PID}\nr0 = *(u32 *)(r1 + 0)\n${ret0}`);
  tp('tp/var-off', `r1 = *(u64 *)(r1 + 0)\nr2 = *(u32 *)(r1 + ${PID})\nr2 &= 0xff\nr1 += r2\nr0 = *(u8 *)(r1 + 0)\n${ret0}`);
  tp('tp/mm-plain', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${MM})\nr0 = *(u32 *)(r1 + ${MM_USERS})\n${ret0}`);
  tp('tp/mm-plain-null-check', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${MM})\nif r1 == 0 goto l\nr0 = *(u32 *)(r1 + ${MM_USERS})\nl:\n${ret0}`);
  tp('tp/real-parent-rcu', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${PARENT})\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`);
  tp('tp/real-parent-parent', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${PARENT})\nr1 = *(u64 *)(r1 + ${PARENT})\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`);
  tp('tp/pointer-arith-mul', `r1 = *(u64 *)(r1 + 0)\nr1 *= 2\n${ret0}`);
  tp('tp/pointer-return', `r0 = *(u64 *)(r1 + 0)\nexit`);
  tp('tp/pointer-stack-spill', `r1 = *(u64 *)(r1 + 0)\n*(u64 *)(r10 - 8) = r1\nr1 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`);
  tp('tp/pointer-partial-spill', `r1 = *(u64 *)(r1 + 0)\n*(u32 *)(r10 - 8) = r1\n${ret0}`);
  tp('tp/skb-sk', `r1 = *(u64 *)(r1 + 8)\nr1 = *(u64 *)(r1 + ${SK})\nr0 = *(u16 *)(r1 + ${FAMILY})\n${ret0}`, TCP_PROBE);
  tp('tp/skb-sk-checked', `r1 = *(u64 *)(r1 + 8)\nr1 = *(u64 *)(r1 + ${SK})\nif r1 == 0 goto l\nr0 = *(u16 *)(r1 + ${FAMILY})\nl:\n${ret0}`, TCP_PROBE);
  tp('tp/skb-len', `r1 = *(u64 *)(r1 + 8)\nr0 = *(u32 *)(r1 + ${LEN})\n${ret0}`, TCP_PROBE);
  tp('tp/kfree-skb-rx-sk-nullable', `r1 = *(u64 *)(r1 + 24)\nr0 = *(u16 *)(r1 + ${FAMILY})\n${ret0}`, KFREE_SKB);
  tp('tp/kfree-skb-rx-sk-checked', `r1 = *(u64 *)(r1 + 24)\nif r1 == 0 goto l\nr0 = *(u16 *)(r1 + ${FAMILY})\nl:\n${ret0}`, KFREE_SKB);
  tp('tp/non-gpl', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`, { ...WAKEUP, license: 'Proprietary' });
  // trust of walked pointers: allow lists (__safe_rcu, __safe_trusted, ...), else untrusted
  const FILES = kOff('task_struct', 'files');
  const LEADER = kOff('task_struct', 'group_leader');
  const CGROUPS = kOff('task_struct', 'cgroups');
  const OWNER = kOff('mm_struct', 'owner');
  const SK_SOCKET = kOff('sock', 'sk_socket');
  const SOCKET_SK = kOff('socket', 'sk');
  const DEV = kOff('sk_buff', 'dev');
  const F_INODE = kOff('file', 'f_inode');
  tp('walk/task-files', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${FILES})\nr0 = *(u32 *)(r1 + 0)\n${ret0}`);
  tp('walk/task-group-leader', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${LEADER})\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`);
  tp('walk/task-cgroups', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${CGROUPS})\nr0 = *(u64 *)(r1 + 0)\n${ret0}`);
  tp('walk/rcu-parent-mm', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${PARENT})\nr1 = *(u64 *)(r1 + ${MM})\nr0 = *(u32 *)(r1 + ${MM_USERS})\n${ret0}`);
  tp('walk/untrusted-mm-owner', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${MM})\nr1 = *(u64 *)(r1 + ${OWNER})\nr0 = *(u32 *)(r1 + ${PID})\n${ret0}`);
  tp('walk/sock-socket-sock', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${SK_SOCKET})\nr1 = *(u64 *)(r1 + ${SOCKET_SK})\nr0 = *(u16 *)(r1 + ${FAMILY})\n${ret0}`, TCP_PROBE);
  tp('walk/skb-dev-union', `r1 = *(u64 *)(r1 + 8)\nr1 = *(u64 *)(r1 + ${DEV})\nr0 = *(u32 *)(r1 + 0)\n${ret0}`, TCP_PROBE);
  tp('walk/untrusted-to-helper', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${SK_SOCKET})\nr1 = *(u64 *)(r1 + ${SOCKET_SK})\ncall bpf_get_socket_cookie\n${ret0}`, TCP_PROBE);
  tp('walk/rcu-to-helper', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${PARENT})\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_get_task_stack\n${ret0}`);
  tp('walk/rcu-or-null-to-helper', `r1 = *(u64 *)(r1 + 8)\nr1 = *(u64 *)(r1 + ${SK})\ncall bpf_get_socket_cookie\n${ret0}`, TCP_PROBE);
  tp('walk/iter-file-inode', `r1 = *(u64 *)(r1 + 24)\nif r1 == 0 goto l\nr1 = *(u64 *)(r1 + ${F_INODE})\nr0 = *(u64 *)(r1 + 0)\nl:\n${ret0}`, { attach_btf: 'bpf_iter_task_file', expected_attach_type: 'trace_iter' });
  tp('walk/iter-sleepable-parent', `r1 = *(u64 *)(r1 + 8)\nif r1 == 0 goto l\nr1 = *(u64 *)(r1 + ${PARENT})\nr0 = *(u32 *)(r1 + ${PID})\nl:\n${ret0}`, { ...ITER_TASK, prog_flags: ['sleepable'] });
  tp('walk/iter-sleepable-parent-helper', `r1 = *(u64 *)(r1 + 8)\nif r1 == 0 goto l\nr1 = *(u64 *)(r1 + ${PARENT})\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_get_task_stack\nl:\n${ret0}`, { ...ITER_TASK, prog_flags: ['sleepable'] });
  tp('walk/iter-cgroup', `r1 = *(u64 *)(r1 + 8)\nif r1 == 0 goto l\nr0 = *(u64 *)(r1 + 0)\nl:\n${ret0}`, { attach_btf: 'bpf_iter_cgroup', expected_attach_type: 'trace_iter' });
  tp('walk/iter-ksym', `r1 = *(u64 *)(r1 + 8)\nr0 = *(u64 *)(r1 + 0)\n${ret0}`, { attach_btf: 'bpf_iter_ksym', expected_attach_type: 'trace_iter' });
  tp('walk/state-pruning', `r6 = *(u64 *)(r1 + 0)\ncall bpf_get_prandom_u32\nif r0 > 5 goto a\nr7 = *(u64 *)(r6 + ${MM})\ngoto b\na:\nr7 = *(u64 *)(r6 + ${PARENT})\nb:\nr0 = *(u32 *)(r7 + 0)\n${ret0}`);
  // helpers of tracing programs and their BTF-typed arguments
  tp('tp/get-socket-cookie', `r1 = *(u64 *)(r1 + 0)\ncall bpf_get_socket_cookie\n${ret0}`, TCP_PROBE);
  tp('tp/get-socket-cookie-null', `r1 = 0\ncall bpf_get_socket_cookie\n${ret0}`, TCP_PROBE);
  tp('tp/get-socket-cookie-task', `r1 = *(u64 *)(r1 + 0)\ncall bpf_get_socket_cookie\n${ret0}`);
  tp('tp/get-socket-cookie-scalar', `r1 = 1\ncall bpf_get_socket_cookie\n${ret0}`, TCP_PROBE);
  tp('tp/skc-to-tcp-sock', `r1 = *(u64 *)(r1 + 0)\ncall bpf_skc_to_tcp_sock\nif r0 == 0 goto l\nr0 = *(u32 *)(r0 + ${SRTT})\nl:\n${ret0}`, TCP_PROBE);
  tp('tp/skc-to-tcp-sock-unchecked', `r1 = *(u64 *)(r1 + 0)\ncall bpf_skc_to_tcp_sock\nr0 = *(u32 *)(r0 + ${SRTT})\n${ret0}`, TCP_PROBE);
  tp('tp/skc-to-tcp-sock-skb', `r1 = *(u64 *)(r1 + 8)\ncall bpf_skc_to_tcp_sock\n${ret0}`, TCP_PROBE);
  tp('tp/get-task-stack', `r1 = *(u64 *)(r1 + 0)\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_get_task_stack\n${ret0}`);
  tp('tp/get-task-stack-mm', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${MM})\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_get_task_stack\n${ret0}`);
  tp('tp/get-task-stack-fixed-off', `r1 = *(u64 *)(r1 + 0)\nr1 += 8\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_get_task_stack\n${ret0}`);
  tp('tp/task-pt-regs', `r1 = *(u64 *)(r1 + 0)\ncall bpf_task_pt_regs\nr0 = *(u64 *)(r0 + 0)\n${ret0}`);
  tp('tp/current-task-btf', `call bpf_get_current_task_btf\nr0 = *(u32 *)(r0 + ${PID})\n${ret0}`);
  tp('tp/current-task-btf-parent', `call bpf_get_current_task_btf\nr0 = *(u64 *)(r0 + ${PARENT})\nr0 = *(u32 *)(r0 + ${PID})\n${ret0}`);
  tp('tp/map-key-from-task', `r2 = *(u64 *)(r1 + 0)\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\n${ret0}`, { ...WAKEUP, maps: [m('hash:8:8:4')] });
  tp('tp/mem-ro-from-task', `r1 = *(u64 *)(r1 + 0)\nr1 += ${COMM}\nr2 = 16\ncall bpf_trace_printk\n${ret0}`);
  tp('tp/mem-ro-from-task-beyond', `r1 = *(u64 *)(r1 + 0)\nr1 += ${COMM}\nr2 = 32\ncall bpf_trace_printk\n${ret0}`);
  tp('tp/d-path', `r1 = *(u64 *)(r1 + 0)\nr2 = r10\nr2 += -64\nr3 = 64\ncall bpf_d_path\n${ret0}`);
  tp('tp/get-func-ip', `call bpf_get_func_ip\n${ret0}`);
  tp('tp/get-func-arg', `r2 = 0\nr3 = r10\nr3 += -8\ncall bpf_get_func_arg\n${ret0}`);
  tp('tp/attach-cookie', `call bpf_get_attach_cookie\n${ret0}`);
  tp('tp/seq-write', `r1 = 0\nr2 = r10\nr2 += -8\nr3 = 8\ncall bpf_seq_write\n${ret0}`);
  tp('tp/skb-output', `r1 = *(u64 *)(r1 + 8)\nld_pseudo r2, 1, 0\nr3 = 0\nr4 = r10\nr4 += -8\n*(u64 *)(r10 - 8) = 0\nr5 = 8\ncall bpf_skb_output\n${ret0}`, { ...TCP_PROBE, maps: [m('perf_event_array:4:4:2')] });
  tp('tp/perf-event-output-ctx', `ld_pseudo r2, 1, 0\nr3 = 0\nr4 = r10\nr4 += -8\n*(u64 *)(r10 - 8) = 0\nr5 = 8\ncall bpf_perf_event_output\n${ret0}`, { ...TCP_PROBE, maps: [m('perf_event_array:4:4:2')] });
  // return values
  tp('tp/ret-any', 'r0 = 7\nexit');
  // attach points (bpf_check_attach_target)
  tp('attach/raw-tp-func', ret0, { attach_btf: 'tcp_v4_connect', expected_attach_type: 'trace_raw_tp' });
  tp('attach/iter-typedef', ret0, { attach_btf: 'btf_trace_sched_wakeup', expected_attach_type: 'trace_iter' });
  // iterators
  tp('iter/task-unchecked', `r2 = *(u64 *)(r1 + 8)\nr0 = *(u32 *)(r2 + ${PID})\n${ret0}`, ITER_TASK);
  tp('iter/task-checked', `r2 = *(u64 *)(r1 + 8)\nif r2 == 0 goto l\nr0 = *(u32 *)(r2 + ${PID})\nl:\n${ret0}`, ITER_TASK);
  tp('iter/meta-seq', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + 0)\nr2 = r10\nr2 += -8\n*(u64 *)(r10 - 8) = 0\nr3 = 8\ncall bpf_seq_write\n${ret0}`, ITER_TASK);
  tp('iter/ret-2', 'r0 = 2\nexit', ITER_TASK);
  tp('iter/ret-1', 'r0 = 1\nexit', ITER_TASK);
  tp('iter/ctx-beyond', `r2 = *(u64 *)(r1 + 16)\n${ret0}`, ITER_TASK);
  tp('iter/d-path-scalar', `r1 = 0\nr2 = r10\nr2 += -64\nr3 = 64\ncall bpf_d_path\n${ret0}`, ITER_TASK);
  tp('iter/attach-cookie', `call bpf_get_attach_cookie\n${ret0}`, ITER_TASK);
  tp('iter/task-file', `r2 = *(u64 *)(r1 + 24)\nif r2 == 0 goto l\nr0 = *(u64 *)(r2 + 0)\nl:\n${ret0}`, { attach_btf: 'bpf_iter_task_file', expected_attach_type: 'trace_iter' });
  tp('iter/task-file-fd', `r2 = *(u32 *)(r1 + 16)\n${ret0}`, { attach_btf: 'bpf_iter_task_file', expected_attach_type: 'trace_iter' });
  tp('iter/tcp-setsockopt', `r1 = *(u64 *)(r1 + 8)\nif r1 == 0 goto l\nr2 = 6\nr3 = 1\nr4 = r10\nr4 += -8\n*(u64 *)(r10 - 8) = 0\nr5 = 4\ncall bpf_setsockopt\nl:\n${ret0}`, { attach_btf: 'bpf_iter_tcp', expected_attach_type: 'trace_iter' });
  // every helper of tp_btf and iterator programs with four argument sets (pins the tracing prototypes)
  const zeroStack = Array.from({ length: 8 }, (_, i) => `*(u64 *)(r10 - ${8 * (i + 1)}) = 0`).join('\n');
  const sweeps: [string, string, Partial<SourceProgram>, string][] = [
    // tcp_probe(struct sock *sk, struct sk_buff *skb): trusted kernel objects in r1 and r2
    ['tp', 'tracing', TCP_PROBE, `r6 = *(u64 *)(r1 + 0)\nr7 = *(u64 *)(r1 + 8)\n${zeroStack}\nr1 = r6\nr2 = r7\nr3 = r10\nr3 += -64\nr4 = 8\nr5 = 0`],
    // the task iterator: meta->seq (a trusted seq_file) in r1
    ['iter', 'trace_iter', ITER_TASK, `r6 = *(u64 *)(r1 + 0)\nr6 = *(u64 *)(r6 + 0)\n${zeroStack}\nr1 = r6\nr2 = r10\nr2 += -64\nr3 = 8\nr4 = r10\nr4 += -32\nr5 = 8`],
  ];
  for (const [kind, key, extra, btfArgs] of sweeps) {
    const helpers = HELPERS_BY_TYPE[kind === 'tp' ? 'tracing' : 'tracing/trace_iter'] ?? [];
    void key;
    for (const id of helpers) {
      p(`btf/sweep/${kind}/${id}/zero`, 'tracing', `r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`, extra);
      p(`btf/sweep/${kind}/${id}/ctx`, 'tracing', `r6 = r1\n${zeroStack}\nr1 = r6\nr2 = r10\nr2 += -64\nr3 = 8\nr4 = r10\nr4 += -32\nr5 = 8\ncall ${id}\nr0 = 0\nexit`, extra);
      p(`btf/sweep/${kind}/${id}/map`, 'tracing', `${zeroStack}\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -64\nr3 = r10\nr3 += -32\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`,
        { ...extra, maps: [HASH] });
      p(`btf/sweep/${kind}/${id}/btf`, 'tracing', `${btfArgs}\ncall ${id}\nr0 = 0\nexit`, extra);
    }
  }
  // kfuncs (kernel functions called with `call kfunc(NAME)`, the name's id in the kernel BTF)
  const KF = { kernel_btf: true };
  const X = (name: string, asm: string, extra: Partial<SourceProgram> = {}) => p(`btf/kfunc/${name}`, 'xdp', asm, { ...KF, ...extra });
  const XDP_DATA = kOff('xdp_buff', 'data');
  const RXQ = kOff('xdp_buff', 'rxq');
  const SET_CHILD = kOff('task_struct', 'set_child_tid');
  tp('kfunc/rcu-lock-unlock', `call kfunc(bpf_rcu_read_lock)\ncall kfunc(bpf_rcu_read_unlock)\n${ret0}`);
  tp('kfunc/rcu-nested', `call kfunc(bpf_rcu_read_lock)\ncall kfunc(bpf_rcu_read_lock)\ncall kfunc(bpf_rcu_read_unlock)\ncall kfunc(bpf_rcu_read_unlock)\n${ret0}`);
  tp('kfunc/rcu-unmatched', `call kfunc(bpf_rcu_read_unlock)\n${ret0}`);
  tp('kfunc/rcu-exit-locked', `call kfunc(bpf_rcu_read_lock)\n${ret0}`);
  tp('kfunc/rcu-parent-after-unlock', `r6 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_rcu_read_lock)\nr6 = *(u64 *)(r6 + ${PARENT})\ncall kfunc(bpf_rcu_read_unlock)\nr0 = *(u32 *)(r6 + 0)\n${ret0}`);
  tp('kfunc/rcu-parent-to-helper-after-unlock', `r6 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_rcu_read_lock)\nr6 = *(u64 *)(r6 + ${PARENT})\ncall kfunc(bpf_rcu_read_unlock)\nr1 = r6\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall bpf_get_task_stack\n${ret0}`);
  tp('kfunc/rcu-subprog', `call kfunc(bpf_rcu_read_lock)\ncall f\ncall kfunc(bpf_rcu_read_unlock)\n${ret0}\nf:\n${ret0}`);
  tp('kfunc/rcu-sleepable-iter-walk', `r6 = *(u64 *)(r1 + 8)\nif r6 == 0 goto l\ncall kfunc(bpf_rcu_read_lock)\nr6 = *(u64 *)(r6 + ${PARENT})\nr0 = *(u32 *)(r6 + ${PID})\ncall kfunc(bpf_rcu_read_unlock)\nl:\n${ret0}`, { ...ITER_TASK, prog_flags: ['sleepable'] });
  p('btf/kfunc/rcu-sleepable-helper', 'syscall', `call kfunc(bpf_rcu_read_lock)\nr1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_copy_from_user\ncall kfunc(bpf_rcu_read_unlock)\n${ret0}`, { ...KF, prog_flags: ['sleepable'] });
  X('rcu-tail-call', `r6 = r1\ncall kfunc(bpf_rcu_read_lock)\nr1 = r6\nld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_tail_call\ncall kfunc(bpf_rcu_read_unlock)\nr0 = 2\nexit`, { maps: [m('prog_array:4:4:4')] });
  X('rcu-xdp', 'call kfunc(bpf_rcu_read_lock)\ncall kfunc(bpf_rcu_read_unlock)\nr0 = 2\nexit');
  X('kern-ctx', `call kfunc(bpf_cast_to_kern_ctx)\nr1 = *(u64 *)(r0 + ${RXQ})\nr0 = 2\nexit`);
  X('kern-ctx-not-ctx', 'r1 = r10\nr1 += -8\ncall kfunc(bpf_cast_to_kern_ctx)\nr0 = 2\nexit');
  X('kern-ctx-off', 'r1 += 8\ncall kfunc(bpf_cast_to_kern_ctx)\nr0 = 2\nexit');
  X('kern-ctx-write', `call kfunc(bpf_cast_to_kern_ctx)\nr1 = 0\n*(u64 *)(r0 + ${XDP_DATA}) = r1\nr0 = 2\nexit`);
  p('btf/kfunc/kern-ctx-tc', 'sched_cls', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u32 *)(r0 + ${LEN})\nr0 = 0\nexit`, KF);
  p('btf/kfunc/kern-ctx-tc-union', 'sched_cls', 'call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u32 *)(r0 + 0)\nr0 = 0\nexit', KF);
  p('btf/kfunc/kern-ctx-kprobe', 'kprobe', 'call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + 0)\nr0 = 0\nexit', KF);
  // untrusted read-only memory: pointer members to what is not a struct (6.18)
  X('mem-deref', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nr0 = *(u8 *)(r0 + 0)\nr0 = 2\nexit`);
  X('mem-deref-far', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nr0 = *(u64 *)(r0 - 1000)\nr0 = 2\nexit`);
  X('mem-write', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nr1 = 0\n*(u64 *)(r0 + 0) = r1\nr0 = 2\nexit`);
  X('mem-var-add', `call kfunc(bpf_cast_to_kern_ctx)\nr6 = *(u64 *)(r0 + ${XDP_DATA})\ncall bpf_get_prandom_u32\nr6 += r0\nr0 = *(u8 *)(r6 + 0)\nr0 = 2\nexit`);
  X('mem-mul', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nr0 *= 2\nr0 = *(u8 *)(r0 + 0)\nr0 = 2\nexit`);
  X('mem-alu32', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nw0 += 1\nr0 = 2\nexit`);
  X('mem-sub-ptr', `call kfunc(bpf_cast_to_kern_ctx)\nr1 = *(u64 *)(r0 + ${XDP_DATA})\nr2 = *(u64 *)(r0 + ${XDP_DATA + 8})\nr1 -= r2\nr0 = 2\nexit`);
  X('mem-to-helper', `call kfunc(bpf_cast_to_kern_ctx)\nr1 = *(u64 *)(r0 + ${XDP_DATA})\nr2 = 8\ncall bpf_trace_printk\nr0 = 2\nexit`);
  X('mem-null-cmp', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nif r0 == 0 goto l\nr0 = *(u8 *)(r0 + 0)\nl:\nr0 = 2\nexit`);
  X('mem-spill', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\n*(u64 *)(r10 - 8) = r0\nr1 = *(u64 *)(r10 - 8)\nr0 = *(u8 *)(r1 + 3)\nr0 = 2\nexit`);
  X('mem-ret', `call kfunc(bpf_cast_to_kern_ctx)\nr0 = *(u64 *)(r0 + ${XDP_DATA})\nexit`);
  tp('tp/int-ptr-member', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${SET_CHILD})\nr0 = *(u32 *)(r1 + 0)\n${ret0}`);
  tp('tp/int-ptr-member-ret', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u64 *)(r1 + ${SET_CHILD})\nexit`);
  X('rdonly-cast', `r1 = 0\nr2 = ${localVmlinux()!.idsByName('task_struct').find((i) => localVmlinux()!.typeById(i).kind === 'STRUCT')}\ncall kfunc(bpf_rdonly_cast)\nr0 = *(u32 *)(r0 + ${PID})\nr0 = 2\nexit`);
  X('rdonly-cast-void', 'r1 = 0\nr2 = 0\ncall kfunc(bpf_rdonly_cast)\nr0 = *(u64 *)(r0 + 8)\nr0 = 2\nexit');
  X('rdonly-cast-int', `r1 = 0\nr2 = ${localVmlinux()!.idsByName('int')[0]}\ncall kfunc(bpf_rdonly_cast)\nr0 = 2\nexit`);
  X('rdonly-cast-bad-id', 'r1 = 0\nr2 = 99999999\ncall kfunc(bpf_rdonly_cast)\nr0 = 2\nexit');
  X('rdonly-cast-var', 'call bpf_get_prandom_u32\nr2 = r0\nr1 = 0\ncall kfunc(bpf_rdonly_cast)\nr0 = 2\nexit');
  // check_kfunc_args does not read the registers first: an unset `__ign` argument is fine, the others fail their check
  X('unset-ignored-arg', 'call bpf_get_prandom_u32\nr2 = 0\ncall kfunc(bpf_rdonly_cast)\nr0 = 2\nexit');
  X('unset-const-arg', 'call bpf_get_prandom_u32\nr1 = r10\ncall kfunc(bpf_rdonly_cast)\nr0 = 2\nexit');
  X('unset-ctx-arg', 'call bpf_get_prandom_u32\ncall kfunc(bpf_cast_to_kern_ctx)\nr0 = 2\nexit');
  p('btf/kfunc/unset-scalar-arg', 'sched_cls', 'call bpf_get_prandom_u32\ncall kfunc(bpf_task_from_pid)\nr0 = 0\nexit', KF);
  p('btf/kfunc/unset-release-arg', 'sched_cls', 'call bpf_get_prandom_u32\ncall kfunc(bpf_task_release)\nr0 = 0\nexit', KF);
  p('btf/kfunc/unset-rcu-arg', 'sched_cls', 'call bpf_get_prandom_u32\ncall kfunc(bpf_task_acquire)\nr0 = 0\nexit', KF);
  // bpf_fastcall kfuncs (KF_FASTCALL): bpf_cast_to_kern_ctx keeps r2-r5 (see fastcall() for the rule)
  const FC = (callee: string) => `r6 = 42\n*(u64 *)(r10 - 512) = r6\ncall f\nr0 = 2\nexit\nf:\n${callee}\nr0 = 0\nexit`;
  X('fastcall-kern-ctx', FC('r2 = 1\n*(u64 *)(r10 - 8) = r2\ncall kfunc(bpf_cast_to_kern_ctx)\nr2 = *(u64 *)(r10 - 8)'));
  X('fastcall-kern-ctx-param', FC('*(u64 *)(r10 - 8) = r1\ncall kfunc(bpf_cast_to_kern_ctx)\nr1 = *(u64 *)(r10 - 8)'));
  X('fastcall-rdonly-cast', FC('r1 = 0\nr2 = 0\nr3 = 7\n*(u64 *)(r10 - 8) = r3\ncall kfunc(bpf_rdonly_cast)\nr3 = *(u64 *)(r10 - 8)'));
  X('fastcall-rcu-lock-not-fastcall', FC('r2 = 1\n*(u64 *)(r10 - 8) = r2\ncall kfunc(bpf_rcu_read_lock)\nr2 = *(u64 *)(r10 - 8)\ncall kfunc(bpf_rcu_read_unlock)'));
  X('fastcall-void-kfunc-keeps-r0', FC('r0 = 1\n*(u64 *)(r10 - 8) = r0\ncall kfunc(bpf_rcu_read_lock)\nr0 = *(u64 *)(r10 - 8)\ncall kfunc(bpf_rcu_read_unlock)'));
  tp('kfunc/task-acquire', `r1 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_task_acquire)\nif r0 == 0 goto l\nr1 = r0\ncall kfunc(bpf_task_release)\nl:\n${ret0}`);
  tp('kfunc/task-acquire-leak', `r1 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_task_acquire)\n${ret0}`);
  tp('kfunc/task-acquire-null', `r1 = 0\ncall kfunc(bpf_task_acquire)\n${ret0}`);
  tp('kfunc/task-acquire-scalar', `r1 = 5\ncall kfunc(bpf_task_acquire)\n${ret0}`);
  tp('kfunc/task-acquire-or-null', `r1 = *(u64 *)(r1 + 8)\ncall kfunc(bpf_task_acquire)\n${ret0}`, ITER_TASK);
  tp('kfunc/task-acquire-sock', `r1 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_task_acquire)\n${ret0}`, TCP_PROBE);
  tp('kfunc/task-acquire-untrusted', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${MM})\ncall kfunc(bpf_task_acquire)\n${ret0}`);
  tp('kfunc/task-acquire-rcu', `r1 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r1 + ${PARENT})\ncall kfunc(bpf_task_acquire)\nif r0 == 0 goto l\nr1 = r0\ncall kfunc(bpf_task_release)\nl:\n${ret0}`);
  tp('kfunc/task-acquire-offset', `r1 = *(u64 *)(r1 + 0)\nr1 += 8\ncall kfunc(bpf_task_acquire)\n${ret0}`);
  tp('kfunc/task-acquire-read', `r1 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_task_acquire)\nif r0 == 0 goto l\nr6 = r0\nr7 = *(u64 *)(r6 + ${PARENT})\nr1 = r6\ncall kfunc(bpf_task_release)\nl:\n${ret0}`);
  tp('kfunc/task-release-unref', `r1 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_task_release)\n${ret0}`);
  tp('kfunc/task-release-null', `r1 = 0\ncall kfunc(bpf_task_release)\n${ret0}`);
  tp('kfunc/task-release-unchecked', `r1 = 1\ncall kfunc(bpf_task_from_pid)\nr1 = r0\ncall kfunc(bpf_task_release)\n${ret0}`);
  tp('kfunc/task-release-offset', `r1 = 1\ncall kfunc(bpf_task_from_pid)\nif r0 == 0 goto l\nr1 = r0\nr1 += 8\ncall kfunc(bpf_task_release)\nl:\n${ret0}`);
  tp('kfunc/task-double-release', `r1 = 1\ncall kfunc(bpf_task_from_pid)\nif r0 == 0 goto l\nr6 = r0\nr1 = r0\ncall kfunc(bpf_task_release)\nr1 = r6\ncall kfunc(bpf_task_release)\nl:\n${ret0}`);
  tp('kfunc/task-use-after-release', `r1 = 1\ncall kfunc(bpf_task_from_pid)\nif r0 == 0 goto l\nr6 = r0\nr1 = r0\ncall kfunc(bpf_task_release)\nr0 = *(u32 *)(r6 + ${PID})\nl:\n${ret0}`);
  tp('kfunc/task-from-pid-ptr', `r1 = r10\ncall kfunc(bpf_task_from_pid)\n${ret0}`);
  tp('kfunc/task-release-rcu-unlock', `r1 = *(u64 *)(r1 + 0)\ncall kfunc(bpf_task_acquire)\nif r0 == 0 goto l\nr6 = r0\ncall kfunc(bpf_rcu_read_lock)\ncall kfunc(bpf_rcu_read_unlock)\nr1 = r6\ncall kfunc(bpf_task_release)\nl:\n${ret0}`);
  X('task-from-pid-xdp', 'r1 = 1\ncall kfunc(bpf_task_from_pid)\nif r0 == 0 goto l\nr1 = r0\ncall kfunc(bpf_task_release)\nl:\nr0 = 2\nexit');
  p('btf/kfunc/task-from-pid-kprobe', 'kprobe', `r1 = 1\ncall kfunc(bpf_task_from_pid)\n${ret0}`, KF);
  p('btf/kfunc/cgroup-from-id', 'sched_cls', 'r1 = 1\ncall kfunc(bpf_cgroup_from_id)\nif r0 == 0 goto l\nr1 = r0\ncall kfunc(bpf_cgroup_release)\nl:\nr0 = 0\nexit', KF);
  X('not-a-kfunc', 'call kfunc(tcp_v4_connect)\nr0 = 2\nexit');
  // kernel variables (`lddw` BPF_PSEUDO_BTF_ID, what libbpf makes of typed __ksym externs)
  const kid = (name: string, kind: string): number => {
    const v = localVmlinux()!;
    const id = v.idsByName(name).find((i) => v.typeById(i).kind === kind);
    if (id === undefined) throw new Error(`no ${kind} ${name} in the local vmlinux BTF`);
    return id;
  };
  const PROG_ACTIVE = kid('bpf_prog_active', 'VAR');
  const RUNQUEUES = kid('runqueues', 'VAR');
  const NR_RUNNING = kOff('rq', 'nr_running');
  const K = (name: string, asm: string, extra: Partial<SourceProgram> = {}) => p(`btf/ksym/${name}`, 'xdp', asm, { ...KF, ...extra });
  K('this-cpu-int', `ld_pseudo r1, 3, ${PROG_ACTIVE}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 0)\nr0 = 2\nexit`);
  K('this-cpu-int-beyond', `ld_pseudo r1, 3, ${PROG_ACTIVE}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 4)\nr0 = 2\nexit`);
  K('this-cpu-int-write', `ld_pseudo r1, 3, ${PROG_ACTIVE}\ncall bpf_this_cpu_ptr\nr1 = 1\n*(u32 *)(r0 + 0) = r1\nr0 = 2\nexit`);
  K('this-cpu-struct', `ld_pseudo r1, 3, ${RUNQUEUES}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + ${NR_RUNNING})\nr0 = 2\nexit`);
  K('this-cpu-struct-beyond', `ld_pseudo r1, 3, ${RUNQUEUES}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 30000)\nr0 = 2\nexit`);
  K('per-cpu-int-unchecked', `ld_pseudo r1, 3, ${PROG_ACTIVE}\nr2 = 0\ncall bpf_per_cpu_ptr\nr0 = *(u32 *)(r0 + 0)\nr0 = 2\nexit`);
  K('per-cpu-int', `ld_pseudo r1, 3, ${PROG_ACTIVE}\nr2 = 0\ncall bpf_per_cpu_ptr\nif r0 == 0 goto l\nr0 = *(u32 *)(r0 + 0)\nl:\nr0 = 2\nexit`);
  K('per-cpu-struct', `ld_pseudo r1, 3, ${RUNQUEUES}\nr2 = 1\ncall bpf_per_cpu_ptr\nif r0 == 0 goto l\nr0 = *(u32 *)(r0 + ${NR_RUNNING})\nl:\nr0 = 2\nexit`);
  K('per-cpu-struct-unchecked', `ld_pseudo r1, 3, ${RUNQUEUES}\nr2 = 1\ncall bpf_per_cpu_ptr\nr0 = *(u32 *)(r0 + ${NR_RUNNING})\nr0 = 2\nexit`);
  K('percpu-direct-read', `ld_pseudo r1, 3, ${RUNQUEUES}\nr0 = *(u32 *)(r1 + ${NR_RUNNING})\nr0 = 2\nexit`);
  K('percpu-to-helper-scalar', 'r1 = 0\ncall bpf_this_cpu_ptr\nr0 = 2\nexit');
  K('percpu-to-helper-map-value', `r1 = 0\n*(u64 *)(r10 - 8) = r1\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nif r0 == 0 goto l\nr1 = r0\ncall bpf_this_cpu_ptr\nl:\nr0 = 2\nexit`, { maps: [m('hash:8:8:4')] });
  K('percpu-offset', `ld_pseudo r1, 3, ${RUNQUEUES}\nr1 += 8\ncall bpf_this_cpu_ptr\nr0 = 2\nexit`);
  K('percpu-spill', `ld_pseudo r1, 3, ${PROG_ACTIVE}\n*(u64 *)(r10 - 8) = r1\nr1 = *(u64 *)(r10 - 8)\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 0)\nr0 = 2\nexit`);
  K('percpu-ret', `ld_pseudo r0, 3, ${PROG_ACTIVE}\nexit`);
  K('bad-id', 'ld_pseudo r1, 3, 99999999\nr0 = 2\nexit');
  K('zero-id', 'ld_pseudo r1, 3, 0\nr0 = 2\nexit');
  K('struct-id', `ld_pseudo r1, 3, ${kid('task_struct', 'STRUCT')}\nr0 = 2\nexit`);
  K('func', `ld_pseudo r1, 3, ${kid('tcp_v4_connect', 'FUNC')}\nr0 = *(u8 *)(r1 + 0)\nr0 = 2\nexit`);
  K('func-value', `ld_pseudo r1, 3, ${kid('tcp_v4_connect', 'FUNC')}\n*(u64 *)(r10 - 8) = r1\nr0 = 2\nexit`);
  // BTF pointers from helpers in other program types
  p('btf/kprobe/current-task-btf', 'kprobe', `call bpf_get_current_task_btf\nr0 = *(u32 *)(r0 + ${PID})\n${ret0}`, { kernel_btf: true });
  p('btf/kprobe/current-task-btf-beyond', 'kprobe', `call bpf_get_current_task_btf\nr0 = *(u32 *)(r0 + 20000)\n${ret0}`, { kernel_btf: true });
  p('btf/kprobe/current-task-btf-write', 'kprobe', `call bpf_get_current_task_btf\nr1 = 0\n*(u32 *)(r0 + ${PID}) = r1\n${ret0}`, { kernel_btf: true });
  p('btf/xdp/current-task-btf', 'xdp', `call bpf_get_current_task_btf\nr0 = *(u32 *)(r0 + ${PID})\nr0 = 2\nexit`, { kernel_btf: true });
  p('btf/tc/skc-to-tcp-sock', 'sched_cls', `r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto l\ncall bpf_skc_to_tcp_sock\nif r0 == 0 goto l\nr0 = *(u32 *)(r0 + ${SRTT})\nl:\n${ret0}`, { kernel_btf: true });
}

/**
 * check_map_func_compatibility: every helper that takes a map, called with
 * a map of every type the kernel creates without BTF, in a program type
 * that may call it. The other arguments are plausible (the context, zeroed
 * stack for keys and values, small constant sizes, zero flags), so most
 * programs reach the two-way compatibility check or pass it.
 */
function mapCompat(): void {
  const maps: Record<string, OracleMap[]> = {
    hash: [m('hash:4:8:4')], array: [m('array:4:8:4')], prog_array: [m('prog_array:4:4:4')],
    perf_event_array: [m('perf_event_array:4:4:4')], percpu_hash: [m('percpu_hash:4:8:4')], percpu_array: [m('percpu_array:4:8:4')],
    stack_trace: [m('stack_trace:4:64:4')], cgroup_array: [m('cgroup_array:4:4:4')], lru_hash: [m('lru_hash:4:8:4')],
    lru_percpu_hash: [m('lru_percpu_hash:4:8:4')], lpm_trie: [m('lpm_trie:8:8:4:no_prealloc')],
    array_of_maps: [m('array:4:8:4'), { ...m('array_of_maps:4:4:4'), inner_map: 0 }],
    hash_of_maps: [m('array:4:8:4'), { ...m('hash_of_maps:4:4:4'), inner_map: 0 }],
    devmap: [m('devmap:4:4:4')], sockmap: [m('sockmap:4:4:4')], cpumap: [m('cpumap:4:4:4')], xskmap: [m('xskmap:4:4:4')],
    sockhash: [m('sockhash:4:4:4')], cgroup_storage: [m('cgroup_storage:8:8:0')], reuseport_sockarray: [m('reuseport_sockarray:4:4:4')],
    percpu_cgroup_storage: [m('percpu_cgroup_storage:8:8:0')], queue: [m('queue:0:8:4')], stack: [m('stack:0:8:4')],
    devmap_hash: [m('devmap_hash:4:4:4')], ringbuf: [m('ringbuf:0:0:4096')], bloom_filter: [m('bloom_filter:0:8:4')],
    user_ringbuf: [m('user_ringbuf:0:0:4096')],
  };
  // a program type that may call each helper (the first that offers it)
  const types: [string, Partial<SourceProgram>][] = [
    ['xdp', {}], ['sched_cls', {}], ['kprobe', {}], ['sk_skb', {}], ['sk_msg', {}], ['sock_ops', {}], ['sk_reuseport', {}],
    ['cgroup_skb', { expected_attach_type: 'cgroup_inet_ingress' }], ['tracepoint', {}],
  ];
  const zeroStack = Array.from({ length: 8 }, (_, i) => `*(u64 *)(r10 - ${8 * (i + 1)}) = 0`).join('\n');
  for (const [id, proto] of PROTOS) {
    const mapArg = proto.args.findIndex((a) => (a & 0xff) === A.CONST_MAP_PTR);
    if (mapArg < 0 || proto.args.some((a) => (a & 0xff) === A.PTR_TO_FUNC)) continue;
    const found = types.find(([t]) => (HELPERS_BY_TYPE[t] ?? []).includes(id));
    if (!found) continue;
    const [type, extra] = found;
    const fn = protoFor(id, types.findIndex(([t]) => t === type) >= 0 ? ({ xdp: 6, sched_cls: 3, kprobe: 2, sk_skb: 14, sk_msg: 16, sock_ops: 13, sk_reuseport: 21, cgroup_skb: 8, tracepoint: 5 } as Record<string, number>)[type]! : 0) ?? proto;
    const set = fn.args.map((a, i) => {
      const r = `r${i + 1}`;
      const base = a & 0xff;
      if (base === A.CONST_MAP_PTR) return `ld_pseudo ${r}, 1, ${maps.hash!.length - 1}`;
      if (base === A.PTR_TO_CTX) return `${r} = r6`;
      if (base === A.CONST_SIZE || base === A.CONST_SIZE_OR_ZERO || base === A.CONST_ALLOC_SIZE_OR_ZERO) return `${r} = 8`;
      if (base === A.ANYTHING) return `${r} = 0`;
      if (a & AF.MAYBE_NULL && base !== A.PTR_TO_MAP_VALUE) return `${r} = 0`;
      return `${r} = r10\n${r} += -${32 + 8 * i}`;
    });
    for (const [name, ms] of Object.entries(maps)) {
      const idx = ms.length - 1;
      const args = set.map((x) => x.replace(/ld_pseudo (r\d), 1, \d+/, `ld_pseudo $1, 1, ${idx}`)).join('\n');
      p(`maps/compat/${id}/${name}`, type, `r6 = r1\n${zeroStack}\n${args}\ncall ${id}\nr0 = 0\nexit`, { ...extra, maps: ms });
    }
  }
}

/** Helpers whose prototypes the sweeps above do not reach (their program types are not swept). */
function protos(): void {
  const zeroStack = Array.from({ length: 8 }, (_, i) => `*(u64 *)(r10 - ${8 * (i + 1)}) = 0`).join('\n');
  const sets = (type: string, id: number, extra: Partial<SourceProgram>) => {
    p(`protos/${type}/${id}/zero`, type, `r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`, extra);
    p(`protos/${type}/${id}/ctx`, type, `r6 = r1\n${zeroStack}\nr1 = r6\nr2 = r10\nr2 += -64\nr3 = 8\nr4 = r10\nr4 += -32\nr5 = 8\ncall ${id}\nr0 = 0\nexit`, extra);
    p(`protos/${type}/${id}/ctx-uninit`, type, `r2 = r10\nr2 += -64\nr3 = 8\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`, extra);
    p(`protos/${type}/${id}/map`, type, `${zeroStack}\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -64\nr3 = r10\nr3 += -32\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`,
      { ...extra, maps: [HASH] });
  };
  sets('perf_event', 119, {});
  p('protos/perf_event/119/rdonly-value', 'perf_event', `r6 = r1\n${LOOKUP}\nif r0 == 0 goto out\nr1 = r6\nr2 = r0\nr3 = 8\nr4 = 0\ncall bpf_read_branch_records\nout:\nr0 = 0\nexit`,
    { maps: [m('array:4:8:4:rdonly_prog')] });
  p('protos/perf_event/119/size-flag', 'perf_event', `r2 = 0\nr3 = 0\nr4 = 1\ncall bpf_read_branch_records\nr0 = 0\nexit`);
  const CG = { expected_attach_type: 'cgroup_inet_ingress' };
  for (const id of [128, 129]) {
    sets('cgroup_skb', id, CG);
    p(`protos/cgroup_skb/${id}/sk`, 'cgroup_skb', `r1 = *(u64 *)(r1 + 168)\nif r1 == 0 goto out\nr2 = 1\ncall ${id}\nout:\nr0 = 1\nexit`, CG);
    p(`protos/cgroup_skb/${id}/sk-unchecked`, 'cgroup_skb', `r1 = *(u64 *)(r1 + 168)\nr2 = 1\ncall ${id}\nr0 = 1\nexit`, CG);
  }
}

/** Lookups in maps whose elements are not plain values: the null check gives the element's type. */
function mapLookups(): void {
  const lookup = (map: number) => `*(u32 *)(r10 - 4) = 0\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, ${map}\ncall bpf_map_lookup_elem\n`;
  p('maps/lookup/xskmap-xdp-sock', 'xdp', `${lookup(0)}if r0 == 0 goto l\nr0 = *(u32 *)(r0 + 0)\nl:\nr0 = 2\nexit`, { maps: [m('xskmap:4:4:4')] });
  p('maps/lookup/xskmap-unchecked', 'xdp', `${lookup(0)}r0 = *(u32 *)(r0 + 0)\nr0 = 2\nexit`, { maps: [m('xskmap:4:4:4')] });
  p('maps/lookup/xskmap-beyond', 'xdp', `${lookup(0)}if r0 == 0 goto l\nr0 = *(u32 *)(r0 + 4)\nl:\nr0 = 2\nexit`, { maps: [m('xskmap:4:4:4')] });
  p('maps/lookup/devmap-read', 'xdp', `${lookup(0)}if r0 == 0 goto l\nr0 = *(u32 *)(r0 + 0)\nl:\nr0 = 2\nexit`, { maps: [m('devmap:4:4:4')] });
  p('maps/lookup/devmap-write', 'xdp', `${lookup(0)}if r0 == 0 goto l\nr1 = 1\n*(u32 *)(r0 + 0) = r1\nl:\nr0 = 2\nexit`, { maps: [m('devmap:4:4:4')] });
  p('maps/lookup/devmap-hash-write', 'xdp', `${lookup(0)}if r0 == 0 goto l\nr1 = 1\n*(u32 *)(r0 + 0) = r1\nl:\nr0 = 2\nexit`, { maps: [m('devmap_hash:4:4:4')] });
  p('maps/lookup/devmap-update', 'xdp', `*(u32 *)(r10 - 4) = 0\n*(u32 *)(r10 - 8) = 0\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -8\nr4 = 0\nld_pseudo r1, 1, 0\ncall bpf_map_update_elem\nr0 = 2\nexit`, { maps: [m('devmap:4:4:4')] });
  p('maps/lookup/sockmap-socket', 'sk_skb', `${lookup(0)}if r0 == 0 goto l\nr1 = r0\nr6 = *(u32 *)(r0 + 4)\ncall bpf_sk_release\nl:\nr0 = 0\nexit`, { maps: [m('sockmap:4:4:4')] });
  p('maps/lookup/sockmap-leak', 'sk_skb', `${lookup(0)}if r0 == 0 goto l\nr6 = *(u32 *)(r0 + 4)\nl:\nr0 = 0\nexit`, { maps: [m('sockmap:4:4:4')] });
  p('maps/lookup/sockhash-socket', 'sched_cls', `${lookup(0)}if r0 == 0 goto l\nr1 = r0\ncall bpf_sk_release\nl:\nr0 = 0\nexit`, { maps: [m('sockhash:4:4:4')] });
  p('maps/lookup/sockmap-write', 'sk_skb', `${lookup(0)}if r0 == 0 goto l\nr1 = 1\n*(u32 *)(r0 + 4) = r1\nl:\nr0 = 0\nexit`, { maps: [m('sockmap:4:4:4')] });
  p('maps/lookup/cpumap', 'xdp', `${lookup(0)}r0 = 2\nexit`, { maps: [m('cpumap:4:4:4')] });
  p('maps/lookup/array-of-maps', 'xdp', `${lookup(1)}if r0 == 0 goto l\nr1 = r0\n*(u32 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem\nif r0 == 0 goto l\nr0 = *(u64 *)(r0 + 0)\nl:\nr0 = 2\nexit`,
    { maps: [m('array:4:8:4'), { ...m('array_of_maps:4:4:4'), inner_map: 0 }] });
  p('maps/lookup/queue', 'xdp', `${lookup(0)}r0 = 2\nexit`, { maps: [m('queue:0:8:4')] });
  p('maps/lookup/get-local-storage', 'cgroup_skb', `ld_pseudo r1, 1, 0\nr2 = 0\ncall bpf_get_local_storage\nr0 = *(u64 *)(r0 + 0)\nr0 = 1\nexit`, { maps: [m('cgroup_storage:8:8:0')], expected_attach_type: 'cgroup_inet_ingress' });
  p('maps/lookup/get-local-storage-beyond', 'cgroup_skb', `ld_pseudo r1, 1, 0\nr2 = 0\ncall bpf_get_local_storage\nr0 = *(u64 *)(r0 + 8)\nr0 = 1\nexit`, { maps: [m('cgroup_storage:8:8:0')], expected_attach_type: 'cgroup_inet_ingress' });
  p('maps/lookup/get-local-storage-flags', 'cgroup_skb', `ld_pseudo r1, 1, 0\nr2 = 1\ncall bpf_get_local_storage\nr0 = 1\nexit`, { maps: [m('cgroup_storage:8:8:0')], expected_attach_type: 'cgroup_inet_ingress' });
  p('maps/lookup/get-stackid', 'kprobe', `ld_pseudo r2, 1, 0\nr3 = 0\ncall bpf_get_stackid\nr0 = 0\nexit`, { maps: [m('stack_trace:4:64:4')] });
  p('maps/lookup/stack-trace-lookup', 'kprobe', `${lookup(0)}if r0 == 0 goto l\nr0 = *(u64 *)(r0 + 56)\nl:\nr0 = 0\nexit`, { maps: [m('stack_trace:4:64:4')] });
  p('maps/lookup/redirect-map-xsk', 'xdp', `ld_pseudo r1, 1, 0\nr2 = 0\nr3 = 0\ncall bpf_redirect_map\nexit`, { maps: [m('xskmap:4:4:4')] });
  p('maps/lookup/bloom-peek', 'xdp', `*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_peek_elem\nr0 = 2\nexit`, { maps: [m('bloom_filter:0:8:4')] });
  p('maps/lookup/bloom-pop', 'xdp', `*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nld_pseudo r1, 1, 0\ncall bpf_map_pop_elem\nr0 = 2\nexit`, { maps: [m('bloom_filter:0:8:4')] });
  p('maps/lookup/reuseport-select', 'sk_reuseport', `*(u32 *)(r10 - 4) = 0\nr3 = r10\nr3 += -4\nld_pseudo r2, 1, 0\nr4 = 0\ncall bpf_sk_select_reuseport\nr0 = 1\nexit`, { maps: [m('reuseport_sockarray:4:4:4')] });
}

export function handwrittenPrograms(): SourceProgram[] {
  out.length = 0;
  structural();
  registers();
  alu();
  pointers();
  stack();
  mapValues();
  packets();
  ctx();
  helpers();
  ringbuf();
  calls();
  returns();
  legacy();
  misc();
  helperSweep();
  leaks();
  realWorld();
  fastcall();
  soundness();
  kernelBtf();
  mapCompat();
  mapLookups();
  protos();
  return out.slice();
}

export type { OracleMap };
export { LOOKUP, pkt, SKB_PKT, RINGBUF };
