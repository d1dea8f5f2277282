/**
 * The classic-to-eBPF translation against the classic interpreter: tcpdump
 * programs (libpcap rules, so protochain's backward jumps too) translated
 * and run as tc (`sched_cls`) programs over the sample capture, on the
 * interpreter and the JIT, must return for every frame exactly what
 * runClassic returns (0 or the length to keep). tc, because its
 * `__sk_buff` data starts at the Ethernet header, as a classic filter on a
 * packet socket sees it; a socket filter's test run starts at the network
 * header (docs/classic.md). The translations (but protochain's) must also
 * pass tsbpf's verifier and the running kernel's, and the kernel's test run
 * must return the same. Hand-made programs pin the rest: ancillary
 * loads, division by an X of 0, constants of 2^31 and more, scratch memory.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../capture/read.js';
import { PacketRefusedError } from '../errors.js';
import { HookContexts } from '../hooks/contexts.js';
import { helpersForType } from '../hooks/type-helpers.js';
import { progTypeId } from '../hooks/program-types.js';
import { SkBuff } from '../hooks/skb.js';
import { TestRunner } from '../hooks/test-run.js';
import { encodeProgram } from '../isa/encode.js';
import { jitEngine } from '../jit/jit-engine.js';
import type { Engine } from '../vm/engine.js';
import { interpreterEngine } from '../vm/engine.js';
import { Machine } from '../vm/machine.js';
import { prepareProgram } from '../vm/prepared-program.js';
import { verify } from '../verifier/index.js';
import { assembleClassic } from './assemble.js';
import { AluOp, Ancillary, Class, JmpOp, Mode, RetVal, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, Size, Src, insn } from './insn.js';
import type { CbpfInsn } from './insn.js';
import { runClassic } from './classic-interpreter.js';
import { findClassicProblem } from './classic-check.js';
import { formatClassic } from './listings.js';
import type { SkbMetadata } from './classic-interpreter.js';
import { LISTING_EXPRESSIONS, LIVE_EXPRESSIONS } from '../../test/support/filter-expressions.js';
import { ask, kernelAvailable, toHex } from '../../test/support/kernel-oracle.js';
import { SK_BUFF_FIELDS, classicToEbpf } from './to-ebpf.js';

const SAMPLE = new URL('../../samples/traffic.pcap', import.meta.url);
const frames = (() => {
  const r = new CaptureReader();
  const out = r.push(new Uint8Array(readFileSync(SAMPLE)));
  r.end();
  return out.map((p) => p.data.slice());
})();

const ENGINES: [string, Engine][] = [['interpreter', interpreterEngine], ['jit', jitEngine]];

/** Runs the translation of `prog` as sched_cls over `packets`; null where the test run refuses the frame. */
function runTranslated(prog: readonly CbpfInsn[], packets: Uint8Array[], engine: Engine, rules: 'linux' | 'libpcap' = 'linux'): (number | null)[] {
  const contexts = new HookContexts();
  const runner = new TestRunner(new Machine(), contexts);
  const type = progTypeId('sched_cls');
  const prepared = prepareProgram(encodeProgram(classicToEbpf(prog, { rules })), { helpers: helpersForType(type, contexts) });
  const packetRunner = runner.packetRunner(prepared, type, engine);
  return packets.map((f) => {
    try {
      return packetRunner.run(f);
    } catch (e) {
      if (e instanceof PacketRefusedError) return null;
      throw e;
    }
  });
}

const haveTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!haveTcpdump) console.log('skipping the translation of tcpdump programs: tcpdump is not installed');

describe.skipIf(!haveTcpdump)('classic to eBPF: tcpdump programs over the sample capture', () => {
  let accepted = 0;
  it.each(LISTING_EXPRESSIONS)('%s', (expr) => {
    const prog = assembleClassic(spawnSync('tcpdump', ['-ddd', '-y', 'EN10MB', expr], { encoding: 'utf8' }).stdout);
    const expected = frames.map((f) => runClassic(prog, f));
    for (const [, engine] of ENGINES) {
      // The test run refuses frames too short for the header their EtherType announces (the sample's 24-byte IPv4 frames).
      const ours = runTranslated(prog, frames, engine, 'libpcap');
      expect(ours.map((r, i) => (r === null ? frames[i]!.length : -1)).filter((n) => n >= 0)).toEqual([24, 24, 24, 24]);
      expect(ours.map((r, i) => r ?? expected[i])).toEqual(expected);
    }
    accepted += expected.filter((r) => r).length;
  });
  it('the expressions accept some packets', () => {
    expect(accepted).toBeGreaterThan(100);
  });
});

