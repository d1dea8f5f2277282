/**
 * kptrs: pointers to kernel objects or to the program's own allocated
 * objects (`bpf_obj_new`) that a map value (or an allocated object) keeps,
 * declared with the `kptr`, `kptr_untrusted` and `percpu_kptr` type tags.
 * Loads give a BTF pointer whose trust depends on the field and the RCU
 * section (btf_ld_kptr_type); stores are allowed only into unreferenced
 * kptrs; referenced ones change hands only through `bpf_kptr_xchg`
 * (check_map_kptr_access, map_kptr_match_type, process_kptr_func).
 */
import type { Env } from './env.js';
import type { Reg } from './reg.js';
import { baseType, F, isNullReg, markKnownZero, regTypeStr, T } from './reg.js';
import type { BtfField, BtfRecord } from './btf-record.js';
import { isKptrField, recordFind, structMeta } from './btf-record.js';
import { btfStructIdsMatch } from './kbtf.js';
import { checkPtrOffReg } from './mem.js';
import { inRcuCs, WALK_FLAGS } from './btf-access.js';
import { tnumIsConst } from './tnum.js';

/** The kernel types whose kptrs may be read under RCU (`rcu_protected_types`, 6.18). */
const RCU_PROTECTED = new Set(['prog_test_ref_kfunc', 'cgroup', 'bpf_cpumask', 'task_struct', 'bpf_crypto_ctx']);

/** The record of the object a register points to (`reg_btf_record`): a map value's, or an allocated object's. */
export function regBtfRecord(env: Env, reg: Reg): BtfRecord | null {
  if (reg.type === T.MAP_VALUE) return reg.map?.record ?? null;
  if (baseType(reg.type) === T.BTF_ID && (reg.type & F.ALLOC) && !(reg.type & F.UNTRUSTED) && env.progBtf) {
    return structMeta(env.progBtf, reg.btfId, () => env.kbtf());
  }
  return null;
}

function rcuSafeKptr(f: BtfField): boolean {
  return f.type === 'percpu_kptr' || (f.type === 'kptr' && (f.kptr!.local || RCU_PROTECTED.has(f.kptr!.name)));
}

/** btf_ld_kptr_type: the flags of a pointer loaded from a kptr field. */
function ldKptrType(env: Env, f: BtfField): number {
  let flags = F.MAYBE_NULL;
  if (rcuSafeKptr(f) && inRcuCs(env)) {
    flags |= F.RCU;
    if (f.type === 'percpu_kptr') flags |= F.PERCPU;
    else if (f.kptr!.local) flags |= F.ALLOC;
    if (f.kptr!.local && env.progBtf) {
      const rec = structMeta(env.progBtf, f.kptr!.btfId, () => env.kbtf());
      if (rec?.fields.some((x) => x.type === 'bpf_list_node' || x.type === 'bpf_rb_node')) flags |= F.NON_OWN;
    }
  } else {
    flags |= F.UNTRUSTED;
  }
  return flags;
}

/** The register a kptr load gives. */
function markKptrLoad(env: Env, dst: Reg, f: BtfField): void {
  markKnownZero(dst);
  dst.type = T.BTF_ID | ldKptrType(env, f);
  dst.btfId = f.kptr!.btfId;
  dst.btfName = f.kptr!.name;
  dst.id = env.nextId();
}

/**
 * check_map_kptr_access: the load or store at `insnIdx` of the kptr field
 * `f` (its offset and size were checked), `valueRegno` the loaded or
 * stored register.
 */
