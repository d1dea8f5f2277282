/**
 * The classic-BPF WebAssembly compiler against the classic interpreter
 * (itself checked against libpcap): tcpdump's programs over the sample
 * capture, and random programs (every ALU operation, every load mode,
 * forward jumps) over random packets, including truncated ones, give the
 * same result for every packet.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../capture/read.js';
import { AluOp, Class, JmpOp, Mode, RetVal, Size, Src, insn } from '../cbpf/insn.js';
import type { CbpfInsn } from '../cbpf/insn.js';
import { runClassic } from '../cbpf/classic-interpreter.js';
import { compileClassic, hasBackwardJump } from './classic.js';
import { rng } from '../../test/support/random-programs.js';

/** Runs `prog` compiled on `packet` (copied to offset 64, as a caller with a chunk at an offset would). */
function runCompiled(prog: CbpfInsn[], packets: { data: Uint8Array; wireLen: number }[]): number[] {
  const f = compileClassic(prog);
  return packets.map((p) => {
    new Uint8Array(f.memory.buffer).set(p.data, 64);
    return f.run(64, p.data.length, p.wireLen);
  });
}

const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;
if (!haveTcpdump) console.log('skipping tcpdump programs in the classic compiler test: tcpdump is not installed');

describe.skipIf(!haveTcpdump)('tcpdump programs compiled to WebAssembly', () => {
  const reader = new CaptureReader();
  const packets = reader.push(new Uint8Array(readFileSync(new URL('../../samples/traffic.pcap', import.meta.url)))).map((p) => ({ data: p.data, wireLen: p.origLen }));
  reader.end();
  const truncated = packets.map((p) => ({ data: p.data.subarray(0, Math.max(0, p.data.length - 30)), wireLen: p.wireLen }));
  it.each(['tcp dst port 80', 'udp', 'ip6', 'arp', 'vlan and ip', 'tcp[tcpflags] & tcp-syn != 0', 'ip[2:2] / 4 > 20', 'icmp[icmptype] == icmp-echo',
    'ether broadcast', 'net 10.0.0.0/8 and not port 22', 'len > 100', 'ip[6:2] & 0x1fff = 0', 'portrange 1-1024', 'tcp[12] >> 4 > 5', 'ip multicast'])('%s', (expr) => {
    const ddd = spawnSync('tcpdump', ['-ddd', '-y', 'EN10MB', expr], { encoding: 'utf8' });
    expect(ddd.status, ddd.stderr).toBe(0);
    const prog = ddd.stdout.trim().split('\n').slice(1).map((l) => {
      const [code, jt, jf, k] = l.trim().split(/\s+/).map(Number);
      return insn(code!, k!, jt!, jf!);
    });
    expect(hasBackwardJump(prog)).toBe(false);
    for (const set of [packets, truncated]) {
      expect(runCompiled(prog, set)).toEqual(set.map((p) => runClassic(prog, p.data, { wireLen: p.wireLen })));
    }
  });
});

/** A random valid classic program of `n` instructions ending in `ret a`. */
function randomProgram(r: () => number, n: number): CbpfInsn[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const k = () => (r() < 0.3 ? Math.floor(r() * 64) : r() < 0.5 ? Math.floor(r() * 33) : Math.floor(r() * 2 ** 32));
  const prog: CbpfInsn[] = [];
  for (let pc = 0; pc < n - 1; pc++) {
    const left = n - 1 - pc - 1; // instructions a jump may skip
    switch (Math.floor(r() * 7)) {
      case 0: prog.push(insn(Class.LD | pick([Size.W, Size.H, Size.B]) | pick([Mode.ABS, Mode.IND]), Math.floor(r() * 80))); break;
      case 1: prog.push(insn(pick([Class.LD | Mode.IMM, Class.LDX | Mode.IMM, Class.LD | Mode.LEN, Class.LDX | Mode.LEN, Class.LDX | Size.B | Mode.MSH]), r() < 0.5 ? Math.floor(r() * 80) : k())); break;
      case 2: prog.push(insn(pick([Class.ST, Class.STX, Class.LD | Mode.MEM, Class.LDX | Mode.MEM]), Math.floor(r() * 16))); break;
      case 3:
      case 4: prog.push(insn(Class.ALU | pick(Object.values(AluOp)) | pick([Src.K, Src.X]), k())); break;
      case 5: {
        const o = pick([JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET]);
        prog.push(insn(Class.JMP | o | pick([Src.K, Src.X]), k(), Math.floor(r() * (left + 1)), Math.floor(r() * (left + 1))));
        break;
      }
      default:
        prog.push(r() < 0.5 ? insn(Class.JMP | JmpOp.JA, Math.floor(r() * (left + 1))) : insn(Class.MISC | pick([0x00, 0x80])));
    }
  }
  prog.push(insn(Class.RET | pick([RetVal.A, RetVal.X, RetVal.K]), k()));
  return prog;
}

