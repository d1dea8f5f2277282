/**
 * The `probe` command: can this machine load BPF and test-run it?
 */
import { readFileSync } from 'node:fs';
import { machine, release } from 'node:os';
import { AttrSize, BpfCommand } from '../bpf/syscall-abi.js';
import { Attr } from '../bpf/attr.js';
import { Errno, errnoText } from '../bpf/errno.js';
import { libc, libcStatus } from '../bpf/libc.js';
import { closeFd } from '../bpf/syscall.js';
import { OracleFailure } from './failure.js';
import { loadFromRequest } from './oracle-programs.js';
import type { OracleReply } from './protocol.js';
import { runInput } from './oracle-test-run.js';

/** An integer sysctl (null when unreadable). */
export function readSysctl(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isNaN(n) ? null : n;
  } catch {
    return null;
  }
}

/**
 * `{"ok":true,"kernel":...,"arch":...,"bpf":true,"prog_load":true,
 * "test_run":true,"jit_enable":1}`, or `"bpf":false` with a `reason`.
 */
export function probe(): OracleReply {
  const out: OracleReply = { ok: true, kernel: release(), arch: machine() };
  const status = libcStatus();
  if (!status.ok) {
    out.bpf = false;
    out.reason = status.reason;
    return out;
  }
  const c = libc();
  const attr = new Attr(AttrSize.MAP_CREATE).u32(0, 2).u32(4, 4).u32(8, 4).u32(12, 1);
  const fd = c.bpf(BpfCommand.MAP_CREATE, attr.bytes, AttrSize.MAP_CREATE);
  if (fd < 0) {
    const errno = c.errno();
    out.bpf = false;
    out.reason = `${errno === Errno.ENOSYS ? 'bpf(2) not available' : 'bpf(2) not permitted'}: ${errnoText(errno)}`;
    out['unprivileged_bpf_disabled'] = readSysctl('/proc/sys/kernel/unprivileged_bpf_disabled');
    return out;
  }
  c.close(fd);
  out.bpf = true;
  // mov r0, 2; exit -- as XDP, then BPF_PROG_TEST_RUN on a minimal frame.
  const trivial = { prog_type: 'xdp', log_level: 0, insns: 'b7000000020000009500000000000000' };
  try {
    const res = loadFromRequest(trivial, []);
    out['prog_load'] = res.accepted;
    if (!res.accepted) {
      out.reason = `BPF_PROG_LOAD failed: ${errnoText(res.errno)}`;
    } else {
      try {
        out['test_run'] = runInput(res.fd, 6, { data_in: '00'.repeat(14), repeat: 1 }).retval === 2;
      } catch (err) {
        if (!(err instanceof OracleFailure)) throw err;
        out['test_run'] = false;
        out.reason = err.message;
      } finally {
        closeFd(res.fd);
      }
    }
  } catch (err) {
    if (!(err instanceof OracleFailure)) throw err;
    out['prog_load'] = false;
    out.reason = err.message;
  }
  out['jit_enable'] = readSysctl('/proc/sys/net/core/bpf_jit_enable');
  return out;
}
