/**
 * The classic interpreter against libpcap: for filter expressions, the
 * program `tcpdump -ddd` prints runs here over real captures, and the
 * packets it accepts are, in order, the packets `tcpdump -r FILE -w OUT
 * EXPR` writes (tcpdump runs that same program with libpcap's bpf_filter).
 * Hand-written programs pin the corner cases (out-of-bounds loads, division
 * by zero, shifts, scratch memory, backward `ja`, Linux ancillary loads).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../capture/read.js';
import type { CapturedPacket } from '../capture/read.js';
import { AluOp, Ancillary, Class, JmpOp, Mode, RetVal, SKF_AD_OFF, Size, Src, insn } from './insn.js';
import type { CbpfInsn } from './insn.js';
import { runClassic } from './classic-interpreter.js';

const SAMPLE = new URL('../../samples/traffic.pcap', import.meta.url);

function packetsOf(bytes: Uint8Array): CapturedPacket[] {
  const r = new CaptureReader();
  const out = r.push(bytes);
  r.end();
  return out;
}

/** `tcpdump -ddd` output: the count, then `code jt jf k` per line. */
function parseDdd(text: string): CbpfInsn[] {
  const [count, ...lines] = text.trim().split('\n');
  const prog = lines.map((l) => {
    const [code, jt, jf, k] = l.trim().split(/\s+/).map(Number);
    return insn(code!, k!, jt!, jf!);
  });
  expect(prog).toHaveLength(Number(count));
  return prog;
}

const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;
if (!haveTcpdump) console.log('skipping libpcap comparisons of the classic interpreter: tcpdump is not installed');

const EXPRESSIONS = [
  'tcp', 'udp', 'ip', 'ip6', 'arp', 'icmp', 'tcp port 80', 'udp port 53', 'tcp dst port 23 or tcp dst port 80',
  'host 10.0.0.1', 'net 10.0.0.0/8', 'not ip', 'ip and len > 100', 'tcp[tcpflags] & tcp-syn != 0', 'ip[8] < 64',
  'ether broadcast', 'ip6 protochain 6', 'portrange 1-1024', 'src host 10.0.0.1 and dst port 80', 'vlan', 'ip[2:2] / 4 > 20',
  'tcp[13] & 0x12 == 0x12', 'less 60', 'greater 1000', 'ip multicast', 'icmp[icmptype] == icmp-echo',
];