const haveLive = haveTcpdump && spawnSync('tcpdump', ['-d', '-i', 'lo', 'vlan']).status === 0;
if (haveTcpdump && !haveLive) console.log('skipping the translation of tcpdump programs for a live interface: tcpdump -i lo cannot open lo');

/** The socket-buffer metadata tsbpf's tc test run gives a frame (docs/hooks.md): no VLAN offload, lo (ifindex 1). */
function testRunMetadata(f: Uint8Array): SkbMetadata {
  const toLo = f.subarray(0, 6).every((b) => b === 0);
  return { protocol: (f[12]! << 8) | f[13]!, pktType: toLo ? 0 : (f[0]! & 1) === 1 ? 2 : 3, ifindex: 1 };
}

describe.skipIf(!haveLive)('classic to eBPF: tcpdump programs for a live interface (ancillary loads)', () => {
  it.each(LIVE_EXPRESSIONS)('%s', (expr) => {
    const prog = assembleClassic(spawnSync('tcpdump', ['-ddd', '-i', 'lo', expr], { encoding: 'utf8' }).stdout);
    expect(prog.some((i) => (i.k | 0) < 0 && (i.k | 0) >= SKF_AD_OFF)).toBe(true);
    const expected = frames.map((f) => runClassic(prog, f, { linux: testRunMetadata(f) }));
    for (const [, engine] of ENGINES) {
      const ours = runTranslated(prog, frames, engine, 'libpcap');
      expect(ours.map((r, i) => r ?? expected[i])).toEqual(expected);
    }
  });
});

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping the translation's runs in the kernel: ${kernel.reason}`);

describe.skipIf(!haveTcpdump || !kernel.ok)("classic to eBPF: tsbpf's verifier and the running kernel's accept the translations, the kernel runs them", () => {
  // The frames the test run accepts (not the sample's 24-byte IPv4 frames, which Linux's test run refuses too).
  const accepted = frames.filter((f) => runTranslated([insn(Class.RET | RetVal.K, 1)], [f], interpreterEngine)[0] !== null);
  const programs = [
    ...LISTING_EXPRESSIONS.filter((e) => !e.includes('protochain')).map((e) => [e, ['-y', 'EN10MB']] as const),
    ...(haveLive ? LIVE_EXPRESSIONS.map((e) => [e, ['-i', 'lo']] as const) : []),
  ];
  it.each(programs)('%s', (expr, where) => {
    const prog = assembleClassic(spawnSync('tcpdump', ['-ddd', ...where, expr], { encoding: 'utf8' }).stdout);
    // Linux's verifier refuses the backward jumps of protochain (an unbounded loop to it), hence Linux's rules here.
    const ebpf = encodeProgram(classicToEbpf(prog));
    const verdict = verify({ insns: ebpf, progType: progTypeId('sched_cls') });
    expect(verdict.accepted, verdict.log).toBe(true);
    const insns = toHex(ebpf);
    const [reply] = ask([{ cmd: 'run', prog_type: 'sched_cls', insns, inputs: accepted.map((f) => ({ data_in: toHex(f) })) }]);
    expect(reply!.ok, `${reply!.error}\n${reply!.log}`).toBe(true);
    const results = (reply!['results'] as { retval: number }[]).map((r) => r.retval >>> 0);
    expect(results).toEqual(accepted.map((f) => runClassic(prog, f, { linux: testRunMetadata(f) })));
  });
});

/**
 * Seeded random programs Linux accepts: packet loads of every kind at
 * offsets around the frames' ends, ALU (shifts by X kept below 32, where
 * eBPF and libpcap differ), scratch memory, forward jumps, every return.
 */
