/**
 * The bpf(2) backend against the running kernel: maps and their element
 * commands, program loads with the verifier log (and its growth), test
 * runs, BTF, pins, ring buffers and lowered capabilities, with every fd
 * closed. Skipped, with the reason printed, where bpf(2) cannot be used.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/index.js';
import {
  BpfCommand, BpfSyscallError, Capability, Errno, available, closeFd, createMap, errnoName, errnoText, freezeMap,
  getCapabilities, getPinned, loadBtf, loadProgram, mapDelete, mapGetNextKey, mapLookup, mapLookupAndDelete, mapUpdate,
  pinObject, possibleCpus, readRingbuf, testRun, withCapabilitiesLowered,
} from './index.js';

const bpf = available();
if (!bpf.ok) console.log(`bpf(2) backend tests skipped: ${bpf.reason}`);

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number) => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
const insns = (text: string) => assemble(text, { syntax: 'llvm' }).bytes;
const openFds = () => readdirSync('/proc/self/fd').length;

describe('errno names', () => {
  it('names and explains Linux errnos as the kernel and glibc do', () => {
    expect(errnoName(13)).toBe('EACCES');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(524)).toBe('ENOTSUPP');
    expect(errnoName(4095)).toBe('E4095');
    expect(errnoText(22)).toBe('EINVAL (Invalid argument)');
    expect(errnoText(524)).toBe('ENOTSUPP (operation not supported by this program/map type)');
  });
});

describe.skipIf(!bpf.ok)('bpf(2) backend', () => {
  it('creates maps and runs every element command, and freezes', () => {
    const before = openFds();
    const hash = createMap({ type: 1, keySize: 4, valueSize: 8, maxEntries: 4, name: 'tsbpf_test_hash', flags: 1 << 6 });
    try {
      const v = new Uint8Array(8);
      expect(mapLookup(hash, u32(1), v)).toBe(false);
      mapUpdate(hash, u32(1), u64(100));
      mapUpdate(hash, u32(2), u64(200));
      expect(mapLookup(hash, u32(1), v)).toBe(true);
      expect(v).toEqual(u64(100));
      expect(() => mapUpdate(hash, u32(1), u64(1), 1)).toThrow(BpfSyscallError);
      try {
        mapUpdate(hash, u32(1), u64(1), 1);
      } catch (err) {
        expect(err).toMatchObject({ command: 'BPF_MAP_UPDATE_ELEM', errno: Errno.EEXIST, errnoName: 'EEXIST' });
      }
      const keys: number[] = [];
      const next = new Uint8Array(4);
      for (let k: Uint8Array | null = null; mapGetNextKey(hash, k, next); k = next.slice()) keys.push(new DataView(next.buffer).getUint32(0, true));
      expect(keys.sort()).toEqual([1, 2]);
      expect(mapDelete(hash, u32(1))).toBe(true);
      expect(mapDelete(hash, u32(1))).toBe(false);
      freezeMap(hash);
      expect(() => mapUpdate(hash, u32(3), u64(3))).toThrow(/EPERM/);
    } finally {
      closeFd(hash);
    }
    const queue = createMap({ type: 22, keySize: 0, valueSize: 4, maxEntries: 2 });
    try {
      mapUpdate(queue, null, u32(7));
      mapUpdate(queue, null, u32(8));
      const v = new Uint8Array(4);
      expect(mapLookupAndDelete(queue, null, v)).toBe(true);
      expect(v).toEqual(u32(7));
      expect(mapLookupAndDelete(queue, null, v)).toBe(true);
      expect(mapLookupAndDelete(queue, null, v)).toBe(false);
    } finally {
      closeFd(queue);
    }
    expect(() => createMap({ type: 2, keySize: 4, valueSize: 8, maxEntries: 0 })).toThrow(/BPF_MAP_CREATE failed: EINVAL/);
    expect(openFds()).toBe(before);
  });

  it('per-CPU lookups give one 8-byte aligned slot per possible CPU', () => {
    const fd = createMap({ type: 6, keySize: 4, valueSize: 4, maxEntries: 1 });
    try {
      const all = new Uint8Array(8 * possibleCpus()).fill(3);
      mapUpdate(fd, u32(0), all);
      const v = new Uint8Array(all.length);
      expect(mapLookup(fd, u32(0), v)).toBe(true);
      expect(v.subarray(0, 4)).toEqual(new Uint8Array(4).fill(3));
    } finally {
      closeFd(fd);
    }
  });

  it('loads programs with the verifier log, grows a short log, and test-runs them', () => {
    const before = openFds();
    const ok = loadProgram({ type: 6, insns: insns('r0 = 2\nexit'), logLevel: 1 });
    try {
      expect(ok.fd).toBeGreaterThanOrEqual(0);
      expect(ok.errno).toBe(0);
      expect(ok.log).toMatch(/^processed 2 insns/);
      const run = testRun({ progFd: ok.fd, dataIn: new Uint8Array(14), dataSizeOut: 64, repeat: 3 });
      expect(run.retval).toBe(2);
      expect(run.dataSizeOut).toBe(14);
      expect(() => testRun({ progFd: ok.fd, dataIn: new Uint8Array(1) })).toThrow(/BPF_PROG_TEST_RUN failed: EINVAL/);
    } finally {
      closeFd(ok.fd);
    }
    const bad = loadProgram({ type: 6, insns: insns('exit'), logLevel: 1 });
    expect(bad).toMatchObject({ fd: -1, errno: Errno.EACCES, logTruncated: false });
    expect(bad.log).toContain('R0 !read_ok');
    // level 2 from a 128-byte buffer: the kernel says ENOSPC, the log grows until it fits
    const big = loadProgram({ type: 6, insns: insns('r0 = 1\nr0 += 1\nr0 += 1\nexit'), logLevel: 2, logSize: 128 });
    const ref = loadProgram({ type: 6, insns: insns('r0 = 1\nr0 += 1\nr0 += 1\nexit'), logLevel: 2 });
    closeFd(big.fd);
    closeFd(ref.fd);
    expect(big.log.length).toBeGreaterThan(128);
    expect(big.log).toBe(ref.log);
    const cut = loadProgram({ type: 6, insns: insns('r0 = 1\nr0 += 1\nr0 += 1\nexit'), logLevel: 2, logSize: 128, growLog: false });
    expect(cut).toMatchObject({ fd: -1, errno: Errno.ENOSPC, logTruncated: true });
    expect(cut.log.length).toBeLessThan(128);
    expect(openFds()).toBe(before);
  });

  it('resolves map fds, runs a program that writes a ring buffer, and reads its records', () => {
    const rb = createMap({ type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 });
    try {
      const prog = loadProgram({
        type: 6, logLevel: 1, fdArray: [rb],
        insns: insns(`
          ld_pseudo r1, 1, ${rb}
          r2 = 0x11223344
          *(u64 *)(r10 - 8) = r2
          r2 = r10
          r2 += -8
          r3 = 8
          r4 = 0
          call bpf_ringbuf_output
          r0 = 2
          exit`),
      });
      expect(prog.log).toMatch(/processed/);
      try {
        testRun({ progFd: prog.fd, dataIn: new Uint8Array(14), repeat: 2 });
      } finally {
        closeFd(prog.fd);
      }
      const contents = readRingbuf(rb, 4096);
      expect(contents.records.map((r) => Buffer.from(r).toString('hex'))).toEqual(['4433221100000000', '4433221100000000']);
      expect(contents.producer - contents.consumer).toBe(32n);
    } finally {
      closeFd(rb);
    }
  });

  it('loads BTF and reports a broken blob with its log', () => {
    const header = new DataView(new ArrayBuffer(24));
    header.setUint16(0, 0xeb9f, true);
    header.setUint8(2, 1);
    header.setUint32(4, 24, true); // hdr_len
    header.setUint32(8, 0, true); // type_off
    header.setUint32(12, 16, true); // type_len
    header.setUint32(16, 16, true); // str_off
    header.setUint32(20, 5, true); // str_len
    const int = new Uint32Array([1, 1 << 24, 4, 32]); // "int": BTF_KIND_INT, 4 bytes, 32 bits
    const blob = new Uint8Array([...new Uint8Array(header.buffer), ...new Uint8Array(int.buffer), 0, 0x69, 0x6e, 0x74, 0]);
    const good = loadBtf(blob, { logLevel: 1 });
    expect(good.errno).toBe(0);
    closeFd(good.fd);
    const broken = blob.slice();
    broken[24 + 16 - 1] = 0xff; // an int of 0xff000020 bits
    const bad = loadBtf(broken, { logLevel: 1 });
    expect(bad.fd).toBe(-1);
    expect(bad.errno).toBe(Errno.EINVAL);
    expect(bad.log).not.toBe('');
  });

  it('pins a map in bpffs and opens it again', (ctx) => {
    const mounted = existsSync('/proc/mounts') && readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf');
    if (!mounted) {
      console.log('pin test skipped: no bpffs at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)');
      ctx.skip();
    }
    const path = `/sys/fs/bpf/tsbpf-test-${process.pid}`;
    const fd = createMap({ type: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
    try {
      mapUpdate(fd, u32(0), u64(42));
      pinObject(fd, path);
      const again = getPinned(path);
      const v = new Uint8Array(8);
      expect(mapLookup(again, u32(0), v)).toBe(true);
      expect(v).toEqual(u64(42));
      closeFd(again);
      expect(() => getPinned(`${path}-missing`)).toThrow(/ENOENT/);
    } finally {
      rmSync(path, { force: true });
      closeFd(fd);
    }
  });

  it('without CAP_PERFMON and CAP_SYS_ADMIN the verifier refuses pointer comparisons, and the capabilities come back', () => {
    const text = insns('r2 = r10\nif r2 > 5 goto +0\nr0 = 2\nexit');
    const before = getCapabilities();
    if ((before.effective & (1n << BigInt(Capability.PERFMON))) === 0n) return; // already unprivileged: nothing to lower
    const full = loadProgram({ type: 6, insns: text, logLevel: 1 });
    closeFd(full.fd);
    expect(full.errno).toBe(0);
    const reduced = withCapabilitiesLowered([Capability.SYS_ADMIN, Capability.PERFMON], () => loadProgram({ type: 6, insns: text, logLevel: 1 }));
    expect(reduced.errno).toBe(Errno.EACCES);
    expect(reduced.log).toContain('pointer comparison prohibited');
    expect(getCapabilities()).toEqual(before);
    expect(() => withCapabilitiesLowered([Capability.PERFMON], () => { throw new Error('boom'); })).toThrow('boom');
    expect(getCapabilities()).toEqual(before);
  });

  it('names commands in errors', () => {
    try {
      createMap({ type: 9999, keySize: 4, valueSize: 4, maxEntries: 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BpfSyscallError);
      expect((err as BpfSyscallError).command).toBe('BPF_MAP_CREATE');
      expect(BpfCommand.MAP_CREATE).toBe(0);
    }
  });
});
