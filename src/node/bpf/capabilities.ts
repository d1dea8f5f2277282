/**
 * Running bpf(2) calls with fewer capabilities. The verifier checks the
 * caller's effective capabilities: without CAP_PERFMON (and CAP_SYS_ADMIN)
 * it forbids pointer leaks, pointer comparisons and Spectre-prone code that
 * it allows a fully privileged loader. {@link withCapabilitiesLowered}
 * removes capabilities from the calling thread's effective set for one
 * callback and puts them back afterwards (they stay in the permitted set,
 * so this needs no privilege beyond what the process has). Only the calling
 * thread changes: Node's other threads keep theirs.
 */
import { BpfSyscallError } from './syscall-errors.js';
import { libc } from './libc.js';

/** Capability numbers (include/uapi/linux/capability.h). */
export const Capability = {
  NET_ADMIN: 12,
  SYS_ADMIN: 21,
  PERFMON: 38,
  BPF: 39,
} as const;

const VERSION_3 = 0x20080522;

/** The calling thread's capability sets as bit masks. */
export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

function header(): Uint8Array {
  const h = new Uint8Array(8);
  new DataView(h.buffer).setUint32(0, VERSION_3, true);
  return h;
}

/** Reads the calling thread's capability sets. */
export function getCapabilities(): CapabilitySets {
  const c = libc();
  const data = new Uint8Array(24);
  if (c.capget(header(), data) < 0) throw new BpfSyscallError('capget', c.errno());
  const v = new DataView(data.buffer);
  const set = (i: number) => BigInt(v.getUint32(i, true)) | (BigInt(v.getUint32(12 + i, true)) << 32n);
  return { effective: set(0), permitted: set(4), inheritable: set(8) };
}

/** Sets the calling thread's capability sets. */
export function setCapabilities(sets: CapabilitySets): void {
  const c = libc();
  const data = new Uint8Array(24);
  const v = new DataView(data.buffer);
  const put = (i: number, mask: bigint) => {
    v.setUint32(i, Number(mask & 0xffffffffn), true);
    v.setUint32(12 + i, Number((mask >> 32n) & 0xffffffffn), true);
  };
  put(0, sets.effective);
  put(4, sets.permitted);
  put(8, sets.inheritable);
  if (c.capset(header(), data) < 0) throw new BpfSyscallError('capset', c.errno());
}

/**
 * Runs `fn` with `drop` (capability numbers) removed from the calling
 * thread's effective set, then restores the set, whatever `fn` does.
 */
export function withCapabilitiesLowered<T>(drop: readonly number[], fn: () => T): T {
  const before = getCapabilities();
  let effective = before.effective;
  for (const cap of drop) effective &= ~(1n << BigInt(cap));
  if (effective === before.effective) return fn();
  setCapabilities({ ...before, effective });
  try {
    return fn();
  } finally {
    setCapabilities(before);
  }
}
