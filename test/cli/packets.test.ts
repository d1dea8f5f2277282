/**
 * `tsbpf xdp|tc|socket OBJ -r CAPTURE`: summaries and JSON checked against
 * hand-counted expectations on a capture of the example inputs, written
 * captures read back by tcpdump (libpcap), map state carried between runs,
 * and the errors a user can cause (a damaged capture, a wrong program, a
 * bad option), each naming what and where.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureWriter } from '../../src/capture/write.js';
import { forEachCapturedPacket } from '../../src/node/capture-files.js';
import { tempDir, tsbpf, writeTemp } from '../support/cli.js';
import { EXAMPLES_DIR } from '../examples/manifest.js';

const ex = (name: string) => join(EXAMPLES_DIR, name);
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const input = (name: string) => new Uint8Array(readFileSync(join(EXAMPLES_DIR, 'inputs', name)));
const NAMES = ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv6_tcp_syn.bin', 'arp_request.bin', 'ipv4_tcp_telnet.bin', 'ipv4_tcp_syn.bin'];

/** A capture of the example inputs (pcap or pcapng), one second apart. */
function capture(dir: string, format: 'pcap' | 'pcapng', names = NAMES): string {
  const w = new CaptureWriter({ format, interfaces: [{ linkType: 1, snapLen: 65535, name: 'eth0' }], nanosecond: true });
  const path = join(dir, `in.${format}`);
  writeFileSync(path, Buffer.concat([w.header(), ...names.map((n, i) => w.packet({ data: input(n), sec: 1_700_000_000 + i, nsec: 0 }))]));
  return path;
}

const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;
if (!haveTcpdump) console.log('skipping tcpdump reads of written captures: tcpdump is not installed');

