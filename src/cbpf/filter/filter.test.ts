/**
 * The filter compiler against libpcap: for every corpus expression and
 * every test capture (the sample capture, hand-built Ethernet frames, the
 * same packets under raw IP, IPv4, IPv6, Linux SLL/SLL2, null and loopback headers),
 * the packets our program accepts are the packets `tcpdump -r FILE -w OUT
 * EXPR` writes, in order; what tcpdump refuses, we refuse. Program lengths
 * are compared with `tcpdump -d`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../../errors.js';
import { runClassic } from '../classic-interpreter.js';
import { ETHERNET_CORPUS, LINK_CORPUS } from './corpus.js';
import { compileFilter } from './index.js';
import { ethernetPackets, linkPackets } from '../../../test/support/filter-packets.js';
import type { TestPacket } from '../../../test/support/filter-packets.js';
import { haveTcpdump, readPackets, tcpdumpLength, tcpdumpMatches, writeCapture } from '../../../test/support/tcpdump-oracle.js';

if (!haveTcpdump) console.log('skipping libpcap comparisons of the filter compiler: tcpdump is not installed');

const SAMPLE = new URL('../../../samples/traffic.pcap', import.meta.url).pathname;
/** The link types besides Ethernet that the corpus runs on. */
const LINK_TYPES = [101, 228, 229, 113, 276, 0, 108];

interface Capture {
  name: string;
  linkType: number;
  file: string;
  packets: TestPacket[];
}

function captures(dir: string): Capture[] {
  const out: Capture[] = [{ name: 'traffic.pcap', linkType: 1, file: SAMPLE, packets: readPackets(new Uint8Array(readFileSync(SAMPLE))) }];
  const add = (name: string, linkType: number, packets: TestPacket[]): void => {
    const file = join(dir, `${name}.pcap`);
    writeCapture(file, linkType, packets);
    out.push({ name, linkType, file, packets });
  };
  add('ethernet', 1, ethernetPackets());
  for (const lt of LINK_TYPES) add(`link${lt}`, lt, linkPackets(lt));
  return out;
}

/** Compiles or returns the error message. */
export function ours(expr: string, linkType: number): ReturnType<typeof compileFilter> | { error: string } {
  try {
    return compileFilter(expr, linkType);
  } catch (e) {
    if (e instanceof TsbpfError) return { error: e.message };
    throw e;
  }
}

describe.skipIf(!haveTcpdump)('filter compiler vs libpcap (tcpdump)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-filter-'));
  const caps = captures(dir);
  let mine = 0;
  let theirs = 0;
  const cases: [string, number][] = [...ETHERNET_CORPUS.map((e): [string, number] => [e, 1]), ...LINK_CORPUS.flatMap((e) => LINK_TYPES.map((lt): [string, number] => [e, lt]))];
  it('has at least 300 expressions', () => {
    expect(ETHERNET_CORPUS.length + LINK_CORPUS.length).toBeGreaterThanOrEqual(300);
  });
  it.each(cases)('%s (link type %i)', (expr, linkType) => {
    const prog = ours(expr, linkType);
    for (const cap of caps.filter((c) => c.linkType === linkType)) {
      const expected = tcpdumpMatches(cap.file, cap.packets, expr, dir);
      if ('error' in expected) {
        expect('error' in prog ? 'refused' : 'compiled', `tcpdump: ${expected.error}`).toBe('refused');
        return;
      }
      if ('error' in prog) throw new Error(`we refuse what tcpdump accepts: ${prog.error}`);
      const got = cap.packets.flatMap((p, i) => (runClassic(prog, p.data, { wireLen: p.origLen }) !== 0 ? [i] : []));
      expect(got, `${cap.name}`).toEqual(expected);
    }
    if (!('error' in prog)) {
      const n = tcpdumpLength(expr, linkType);
      if (typeof n === 'number') {
        mine += prog.length;
        theirs += n;
      }
    }
  });
  it('programs are about as short as libpcap\'s', () => {
    const ratio = mine / theirs;
    console.log(`filter corpus: ${mine} instructions vs libpcap's ${theirs} (ratio ${ratio.toFixed(3)})`);
    expect(ratio).toBeLessThanOrEqual(1.05);
  });
});
