/** Host adapter: the identity `bpf_get_current_*` reports, taken from this process. */
import { basename } from 'node:path';
import type { HostInfo } from '../vm/helpers/basic.js';

/** The current Node process as the "current task". */
export function hostInfo(): HostInfo {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  return { pid: process.pid, tgid: process.pid, uid, gid, comm: (basename(process.title) || 'node').slice(0, 15) };
}
