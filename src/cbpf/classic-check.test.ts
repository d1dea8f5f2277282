/**
 * The classic checker against the running kernel: every hand-made program
 * (and every tcpdump program of the listing tests) is attached with
 * SO_ATTACH_FILTER to a UDP socket in a python3 subprocess, and the kernel
 * must refuse (EINVAL) exactly the programs checkClassic refuses. libpcap's
 * looser rules are pinned by hand.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { assembleClassic } from './assemble.js';
import { LINUX_CLASSIC_OPCODES, checkClassic, findClassicProblem } from './classic-check.js';
import { formatClassic } from './listings.js';
import type { ClassicRule } from './classic-check.js';
import { LISTING_EXPRESSIONS, LIVE_EXPRESSIONS } from '../../test/support/filter-expressions.js';
import { AluOp, Ancillary, Class, JmpOp, MAXINSNS, Mode, RetVal, SKF_AD_OFF, SKF_NET_OFF, Size, Src, insn } from './insn.js';
import type { CbpfInsn } from './insn.js';

const RET0 = insn(Class.RET | RetVal.K, 0);
const RETA = insn(Class.RET | RetVal.A);
const ld = (k: number): CbpfInsn => insn(Class.LD | Mode.IMM, k);

/** Hand-made programs and the rule Linux refuses them by (null: accepted). */
const CASES: [string, CbpfInsn[], ClassicRule | null][] = [
  ['ret #0', [RET0], null],
  ['empty', [], 'length'],
  ['4096 instructions', [...Array.from({ length: MAXINSNS - 1 }, () => ld(1)), RET0], null],
  ['4097 instructions', [...Array.from({ length: MAXINSNS }, () => ld(1)), RET0], 'length'],
  ['ret x', [insn(Class.RET | RetVal.X)], 'opcode'],
  ['ld with size h, immediate', [insn(Class.LD | Size.H | Mode.IMM, 1), RET0], 'opcode'],
  ['unknown class bits', [insn(0x100 | Class.RET), RET0], 'opcode'],
  ['ldx len, ldxb msh, tax, txa, neg, xor x', [insn(Class.LDX | Size.W | Mode.LEN), insn(Class.LDX | Size.B | Mode.MSH, 14), insn(Class.MISC | 0x80), insn(Class.ALU | AluOp.NEG), insn(Class.ALU | AluOp.XOR | Src.X), RETA], null],
  ['div #0', [insn(Class.ALU | AluOp.DIV, 0), RETA], 'division-by-zero'],
  ['mod #0', [insn(Class.ALU | AluOp.MOD, 0), RETA], 'division-by-zero'],
  ['div x (checked at run time)', [insn(Class.ALU | AluOp.DIV | Src.X), RETA], null],
  ['lsh #31', [insn(Class.ALU | AluOp.LSH, 31), RETA], null],
  ['lsh #32', [insn(Class.ALU | AluOp.LSH, 32), RETA], 'shift'],
  ['rsh #40', [insn(Class.ALU | AluOp.RSH, 40), RETA], 'shift'],
  ['st M[15], ld M[15]', [insn(Class.ST, 15), insn(Class.LD | Mode.MEM, 15), RETA], null],
  ['st M[16]', [insn(Class.ST, 16), RETA], 'scratch-slot'],
  ['ldx M[16]', [insn(Class.LDX | Mode.MEM, 16), RETA], 'scratch-slot'],
  ['ja to the last instruction', [insn(Class.JMP | JmpOp.JA, 1), ld(0), RETA], null],
  ['ja past the end', [insn(Class.JMP | JmpOp.JA, 2), ld(0), RETA], 'jump-range'],
  ['backward ja', [ld(0), insn(Class.JMP | JmpOp.JA, -2 >>> 0), RETA], 'jump-range'],
  ['jeq to the end', [insn(Class.JMP | JmpOp.JEQ, 1, 0, 1), RET0, RETA], null],
  ['jeq past the end', [insn(Class.JMP | JmpOp.JEQ, 1, 2, 0), RET0, RETA], 'jump-range'],
  ['jset x with jf past the end', [insn(Class.JMP | JmpOp.JSET | Src.X, 0, 0, 5), RET0], 'jump-range'],
  ['last instruction not a ret', [ld(1)], 'last-ret'],
  ['ends with ret x', [RET0, insn(Class.RET | RetVal.X)], 'opcode'],
  ['known ancillary loads', [insn(Class.LD | Mode.ABS, SKF_AD_OFF + Ancillary.PROTOCOL), insn(Class.LD | Size.B | Mode.ABS, SKF_AD_OFF + Ancillary.VLAN_TPID), RETA], null],
  ['unknown ancillary offset', [insn(Class.LD | Mode.ABS, SKF_AD_OFF + 2), RETA], 'ancillary'],
  ['ancillary past SKF_AD_MAX', [insn(Class.LD | Mode.ABS, SKF_AD_OFF + 64), RETA], 'ancillary'],
  ['network-header load (SKF_NET_OFF)', [insn(Class.LD | Size.B | Mode.ABS, SKF_NET_OFF + 9), RETA], null],
  ['M[0] read before any write', [insn(Class.LD | Mode.MEM, 0), RETA], 'scratch-uninit'],
  ['M[1] written on one path only', [insn(Class.JMP | JmpOp.JEQ, 0, 0, 1), insn(Class.ST, 1), insn(Class.LDX | Mode.MEM, 1), RETA], 'scratch-uninit'],
  ['M[1] written on both paths', [insn(Class.JMP | JmpOp.JEQ, 0, 0, 2), insn(Class.ST, 1), insn(Class.JMP | JmpOp.JA, 1), insn(Class.STX, 1), insn(Class.LDX | Mode.MEM, 1), RETA], null],
  ['M[0] read in dead code after a ret', [RET0, insn(Class.LD | Mode.MEM, 0), RETA], 'scratch-uninit'],
];