export function checkMapKptrAccess(env: Env, insnIdx: number, valueRegno: number, f: BtfField): void {
  const insn = env.insns[insnIdx]!;
  const cls = insn.code & 7;
  const mode = insn.code & 0xe0;
  const BPF_MEM = 0x60;
  if (mode !== BPF_MEM) env.fail('kptr in map can only be accessed using BPF_MEM instruction mode', 'EACCES');
  const LDX = 1;
  const ST = 2;
  const STX = 3;
  if (cls !== LDX && (f.type === 'kptr' || f.type === 'percpu_kptr')) env.fail('store to referenced kptr disallowed', 'EACCES');
  if (cls !== LDX && f.type === 'uptr') env.fail('store to uptr disallowed', 'EACCES');
  if (cls === LDX) {
    const dst = env.regs[valueRegno]!;
    if (f.type === 'uptr') {
      markKnownZero(dst);
      dst.type = T.MEM | F.MAYBE_NULL;
      const t = env.progBtf?.tryType(f.kptr!.btfId);
      dst.memSize = t?.size ?? 0;
      dst.id = env.nextId();
      return;
    }
    markKptrLoad(env, dst, f);
  } else if (cls === STX) {
    const val = env.regs[valueRegno]!;
    if (!isNullReg(val)) mapKptrMatchType(env, f, val, valueRegno);
  } else if (cls === ST) {
    if (insn.imm) env.fail(`BPF_ST imm must be 0 when storing to kptr at off=${f.offset}`, 'EACCES');
  } else {
    env.fail('kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST', 'EACCES');
  }
}

/** map_kptr_match_type: register `regno` may be stored into (or exchanged with) kptr field `f`. */
export function mapKptrMatchType(env: Env, f: BtfField, reg: Reg, regno: number): void {
  const k = f.kptr!;
  const target = `${regTypeStr(T.BTF_ID)}${k.name}`;
  const bad = (regName: string): never => {
    const tail = f.type === 'kptr_untrusted' ? ` or ${regTypeStr(T.BTF_ID | F.UNTRUSTED)}${k.name}` : '';
    env.fail(`invalid kptr access, R${regno} type=${regTypeStr(reg.type)}${regName} expected=${target}${tail}`, 'EINVAL');
  };
  if (baseType(reg.type) !== T.BTF_ID) bad('');
  const local = (reg.type & F.ALLOC) !== 0;
  const perm = local
    ? F.MAYBE_NULL | F.ALLOC | (f.type === 'percpu_kptr' ? F.PERCPU : 0)
    : F.MAYBE_NULL | F.TRUSTED | F.RCU | (f.type === 'kptr_untrusted' ? F.UNTRUSTED : 0);
  if ((reg.type & ~0xff & ~F.NON_OWN) & ~perm) bad('');
  if ((f.type === 'percpu_kptr') !== ((reg.type & F.PERCPU) !== 0)) bad('');
  const regName = reg.btfName;
  checkPtrOffReg(env, reg, regno, true);
  const btf = local ? env.progBtf : env.kbtf();
  if (local !== k.local || !btf || !btfStructIdsMatch(btf, reg.btfId, reg.off, k.btfId, f.type !== 'kptr_untrusted', WALK_FLAGS, (m) => env.verbose(m))) {
    bad(regName);
  }
}

/**
 * process_kptr_func: the destination of `bpf_kptr_xchg` (a map value or an
 * allocated object) points at a referenced kptr field; that field.
 */
export function processKptrFunc(env: Env, regno: number): BtfField {
  const reg = env.regs[regno]!;
  let rec: BtfRecord | null;
  if (reg.type & F.ALLOC) {
    rec = regBtfRecord(env, reg);
  } else {
    const map = reg.map!;
    if (!map.btf) env.fail(`map '${map.name}' has to have BTF in order to use bpf_kptr_xchg`, 'EINVAL');
    rec = map.record;
  }
  if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} doesn't have constant offset. kptr has to be at the constant offset`, 'EINVAL');
  if (!rec?.fields.some((x) => x.type !== 'uptr' && isKptrField(x.type))) env.fail(`R${regno} has no valid kptr`, 'EINVAL');
  const off = reg.off + Number(reg.varOff.value);
  const f = recordFind(rec, off, (t) => t !== 'uptr' && isKptrField(t));
  if (!f) env.fail(`off=${off} doesn't point to kptr`, 'EACCES');
  if (f.type !== 'kptr' && f.type !== 'percpu_kptr') env.fail(`off=${off} kptr isn't referenced kptr`, 'EACCES');
  return f;
}
