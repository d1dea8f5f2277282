/**
 * compileFilter's contract without tcpdump: errors name the problem and
 * the character offset, the optimizer refuses filters that match nothing
 * while unoptimized compilation keeps them, options, and a few exact
 * programs.
 */
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../../errors.js';
import { Class, JmpOp, Mode, RetVal, Size, Src, insn } from '../insn.js';
import { runClassic } from '../classic-interpreter.js';
import { FilterError, compileFilter } from './index.js';

function error(expr: string, linkType = 1): FilterError {
  try {
    compileFilter(expr, linkType);
  } catch (e) {
    expect(e).toBeInstanceOf(FilterError);
    expect(e).toBeInstanceOf(TsbpfError);
    return e as FilterError;
  }
  throw new Error(`${expr} compiled`);
}

describe('compileFilter', () => {
  it('reports syntax errors and unknown names with the offset', () => {
    expect([error('tcp port').reason, error('tcp port').position]).toEqual(['syntax error', 8]);
    expect(error('ip and (tcp').position).toBe(11);
    expect(error('10.0.0.1').reason).toBe('syntax error');
    expect([error('host foo').reason, error('host foo').position]).toEqual(["unknown host 'foo'", 5]);
    expect(error('tcp port foo').reason).toBe("unknown port 'foo'");
    expect(error('ip proto \\bogus').reason).toBe("unknown ip proto 'bogus'");
    expect(error('udp port ssh').reason).toBe("port 'ssh' is tcp");
    expect(error('ip[0:3] = 1').reason).toBe('data size must be 1, 2, or 4');
    expect(error('net 10.1.2.3/8').reason).toBe('non-network bits set in "10.1.2.3/8"');
    expect(error('vlan', 113).reason).toBe('no VLAN support for Linux cooked v1');
    expect(error('ip', 9999).reason).toBe('unsupported link type 9999');
    expect(error('host foo').message).toBe("offset 5: unknown host 'foo'");
  });

  it('refuses filters that reject everything when optimizing, as libpcap does', () => {
    expect(error('ip and ip6').reason).toBe('expression rejects all packets');
    const prog = compileFilter('ip and ip6', 1, { optimize: false });
    const ipv4 = new Uint8Array(60);
    ipv4[12] = 0x08;
    expect(runClassic(prog, ipv4)).toBe(0);
  });

  it('ip broadcast uses the netmask; an unknown netmask refuses it, as libpcap does', () => {
    expect(() => compileFilter('ip broadcast', 1, { netmask: null })).toThrow("netmask not known, so 'ip broadcast' not supported");
    const prog = compileFilter('ip broadcast', 1, { netmask: 0xffffff00 });
    const frame = new Uint8Array(34);
    frame[12] = 0x08;
    frame.set([10, 0, 0, 255], 30);
    expect(runClassic(prog, frame)).not.toBe(0);
    frame[33] = 7;
    expect(runClassic(prog, frame)).toBe(0);
  });

  it('an empty filter accepts everything; snaplen is what accepting returns', () => {
    expect(compileFilter('', 1)).toEqual([insn(Class.RET | RetVal.K, 262144)]);
    expect(compileFilter('  ', 1, { snaplen: 96 })).toEqual([insn(Class.RET | RetVal.K, 96)]);
    expect(compileFilter('ip or not ip', 1)).toEqual([insn(Class.RET | RetVal.K, 262144)]);
  });

  it('generates libpcap\'s programs for simple filters', () => {
    expect(compileFilter('ip', 1, { snaplen: 65535 })).toEqual([
      insn(Class.LD | Size.H | Mode.ABS, 12),
      insn(Class.JMP | JmpOp.JEQ | Src.K, 0x800, 0, 1),
      insn(Class.RET | RetVal.K, 65535),
      insn(Class.RET | RetVal.K, 0),
    ]);
    expect(compileFilter('ip', 101)).toHaveLength(5);
    expect(compileFilter('ip', 228)).toEqual([insn(Class.RET | RetVal.K, 262144)]);
    expect(compileFilter('tcp[13] & 2 != 0', 1)).toHaveLength(11);
  });

  it('protochain loops backwards with ja', () => {
    const prog = compileFilter('ip6 protochain 6', 1);
    expect(prog.some((i) => i.code === (Class.JMP | JmpOp.JA) && (i.k | 0) < 0)).toBe(true);
  });
});