const py = spawnSync('python3', ['--version']);
const ATTACH = `
import socket, ctypes, struct, json, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out = []
for prog in json.load(sys.stdin):
    buf = ctypes.create_string_buffer(b''.join(struct.pack('=HBBI', *i) for i in prog) or b'\\0')
    fprog = struct.pack('=HxxxxxxQ', len(prog), ctypes.addressof(buf))
    try:
        s.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
        out.append(0)
    except OSError as e:
        out.append(e.errno)
print(json.dumps(out))
`;
/** Attaches each program to a socket; the errno of each (0: accepted), or a reason it cannot be done. */
function kernelVerdicts(progs: CbpfInsn[][]): number[] | string {
  if (py.status !== 0) return 'python3 is not installed';
  const r = spawnSync('python3', ['-c', ATTACH], { input: JSON.stringify(progs.map((p) => p.map((i) => [i.code, i.jt, i.jf, i.k >>> 0]))), encoding: 'utf8' });
  if (r.status !== 0) return `the socket call failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout) as number[];
}

const tcpdump = spawnSync('tcpdump', ['--version']).status === 0;
const live = tcpdump && spawnSync('tcpdump', ['-d', '-i', 'lo', 'vlan']).status === 0;
// Programs for a capture file, and for a live interface (with ancillary loads) where tcpdump can open lo.
const tcpdumpProgs = [
  ...(tcpdump ? LISTING_EXPRESSIONS.map((e) => [e, assembleClassic(spawnSync('tcpdump', ['-ddd', '-y', 'EN10MB', e], { encoding: 'utf8' }).stdout)] as const) : []),
  ...(live ? LIVE_EXPRESSIONS.map((e) => [`${e} (live)`, assembleClassic(spawnSync('tcpdump', ['-ddd', '-i', 'lo', e], { encoding: 'utf8' }).stdout)] as const) : []),
];
const verdicts = kernelVerdicts([...CASES.map((c) => c[1]), ...tcpdumpProgs.map((t) => t[1])]);
if (typeof verdicts === 'string') console.log(`skipping the comparison of the classic checker with the kernel: ${verdicts}`);

describe('classic checker (Linux rules)', () => {
  it.each(CASES)('%s', (_name, prog, rule) => {
    expect(findClassicProblem(prog)?.rule ?? null).toBe(rule);
  });
  it.skipIf(typeof verdicts === 'string')('refuses exactly what the running kernel refuses (SO_ATTACH_FILTER)', () => {
    const v = verdicts as number[];
    const ours = [...CASES.map((c) => c[1]), ...tcpdumpProgs.map((t) => t[1])].map((p) => (findClassicProblem(p) ? 22 : 0));
    const names = [...CASES.map((c) => c[0]), ...tcpdumpProgs.map((t) => `tcpdump ${t[0]}`)];
    expect(names.map((n, i) => `${n}: ${ours[i]}`)).toEqual(names.map((n, i) => `${n}: ${v[i]}`));
    // tcpdump's protochain programs jump backwards: Linux refuses them.
    expect(tcpdumpProgs.filter((_t, i) => v[CASES.length + i] !== 0).map((t) => t[0])).toEqual(LISTING_EXPRESSIONS.filter((e) => e.includes('protochain')));
  });
  it.skipIf(typeof verdicts === 'string')('agrees with the kernel on 3000 random programs', () => {
    // A seeded generator, biased to the corners: real opcodes mostly, small programs, constants near the limits.
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const known = [...LINUX_CLASSIC_OPCODES];
    const ks = [0, 1, 3, 4, 15, 16, 31, 32, 64, 0x7fffffff, 0x80000000, 0xffffffff, SKF_AD_OFF >>> 0, (SKF_AD_OFF + 4) >>> 0, (SKF_AD_OFF + 6) >>> 0, (SKF_AD_OFF + 64) >>> 0, SKF_NET_OFF >>> 0];
    const progs: CbpfInsn[][] = [];
    for (let p = 0; p < 3000; p++) {
      const len = 1 + rand(8);
      const prog: CbpfInsn[] = [];
      for (let i = 0; i < len; i++) {
        const code = rand(10) === 0 ? rand(0x100) : known[rand(known.length)]!;
        const k = rand(3) === 0 ? ks[rand(ks.length)]! : rand(4) === 0 ? ((len - i - 2 + rand(3)) >>> 0) : rand(20);
        prog.push(insn(code, k, rand(3) === 0 ? rand(256) : rand(len), rand(3) === 0 ? rand(256) : rand(len)));
      }
      if (rand(4) !== 0) prog.push(insn(Class.RET | (rand(2) ? RetVal.A : RetVal.K), rand(100)));
      progs.push(prog);
    }
    const kernel = kernelVerdicts(progs) as number[];
    const disagree = progs.filter((p, i) => (findClassicProblem(p) ? 22 : 0) !== kernel[i]).map((p) => formatClassic(p, 'dd'));
    expect(disagree).toEqual([]);
    // Both sides of the line were exercised.
    expect(kernel.filter((v) => v === 0).length).toBeGreaterThan(300);
  });
  it('names the instruction and the rule', () => {
    expect(() => checkClassic([ld(0), insn(Class.ALU | AluOp.DIV, 0), RETA])).toThrow('insn 1: division by the constant 0');
    expect(() => checkClassic([ld(0), insn(Class.JMP | JmpOp.JA, -2 >>> 0), RETA])).toThrow('insn 1: ja +4294967294 jumps to 4294967296, past the last instruction 2 (Linux jumps only forward)');
    expect(() => checkClassic([insn(Class.LD | Mode.MEM, 3), RETA])).toThrow('insn 0: M[3] is read before it is written on some path');
    expect(() => checkClassic([ld(0)])).toThrow('insn 0: the last instruction must be ret #k or ret a');
    expect(() => checkClassic([insn(Class.RET | RetVal.X)])).toThrow('insn 0: opcode 0x0e is not a classic instruction Linux accepts (Linux has no ret x)');
    expect(findClassicProblem([RET0, insn(0xff)])?.location.insn).toBe(1);
  });
});

describe("classic checker (libpcap's bpf_validate rules)", () => {
  const libpcap = (prog: CbpfInsn[]) => findClassicProblem(prog, { rules: 'libpcap' })?.rule ?? null;
  it('allows backward ja, ret x, any length, uninitialised scratch memory, big shifts', () => {
    expect(libpcap([ld(0), insn(Class.JMP | JmpOp.JA, -2 >>> 0), RETA])).toBe(null);
    expect(libpcap([insn(Class.RET | RetVal.X)])).toBe(null);
    expect(libpcap([insn(Class.LD | Mode.MEM, 0), insn(Class.ALU | AluOp.LSH, 40), RETA])).toBe(null);
    expect(libpcap([...Array.from({ length: MAXINSNS + 5 }, () => ld(1)), RET0])).toBe(null);
    for (const [, prog] of tcpdumpProgs) expect(libpcap(prog)).toBe(null);
  });
  it('refuses jumps outside the program, constant division by 0, bad slots and modes, no final ret', () => {
    expect(libpcap([])).toBe('length');
    expect(libpcap([insn(Class.JMP | JmpOp.JA, -5 >>> 0), RETA])).toBe('jump-range');
    expect(libpcap([insn(Class.JMP | JmpOp.JGT, 0, 1, 0), RETA])).toBe('jump-range');
    expect(libpcap([insn(Class.ALU | AluOp.MOD, 0), RETA])).toBe('division-by-zero');
    expect(libpcap([insn(Class.STX, 16), RETA])).toBe('scratch-slot');
    expect(libpcap([insn(Class.LD | 0xe0), RETA])).toBe('opcode');
    expect(libpcap([insn(Class.ALU | 0xb0), RETA])).toBe('opcode');
    expect(libpcap([insn(Class.JMP | 0x50, 0), RETA])).toBe('opcode');
    expect(libpcap([RETA, ld(0)])).toBe('last-ret');
  });
});
