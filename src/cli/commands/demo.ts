/** `tsbpf demo` (what `npm start` runs): tsbpf at work on the samples it ships. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Command } from 'commander';
import { assemble, disassemble } from '../../asm/index.js';
import { HelperTable } from '../../vm/helper-call.js';
import { interpret } from '../../vm/interpreter.js';
import { Machine } from '../../vm/machine.js';
import { prepareProgram } from '../../vm/prepared-program.js';
import { standardHelpers } from '../../vm/helpers/basic.js';
import { readFileBytes, readTextFile } from '../../node/files.js';
import { hostInfo } from '../../node/host.js';
import { parseObject } from '../../loader/object.js';
import { Collection } from '../../runtime/collection.js';
import { toHex } from '../../runtime/map-io.js';
import { formatMapLines } from './map.js';
import { toEthernet } from '../../capture/read.js';
import { jitEngine } from '../../jit/jit-engine.js';
import { forEachCapturedPacket } from '../../node/capture-files.js';
import { PacketStream } from '../../runtime/packet-stream.js';
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

/** Runs a few of the example objects clang built (examples/) on sample packets. */
function demoObjects(samples: string): void {
  const examples = join(samples, '..', 'examples');
  const packet = (name: string) => readFileBytes(join(examples, 'inputs', name));
  const open = (name: string) => Collection.load(parseObject(readFileBytes(join(examples, name)), { name }), { host: hostInfo() });

  section('examples/proto_count.o: XDP packet counter per IP protocol (clang -target bpf)');
  const counter = open('proto_count.o');
  const prog = counter.program();
  for (const name of ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv4_icmp_echo.bin', 'ipv6_tcp_syn.bin', 'ipv4_tcp_ack_data.bin']) {
    const r = counter.run(prog, { dataIn: packet(name) });
    out(`  ${name.padEnd(24)} -> ${XDP_ACTIONS[r.retval] ?? r.retval}, ${r.insns} instructions`);
  }
  out('per-CPU map proto_stats afterwards (formatted with the object\'s BTF):');
  for (const l of formatMapLines(counter, counter.map('proto_stats'), { compact: true, skipZeroArrayEntries: true })) out('  ' + l);

  section('examples/tail_dispatch.o: tail calls through a prog array, XDP_TX');
  const dispatch = open('tail_dispatch.o');
  const echo = packet('ipv4_icmp_echo.bin');
  const reply = dispatch.run(dispatch.program({ name: 'xdp_dispatch' }), { dataIn: echo });
  out(`ICMP echo request -> ${XDP_ACTIONS[reply.retval]} (the handle_icmp program answered it in place)`);
  out(`  request: ${toHex(echo.subarray(0, 42))}...`);
  out(`  reply:   ${toHex(reply.dataOut.subarray(0, 42))}...`);

  section('examples/global_config.o: settings in .rodata, counters in .data/.bss, bpf_printk');
  const config = open('global_config.o');
  const blocked = config.run(config.program(), { dataIn: packet('ipv4_tcp_telnet.bin') });
  out(`telnet SYN -> ${XDP_ACTIONS[blocked.retval]}; trace pipe: ${config.tracePipe.drain().map((l) => l.text).join(' | ')}`);
  for (const name of ['global_c.rodata', 'global_c.bss']) {
    out(`  ${name}: ${formatMapLines(config, config.map(name), { compact: true }).join(' ')}`);
  }

  section('examples/syn_events.o: a tc program reporting TCP SYNs through a ring buffer');
  const events = open('syn_events.o');
  const tc = events.program();
  for (const name of ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv6_tcp_syn.bin']) events.run(tc, { dataIn: packet(name) });
  const ring = events.map('events');
  out(`ring buffer after 3 packets: ${ring.entries().length} records (one per SYN), ${ring.entries().map((e) => e.value.length).join(' and ')} bytes`);

  section('samples/traffic.pcap through examples/global_config.o, as `tsbpf xdp` runs it');
  const firewall = open('global_config.o');
  const stream = new PacketStream(firewall, firewall.program(), 'xdp', jitEngine);
  const reader = forEachCapturedPacket(join(samples, 'traffic.pcap'), (p) => stream.run(toEthernet(p) ?? p.data));
  const actions = Object.entries(stream.summary.actions).map(([a, c]) => `${a} ${c.packets}`).join(', ');
  out(`${stream.summary.packets} packets of a ${reader.format} capture (maps kept between packets, the JIT): ${actions}`);
  out(`  .data.stats: ${formatMapLines(firewall, firewall.map('.data.stats'), { compact: true }).join(' ')}`);
}

const XDP_ACTIONS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];

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
      demoObjects(dir);
      out();
      out('Next: `tsbpf prog run examples/proto_count.o --data-in examples/inputs/ipv4_tcp_syn.bin`,');
      out('`tsbpf xdp examples/global_config.o -r samples/traffic.pcap`, `tsbpf prog dump examples/csum_loop.o --linum`,');
      out('`tsbpf run FILE --trace`, `tsbpf conformance DIR`.');
    });
}