function randomPrograms(count: number, seed0: number): CbpfInsn[][] {
  let seed = seed0;
  const rand = (n: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const rand32 = (): number => (rand(0x10000) * 0x10000 + rand(0x10000)) >>> 0;
  const out: CbpfInsn[][] = [];
  while (out.length < count) {
    const len = 3 + rand(14);
    const prog: CbpfInsn[] = [];
    for (let i = 0; i < len; i++) {
      const left = len - i - 1;
      const size = [Size.W, Size.H, Size.B][rand(3)]!;
      switch (rand(12)) {
        // Large offsets, and Linux's loads relative to the network and MAC headers.
        case 0: case 1: prog.push(insn(Class.LD | size | Mode.ABS, rand(4) ? rand(80)
          : [0x7fffffff, 0x80000000, 0x80001234, (SKF_LL_OFF - 1) >>> 0, (SKF_NET_OFF + rand(40)) >>> 0, (SKF_LL_OFF + rand(80)) >>> 0][rand(6)]!)); break;
        case 2: prog.push(insn(Class.LD | size | Mode.IND, rand(4) ? rand(60) : rand32())); break;
        case 3: prog.push(insn(Class.LDX | Size.B | Mode.MSH, rand(70))); break;
        case 4: prog.push(rand(2) ? insn(Class.LDX | Mode.IMM, rand(3) ? rand(31) : rand32()) : insn(Class.MISC | (rand(2) ? 0 : 0x80))); break;
        case 5: prog.push(rand(2) ? insn(Class.LD | Size.W | Mode.LEN) : insn(Class.LDX | Size.W | Mode.LEN)); break;
        case 6: case 7: {
          const o = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.MOD, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.LSH, AluOp.RSH, AluOp.NEG][rand(11)]!;
          if (o === AluOp.NEG) prog.push(insn(Class.ALU | AluOp.NEG));
          else if ((o === AluOp.LSH || o === AluOp.RSH) && rand(2)) prog.push(insn(Class.ALU | AluOp.AND | Src.K, 31), insn(Class.MISC | 0), insn(Class.LD | Mode.IMM, rand32()), insn(Class.ALU | o | Src.X));
          else if (o === AluOp.LSH || o === AluOp.RSH) prog.push(insn(Class.ALU | o | Src.K, rand(32)));
          else prog.push(insn(Class.ALU | o | (rand(3) === 0 ? Src.X : Src.K), o === AluOp.DIV || o === AluOp.MOD ? 1 + rand(rand(2) ? 7 : 0xffff) : rand32()));
          break;
        }
        case 8: {
          const slot = rand(4);
          prog.push(insn(rand(2) ? Class.ST : Class.STX, slot), insn(rand(2) ? Class.LD | Mode.MEM : Class.LDX | Mode.MEM, slot));
          break;
        }
        case 9: prog.push(insn(Class.RET | (rand(2) ? RetVal.A : RetVal.K), rand32())); break;
        default: {
          const o = [JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET, JmpOp.JA][rand(5)]!;
          prog.push(insn(Class.JMP | o | (o !== JmpOp.JA && rand(3) === 0 ? Src.X : Src.K), o === JmpOp.JA ? rand(left + 1) : rand(3) ? rand(0x900) : rand32(), rand(left + 1), rand(left + 1)));
        }
      }
    }
    prog.push(insn(Class.RET | RetVal.A));
    if (!findClassicProblem(prog)) out.push(prog);
  }
  return out;
}

describe('classic to eBPF: seeded random programs over the sample frames', () => {
  const programs = randomPrograms(150, 0x1234567);
  const sample = frames.filter((_f, i) => i % 9 === 0);
  it.each(ENGINES)('%s returns what runClassic returns', (_name, engine) => {
    const differ: string[] = [];
    for (const prog of programs) {
      const ours = runTranslated(prog, sample, engine);
      const expected = sample.map((f) => runClassic(prog, f, { linux: testRunMetadata(f) }));
      if (ours.some((r, i) => (r ?? expected[i]) !== expected[i])) differ.push(formatClassic(prog));
    }
    expect(differ).toEqual([]);
  });
  it("tsbpf's verifier accepts their translations", () => {
    const refused = programs.map((prog) => verify({ insns: encodeProgram(classicToEbpf(prog)), progType: progTypeId('sched_cls') }))
      .filter((v) => !v.accepted).map((v) => v.error);
    expect(refused).toEqual([]);
  });
  it.skipIf(!kernel.ok)('the kernel verifies them and returns the same', () => {
    const accepted = sample.filter((f) => runTranslated([insn(Class.RET | RetVal.K, 1)], [f], interpreterEngine)[0] !== null);
    const replies = ask(programs.map((prog) => ({ cmd: 'run', prog_type: 'sched_cls', insns: toHex(encodeProgram(classicToEbpf(prog))), inputs: accepted.map((f) => ({ data_in: toHex(f) })) })));
    const differ: string[] = [];
    programs.forEach((prog, p) => {
      const reply = replies[p]!;
      const got = reply.ok ? (reply['results'] as { retval: number }[]).map((r) => r.retval >>> 0) : `${reply.error} ${String(reply.log).trim().split('\n').slice(-2, -1)[0]}`;
      const expected = accepted.map((f) => runClassic(prog, f, { linux: testRunMetadata(f) }));
      if (JSON.stringify(got) !== JSON.stringify(expected)) differ.push(`${formatClassic(prog)}kernel ${JSON.stringify(got)}, runClassic ${JSON.stringify(expected)}`);
    });
    expect(differ).toEqual([]);
  });
});

