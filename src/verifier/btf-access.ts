/**
 * Loads through pointers to kernel objects (PTR_TO_BTF_ID): the access is
 * checked against the kernel's BTF layout of the struct (btf_struct_access)
 * and the loaded value is a scalar or another BTF pointer whose trust the
 * kernel's rules decide (check_ptr_to_btf_access, mark_btf_ld_reg,
 * is_trusted_reg, type_is_trusted/rcu and their allow lists).
 */
import type { Env } from './env.js';
import type { Reg } from './reg.js';
import { F, isTrustedReg, markKnownZero, markUnknown, mayBeNull, regBoundsSync, regTypeStr, T } from './reg.js';
export { isTrustedReg };
import type { KernelBtf, WalkFlags } from './kbtf.js';
import { btfNestedTypeIsTrusted, btfStructAccess, typeName } from './kbtf.js';
import { tnumIsConst, tnumStr } from './tnum.js';
import { ProgType } from '../isa/uapi.js';
import { fieldTypeName, structMeta } from './btf-record.js';
import { tcpCaWrite } from './struct-ops-access.js';

/** The register flags the BTF walk uses. */
export const WALK_FLAGS: WalkFlags = { user: F.USER, percpu: F.PERCPU, rcu: F.RCU, untrusted: F.UNTRUSTED };

/** `is_rcu_reg`. */
export function isRcuReg(r: Reg): boolean {
  return (r.type & F.RCU) !== 0;
}

/** `in_rcu_cs`: inside an RCU read section (non-sleepable programs always are). */
export function inRcuCs(env: Env): boolean {
  return env.cur.activeRcuLock > 0 || env.cur.activeLocks > 0 || !env.sleepable;
}

/** The kernel BTF the verifier was given, or null. */
export function kernelBtf(env: Env): KernelBtf | null {
  return env.kbtf();
}

/** `mark_btf_ld_reg`. */
export function markBtfLdReg(env: Env, reg: Reg, isPtr: boolean, btf: KernelBtf | null, btfId: number, flag: number): void {
  if (!isPtr) {
    markUnknown(reg);
    return;
  }
  markKnownZero(reg);
  reg.type = T.BTF_ID | flag;
  reg.btfId = btfId;
  reg.btfName = btf ? typeName(btf, btfId) : '';
  if (mayBeNull(flag)) reg.id = env.nextId();
}

/** Program types whose verifier ops have their own `btf_struct_access` (writes through BTF pointers). */
function hasOpsBtfStructAccess(progType: number): boolean {
  return progType === ProgType.SCHED_CLS || progType === ProgType.SCHED_ACT || progType === ProgType.XDP || progType === ProgType.STRUCT_OPS;
}

/**
 * check_ptr_to_btf_access: `size` bytes at `off` of the kernel object
 * register `regno` points to; a read loads `valueRegno` (when >= 0).
 */
