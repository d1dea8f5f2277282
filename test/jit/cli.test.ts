/** The JIT through the command line: `run --engine jit [--unsafe]`, `conformance --engine jit`, `disasm --wat`. */
import { describe, expect, it } from 'vitest';
import { tempDir, tsbpf, writeTemp } from '../support/cli.js';

const SUM = `
    r0 = 0
    r3 = 0
loop:
    r4 = *(u8 *)(r1 + 0)
    r0 += r4
    r1 += 1
    r3 += 1
    if r3 < r2 goto loop
    exit
`;

describe('tsbpf with --engine jit', () => {
  const dir = tempDir();
  const file = writeTemp(dir, 'sum.s', SUM);

  it('runs a program and counts its instructions, as the interpreter does', () => {
    const jit = tsbpf('run', file, '--mem', '01 02 03 04', '--engine', 'jit');
    const interp = tsbpf('run', file, '--mem', '01 02 03 04');
    expect(jit.stderr).toBe('');
    expect(jit.stdout).toBe(interp.stdout);
    expect(jit.stdout.trim()).toBe('r0 = 0xa (10), 23 instructions');
  });

  it('--unsafe runs without checks, counting instructions as the interpreter does', () => {
    const r = tsbpf('run', file, '--mem', '01 02 03 04', '--engine', 'jit', '--unsafe', '--json');
    expect(r.status).toBe(0);
    const interp = JSON.parse(tsbpf('run', file, '--mem', '01 02 03 04', '--unsafe', '--json').stdout);
    expect(JSON.parse(r.stdout)).toEqual(interp);
    expect(interp.r0).toBe('0xa');
    expect(interp.insns).toBeGreaterThan(0);
  });

  it('reports faults with the instruction, like the interpreter', () => {
    const bad = writeTemp(dir, 'bad.s', 'r1 = 16\nr0 = *(u64 *)(r1 + 0)\nexit\n');
    const jit = tsbpf('run', bad, '--engine', 'jit');
    const interp = tsbpf('run', bad);
    expect(jit.status).toBe(1);
    expect(jit.stderr).toBe(interp.stderr);
    expect(jit.stderr).toContain('insn 1: invalid memory access: read of 8 bytes at 0x10 (NULL guard page)');
  });

  it('disasm --wat prints the generated module', () => {
    const r = tsbpf('disasm', file, '--wat');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\(module/);
    expect(r.stdout).toContain(';; 2: r4 = *(u8 *)(r1 + 0x0)');
    expect(r.stdout).toContain('loop');
    const unsafe = tsbpf('disasm', file, '--wat', '--unsafe');
    expect(unsafe.stdout).not.toContain('(import "env" "budget"');
    expect(r.stdout).toContain('(import "env" "budget"');
  });

  it('conformance --unsafe runs the suite unchecked', () => {
    const t = writeTemp(dir, 'add.data', '-- asm\nmov %r0, 1\nadd %r0, 2\nexit\n-- result\n0x3\n');
    const r = tsbpf('conformance', t, '--engine', 'jit', '--unsafe');
    expect(r.stdout.trim()).toBe('1 passed, 0 failed');
  });
});
