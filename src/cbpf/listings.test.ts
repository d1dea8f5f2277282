/**
 * The classic listings against libpcap: for filter expressions, the
 * program of `tcpdump -ddd` printed by formatClassic must equal `tcpdump
 * -d`, `-dd` and `-ddd` byte for byte, and each listing must assemble back
 * to the same instructions. Every opcode (known or not) is also printed by
 * libpcap's own `bpf_image`, through a small C program linked against the
 * installed libpcap at test time, and compared line by line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleClassic } from './assemble.js';
import { formatClassic, formatClassicInsn } from './listings.js';
import { AluOp, Class, JmpOp, Mode, RetVal, SKF_AD_OFF, Size, insn } from './insn.js';
import type { CbpfInsn } from './insn.js';
import { LISTING_EXPRESSIONS, LIVE_EXPRESSIONS } from '../../test/support/filter-expressions.js';

const haveTcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
if (!haveTcpdump) console.log('skipping the comparisons of classic listings with tcpdump: tcpdump is not installed');


/** `i` with the fields its -d line does not show set to 0. */
function shownFields(i: CbpfInsn, n: number): CbpfInsn {
  const line = formatClassicInsn(i, n);
  const k = formatClassicInsn({ ...i, k: 0 }, n) === line ? 0 : i.k;
  const jumps = formatClassicInsn({ ...i, jt: 0, jf: 0 }, n) !== line;
  return { code: i.code, jt: jumps ? i.jt : 0, jf: jumps ? i.jf : 0, k };
}

