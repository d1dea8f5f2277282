/**
 * Program contexts and packet helpers against the Linux kernel: XDP, tc and
 * socket-filter programs that read context fields and call the packet
 * helpers give the kernel's return value and output packet.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { HookContexts } from '../../src/hooks/contexts.js';
import { helpersForType } from '../../src/hooks/type-helpers.js';
import { progTypeId } from '../../src/hooks/program-types.js';
import { TestRunner } from '../../src/hooks/test-run.js';
import { jitEngine } from '../../src/jit/index.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import type { Engine } from '../../src/vm/engine.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import { ask, kernelAvailable, kernelLacksFeature, toHex } from '../support/kernel-oracle.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping hook differential tests: ${kernel.reason}`);

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
/** Ethernet + IPv4 (valid header checksum) + UDP (valid checksum) + 8 bytes of payload. */
const UDP = hex('02000000000a02000000000b0800 4500002400004000401166c30a0000010a000002 303901bb001042a7 0102030405060708');
const TCP = hex('02000000000a02000000000b0800 45000028123440004006149a0a0000010a000002 c82201bb00000001000000005002faf0ab5c0000');
const BCAST = hex('ffffffffffff02000000000b0806 0001080006040001 02000000000b0a000001 0000000000000a000002');
const VLAN = hex('02000000000a02000000000b8100000a0800 4500001c00004000401166cb0a0000010a000002 303901bb00080000');

interface Case {
  name: string;
  type: string;
  packet: Uint8Array;
  asm: string;
}

function ours(c: Case, engine: Engine): { retval: number; data: string } {
  const machine = new Machine();
  const contexts = new HookContexts();
  const typeId = progTypeId(c.type);
  const helpers = helpersForType(typeId, contexts);
  const runner = new TestRunner(machine, contexts);
  const prog = prepareProgram(assemble(c.asm).bytes, { helpers });
  const r = runner.run(prog, typeId, engine, { dataIn: c.packet });
  return { retval: r.retval, data: toHex(r.dataOut) };
}

function compare(cases: Case[]): void {
  const replies = ask(cases.map((c) => ({ cmd: 'run', prog_type: c.type, insns: toHex(assemble(c.asm).bytes), data_in: toHex(c.packet) })));
  cases.forEach((c, i) => {
    const reply = replies[i]!;
    if (kernelLacksFeature(c.name, reply)) return;
    expect(reply.ok, `${c.name}: ${reply.error}\n${reply.log}`).toBe(true);
    for (const engine of [interpreterEngine, jitEngine]) {
      expect({ name: c.name, engine: engine.name, ...ours(c, engine) }).toEqual({ name: c.name, engine: engine.name, retval: reply.retval, data: reply.data_out });
    }
  });
}

/** A program that copies `__sk_buff` fields into the packet (from byte 0 of data). */
function skbFields(fields: number[]): string {
  const lines = ['r6 = r1', 'r7 = *(u32 *)(r6 + 76)', 'r8 = *(u32 *)(r6 + 80)', 'r9 = r7', `r9 += ${4 * fields.length}`, 'if r9 > r8 goto out'];
  fields.forEach((f, i) => lines.push(`r1 = *(u32 *)(r6 + ${f})`, `*(u32 *)(r7 + ${4 * i}) = r1`));
  lines.push('r0 = *(u32 *)(r6 + 0)', 'exit', 'out:', 'r0 = 1', 'exit');
  return lines.join('\n');
}

/** A socket filter cannot read data/data_end: it reports fields through its return value, one per program. */
function skbField(field: number): string {
  return `r0 = *(u32 *)(r1 + ${field})\nexit`;
}

