import { readFileSync } from 'node:fs';
import { parseObject } from './src/loader/index.js';
import { loadCollection } from './src/runtime/collection.js';
import { PacketStream } from './src/runtime/packet-stream.js';
import { jitEngine } from './src/jit/index.js';
const obj = parseObject(new Uint8Array(readFileSync('examples/xdp_firewall.o')), { name: 'x.o' });
const inputs = ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv6_tcp_syn.bin', 'ipv4_tcp_telnet.bin', 'arp_request.bin'].map((f) => new Uint8Array(readFileSync(`examples/inputs/${f}`)));
const c = loadCollection(obj);
const s = new PacketStream(c, c.program(), 'xdp', jitEngine);
for (let rep = 0; rep < 5; rep++) {
  const t = performance.now();
  for (let i = 0; i < 200000; i++) s.step(inputs[i % 5]!, i, 1);
  console.log(((performance.now() - t) * 1e6 / 200000).toFixed(0), 'ns/step');
}
