/**
 * tcpdump as the oracle of the filter tests: the packets of a capture
 * file that `tcpdump -r FILE -w OUT EXPR` keeps, and the length of
 * libpcap's optimized program (`tcpdump -d`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureReader } from '../../src/capture/read.js';
import { CaptureWriter } from '../../src/capture/write.js';
import type { TestPacket } from './filter-packets.js';

/** Is tcpdump installed? */
export const haveTcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;

/** tcpdump's -y names of the link types. */
export const DLT_NAME: Record<number, string> = { 1: 'EN10MB', 101: 'RAW', 228: 'IPV4', 229: 'IPV6', 113: 'LINUX_SLL', 276: 'LINUX_SLL2', 0: 'NULL', 108: 'LOOP' };

/** Reads the packets of a capture file's bytes. */
export function readPackets(bytes: Uint8Array): TestPacket[] {
  const r = new CaptureReader();
  const out = r.push(bytes);
  r.end();
  return out.map((p) => ({ data: p.data, origLen: p.origLen }));
}

/** Writes packets as a pcap file of `linkType`. */
export function writeCapture(path: string, linkType: number, packets: readonly TestPacket[]): void {
  const w = new CaptureWriter({ format: 'pcap', interfaces: [{ linkType, snapLen: 262144, name: 'test' }] });
  const parts: Uint8Array[] = [w.header()];
  packets.forEach((p, i) => parts.push(w.packet({ data: p.data, origLen: p.origLen, sec: 1700000000 + i, nsec: 0 })));
  writeFileSync(path, Buffer.concat(parts));
}

/** The indexes of the packets of `file` that tcpdump keeps for `expr` (optimized unless `unoptimized`, tcpdump -O), or tcpdump's error. */
export function tcpdumpMatches(file: string, packets: readonly TestPacket[], expr: string, dir: string, unoptimized = false): number[] | { error: string } {
  const out = join(dir, 'out.pcap');
  const r = spawnSync('tcpdump', [...(unoptimized ? ['-O'] : []), '-r', file, '-w', out, expr], { encoding: 'utf8' });
  if (r.status !== 0) return { error: r.stderr.trim() };
  const kept = readPackets(new Uint8Array(readFileSync(out))).map((p) => Buffer.from(p.data).toString('hex') + '/' + p.origLen);
  // Map back to indexes in order (identical packets match in order).
  const all = packets.map((p) => Buffer.from(p.data).toString('hex') + '/' + p.origLen);
  const result: number[] = [];
  let from = 0;
  for (const k of kept) {
    const i = all.indexOf(k, from);
    if (i < 0) return { error: `tcpdump wrote a packet not in the input` };
    result.push(i);
    from = i + 1;
  }
  return result;
}

/** Instruction count of libpcap's optimized program, or its error. */
export function tcpdumpLength(expr: string, linkType: number): number | { error: string } {
  const r = spawnSync('tcpdump', ['-d', '-y', DLT_NAME[linkType]!, expr], { encoding: 'utf8' });
  if (r.status !== 0) return { error: r.stderr.trim() };
  return r.stdout.split('\n').filter((l) => /^\(\d+\)/.test(l)).length;
}
