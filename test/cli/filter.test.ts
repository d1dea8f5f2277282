/**
 * `tsbpf filter`: the -d, -dd and -ddd listings print one program (per link
 * type, optimized or not, about as long as libpcap's), and over captures the matching packets are, in order,
 * the ones `tcpdump -r FILE -w OUT EXPR` writes, on both engines; -c and
 * --json count them; bad expressions and bad usage give one clear line.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/read.js';
import { assembleClassic } from '../../src/cbpf/assemble.js';
import { compileFilter } from '../../src/cbpf/filter/index.js';
import { tempDir, tsbpf } from '../support/cli.js';

const SAMPLE = fileURLToPath(new URL('../../samples/traffic.pcap', import.meta.url));
const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;
if (!haveTcpdump) console.log('skipping tsbpf filter comparisons with tcpdump: tcpdump is not installed');

/** The packets of a capture file, as hex. */
function packets(path: string): string[] {
  const r = new CaptureReader();
  const out = r.push(new Uint8Array(readFileSync(path)));
  r.end();
  return out.map((p) => Buffer.from(p.data).toString('hex'));
}

const EXPRESSIONS = ['tcp port 80', 'udp and not port 53', 'ip6', 'icmp or arp', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'vlan', 'net 10.0.0.0/8', 'ip6 protochain 6', 'len > 100'];

describe.skipIf(!haveTcpdump)('tsbpf filter against tcpdump', () => {
  it.each(EXPRESSIONS)('%s: the three listings print one program, about as long as libpcap\'s', (expr) => {
    const d = tsbpf('filter', '-d', expr);
    const dd = tsbpf('filter', '-dd', expr);
    const ddd = tsbpf('filter', '-ddd', expr);
    expect(d.status, d.stderr).toBe(0);
    const program = assembleClassic(ddd.stdout);
    expect(assembleClassic(dd.stdout)).toEqual(program);
    // -d shows every instruction (libpcap leaves constants in fields it does not print)
    expect(assembleClassic(d.stdout).map((i) => [i.code, i.jt, i.jf])).toEqual(program.map((i) => [i.code, i.jt, i.jf]));
    const theirs = Number(spawnSync('tcpdump', ['-ddd', '-y', 'EN10MB', expr], { encoding: 'utf8' }).stdout.split('\n')[0]);
    expect(program.length).toBeLessThanOrEqual(Math.ceil(theirs * 1.25));
    const unoptimized = assembleClassic(tsbpf('filter', '-ddd', '-O', expr).stdout);
    expect(unoptimized.length).toBeGreaterThanOrEqual(program.length);
  });

  it('compiles for the link type -y names (the program the library gives)', () => {
    for (const [y, linkType] of [['RAW', 101], ['LINUX_SLL', 113], ['LINUX_SLL2', 276], ['NULL', 0], ['EN10MB', 1]] as const) {
      expect(assembleClassic(tsbpf('filter', '-ddd', '-y', y, 'tcp port 80').stdout), y).toEqual(compileFilter('tcp port 80', linkType));
    }
  });

  it.each(EXPRESSIONS)('%s: -w writes what tcpdump writes, -c and --json count it, on both engines', (expr) => {
    const dir = tempDir();
    const theirs = join(dir, 'tcpdump.pcap');
    expect(spawnSync('tcpdump', ['-r', SAMPLE, '-w', theirs, expr]).status).toBe(0);
    const expected = packets(theirs);
    for (const engine of ['jit', 'interp']) {
      const ours = join(dir, `${engine}.pcap`);
      const w = tsbpf('filter', '-r', SAMPLE, '-w', ours, '--engine', engine, expr);
      expect(w.status, w.stderr).toBe(0);
      expect(packets(ours)).toEqual(expected);
      expect(tsbpf('filter', '-r', SAMPLE, '-c', '--engine', engine, expr).stdout.trim()).toBe(String(expected.length));
      const j = JSON.parse(tsbpf('filter', '-r', SAMPLE, '--json', '--engine', engine, expr).stdout);
      const all = packets(SAMPLE);
      expect([j.packets, j.matched, j.indices.map((i: number) => all[i - 1])]).toEqual([all.length, expected.length, expected]);
    }
  });
});

describe('tsbpf filter errors', () => {
  it('a bad expression names the offset; libpcap\'s refusals are refused', () => {
    const r = tsbpf('filter', '-d', 'tcp port');
    expect([r.status, r.stderr.trim()]).toEqual([1, 'tsbpf: offset 8: syntax error']);
    expect(tsbpf('filter', '-d', 'tcp port foo').stderr.trim()).toBe("tsbpf: offset 9: unknown port 'foo'");
    expect(tsbpf('filter', '-d', 'ip and ip6').stderr.trim()).toBe('tsbpf: offset 0: expression rejects all packets');
    expect(tsbpf('filter', '-d', '-O', 'ip and ip6').status).toBe(0);
    // over a capture the expression is the problem, not the file
    expect(tsbpf('filter', '-r', SAMPLE, 'tcp port').stderr.trim()).toBe('tsbpf: offset 8: syntax error');
  });
  it('usage errors exit 2', () => {
    const none = tsbpf('filter', 'tcp');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('nothing to do: give -r FILE to filter a capture, or -d/-dd/-ddd to print the program');
    expect(tsbpf('filter', '-d', '-y', 'TOKENRING', 'tcp').status).toBe(2);
    expect(tsbpf('filter', '-r', SAMPLE, '--engine', 'x', 'tcp').status).toBe(2);
    const missing = tsbpf('filter', '-r', 'nope.pcap', 'tcp');
    expect([missing.status, missing.stderr.trim()]).toEqual([1, 'tsbpf: nope.pcap: cannot read file: no such file']);
  });
});