export function checkPtrToBtfAccess(env: Env, regs: Reg[], regno: number, off: number, size: number, write: boolean,
  valueRegno: number): void {
  const reg = regs[regno]!;
  // the program's own objects (bpf_obj_new) are described by its BTF
  const local = (reg.type & F.ALLOC) !== 0;
  // an allocated object takes writes, unless an RCU section's end left it untrusted
  const writable = local && !(reg.type & F.UNTRUSTED);
  const btf = local ? env.progBtf : env.kbtf();
  if (local && !btf) env.fail(`tsbpf: R${regno} points to an allocated object whose type is in the program's BTF, which tsbpf was not given`, 'ENOTSUPP');
  if (!btf || !reg.btfId) {
    env.fail(`tsbpf: R${regno} invalid mem access '${regTypeStr(reg.type)}${reg.btfName}': the kernel checks this access against the layout of struct ${reg.btfName || '?'} in its BTF, which tsbpf was not given (--btf)`, 'ENOTSUPP');
  }
  const tname = typeName(btf, reg.btfId);
  if (!env.allowPtrLeaks) env.fail(`'struct ${tname}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN`, 'EPERM');
  if (!env.gpl && !local) env.fail(`Cannot access kernel 'struct ${tname}' from non-GPL compatible program`, 'EINVAL');
  if (off < 0) env.fail(`R${regno} is ptr_${tname} invalid negative access: off=${off}`);
  if (!tnumIsConst(reg.varOff) || reg.varOff.value) {
    env.fail(`R${regno} is ptr_${tname} invalid variable offset: off=${off}, var_off=${tnumStr(reg.varOff)}`);
  }
  if (reg.type & F.USER) env.fail(`R${regno} is ptr_${tname} access user memory: off=${off}`);
  if (reg.type & F.PERCPU) env.fail(`R${regno} is ptr_${tname} access percpu memory: off=${off}`);
  if (write && !writable) {
    // tc and xdp programs' btf_struct_access is nf_conntrack's, which lets
    // them write only struct nf_conn's mark (and says `only read is
    // supported` for every other type).
    // a congestion control writes some fields of its tcp_sock (never through an untrusted pointer)
    if (env.progType === ProgType.STRUCT_OPS && (reg.type & F.UNTRUSTED)) env.fail('only read is supported');
    if (env.progType === ProgType.STRUCT_OPS && env.attach?.structOps?.struct === 'tcp_congestion_ops' && !(reg.type & F.ALLOC)) {
      const refused = tcpCaWrite(btf, reg.btfId, off, size);
      if (refused) env.fail(refused, 'EACCES');
      return;
    }
    if (hasOpsBtfStructAccess(env.progType) && !(reg.type & F.ALLOC)
      && (env.progType === ProgType.STRUCT_OPS || tname === 'nf_conn')) {
      env.fail(`tsbpf: R${regno} writes into struct ${tname}: the kernel lets ${env.typeInfo.name} programs write some kernel fields (the type's btf_struct_access), which tsbpf does not model`, 'ENOTSUPP');
    }
    env.fail('only read is supported');
  }
  if (local) {
    const nonOwning = writable && (reg.type & F.NON_OWN) !== 0;
    if (!nonOwning && !(reg.type & F.RCU) && !reg.refObjId) env.fail('verifier internal error: ref_obj_id for allocated object must be non-zero', 'EFAULT');
    // the kernel objects inside (locks, nodes, roots, refcounts, kptrs) are not for loads and stores
    const rec = structMeta(btf, reg.btfId, () => env.kbtf());
    for (const f of rec?.fields ?? []) {
      if (off < f.offset + f.size && f.offset < off + size) env.fail(`direct access to ${fieldTypeName(f.type)} is disallowed`, 'EACCES');
    }
  }
  let last = '';
  const log = (s: string): void => {
    last = s;
    env.verbose(s);
  };
  const res = btfStructAccess(btf, reg.btfId, off, size, WALK_FLAGS, log, !local);
  if ('err' in res) {
    env.errorMsg = last.replace(/\n$/, '');
    env.abort(res.err === -22 ? 'EINVAL' : res.err === -14 ? 'EFAULT' : 'EACCES');
  }
  let flag = 0;
  let btfId = 0;
  if (res.kind === 'ptr') {
    btfId = res.id;
    flag = res.flag;
    const field = res.field;
    if (reg.type & F.UNTRUSTED) {
      flag = F.UNTRUSTED;
    } else if (isTrustedReg(reg) || isRcuReg(reg)) {
      const nested = (suffix: string): boolean => btfNestedTypeIsTrusted(btf, reg.btfId, field, btfId, suffix);
      if (nested('__safe_trusted')) {
        flag |= F.TRUSTED;
      } else if (nested('__safe_trusted_or_null')) {
        flag |= F.TRUSTED | F.MAYBE_NULL;
      } else if (inRcuCs(env) && !mayBeNull(reg.type)) {
        if (nested('__safe_rcu')) {
          flag |= F.RCU;
        } else if ((flag & F.RCU) || nested('__safe_rcu_or_null')) {
          flag |= F.RCU | F.MAYBE_NULL;
          if (nested('__safe_rcu_or_null') && (flag & F.UNTRUSTED)) flag &= ~F.UNTRUSTED;
        } else if (flag & (F.PERCPU | F.USER)) {
          // keep as-is
        } else {
          // 6.18.44: a pointer no allow list names is untrusted (mainline
          // once cleared the trust flags only; measured on the kernel)
          flag = F.UNTRUSTED;
        }
      } else {
        flag = F.UNTRUSTED;
      }
    } else {
      // a plain (legacy) BTF pointer: what it points to is untrusted too (measured)
      flag = F.UNTRUSTED | (flag & (F.PERCPU | F.USER));
    }
  }
  if (valueRegno < 0 || write) return;
  // tsbpf keeps no BTF beside the kernel's for plain BTF pointers: a pointer read out of an allocated object is a number here
  if (local && res.kind === 'ptr') {
    markUnknown(regs[valueRegno]!);
    return;
  }
  markBtfAccessResult(env, regs[valueRegno]!, res.kind, btf, btfId, flag);
}

/**
 * mark_btf_ld_reg for what a read through a BTF pointer gave (`kind` from
 * btfStructAccess): a scalar, a BTF pointer of `btfId` with `flag`, or
 * untrusted read-only memory of unknown size.
 */
export function markBtfAccessResult(env: Env, dst: Reg, kind: 'scalar' | 'ptr' | 'mem', btf: KernelBtf, btfId: number, flag: number): void {
  if (kind === 'mem') {
    markKnownZero(dst);
    dst.type = T.MEM | F.RDONLY | F.UNTRUSTED;
    dst.memSize = 0;
    return;
  }
  markBtfLdReg(env, dst, kind === 'ptr', btf, btfId, flag);
}

/** `__mark_reg_s32_range`: narrows a register to [min, max] (the LSM return value argument). */
export function markRegS32Range(reg: Reg, min: number, max: number): void {
  const lo = BigInt(min);
  const hi = BigInt(max);
  if (reg.s32min < lo) reg.s32min = lo;
  if (reg.s32max > hi) reg.s32max = hi;
  if (reg.smin < lo) reg.smin = lo;
  if (reg.smax > hi) reg.smax = hi;
  regBoundsSync(reg);
}
