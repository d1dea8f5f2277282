/** `tsbpf demo` (what `npm start` runs): tsbpf at work on the samples it ships. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Command } from 'commander';
import { assemble, disassemble } from '../../asm/index.js';
import { HelperTable } from '../../vm/helpers.js';
import { interpret } from '../../vm/interpreter.js';
import { Machine } from '../../vm/machine.js';
import { prepareProgram } from '../../vm/program.js';
import { standardHelpers } from '../../vm/helpers/basic.js';
import { readFileBytes, readTextFile } from '../../node/files.js';
import { hex64, out } from '../output.js';

/** The folder of the samples shipped with the package. */
export function samplesDir(): string {
  return fileURLToPath(new URL('../../../samples/', import.meta.url));
}

function runOn(source: string, input: Uint8Array): { r0: bigint; insns: number } {
  const machine = new Machine({ helpers: new HelperTable(standardHelpers()) });
  const region = machine.space.allocate('input', 'input', input.length);
  machine.space.write(region.start, input);
  const prog = prepareProgram(assemble(source).bytes, { helpers: machine.helpers });
  return interpret(machine, prog, { args: [region.start, input.length] });
}

function section(title: string): void {
  out();
  out(`== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);
}

/** Registers `demo`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('show tsbpf assembling, disassembling and running the sample programs it ships')
    .action(() => {
      const dir = samplesDir();
      const packet = readFileBytes(join(dir, 'tcp-syn.bin'));
      out('tsbpf demo: eBPF programs assembled, disassembled and run in TypeScript.');

      section('samples/parse-tcp.s: Ethernet/IPv4/TCP parser');
      const parseSrc = readTextFile(join(dir, 'parse-tcp.s'));
      const parse = assemble(parseSrc);
      out(`assembled ${parse.insns.length} instructions; llvm-objdump style disassembly:`);
      out(disassemble(parse.bytes, { syntax: 'llvm', addresses: true, labels: true }).trimEnd());
      const port = runOn(parseSrc, packet);
      out(`run on samples/tcp-syn.bin (${packet.length} bytes): r0 = ${port.r0} (TCP destination port), ${port.insns} instructions`);

      section('samples/checksum.s: Internet checksum, a loop over memory');
      const csumSrc = readTextFile(join(dir, 'checksum.s'));
      const ipHeader = packet.slice(14, 34);
      const good = runOn(csumSrc, ipHeader);
      out(`checksum of the IPv4 header: ${hex64(good.r0)} (0 means the header checksum is valid), ${good.insns} instructions`);
      const damaged = ipHeader.slice();
      damaged[8] = 1; // TTL changed without fixing the checksum
      out(`after changing the TTL:      ${hex64(runOn(csumSrc, damaged).r0)} (the header is now invalid)`);

      section('samples/factorial.s: bpf-to-bpf calls, conformance syntax');
      const factSrc = readTextFile(join(dir, 'factorial.s'));
      const fact = assemble(factSrc);
      out(disassemble(fact.bytes, { syntax: 'conformance', labels: true }).trimEnd());
      const f = runOn(factSrc, new Uint8Array(0));
      out(`20! = ${f.r0} in ${f.insns} instructions`);
      out();
      out('Next: `tsbpf run FILE --trace`, `tsbpf disasm FILE --syntax kernel`, `tsbpf conformance DIR`.');
    });
}