describe.skipIf(!haveTcpdump)('classic interpreter vs libpcap (tcpdump)', () => {
  const sample = new Uint8Array(readFileSync(SAMPLE));
  const packets = packetsOf(sample);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cbpf-'));
  it.each(EXPRESSIONS)('%s', (expr) => {
    const ddd = spawnSync('tcpdump', ['-ddd', '-y', 'EN10MB', expr], { encoding: 'utf8' });
    expect(ddd.status, ddd.stderr).toBe(0);
    const prog = parseDdd(ddd.stdout);
    const out = join(dir, 'matched.pcap');
    const r = spawnSync('tcpdump', ['-r', new URL(SAMPLE).pathname, '-w', out, expr], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const expected = packetsOf(new Uint8Array(readFileSync(out))).map((p) => Buffer.from(p.data).toString('hex'));
    const ours = packets.filter((p) => runClassic(prog, p.data, { wireLen: p.origLen }) !== 0).map((p) => Buffer.from(p.data).toString('hex'));
    expect(ours).toEqual(expected);
  });
});

describe('classic interpreter semantics', () => {
  const pkt = Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
  const run = (prog: CbpfInsn[], p = pkt, options = {}) => runClassic(prog, p, options);
  const ret = (what: number) => insn(Class.RET | what);
  it('big-endian loads; a load past the captured bytes rejects the packet', () => {
    expect(run([insn(Class.LD | Size.W | Mode.ABS, 1), ret(RetVal.A)])).toBe(0x22334455);
    expect(run([insn(Class.LD | Size.H | Mode.ABS, 4), ret(RetVal.A)])).toBe(0x5566);
    expect(run([insn(Class.LD | Size.W | Mode.ABS, 3), ret(RetVal.K)])).toBe(0);
    expect(run([insn(Class.LD | Size.B | Mode.ABS, 0xffffffff), insn(Class.RET | RetVal.K, 9)])).toBe(0);
    // indirect: X + k, no wrap-around
    expect(run([insn(Class.LDX | Mode.IMM, 0xffffffff), insn(Class.LD | Size.B | Mode.IND, 2), insn(Class.RET | RetVal.K, 9)])).toBe(0);
    expect(run([insn(Class.LDX | Mode.IMM, 2), insn(Class.LD | Size.B | Mode.IND, 3), ret(RetVal.A)])).toBe(0x66);
  });
  it('len is the wire length; 4*([k]&0xf); scratch memory; tax/txa', () => {
    expect(run([insn(Class.LD | Mode.LEN), ret(RetVal.A)], pkt, { wireLen: 1500 })).toBe(1500);
    expect(run([insn(Class.LDX | Size.B | Mode.MSH, 0), insn(Class.MISC | 0x80), ret(RetVal.A)])).toBe(4);
    expect(run([insn(Class.LD | Mode.IMM, 7), insn(Class.ST, 15), insn(Class.LDX | Mode.MEM, 15), ret(RetVal.X)])).toBe(7);
  });
  it('ALU: u32 wrap-around; division by an X of 0 rejects; shifts of 32 or more give 0', () => {
    const alu = (a: number, o: number, x: number) => run([insn(Class.LD | Mode.IMM, a), insn(Class.LDX | Mode.IMM, x), insn(Class.ALU | o | Src.X), ret(RetVal.A)]);
    expect(alu(0xffffffff, AluOp.ADD, 2)).toBe(1);
    expect(alu(0, AluOp.SUB, 1)).toBe(0xffffffff);
    expect(alu(0x10000, AluOp.MUL, 0x10001)).toBe(0x10000);
    expect(alu(7, AluOp.DIV, 0)).toBe(0);
    expect(alu(7, AluOp.MOD, 0)).toBe(0);
    expect(alu(0xffffffff, AluOp.DIV, 16)).toBe(0x0fffffff);
    expect(alu(1, AluOp.LSH, 31)).toBe(0x80000000);
    expect(alu(1, AluOp.LSH, 32)).toBe(0);
    expect(alu(0x80000000, AluOp.RSH, 31)).toBe(1);
    expect(run([insn(Class.LD | Mode.IMM, 5), insn(Class.ALU | AluOp.NEG), ret(RetVal.A)])).toBe(0xfffffffb);
  });
  it('jumps: unsigned compares, jset, and a signed ja that may go backwards', () => {
    const jmp = (a: number, o: number, k: number) => run([insn(Class.LD | Mode.IMM, a), insn(Class.JMP | o | Src.K, k, 0, 1), insn(Class.RET, 1), insn(Class.RET, 2)]);
    expect([jmp(0x80000000, JmpOp.JGT, 1), jmp(1, JmpOp.JGE, 1), jmp(5, JmpOp.JSET, 2), jmp(5, JmpOp.JEQ, 5)]).toEqual([1, 1, 2, 1]);
    // count down from 3 with a backward ja
    const loop = [
      insn(Class.LD | Mode.IMM, 3),
      insn(Class.JMP | JmpOp.JEQ | Src.K, 0, 2, 0),
      insn(Class.ALU | AluOp.SUB | Src.K, 1),
      insn(Class.JMP | JmpOp.JA, -3 >>> 0),
      insn(Class.RET, 42),
    ];
    expect(run(loop)).toBe(42);
    expect(() => run([insn(Class.JMP | JmpOp.JA, -1 >>> 0)], pkt, { budget: 100 })).toThrow('instruction budget of 100 spent (insn 0)');
  });
  it('Linux ancillary loads only with socket-buffer metadata; libpcap reads them as out of bounds', () => {
    const anc = (off: number) => [insn(Class.LD | Size.W | Mode.ABS, (SKF_AD_OFF + off) >>> 0), ret(RetVal.A)];
    expect(run(anc(Ancillary.PROTOCOL))).toBe(0);
    const linux = { protocol: 0x0800, ifindex: 3, vlanTci: 0x0064, pktType: 4 };
    expect([Ancillary.PROTOCOL, Ancillary.IFINDEX, Ancillary.VLAN_TAG, Ancillary.VLAN_TAG_PRESENT, Ancillary.PKTTYPE, Ancillary.VLAN_TPID]
      .map((o) => run(anc(o), pkt, { linux }))).toEqual([0x0800, 3, 0x64, 1, 4, 0x8100]);
    expect(run(anc(Ancillary.VLAN_TAG_PRESENT), pkt, { linux: {} })).toBe(0);
  });
});
