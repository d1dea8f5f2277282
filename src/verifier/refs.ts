/** Acquired references (ring buffer records, sockets): acquire, release, leak checks. */
import type { Env } from './env.js';
import { markUnknown } from './reg.js';
import type { VState } from './state.js';
import { forEachReg } from './state.js';

/** acquire_reference: a new reference id owned by the current state. */
export function acquireReference(env: Env, insnIdx: number): number {
  const id = env.nextId();
  env.cur.refs.push({ id, insnIdx, type: 'ptr' });
  return id;
}

/** release_reference_nomark. */
export function releaseReferenceNomark(st: VState, refObjId: number): boolean {
  const i = st.refs.findIndex((r) => r.type === 'ptr' && r.id === refObjId);
  if (i < 0) return false;
  st.refs.splice(i, 1);
  return true;
}

/** release_reference: drop the reference and invalidate every register carrying it. */
export function releaseReference(env: Env, refObjId: number): boolean {
  if (!releaseReferenceNomark(env.cur, refObjId)) return false;
  forEachReg(env.cur, (r) => {
    if (r.refObjId === refObjId) markUnknown(r); // mark_reg_invalid: privileged programs keep an unknown scalar
  });
  return true;
}

/** check_reference_leak: returns false (after logging) when references are still held. */
export function checkReferenceLeak(env: Env, exceptionExit: boolean): boolean {
  if (!exceptionExit && env.frame.frameno) return true;
  let ok = true;
  for (const r of env.cur.refs) {
    if (r.type !== 'ptr') continue;
    env.note(`Unreleased reference id=${r.id} alloc_insn=${r.insnIdx}`);
    ok = false;
  }
  return ok;
}

/** check_resource_leak. */
export function checkResourceLeak(env: Env, exceptionExit: boolean, checkLock: boolean, prefix: string): void {
  if (checkLock && env.cur.activeLocks) env.fail(`${prefix} cannot be used inside bpf_spin_lock-ed region`, 'EINVAL');
  if (!checkReferenceLeak(env, exceptionExit)) env.fail(`${prefix} would lead to reference leak`, 'EINVAL');
  if (checkLock && env.cur.activeRcuLock) env.fail(`${prefix} cannot be used inside bpf_rcu_read_lock-ed region`, 'EINVAL');
}

