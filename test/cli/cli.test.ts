/**
 * The command line as a user meets it: outputs, JSON shapes, and one clear
 * line with a non-zero exit (never a stack trace) for every kind of bad input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir, tsbpf, writeTemp } from '../support/cli.js';

const dir = tempDir();
const raw = (hex: string) => writeTemp(dir, `p${Math.random().toString(36).slice(2)}.bin`, Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const text = (src: string, ext = '.s') => writeTemp(dir, `p${Math.random().toString(36).slice(2)}${ext}`, src);

function expectCleanError(r: { status: number; stderr: string; stdout: string }, message: string, status = 1): void {
  expect(r.stderr.trim()).toBe(message);
  expect(r.status).toBe(status);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('tsbpf run', () => {
  it('runs llvm-syntax text with r1 = memory and r2 = its length', () => {
    const p = text('r0 = *(u32 *)(r1 + 0x4)\nr0 += r2\nexit\n');
    const r = tsbpf('run', p, '--mem', '01 00 00 00 ff ff ff 7f');
    expect(r.stdout.trim()).toBe('r0 = 0x80000007 (2147483655), 3 instructions');
    expect(r.status).toBe(0);
  });

  it('prints JSON with r0 as unsigned 64-bit hex', () => {
    const p = text('mov %r0, -10\nexit\n');
    const r = tsbpf('run', p, '--json');
    expect(JSON.parse(r.stdout)).toEqual({ r0: '0xfffffffffffffff6', insns: 2 });
  });

  it('reads memory from a file and runs raw instructions', () => {
    const mem = writeTemp(dir, 'mem.bin', Uint8Array.of(5, 0, 0, 0));
    const p = raw('61 10 00 00 00 00 00 00  95 00 00 00 00 00 00 00'); // r0 = *(u32 *)(r1 + 0); exit
    expect(JSON.parse(tsbpf('run', p, '--mem-file', mem, '--json').stdout)).toEqual({ r0: '0x5', insns: 2 });
  });

  it('traces every instruction with the registers it changed', () => {
    const p = text('r0 = 1\nr0 += 2\nexit\n');
    const r = tsbpf('run', p, '--trace');
    expect(r.stderr.split('\n').filter(Boolean).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      '0: r0 = 0x1 ; r0=0x1',
      '1: r0 += 0x2 ; r0=0x3',
      '2: exit',
    ]);
    expect(r.stdout.trim()).toBe('r0 = 0x3 (3), 3 instructions');
  });
});

describe('bad input gives one clear line and a non-zero exit', () => {
  it.each([
    ['an unknown opcode', 'ff 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00', 'insn 0: unknown opcode ff'],
    ['reserved fields set', 'b7 10 00 00 01 00 00 00 95 00 00 00 00 00 00 00', 'insn 0: BPF_MOV uses reserved fields'],
    ['a truncated lddw', '95 00 00 00 00 00 00 00 18 00 00 00 01 00 00 00', 'insn 1: invalid bpf_ld_imm64 insn: truncated, the second slot is missing'],
    ['a jump out of range', '05 00 05 00 00 00 00 00 95 00 00 00 00 00 00 00', 'insn 0: jump out of range from insn 0 to 6'],
    ['a fall-through past the last instruction', 'b7 00 00 00 00 00 00 00', 'insn 0: last insn is not an exit or jmp'],
    ['a length that is not a multiple of 8', 'b7 00 00 00 00 00 00 00 95 00', 'offset 8: program length 10 is not a multiple of 8 bytes'],
  ])('%s', (_what, hex, message) => {
    const p = raw(hex);
    expectCleanError(tsbpf('run', p), `tsbpf: ${p}: ${message}`);
  });

  it('an out-of-bounds access in checked mode names the instruction, address and region', () => {
    const p = text('r0 = *(u64 *)(r1 + 0x4)\nexit\n');
    const r = tsbpf('run', p, '--mem', '0102030405060708');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: .*: insn 0: invalid memory access: read of 8 bytes at 0x[0-9a-f]+ \(input\+4\)\n$/);
  });

  it('an endless loop hits the instruction budget', () => {
    const p = text('loop:\ngoto loop\nexit\n');
    expectCleanError(tsbpf('run', p, '--budget', '1000'),
      `tsbpf: ${p}: insn 0: instruction budget of 1000 exhausted (the program may not terminate; raise it with --budget)`);
  });

  it('malformed assembly names the file, line and column', () => {
    const p = text('r0 = 1\nr0 +== 2\nexit\n');
    const r = tsbpf('run', p);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^tsbpf: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: .+\\n$`));
  });

  it('a missing file', () => {
    expectCleanError(tsbpf('run', join(dir, 'nope.s')), `tsbpf: ${join(dir, 'nope.s')}: cannot read file: no such file`);
  });

  it('bad --mem hex', () => {
    const p = text('exit\n');
    expectCleanError(tsbpf('run', p, '--mem', '0g'), "tsbpf: --mem: '0g' at byte 0 is not hex");
  });

  it('bad option values are usage errors (exit 2) on every command, named before anything runs', () => {
    const p = text('r0 = 0\nexit\n');
    const obj = fileURLToPath(new URL('../../examples/proto_count.o', import.meta.url));
    const cases: [string[], string][] = [
      [['run', p, '--engine', 'warp'], "option '--engine <name>' argument 'warp' is invalid. choose one of: interp, jit"],
      [['run', p, '--syntax', 'foo'], "option '--syntax <syntax>' argument 'foo' is invalid. choose one of: auto, llvm, conformance"],
      [['verify', p, '--syntax', 'foo'], "argument 'foo' is invalid. choose one of: auto, llvm, conformance"],
      [['asm', p, '-o', '/dev/null', '--syntax', 'x'], "argument 'x' is invalid"],
      [['disasm', p, '--syntax', 'x'], "argument 'x' is invalid. choose one of: llvm, conformance, kernel"],
      [['run', p, '--budget', '0'], "option '--budget <n>' argument '0' is invalid. expected a positive integer"],
      [['prog', 'run', obj, '--repeat', 'abc'], "option '--repeat <n>' argument 'abc' is invalid. expected an integer from 0 to 4294967295"],
      [['prog', 'run', obj, '--repeat', '4294967296'], "argument '4294967296' is invalid"],
      [['prog', 'run', obj, '--engine', 'foo'], "argument 'foo' is invalid. choose one of: interp, jit"],
      [['prog', 'run', obj, '--cpus', 'x'], "option '--cpus <n>' argument 'x' is invalid"],
      [['prog', 'load', obj, '--log-level', '7'], "option '--log-level <n>' argument '7' is invalid. expected 0, 1 or 2"],
      [['verify', obj, '--log-level', '7'], "argument '7' is invalid. expected 0, 1 or 2"],
      [['verify', obj, '--prog-type', 'bogus'], "argument 'bogus' is invalid. unknown program type 'bogus'"],
      [['prog', 'run', obj, '--attach-type', 'bogus'], "argument 'bogus' is invalid. unknown attach type 'bogus'"],
      [['conformance', '--engine', 'x'], "argument 'x' is invalid. choose one of: interp, jit"],
      [['xdp', obj, '-r', p, '--format', 'pcapx'], "argument 'pcapx' is invalid. choose one of: pcap, pcapng"],
      [['xdp', obj, '-r', p, '--write-action', 'XDP_DROP'], '--write-action: expected ACTION=FILE, got'],
      [['prog', 'run', obj, '--map-init', '=x'], '--map-init: expected NAME=FILE or FILE'],
    ];
    for (const [args, message] of cases) {
      const r = tsbpf(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: /);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('usage errors exit with 2', () => {
    const r = tsbpf('run');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("missing required argument 'file'");
    expect(tsbpf('frobnicate').status).toBe(2);
  });

  it('a rejected program prints the end of its log; --log-level 1 prints all of it', () => {
    const p = text([...Array<string>(60).fill('r0 = 0'), 'r0 = *(u64 *)(r10 + 8)', 'exit', ''].join('\n'));
    const short = tsbpf('verify', p, '--prog-type', 'socket_filter');
    expect(short.status).toBe(1);
    expect(short.stderr).toContain('... 24 earlier lines (--log-level 1 prints the whole log)');
    expect(short.stderr).toContain('60: (79) r0 = *(u64 *)(r10 +8)\ninvalid read from stack R10 off=8 size=8');
    expect(short.stderr).not.toContain('\n0: (b7) r0 = 0');
    const all = tsbpf('verify', p, '--prog-type', 'socket_filter', '--log-level', '1');
    expect(all.stderr).toContain('\n0: (b7) r0 = 0');
    expect(all.stderr).not.toContain('earlier lines');
  });

  it('several objects load side by side; linking them is --link', () => {
    const a = fileURLToPath(new URL('../../examples/xdp_firewall.o', import.meta.url));
    const b = fileURLToPath(new URL('../../examples/proto_count.o', import.meta.url));
    const both = tsbpf('prog', 'load', a, b, '--json');
    expect(both.status, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout).programs.map((p: { object: string; name: string }) => [p.object, p.name])).toEqual([[a, 'xdp_firewall'], [b, 'proto_count']]);
    const text = tsbpf('prog', 'load', a, b).stdout;
    expect(text).toMatch(/^object xdp_firewall: [^]*^object proto_count: /m);
    const run = tsbpf('prog', 'run', a, b);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('error: 2 object files given: --link links them into one (like bpftool gen object)');
  });

  it('the JIT counts instructions as the interpreter does, unchecked runs too', () => {
    const p = text('r0 = 0\nr1 = 5\nloop:\nr0 += r1\nr1 -= 1\nif r1 != 0 goto loop\nexit\n');
    const outs = ['interp', 'jit'].flatMap((engine) => [[], ['--unsafe']].map((extra) => tsbpf('run', p, '--engine', engine, ...extra).stdout.trim()));
    expect(outs).toEqual(Array(4).fill('r0 = 0xf (15), 18 instructions'));
  });

  it('--trace with --engine jit says that the interpreter runs the program', () => {
    const r = tsbpf('run', text('r0 = 1\nexit\n'), '--trace', '--engine', 'jit');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('note: --trace runs the program on the interpreter (the JIT cannot trace instructions)');
    expect(r.stdout).toContain('r0 = 0x1');
  });

  it('an object with several programs and neither --name nor --section lists them instead of running the first', () => {
    const obj = fileURLToPath(new URL('../../examples/tail_dispatch.o', import.meta.url));
    const r = tsbpf('prog', 'run', obj, '--data-in', fileURLToPath(new URL('../../examples/inputs/ipv4_gre.bin', import.meta.url)));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tail_dispatch.o holds 4 programs: choose one with --name or --section (handle_icmp [xdp, xdp], handle_tcp [xdp, xdp], handle_udp [xdp, xdp], xdp_dispatch [xdp, xdp])');
  });
});

describe('tsbpf asm and disasm', () => {
  it('assembles to raw bytes and disassembles them in both syntaxes', () => {
    const src = text('r0 = 0x1122334455667788 ll\nw0 += 1\nif r0 == 0x0 goto +0x1\nexit\nexit\n');
    const out = join(dir, 'out.bin');
    expect(tsbpf('asm', src, '-o', out).status).toBe(0);
    expect(readFileSync(out).toString('hex')).toBe(
      '1800000088776655' + '0000000044332211' + '0400000001000000' + '1500010000000000' + '9500000000000000' + '9500000000000000');
    expect(tsbpf('disasm', out, '--no-addresses').stdout).toBe(
      'r0 = 0x1122334455667788 ll\nw0 += 0x1\nif r0 == 0x0 goto +0x1\nexit\nexit\n');
    expect(tsbpf('disasm', out, '--syntax', 'conformance', '--no-addresses').stdout).toBe(
      'lddw %r0, 0x1122334455667788\nadd32 %r0, 1\njeq %r0, 0, +1\nexit\nexit\n');
  });

  it('--help works everywhere', () => {
    for (const cmd of [[], ['run'], ['asm'], ['disasm'], ['conformance']]) {
      const r = tsbpf(...cmd, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Usage: tsbpf');
    }
  });
});

describe('tsbpf conformance', () => {
  it('prints one line per failure with the reason, the summary, and exits 1', () => {
    const folder = tempDir();
    writeTemp(folder, 'good.data', '-- asm\nmov %r0, 3\nexit\n-- result\n0x3\n');
    writeTemp(folder, 'bad.data', '-- asm\nmov %r0, 3\nexit\n-- result\n4\n');
    writeTemp(folder, 'broken.data', '-- asm\nmov %r0\nexit\n-- result\n4\n');
    const r = tsbpf('conformance', folder);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `FAIL ${join(folder, 'bad.data')}: r0 = 0x3, expected 0x4`,
      expect.stringMatching(new RegExp(`^FAIL ${join(folder, 'broken.data')}: broken.data:2:\\d+: .+`)),
      '1 passed, 2 failed',
    ]);
    expect(r.status).toBe(1);
  });
});
