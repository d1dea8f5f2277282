/**
 * The kernel harness itself (test/support/bpftool.ts): it cleans up after
 * itself, names maps as libbpf does, reports every entry of an array, and
 * says clearly what is wrong with a bad request.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable, normaliseMaps, runObjectInKernel } from '../support/bpftool.js';
import { EXAMPLES_DIR, readPacket } from './manifest.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping the kernel harness tests: ${kernel.reason}`);

const ours = (): string[] => readdirSync('/sys/fs/bpf').filter((f) => f.startsWith(`tsbpf-${process.pid}-`));

describe.skipIf(!kernel.ok)('kernel harness', () => {
  it('reports every map by its libbpf name, arrays in full, and removes its pins', () => {
    const r = runObjectInKernel(join(EXAMPLES_DIR, 'global_config.o'), { program: 'global_config', dataIn: readPacket('inputs/arp_request.bin') });
    expect(Object.keys(r.maps).sort()).toEqual(['.data.stats', '.rodata.str1.1', 'global_c.bss', 'global_c.data', 'global_c.rodata']);
    expect(r.mapInfo['global_c.rodata']).toMatchObject({ type: 'array', keySize: 4, maxEntries: 1 });
    // seen (offset 0) = 1, blocked (offset 8) = 0: ARP is seen, not blocked.
    expect(r.maps['global_c.bss']).toEqual([{ key: '00000000', value: '0100000000000000' + '0000000000000000' }]);
    expect(r.retval).toBe(2);
    expect(r.dataOut).toBe(Buffer.from(readPacket('inputs/arp_request.bin')).toString('hex'));
    expect(ours()).toEqual([]);
  });

  it('gives per-CPU maps CPU 0 first, every CPU, and every index', () => {
    const r = runObjectInKernel(join(EXAMPLES_DIR, 'proto_count.o'), { program: 'proto_count', dataIn: readPacket('inputs/ipv4_tcp_syn.bin'), repeat: 2 });
    const stats = r.maps['proto_stats']!;
    expect(stats.length).toBe(256);
    const tcp = stats[6]!;
    expect(tcp.value).toBe('0200000000000000' + '6c00000000000000');
    expect(tcp.values![0]).toBe(tcp.value);
    expect(tcp.values!.slice(1).every((v) => /^0+$/.test(v))).toBe(true);
    expect(normaliseMaps(r.maps, { proto_stats: 'percpu_array' })['proto_stats']).toEqual([{ key: '06000000', value: tcp.value }]);
  });

  it('names the missing program or map, and still cleans up', () => {
    expect(() => runObjectInKernel(join(EXAMPLES_DIR, 'bloom.o'), { program: 'nope', dataIn: readPacket('inputs/ipv4_tcp_syn.bin') })).toThrow(/no program 'nope' \(it has: bloom\)/);
    expect(() => runObjectInKernel(join(EXAMPLES_DIR, 'bloom.o'), { program: 'bloom', mapInit: { nope: [] }, dataIn: readPacket('inputs/ipv4_tcp_syn.bin') })).toThrow(/no map 'nope'/);
    expect(ours()).toEqual([]);
  });
});
