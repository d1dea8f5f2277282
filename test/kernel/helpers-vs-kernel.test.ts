/**
 * Helpers against the Linux kernel: the same XDP program calls a helper with
 * many inputs, writes what it returned (and what it wrote to memory) into the
 * packet, and the packet after the run must be the kernel's.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { ask, kernelAvailable, kernelLacksFeature, toHex } from '../support/kernel-oracle.js';
import { runXdp } from '../support/xdp-run.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping helper differential tests: ${kernel.reason}`);

const PACKET = new Uint8Array(64);

/** Wraps `body` so that r9 holds the packet pointer (64 bytes available). */
function xdpProgram(body: string): Uint8Array {
  return assemble(`
    r2 = *(u32 *)(r1 + 0)
    r3 = *(u32 *)(r1 + 4)
    r4 = r2
    r4 += 64
    if r4 > r3 goto out
    *(u64 *)(r10 - 8) = r2
${body}
out:
    r0 = 2
    exit
`).bytes;
}

/** Stores `bytes` (at most 32) at fp-48..fp-17 through r1. */
function stackBytes(bytes: Uint8Array): string {
  const padded = new Uint8Array(32);
  padded.set(bytes.subarray(0, 32));
  const view = new DataView(padded.buffer);
  let out = '';
  for (let i = 0; i < 4; i++) {
    out += `    r1 = 0x${view.getBigUint64(i * 8, true).toString(16)} ll\n    *(u64 *)(r10 - ${48 - i * 8}) = r1\n`;
  }
  return out;
}

function compare(programs: { name: string; bytes: Uint8Array }[]): void {
  const replies = ask(programs.map((p) => ({ cmd: 'run', prog_type: 'xdp', insns: toHex(p.bytes), data_in: toHex(PACKET) })));
  programs.forEach((p, i) => {
    const reply = replies[i]!;
    if (kernelLacksFeature(p.name, reply)) return;
    expect(reply.ok, `${p.name}: ${reply.error}\n${reply.log}`).toBe(true);
    const ours = runXdp(p.bytes, PACKET);
    expect(`${p.name}: ${toHex(ours.dataOut).slice(0, 48)}`).toBe(`${p.name}: ${reply.data_out!.slice(0, 48)}`);
  });
}

const enc = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!kernel.ok)('helpers vs Linux kernel', () => {
  it('bpf_strtol and bpf_strtoul parse like Linux', () => {
    const inputs = ['3201', '-3201', '  42x', '0x1f', '0X1F', '017', '0', '-', '', 'abc', '9223372036854775807', '9223372036854775808',
      '-9223372036854775808', '-9223372036854775809', '18446744073709551615', '18446744073709551616', '0x', '0xg', '\t\n 7', '+5', '1a'];
    const programs: { name: string; bytes: Uint8Array }[] = [];
    for (const text of inputs) {
      for (const flags of [0, 8, 10, 16, 3, 0x20]) {
        for (const [id, name] of [[105, 'strtol'], [106, 'strtoul']] as const) {
          const bytes = enc(text);
          programs.push({
            name: `${name}(${JSON.stringify(text)}, base ${flags})`,
            bytes: xdpProgram(`${stackBytes(bytes)}
    r1 = 0
    *(u64 *)(r10 - 56) = r1
    r1 = r10
    r1 += -48
    r2 = ${Math.max(1, bytes.length)}
    r3 = ${flags}
    r4 = r10
    r4 += -56
    call ${id}
    r9 = *(u64 *)(r10 - 8)
    *(u64 *)(r9 + 0) = r0
    r1 = *(u64 *)(r10 - 56)
    *(u64 *)(r9 + 8) = r1`),
          });
        }
      }
    }
    compare(programs);
  });

  it('bpf_trace_printk returns what Linux returns for each format', () => {
    // Numbers as arguments (r3 = -7, r4 = 12345, r5 = 65) and pointers as arguments (r3..r5 = a stack buffer).
    const numeric = ['hello\n', 'x=%d\n', '%u %x %X\n', '%ld %lu %lx\n', '%llx %lld %llu\n', '%5d|%-5d|%05d\n', '%c%c%c\n',
      '%q\n', '%d %d %d %d\n', '%%\n', '%+d % d %x\n', '%hd\n', '%z\n', '100%\n', '%i %li %lli\n', '%08x|%-8x|\n', '%pS\n', '%p %px\n'];
    // (%pus is left out: Linux fails to read a stack address as user memory; tsbpf has one address space.)
    const pointers = ['%s|%5s|%-5s\n', '%pI4 %pi4\n', '%pI6\n', '%pi6\n', '%pks|%s\n'];
    const program = (fmt: string, args: string) => xdpProgram(`${stackBytes(new Uint8Array([...enc(fmt), 0]))}
    r1 = 0x0a0b0c0d00616263 ll
    *(u64 *)(r10 - 64) = r1
    r1 = 0x0102030405060708 ll
    *(u64 *)(r10 - 56) = r1
    r1 = r10
    r1 += -48
    r2 = ${fmt.length + 1}
${args}
    call 6
    r9 = *(u64 *)(r10 - 8)
    *(u64 *)(r9 + 0) = r0`);
    compare([
      ...numeric.map((fmt) => ({ name: `trace_printk(${JSON.stringify(fmt)})`, bytes: program(fmt, '    r3 = -7\n    r4 = 12345\n    r5 = 65') })),
      ...pointers.map((fmt) => ({ name: `trace_printk(${JSON.stringify(fmt)})`, bytes: program(fmt, '    r3 = r10\n    r3 += -61\n    r4 = r10\n    r4 += -64\n    r5 = r10\n    r5 += -64') })),
    ]);
  });

  it('bpf_csum_diff folds the difference like Linux 6.11+', () => {
    const cases: [number, number, number][] = [[4, 4, 0], [8, 4, 0], [0, 8, 0x1234], [16, 16, 0xffffffff], [3, 4, 0], [4, 0, 7], [0, 0, 9], [12, 0, 0], [0, 0, 0x12345678], [16, 12, 0x10000]];
    const programs = cases.map(([from, to, seed]) => ({
      name: `csum_diff(${from}, ${to}, ${seed})`,
      bytes: xdpProgram(`${stackBytes(Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff))}
    r1 = r10
    r1 += -48
    r2 = ${from}
    r3 = r10
    r3 += -32
    r4 = ${to}
    r5 = ${seed} ll
    call 28
    r9 = *(u64 *)(r10 - 8)
    *(u64 *)(r9 + 0) = r0`),
    }));
    compare(programs);
  });

  it('bpf_probe_read_kernel(_str) copy from the stack', () => {
    const programs = [4, 8, 13].flatMap((size) => [113, 115].map((id) => ({
      name: `helper ${id} size ${size}`,
      bytes: xdpProgram(`${stackBytes(enc('tsbpf string\0tail'))}
    r1 = 0
    *(u64 *)(r10 - 64) = r1
    *(u64 *)(r10 - 56) = r1
    r1 = r10
    r1 += -64
    r2 = ${size}
    r3 = r10
    r3 += -48
    call ${id}
    r9 = *(u64 *)(r10 - 8)
    *(u64 *)(r9 + 0) = r0
    r1 = *(u64 *)(r10 - 64)
    *(u64 *)(r9 + 8) = r1
    r1 = *(u64 *)(r10 - 56)
    *(u64 *)(r9 + 16) = r1`),
    })));
    compare(programs);
  });
});
