/**
 * `npm run bench`: engine speed on a few programs, with the Linux kernel's
 * JIT (BPF_PROG_TEST_RUN on the same bytes) as the reference measured in the
 * same run. Prints ns per run, ns per executed instruction and ratios.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/asm/index.js';
import { XdpContext } from '../src/hooks/xdp.js';
import { HelperTable } from '../src/vm/helpers.js';
import { interpreterEngine } from '../src/vm/engine.js';
import { Machine } from '../src/vm/machine.js';
import { prepareProgram } from '../src/vm/program.js';
import { standardHelpers } from '../src/vm/helpers/basic.js';
import { ask, kernelAvailable, toHex } from '../test/support/kernel-oracle.js';

interface Bench {
  name: string;
  file: string;
  packet: Uint8Array;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function tcpPacket(): Uint8Array {
  return new Uint8Array(readFileSync(here('../samples/tcp-syn.bin')));
}

const benches: Bench[] = [
  { name: 'ALU loop (1000 iterations)', file: 'alu-loop.s', packet: new Uint8Array(64) },
  { name: 'checksum over 1500 bytes', file: 'checksum.s', packet: Uint8Array.from({ length: 1500 }, (_, i) => (i * 7) & 0xff) },
  { name: 'Ethernet/IPv4/TCP parse', file: 'parse.s', packet: tcpPacket() },
];

function timeInterpreter(bytes: Uint8Array, packet: Uint8Array): { nsPerRun: number; insns: number; retval: number } {
  const machine = new Machine({ helpers: new HelperTable(standardHelpers()) });
  const xdp = new XdpContext(machine);
  xdp.load(packet);
  const prog = prepareProgram(bytes, { helpers: machine.helpers });
  const runner = interpreterEngine.load(machine, prog);
  const once = () => runner.run({ args: [xdp.ctx.start], checked: true });
  const first = once();
  // Warm up, then time batches until at least 300 ms have passed.
  for (let i = 0; i < 200; i++) once();
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 100; i++) once();
    runs += 100;
    elapsed = performance.now() - start;
  } while (elapsed < 300);
  return { nsPerRun: (elapsed * 1e6) / runs, insns: first.insns, retval: Number(first.r0 & 0xffffffffn) };
}

function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

function main(): void {
  const kernel = kernelAvailable();
  console.log(`tsbpf bench on Node ${process.version}; kernel reference: ${kernel.ok ? 'BPF_PROG_TEST_RUN (JIT)' : `unavailable (${kernel.reason})`}`);
  const rows: string[][] = [['program', 'insns/run', 'interp ns/run', 'interp ns/insn', 'kernel ns/run', 'kernel ns/insn', 'interp/kernel', 'retval']];
  for (const b of benches) {
    const bytes = assemble(readFileSync(here(`programs/${b.file}`), 'utf8'), { file: b.file }).bytes;
    const interp = timeInterpreter(bytes, b.packet);
    let kernelNs: number | undefined;
    let kernelRet: number | undefined;
    if (kernel.ok) {
      const [reply] = ask([{ cmd: 'run', prog_type: 'xdp', insns: toHex(bytes), data_in: toHex(b.packet), repeat: 20000 }]);
      if (reply?.ok) {
        kernelNs = reply.duration_ns;
        kernelRet = reply.retval;
      } else {
        console.log(`kernel refused ${b.file}: ${reply?.error}\n${reply?.log}`);
      }
    }
    const agree = kernelRet === undefined ? `${interp.retval}` : kernelRet === interp.retval ? `${interp.retval} (=)` : `${interp.retval} != kernel ${kernelRet}`;
    rows.push([
      b.name, String(interp.insns), fmt(interp.nsPerRun), fmt(interp.nsPerRun / interp.insns, 2),
      fmt(kernelNs), fmt(kernelNs === undefined ? undefined : kernelNs / interp.insns, 3),
      kernelNs ? `${fmt(interp.nsPerRun / kernelNs)}x` : '-', agree,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  console.log('Kernel times are BPF_PROG_TEST_RUN averages (repeat 20000); they include the test-run loop overhead per repetition.');
}

main();