describe('corner cases', () => {
  const one = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), wireLen: 6 };
  const alu = (a: number, o: number, x: number) => runCompiled([insn(Class.LD | Mode.IMM, a), insn(Class.LDX | Mode.IMM, x), insn(Class.ALU | o | Src.X), insn(Class.RET | RetVal.A)], [one])[0];
  it('shifts by an X of 32 or more give 0; by 31 they shift; division by an X of 0 rejects', () => {
    expect([alu(1, AluOp.LSH, 31), alu(1, AluOp.LSH, 32), alu(0x80000000, AluOp.RSH, 31), alu(0x80000000, AluOp.RSH, 32), alu(5, AluOp.LSH, 0xffffffff)]).toEqual([0x80000000, 0, 1, 0, 0]);
    expect([alu(7, AluOp.DIV, 0), alu(7, AluOp.MOD, 0), alu(0xffffffff, AluOp.DIV, 2), alu(7, AluOp.MOD, 4)]).toEqual([0, 0, 0x7fffffff, 3]);
  });
  it('loads: big-endian, bounded by the captured length without wrap-around', () => {
    const ld = (code: number, k: number, x = 0) => runCompiled([insn(Class.LDX | Mode.IMM, x), insn(code, k), insn(Class.RET | RetVal.A)], [one])[0];
    expect([ld(Class.LD | Size.W | Mode.ABS, 2), ld(Class.LD | Size.H | Mode.ABS, 4), ld(Class.LD | Size.B | Mode.ABS, 5)]).toEqual([0x03040506, 0x0506, 6]);
    expect([ld(Class.LD | Size.W | Mode.ABS, 3), ld(Class.LD | Size.B | Mode.ABS, 6), ld(Class.LD | Size.B | Mode.ABS, 0xffffffff)]).toEqual([0, 0, 0]);
    expect([ld(Class.LD | Size.H | Mode.IND, 1, 3), ld(Class.LD | Size.B | Mode.IND, 1, 0xffffffff), ld(Class.LD | Size.B | Mode.IND, 0xffffffff, 1)]).toEqual([0x0506, 0, 0]);
  });
  it('refuses what it cannot compile, naming the instruction', () => {
    expect(() => compileClassic([insn(Class.LD | Mode.IMM, 1), insn(0xff)])).toThrow('unknown opcode 0xff (insn 1)');
    expect(() => compileClassic([insn(Class.JMP | JmpOp.JA, 5), insn(Class.RET)])).toThrow('jump to 6 outside the program (or backwards) (insn 0)');
  });
});

describe('random classic programs: compiled = interpreted', () => {
  it('2,000 programs over 8 packets each', () => {
    const r = rng(13);
    let compared = 0;
    for (let i = 0; i < 2000; i++) {
      const prog = randomProgram(r, 2 + Math.floor(r() * 30));
      const packets = Array.from({ length: 8 }, () => {
        const data = Uint8Array.from({ length: Math.floor(r() * 90) }, () => Math.floor(r() * 256));
        return { data, wireLen: data.length + Math.floor(r() * 100) };
      });
      expect(runCompiled(prog, packets), JSON.stringify(prog)).toEqual(packets.map((p) => runClassic(prog, p.data, { wireLen: p.wireLen })));
      compared += packets.length;
    }
    expect(compared).toBe(16000);
  });
});