const ld = (k: number): CbpfInsn => insn(Class.LD | Mode.IMM, k);
const RETA = insn(Class.RET | RetVal.A);
const anc = (off: number, size: number = Size.W): CbpfInsn => insn(Class.LD | size | Mode.ABS, SKF_AD_OFF + off);

describe.each(ENGINES)('classic to eBPF: hand-made programs (%s)', (_name, engine) => {
  const frame = Uint8Array.from({ length: 60 }, (_v, i) => i);
  frame.set([0x08, 0x00], 12);
  const one = (prog: CbpfInsn[], f = frame) => runTranslated(prog, [f], engine)[0];
  it('ALU, jumps with constants of 2^31 and more, division by an X of 0, scratch memory, ret x', () => {
    expect(one([ld(0x80000001), insn(Class.JMP | JmpOp.JGT | Src.K, 0x80000000, 0, 1), insn(Class.RET, 1), insn(Class.RET, 2)])).toBe(1);
    expect(one([ld(0x7fffffff), insn(Class.JMP | JmpOp.JGE | Src.K, 0x80000000, 0, 1), insn(Class.RET, 1), insn(Class.RET, 2)])).toBe(2);
    expect(one([ld(0xffffffff), insn(Class.JMP | JmpOp.JEQ | Src.K, 0xffffffff, 1, 0), insn(Class.RET, 1), insn(Class.RET, 2)])).toBe(2);
    expect(one([ld(7), insn(Class.ALU | AluOp.DIV | Src.X), insn(Class.RET, 5)])).toBe(0);
    expect(one([ld(7), insn(Class.LDX | Mode.IMM, 2), insn(Class.ALU | AluOp.MOD | Src.X), RETA])).toBe(1);
    expect(one([ld(5), insn(Class.ALU | AluOp.NEG), insn(Class.ALU | AluOp.RSH, 28), RETA])).toBe(0xf);
    expect(one([ld(9), insn(Class.ST, 15), ld(1), insn(Class.LDX | Mode.MEM, 15), insn(Class.ALU | AluOp.ADD | Src.X), RETA])).toBe(10);
    expect(one([insn(Class.LDX | Size.B | Mode.MSH, 14), insn(Class.MISC | 0x80), RETA])).toBe(4 * (14 & 0xf));
    expect(one([insn(Class.LD | Size.W | Mode.LEN), insn(Class.LDX | Size.W | Mode.LEN), insn(Class.ALU | AluOp.ADD | Src.X), RETA])).toBe(120);
    expect(one([insn(Class.LD | Size.H | Mode.ABS, 12), insn(Class.JMP | JmpOp.JSET | Src.K, 0x800, 0, 1), insn(Class.RET, 7), insn(Class.RET, 8)])).toBe(7);
    expect(one([insn(Class.LDX | Mode.IMM, 50), insn(Class.LD | Size.W | Mode.IND, 10), insn(Class.RET, 9)])).toBe(0);
  });
  it('ancillary loads read the __sk_buff (protocol in host order)', () => {
    expect(one([anc(Ancillary.PROTOCOL), RETA])).toBe(0x0800);
    expect(one([anc(Ancillary.PROTOCOL, Size.H), RETA])).toBe(0x0800);
    expect(one([anc(Ancillary.IFINDEX), RETA])).toBe(1);
    expect(one([anc(Ancillary.VLAN_TAG_PRESENT), RETA])).toBe(0);
    expect(one([anc(Ancillary.MARK), RETA])).toBe(0);
    expect(one([ld(6), insn(Class.LDX | Mode.IMM, 3), anc(Ancillary.ALU_XOR_X), RETA])).toBe(5);
    expect(one([anc(Ancillary.CPU), RETA])).toBe(0);
    const pktType = one([anc(Ancillary.PKTTYPE), RETA]);
    expect([0, 1, 2, 3]).toContain(pktType);
  });
});

describe('classic to eBPF: what it refuses', () => {
  it('checks the program first and names the instruction it cannot translate', () => {
    expect(() => classicToEbpf([ld(0), insn(Class.JMP | JmpOp.JA, -2 >>> 0), RETA])).toThrow('insn 1: ja +4294967294');
    expect(() => classicToEbpf([ld(0), anc(Ancillary.HATYPE), RETA])).toThrow('insn 1: ancillary load [hatype] (SKF_AD_OFF + 28) has no __sk_buff field or helper in tsbpf');
    expect(() => classicToEbpf([anc(Ancillary.PAY_OFFSET), RETA])).toThrow('insn 0: ancillary load [poff]');
  });
  it('reads the __sk_buff fields at their UAPI offsets', () => {
    for (const [name, off] of Object.entries(SK_BUFF_FIELDS)) expect(SkBuff[name as keyof typeof SkBuff]).toBe(off);
  });
});