describe.skipIf(!kernel.ok)('hooks vs Linux kernel', () => {
  it('tc programs see __sk_buff as the kernel fills it', () => {
    const fields = [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 68, 72];
    compare([UDP, TCP, BCAST, VLAN].map((packet, i) => ({ name: `tc fields ${i}`, type: 'sched_cls', packet, asm: skbFields(fields) })));
  });

  it('socket filters see len, protocol, pkt_type and ifindex from the network header on', () => {
    const cases: Case[] = [];
    for (const [i, packet] of [UDP, BCAST, VLAN].entries()) {
      for (const f of [0, 4, 16, 20, 40]) cases.push({ name: `socket field ${f} packet ${i}`, type: 'socket_filter', packet, asm: skbField(f) });
      cases.push({ name: `socket ldabs ${i}`, type: 'socket_filter', packet, asm: 'r6 = r1\nr0 = *(u8 *)skb[9]\nexit' });
      cases.push({ name: `socket ldabs out of range ${i}`, type: 'socket_filter', packet, asm: 'r6 = r1\nr0 = *(u32 *)skb[5000]\nr0 = 7\nexit' });
    }
    compare(cases);
  });

  it('legacy loads relative to the network and MAC headers (SKF_NET_OFF, SKF_LL_OFF) read like Linux', () => {
    const NET = -0x100000;
    const LL = -0x200000;
    const cases: Case[] = [];
    for (const type of ['socket_filter', 'sched_cls']) {
      for (const [i, packet] of [UDP, VLAN].entries()) {
        const load = (what: string, asm: string): void => { cases.push({ name: `${type} ${what} packet ${i}`, type, packet, asm: `r6 = r1\n${asm}\nexit` }); };
        load('network header protocol', `r0 = *(u8 *)skb[${NET + 9}]`);
        load('MAC header ethertype', `r0 = *(u16 *)skb[${LL + 12}]`);
        load('MAC header first word', `r0 = *(u32 *)skb[${LL}]`);
        load('network header through a register', `r7 = ${NET + 12}\nr0 = *(u32 *)skb[r7 + 4]`);
        load('MAC header to the last byte', `r0 = *(u8 *)skb[${LL + packet.length - 1}]\nr0 += 5`);
        load('MAC header past the end', `r0 = *(u8 *)skb[${LL + packet.length}]\nr0 = 9`);
        load('below SKF_LL_OFF', `r0 = *(u8 *)skb[${LL - 1}]\nr0 = 9`);
        load('in the ancillary range', `r0 = *(u32 *)skb[-4096]\nr0 = 9`);
      }
    }
    compare(cases);
  });

  it('bpf_skb_load_bytes, store_bytes and the checksum helpers rewrite like Linux', () => {
    const cases: Case[] = [];
    for (const type of ['sched_cls', 'socket_filter']) {
      const l3 = type === 'socket_filter' ? 0 : 14; // offsets count from skb->data
      cases.push({
        name: `${type}: load_bytes`, type, packet: UDP, asm: `
          r6 = r1
          r1 = r6
          r2 = ${l3 + 12}
          r3 = r10
          r3 += -8
          r4 = 8
          call 26
          r1 = *(u32 *)(r10 - 8)
          r0 += r1
          exit`,
      });
      cases.push({
        name: `${type}: load_bytes out of range`, type, packet: UDP, asm: `
          r6 = r1
          r1 = 0x1111111111111111 ll
          *(u64 *)(r10 - 8) = r1
          r1 = r6
          r2 = 60
          r3 = r10
          r3 += -8
          r4 = 8
          call 26
          r1 = *(u64 *)(r10 - 8)
          r0 += r1
          exit`,
      });
      if (type === 'socket_filter') continue; // socket filters may only read the packet
      // Rewrite the IPv4 TTL (byte 8 of the IP header) to 0x11 and fix the header checksum with l3_csum_replace.
      cases.push({
        name: `${type}: ttl rewrite + l3_csum_replace`, type, packet: UDP, asm: `
          r6 = r1
          r1 = r6
          r2 = ${l3 + 8}
          r3 = r10
          r3 += -2
          r4 = 2
          call 26
          r7 = *(u16 *)(r10 - 2)
          r1 = 0x1111
          *(u16 *)(r10 - 4) = r1
          r1 = r6
          r2 = ${l3 + 8}
          r3 = r10
          r3 += -4
          r4 = 2
          r5 = 0
          call 9
          r8 = r0
          r1 = r6
          r2 = ${l3 + 10}
          r3 = r7
          r4 = 0x1111
          r5 = 2
          call 10
          r0 <<= 8
          r0 |= r8
          exit`,
      });
      // Rewrite the UDP destination port and fix the UDP checksum (pseudo header flag, 2-byte field).
      for (const flags of [0x12, 0x32, 0x14, 0x20 | 0x12, 0x99]) {
        cases.push({
          name: `${type}: port rewrite + l4_csum_replace flags ${flags.toString(16)}`, type, packet: UDP, asm: `
            r6 = r1
            r1 = 0x5000
            *(u16 *)(r10 - 2) = r1
            r1 = r6
            r2 = ${l3 + 22}
            r3 = r10
            r3 += -2
            r4 = 2
            r5 = 0
            call 9
            r1 = r6
            r2 = ${l3 + 26}
            r3 = 0xbb01
            r4 = 0x5000
            r5 = ${flags}
            call 11
            exit`,
        });
      }
    }
    cases.push({
      name: 'tc: change_tail grows and shrinks', type: 'sched_cls', packet: TCP, asm: `
        r6 = r1
        r1 = r6
        r2 = 70
        r3 = 0
        call 38
        r7 = r0
        r1 = r6
        r2 = 10
        r3 = 0
        call 38
        r0 <<= 8
        r0 |= r7
        r1 = *(u32 *)(r6 + 0)
        r1 <<= 16
        r0 |= r1
        exit`,
    });
    compare(cases);
  });

  it('refuses frames shorter than an Ethernet header, as BPF_PROG_TEST_RUN does (EINVAL)', () => {
    const runt = hex('02000000000a02000000000b08');
    const [reply] = ask([{ cmd: 'run', prog_type: 'xdp', insns: 'b7000000020000009500000000000000', data_in: toHex(runt) }]);
    expect(reply!.errno_name).toBe('EINVAL');
    for (const type of ['xdp', 'sched_cls', 'socket_filter']) {
      expect(() => ours({ name: 'runt', type, packet: runt, asm: 'r0 = 2\nexit' }, interpreterEngine)).toThrow('shorter than an Ethernet header');
    }
  });

  it('XDP adjust_head, adjust_tail and adjust_meta move the packet like Linux', () => {
    const cases: Case[] = [];
    for (const delta of [-200, -256, -216, 0, 14, 40, 60, 41]) {
      cases.push({ name: `adjust_head ${delta}`, type: 'xdp', packet: TCP, asm: `r2 = ${delta}\ncall 44\nexit` });
    }
    for (const delta of [-10, -41, -40, 100, 3800, 3000]) {
      cases.push({ name: `adjust_tail ${delta}`, type: 'xdp', packet: TCP, asm: `r2 = ${delta}\ncall 65\nexit` });
    }
    for (const delta of [-4, -32, -36, -6, 4]) {
      cases.push({
        name: `adjust_meta ${delta}`, type: 'xdp', packet: TCP, asm: `
          r6 = r1
          r2 = ${delta}
          call 54
          r7 = r0
          r2 = *(u32 *)(r6 + 8)
          r3 = *(u32 *)(r6 + 0)
          r4 = r2
          r4 += 4
          if r4 > r3 goto skip
          r1 = 0x7777
          *(u32 *)(r2 + 0) = r1
        skip:
          r0 = r7
          exit`,
      });
    }
    cases.push({ name: 'get_buff_len', type: 'xdp', packet: UDP, asm: 'call 188\nexit' });
    compare(cases);
  });
});