function tcpdumpListing(flag: string, expr: string, live = false): string {
  const r = spawnSync('tcpdump', [flag, ...(live ? ['-i', 'lo'] : ['-y', 'EN10MB']), expr], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const haveLive = haveTcpdump && spawnSync('tcpdump', ['-d', '-i', 'lo', 'vlan']).status === 0;
if (haveTcpdump && !haveLive) console.log("skipping tcpdump's listings for a live interface: tcpdump -i lo cannot open lo");

describe.each([[false, LISTING_EXPRESSIONS], [true, LIVE_EXPRESSIONS]] as const)('classic listings vs tcpdump -d/-dd/-ddd (live on lo: %s)', (live, expressions) => {
  it.skipIf(!(live ? haveLive : haveTcpdump)).each(expressions)('%s', (expr) => {
    const ddd = tcpdumpListing('-ddd', expr, live);
    const prog = assembleClassic(ddd);
    expect(formatClassic(prog, 'ddd')).toBe(ddd);
    const dd = tcpdumpListing('-dd', expr, live);
    expect(formatClassic(prog, 'dd')).toBe(dd);
    const d = tcpdumpListing('-d', expr, live);
    expect(formatClassic(prog, 'd')).toBe(d);
    // tcpdump leaves stray constants in instructions that do not print them (its tax may carry k = 8): -d cannot keep those.
    expect(assembleClassic(d)).toEqual(prog.map(shownFields));
    expect(assembleClassic(dd)).toEqual(prog);
  });
});

const lib = '/usr/lib/x86_64-linux-gnu/libpcap.so.0.8';
const clang = spawnSync('clang-19', ['--version']).status === 0;
const imageReason = !clang ? 'clang-19 is missing' : !existsSync(lib) ? `${lib} is missing` : '';
if (imageReason) console.log(`skipping the comparison with libpcap's bpf_image: ${imageReason}`);

describe.skipIf(imageReason !== '')("every opcode vs libpcap's bpf_image", () => {
  it('prints all 256 opcodes (and a few wider ones) with several constants as libpcap does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-image-'));
    const src = join(dir, 'image.c');
    // bpf_image is exported by libpcap but its header may be absent: declare it.
    writeFileSync(src, [
      '#include <stdio.h>',
      'struct bpf_insn { unsigned short code; unsigned char jt, jf; unsigned int k; };',
      'char *bpf_image(const struct bpf_insn *, int);',
      'int main(void) { unsigned c, t, f, k; int n = 0; struct bpf_insn i;',
      '  while (scanf("%u %u %u %u", &c, &t, &f, &k) == 4) { i.code = c; i.jt = t; i.jf = f; i.k = k; puts(bpf_image(&i, n++)); }',
      '  return 0; }',
    ].join('\n'));
    const build = spawnSync('clang-19', ['-o', join(dir, 'image'), src, lib], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const ks = [0, 1, 15, 0x800, 0x7fffffff, 0x80000000, 0xffffffff, SKF_AD_OFF >>> 0, (SKF_AD_OFF + 4) >>> 0, (SKF_AD_OFF + 5) >>> 0, (SKF_AD_OFF + 60) >>> 0, (SKF_AD_OFF + 64) >>> 0];
    const prog: CbpfInsn[] = [];
    for (let code = 0; code < 0x100; code++) for (const k of ks) prog.push(insn(code, k, (code * 7) & 0xff, (k + code) & 0xff));
    for (const code of [0x100, 0x106, 0xffff]) prog.push(insn(code, 3, 1, 2));
    const input = prog.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k}`).join('\n') + '\n';
    const r = spawnSync(join(dir, 'image'), [], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const expected = r.stdout.split('\n').slice(0, prog.length);
    const ours = prog.map((i, n) => formatClassicInsn(i, n));
    for (let n = 0; n < prog.length; n++) if (ours[n] !== expected[n]) expect(`${n}: ${ours[n]}`).toBe(`${n}: ${expected[n]}`);
  });
});

describe('classic listings', () => {
  it('prints backward ja targets and the extended forms libpcap calls unimp', () => {
    const prog = [insn(Class.LD | Mode.IMM, 1), insn(Class.JMP | JmpOp.JA, -2 >>> 0), insn(Class.RET | RetVal.X), insn(Class.LDX | Size.W | Mode.LEN)];
    expect(formatClassic(prog)).toBe('(000) ld       #0x1\n(001) ja       0\n(002) unimp    0xe\n(003) unimp    0x81\n');
    const ext = formatClassic(prog, 'd', { extended: true });
    expect(ext).toBe('(000) ld       #0x1\n(001) ja       0\n(002) ret      x\n(003) ldx      #pktlen\n');
    expect(assembleClassic(ext)).toEqual(prog);
  });
  it('assembles hand-written text: no index prefix, ancillary names, negative numbers', () => {
    const text = 'ld [proto]\nldh [x + 2]\nldb [-4092]\nldx M[3]\nadd #-1\nand #0xff\nmod x\nret #0xffff\n';
    expect(assembleClassic(text)).toEqual([
      insn(Class.LD | Mode.ABS, SKF_AD_OFF >>> 0), insn(Class.LD | Size.H | Mode.IND, 2), insn(Class.LD | Size.B | Mode.ABS, (SKF_AD_OFF + 4) >>> 0),
      insn(Class.LDX | Mode.MEM, 3), insn(Class.ALU | AluOp.ADD, 0xffffffff), insn(Class.ALU | AluOp.AND, 0xff), insn(Class.ALU | AluOp.MOD | 0x08),
      insn(Class.RET, 0xffff),
    ]);
  });
  it('names the line and column of what it cannot read', () => {
    expect(() => assembleClassic('(000) ldh      [12]\n(001) frob     #1')).toThrow("line 2:7: unknown mnemonic 'frob'");
    expect(() => assembleClassic('(000) jeq      #0x800           jt 2\tjf 300')).toThrow('line 1:41: the jf target 300 is not 0 to 255 instructions after instruction 0');
    expect(() => assembleClassic('(000) ret #zz')).toThrow("line 1:12: the return value must be a number, not 'zz'");
    expect(() => assembleClassic('(000) ret #1\n(002) ret #2')).toThrow('line 2:1: instruction (002) is number 1 of the listing');
    expect(() => assembleClassic('(000) ldx      [12]')).toThrow("line 1:16: 'ldx' needs '#k', 'M[n]' or '#pktlen', not '[12]'");
    expect(() => assembleClassic('2\n6 0 0 1\n')).toThrow('line 1:1: the listing says 2 instructions but has 1');
    expect(() => assembleClassic('1\n6 0 0\n')).toThrow("line 2:5: expected 'code jt jf k' (four numbers), found 3 fields");
    expect(() => assembleClassic('{ 0x6, 0, 999, 0x00000000 },')).toThrow('line 1:11: jf 999 is larger than 255');
    expect(() => assembleClassic('(000) unimp    0xe')).toThrow("line 1:7: 'unimp 0xe' cannot be assembled");
    expect(() => assembleClassic('constructor #1')).toThrow("line 1:1: unknown mnemonic 'constructor'");
  });
});