describe('tsbpf xdp', () => {
  it('counts packets per action and prints the maps (proto_count counts TCP and UDP per protocol)', () => {
    const dir = tempDir();
    for (const format of ['pcap', 'pcapng'] as const) {
      const r = tsbpf('xdp', ex('proto_count.o'), '-r', capture(dir, format), '--json');
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      const bytes = NAMES.reduce((n, f) => n + input(f).length, 0);
      expect(j).toMatchObject({ packets: 6, bytes, actions: { XDP_PASS: 6 } });
      expect(typeof j.pps).toBe('number');
      // proto_stats[6] (TCP, IPv4 and IPv6): 4 packets; [17] (UDP): 1
      const stats = Object.fromEntries(j.maps.proto_stats.map((e: { key: string; value: string }) => [parseInt(e.key.slice(0, 2), 16), parseInt(e.value.slice(0, 2), 16)]));
      expect(stats).toEqual({ 6: 4, 17: 1 });
      const text = tsbpf('xdp', ex('proto_count.o'), '-r', capture(dir, format));
      expect(text.stdout).toMatch(/^proto_count \(xdp\): 6 packets, \d+ bytes in [\d.]+ ms \(\d+ packets\/s\)$/m);
      expect(text.stdout).toMatch(/^ {2}XDP_PASS +6 packets +\d+ bytes$/m);
    }
  });

  it('writes the packets that pass, and the others per action, that tcpdump reads back in order', () => {
    const dir = tempDir();
    const pass = join(dir, 'pass.pcap');
    const drop = join(dir, 'drop.pcapng');
    // global_config drops telnet (port 23 in .rodata) and passes the rest
    const r = tsbpf('xdp', ex('global_config.o'), '-r', capture(dir, 'pcap'), '-w', pass, '--write-action', `XDP_DROP=${drop}`, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).actions).toEqual({ XDP_PASS: 5, XDP_DROP: 1 });
    if (!haveTcpdump) return;
    const lines = (f: string) => spawnSync('tcpdump', ['-r', f, '-nn', '-tt'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(lines(pass).map((l) => l.split(' ')[0])).toEqual(['1700000000.000000', '1700000001.000000', '1700000002.000000', '1700000003.000000', '1700000005.000000']);
    expect(lines(drop)).toHaveLength(1);
    expect(lines(drop)[0]).toMatch(/^1700000004\.000000 IP .*\.23: Flags/);
  });

  it('carries map state from one capture to the next (--map-out, then --map-init)', () => {
    const dir = tempDir();
    const cap = capture(dir, 'pcap');
    const state = join(dir, 'maps.json');
    expect(tsbpf('xdp', ex('proto_count.o'), '-r', cap, '--map-out', state).status).toBe(0);
    const r = tsbpf('xdp', ex('proto_count.o'), '-r', cap, '--map-init', state, '--json');
    expect(r.status, r.stderr).toBe(0);
    const tcp = JSON.parse(r.stdout).maps.proto_stats.find((e: { key: string }) => e.key === '06000000');
    expect(parseInt(tcp.value.slice(0, 2), 16)).toBe(8);
  });

  it('writes redirected packets one file per output port, and counts them per port', () => {
    const dir = tempDir();
    // xdp_redirect (test/fixtures/pkt): TCP to cpumap entry saddr & 1 (both sources here are odd), UDP to devmap entry dport & 7 (53: 5)
    const cpus = writeTemp(dir, 'cpus.json', JSON.stringify([{ key: '00000000', value: '0001000000000000' }, { key: '01000000', value: '0001000000000000' }]));
    const tx = writeTemp(dir, 'tx.json', JSON.stringify([{ key: '05000000', value: '0100000000000000' }]));
    const out = join(dir, 'red.pcap');
    const r = tsbpf('xdp', fixture('pkt/xdp_redirect.o'), '-r', capture(dir, 'pcap'), '--cpus', '2', '--map-init', `cpus=${cpus}`, '--map-init', `tx_port=${tx}`,
      '--write-action', `XDP_REDIRECT=${out}`, '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.actions).toEqual({ XDP_REDIRECT: 4, XDP_PASS: 2 });
    expect(j.ports).toEqual({ cpu1: 3, if1: 1 });
    const read = (f: string) => {
      const packets: Uint8Array[] = [];
      forEachCapturedPacket(f, (p) => packets.push(p.data.slice()));
      return packets.map((d) => Buffer.from(d).toString('hex'));
    };
    const hex = (n: string) => Buffer.from(input(n)).toString('hex');
    expect(read(join(dir, 'red.cpu1.pcap'))).toEqual([hex('ipv4_tcp_syn.bin'), hex('ipv4_tcp_telnet.bin'), hex('ipv4_tcp_syn.bin')]);
    expect(read(join(dir, 'red.if1.pcap'))).toEqual([hex('ipv4_udp_dns.bin')]);
    expect(existsSync(out)).toBe(false);
  });

  it('runs tc and socket programs too, every packet counted once', () => {
    const dir = tempDir();
    const cap = capture(dir, 'pcapng');
    const tc = tsbpf('tc', ex('rate_limit.o'), '-r', cap, '--json');
    expect(tc.status, tc.stderr).toBe(0);
    expect(JSON.parse(tc.stdout).packets).toBe(6);
    const sock = tsbpf('socket', ex('sock_filter.o'), '-r', cap, '--json');
    expect(sock.status, sock.stderr).toBe(0);
    const a = JSON.parse(sock.stdout).actions;
    expect(a.KEEP + (a.DROP ?? 0)).toBe(6);
  });
});

describe('errors a user can cause', () => {
  it('a truncated capture: the packets before the damage run, then the file, byte offset and packet are named', () => {
    const dir = tempDir();
    const cap = capture(dir, 'pcap');
    const cut = join(dir, 'cut.pcap');
    const bytes = readFileSync(cap);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    const out = join(dir, 'pass.pcap');
    const r = tsbpf('xdp', ex('proto_count.o'), '-r', cut, '-w', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^tsbpf: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated packet record \\(\\d+ bytes left\\) at byte \\d+ \\(packet 5\\)$`, 'm'));
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    if (haveTcpdump) expect(spawnSync('tcpdump', ['-r', out], { encoding: 'utf8' }).stdout.trim().split('\n')).toHaveLength(5);
  });

  it('the wrong program type, an unknown action, a rejected program (judged before the first packet), a file that is not a capture', () => {
    const dir = tempDir();
    const cap = capture(dir, 'pcap');
    expect(tsbpf('tc', ex('proto_count.o'), '-r', cap).stderr).toContain('the object has no tc program (programs: proto_count [xdp, xdp]); choose one with --name or --section');
    const several = tsbpf('xdp', ex('tail_dispatch.o'), '-r', cap);
    expect(several.status).toBe(2);
    expect(several.stderr).toContain('error: the object has 4 xdp programs: choose one with --name or --section (handle_icmp [xdp, xdp], handle_tcp [xdp, xdp], handle_udp [xdp, xdp], xdp_dispatch [xdp, xdp])');
    expect(tsbpf('tc', ex('proto_count.o'), '-r', cap, '--name', 'proto_count').stderr).toContain("program 'proto_count' is xdp, not a sched_cls or sched_act program");
    expect(tsbpf('xdp', ex('proto_count.o'), '-r', cap, '--write-action', 'TC_ACT_SHOT=x.pcap').stderr).toContain("--write-action: 'TC_ACT_SHOT' is not a xdp action");
    const rejected = tsbpf('tc', join(EXAMPLES_DIR, '../test/fixtures/verifier/objects/subprog_effects.o'), '--name', 'write_after_global_chain', '-r', cap);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toContain('-- BEGIN PROG LOAD LOG --');
    expect(rejected.stderr).toContain("program 'write_after_global_chain' was rejected by the verifier: R6 invalid mem access 'scalar'");
    expect(rejected.stderr).not.toContain('packet 0');
    const same = tsbpf('xdp', ex('proto_count.o'), '-r', cap, '-w', cap);
    expect(same.stderr).toContain(`${cap}: the capture being read cannot also be written`);
    expect(readFileSync(cap).length).toBeGreaterThan(24); // untouched
    const r = tsbpf('xdp', ex('proto_count.o'), '-r', ex('proto_count.c'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/proto_count\.c: not a pcap or pcapng file \(magic 0x[0-9a-f]{8}\) at byte 0 \(packet 0\)/);
  });
});
