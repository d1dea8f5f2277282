/**
 * Verification of a program of an ELF object spec (src/loader's
 * ObjectSpec/ProgramSpec, described structurally here so the verifier does
 * not depend on the loader): maps by index as the loader encodes them
 * (`lddw` src 5/6), the object's license, the program type and expected
 * attach type from the section, and BTF function info: subprogram names,
 * linkage, and for global subprograms their argument kinds (what the
 * kernel's btf_prepare_func_args derives from the prototype).
 */
import type { GlobalArg } from './env.js';
import type { KernelBtf } from './kbtf.js';
import type { VerifierMapSpec, VerifyOptions, VerifyResult } from './verify.js';
import { verify } from './verify.js';
import { AttachType, isPoisonedCall, LibbpfPoison, ProgType } from '../isa/uapi.js';

/** The parts of a BTF type the verifier reads (src/loader's BtfType fits). */
export interface BtfTypeLike {
  kind: string;
  name: string;
  type?: number;
  linkage?: number;
  params?: readonly { name: string; type: number }[];
  size?: number;
  nelems?: number;
}

/** A BTF blob (src/loader's Btf fits). */
export interface BtfLike {
  typeById(id: number): BtfTypeLike;
  /** The object's own types from `startId` on (declaration tags are found there). */
  readonly ownTypes?: readonly BtfTypeLike[];
  readonly startId?: number;
}

/** The parts of an object spec the verifier uses. */
export interface ObjectLike {
  license: string;
  maps: readonly VerifierMapSpec[];
  btf?: BtfLike;
  /** The BTF the kfunc calls name functions of, when the loader resolved them against its built-in kfuncs. */
  kfuncBtf?: KernelBtf;
}

/** The parts of a program spec the verifier uses. */
export interface ObjectProgramLike {
  /**
   * Why the loader refused the program before the kernel saw it (src/loader's
   * `loadError`): the verdict is that refusal, nothing is verified.
   */
  loadError?: { message: string; errno: string; section?: string; offset?: number; insn?: number };
  insns: Uint8Array;
  type: number;
  expectedAttachType?: number;
  flags: number;
  functions: readonly { name: string; slot: number }[];
  funcInfo: readonly { slot: number; name: string; typeId?: number }[];
  /** BTF line info by slot, in slot order (the log's `; source @ file:line` lines). */
  lineInfo?: readonly { slot: number; file: string; line: number; source: string }[];
  /** Tracing/LSM: the attach point the section names (`tp_btf/sched_wakeup` → `sched_wakeup`). */
  attachTo?: string;
  /** struct_ops: the kernel struct and member the program is loaded for. */
  structOps?: { struct: string; member: string };
  /** The loader's relocation records: poisoned slots explain themselves as libbpf explains them. */
  relocations?: readonly { slot: number; kind: string; name?: string; spec?: string }[];
}


/** Whether an object's BTF answers lookups by id and name (src/loader's Btf does). */
function isKernelBtf(btf: BtfLike): btf is BtfLike & KernelBtf {
  const b = btf as Partial<KernelBtf>;
  return typeof b.tryType === 'function' && typeof b.idsByName === 'function';
}

/**
 * libbpf's verifier log fixups (fixup_log_failed_core_relo,
 * fixup_log_missing_kfunc_call): a reached poisoned call is reported as
 * the relocation or kfunc that caused it, not as an unknown helper.
 */
function explainPoison(program: ObjectProgramLike, result: VerifyResult): VerifyResult {
  const m = /^invalid func unknown#(\d+)$/.exec(result.error ?? '');
  if (!m || result.errorInsn === null) return result;
  const imm = Number(m[1]);
  const slot = result.errorInsn;
  const relo = program.relocations?.find((r) => r.slot === slot);
  let patch: [string, string] | null = null;
  if (imm === LibbpfPoison.CORE_CALL && relo?.kind === 'core_failed') {
    patch = [`${slot}: <invalid CO-RE relocation>`, `failed to resolve CO-RE relocation ${relo.spec ?? ''}`];
  } else if (isPoisonedCall(imm) && relo?.kind === 'kfunc') {
    patch = [`${slot}: <invalid kfunc call>`, `kfunc '${relo.name ?? ''}' is referenced but wasn't resolved`];
  }
  if (!patch) return result;
  const lines = result.log.split('\n');
  const at = lines.findIndex((l, i) => l === result.error && i > 0 && lines[i - 1]!.startsWith(`${slot}: (85) call unknown#${imm}`));
  if (at > 0) lines.splice(at - 1, 2, ...patch);
  return { ...result, error: patch[1], log: lines.join('\n') };
}

/** The context struct each program type's global subprograms may take (`find_canonical_prog_ctx_type`). */
const CTX_STRUCT: Readonly<Record<number, readonly string[]>> = {
  [ProgType.SOCKET_FILTER]: ['__sk_buff'], [ProgType.SCHED_CLS]: ['__sk_buff'], [ProgType.SCHED_ACT]: ['__sk_buff'],
  [ProgType.XDP]: ['xdp_md'], [ProgType.CGROUP_SKB]: ['__sk_buff'], [ProgType.CGROUP_SOCK]: ['bpf_sock'],
  [ProgType.LWT_IN]: ['__sk_buff'], [ProgType.LWT_OUT]: ['__sk_buff'], [ProgType.LWT_XMIT]: ['__sk_buff'], [ProgType.LWT_SEG6LOCAL]: ['__sk_buff'],
  [ProgType.SOCK_OPS]: ['bpf_sock_ops'], [ProgType.SK_SKB]: ['__sk_buff'], [ProgType.SK_MSG]: ['sk_msg_md'],
  [ProgType.FLOW_DISSECTOR]: ['__sk_buff'], [ProgType.KPROBE]: ['bpf_user_pt_regs_t', 'pt_regs'],
  [ProgType.PERF_EVENT]: ['bpf_perf_event_data'], [ProgType.RAW_TRACEPOINT]: ['bpf_raw_tracepoint_args'],
  [ProgType.RAW_TRACEPOINT_WRITABLE]: ['bpf_raw_tracepoint_args'], [ProgType.CGROUP_DEVICE]: ['bpf_cgroup_dev_ctx'],
  [ProgType.CGROUP_SOCK_ADDR]: ['bpf_sock_addr'], [ProgType.CGROUP_SYSCTL]: ['bpf_sysctl'], [ProgType.CGROUP_SOCKOPT]: ['bpf_sockopt'],
  [ProgType.SK_REUSEPORT]: ['sk_reuseport_md'], [ProgType.SK_LOOKUP]: ['bpf_sk_lookup'], [ProgType.NETFILTER]: ['bpf_nf_ctx'],
};

const MODIFIERS = new Set(['CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG', 'TYPEDEF']);

function skipModifiers(btf: BtfLike, id: number): BtfTypeLike {
  let t = btf.typeById(id);
  for (let n = 0; MODIFIERS.has(t.kind) && n < 32; n++) t = btf.typeById(t.type ?? 0);
  return t;
}

function isScalarType(t: BtfTypeLike): boolean {
  return t.kind === 'INT' || t.kind === 'ENUM' || t.kind === 'ENUM64';
}

/** btf_resolve_size: bytes of a type, or null (void, functions, forward declarations). */
function resolveSize(btf: BtfLike, id: number, depth = 0): number | null {
  if (depth > 32) return null;
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPE_TAG': case 'TYPEDEF':
      return resolveSize(btf, t.type ?? 0, depth + 1);
    case 'INT': case 'ENUM': case 'ENUM64': case 'STRUCT': case 'UNION': case 'FLOAT':
      return t.size ?? null;
    case 'PTR':
      return 8;
    case 'ARRAY': {
      const elem = resolveSize(btf, t.type ?? 0, depth + 1);
      return elem === null ? null : elem * (t.nelems ?? 0);
    }
    default:
      return null;
  }
}

function kindStr(t: BtfTypeLike): string {
  if (t.kind === 'UNKN') return 'UNKNOWN';
  return t.kind;
}

/** Whether pointer `ptrId` points to the program type's context (btf_is_prog_ctx_type). */
function isCtxPointer(btf: BtfLike, ptrId: number, progType: number): boolean {
  const names = CTX_STRUCT[progType];
  if (!names) return false;
  let t = btf.typeById(btf.typeById(ptrId).type ?? 0);
  for (let n = 0; n < 32; n++) {
    if (t.kind === 'TYPEDEF' && names.includes(t.name)) return true;
    if (!MODIFIERS.has(t.kind)) break;
    t = btf.typeById(t.type ?? 0);
  }
  return (t.kind === 'STRUCT' || t.kind === 'UNION') && names.includes(t.name);
}

/** btf_prepare_func_args for a global function: argument kinds, or the kernel's message. */
export function globalFuncArgs(btf: BtfLike, funcTypeId: number, progType: number, attachType = 0): { args: GlobalArg[] } | { error: string } {
  const fn = btf.typeById(funcTypeId);
  if (fn.kind !== 'FUNC') return { error: `BTF of func doesn't point to KIND_FUNC` };
  const proto = btf.typeById(fn.type ?? 0);
  if (proto.kind !== 'FUNC_PROTO') return { error: `Invalid type of function ${fn.name}()` };
  const params = proto.params ?? [];
  if (params.length > 5) return { error: `Global function ${fn.name}() with ${params.length} > 5 args. Buggy llvm.` };
  const ret = skipModifiers(btf, proto.type ?? 0);
  // (void too: 6.18 refuses a global function returning void at its call, measured)
  if (!isScalarType(ret)) {
    return { error: `Global function ${fn.name}() doesn't return scalar. Only those are supported.` };
  }
  const tags = argTags(btf, funcTypeId, params.length);
  const args: GlobalArg[] = [];
  for (let i = 0; i < params.length; i++) {
    const t = skipModifiers(btf, params[i]!.type);
    const tag = tags[i]!;
    for (const name of tag) {
      if (!KNOWN_ARG_TAGS.has(name)) return { error: `arg#${i} has unsupported set of tags` };
    }
    if (t.kind !== 'PTR' && tag.size > 0) return { error: `arg#${i} has pointer tag, but is not a pointer type` };
    if (isScalarType(t)) {
      args.push({ kind: 'scalar' });
      continue;
    }
    if (t.kind === 'PTR') {
      const ptrId = resolvePtrId(btf, params[i]!.type);
      if (tag.has('ctx') || isCtxPointer(btf, ptrId, progType)) {
        if (tag.size > (tag.has('ctx') ? 1 : 0)) return { error: `arg#${i} has invalid combination of tags` };
        if (tag.has('ctx') && !isCtxPointer(btf, ptrId, progType) && !ctxTagTypeOk(btf, t.type ?? 0, progType, attachType)) {
          const target = skipModifiers(btf, t.type ?? 0);
          return {
            error: `tsbpf: arg#${i} of ${fn.name}() is tagged __arg_ctx on a pointer to ${kindStr(target).toLowerCase()} ${target.name}: `
              + 'the kernel accepts some such types per program type (btf_validate_prog_ctx_type), tsbpf only void * and the context\'s own struct',
          };
        }
        args.push({ kind: 'ctx' });
        continue;
      }
      const pointee = skipModifiers(btf, t.type ?? 0);
      if (pointee.kind === 'STRUCT' && pointee.name === 'bpf_dynptr') {
        if (tag.size > 0) return { error: `arg#${i} has invalid combination of tags` };
        args.push({ kind: 'dynptr' });
        continue;
      }
      if (tag.has('trusted')) {
        if (tag.has('nonnull')) return { error: `arg#${i} has invalid combination of tags` };
        const target = skipModifiers(btf, t.type ?? 0);
        if (target.kind !== 'STRUCT') return { error: `tsbpf: arg#${i} of ${fn.name}() is tagged __arg_trusted on a ${kindStr(target).toLowerCase()}: tsbpf models trusted struct pointers only` };
        args.push({ kind: 'btf', struct: essentialName(target.name), trusted: true, nullable: tag.has('nullable') });
        continue;
      }
      if (tag.has('untrusted')) {
        if (tag.size > 1) return { error: `arg#${i} untrusted cannot be combined with any other tags` };
        const target = skipModifiers(btf, t.type ?? 0);
        if (target.kind === 'UNKN' || isScalarType(target) || target.kind === 'FLOAT') {
          args.push({ kind: 'untrusted-mem' });
          continue;
        }
        if (target.kind !== 'STRUCT') return { error: `arg#${i} has type ${kindStr(target)} '${target.name}', but only struct or primitive types are allowed` };
        args.push({ kind: 'btf', struct: essentialName(target.name), trusted: false, nullable: false });
        continue;
      }
      const other = [...tag].find((x) => x !== 'nonnull' && x !== 'nullable');
      if (other !== undefined) {
        return { error: `tsbpf: arg#${i} of ${fn.name}() is tagged __arg_${other}: arena arguments of global functions are not modelled` };
      }
      const size = resolveSize(btf, t.type ?? 0);
      if (size === null) {
        const target = skipModifiers(btf, t.type ?? 0);
        return { error: `arg#${i} reference type('${kindStr(target)} ${target.name}') size cannot be determined: -22` };
      }
      args.push(tag.has('nonnull') ? { kind: 'mem', size, nonnull: true } : { kind: 'mem', size });
      continue;
    }
    return { error: `Arg#${i} type ${kindStr(t)} in ${fn.name}() is not supported yet.` };
  }
  return { args };
}

/**
 * btf_validate_prog_ctx_type's allowances besides `void *` and the context's
 * own struct (which the caller checks): what an `__arg_ctx` pointer may
 * point to per program type.
 */
function ctxTagTypeOk(btf: BtfLike, pointee: number, progType: number, attachType: number): boolean {
  let t = btf.typeById(pointee);
  // kprobe programs may name the bpf_user_pt_regs_t typedef itself
  for (let n = 0; n < 32 && MODIFIERS.has(t.kind) && t.kind !== 'TYPEDEF'; n++) t = btf.typeById(t.type ?? 0);
  if (progType === ProgType.KPROBE && t.kind === 'TYPEDEF' && t.name === 'bpf_user_pt_regs_t') return true;
  t = skipModifiers(btf, pointee);
  if (t.kind === 'UNKN') return true;
  const struct = t.kind === 'STRUCT' || t.kind === 'UNION';
  const u64 = t.kind === 'INT' && t.size === 8;
  switch (progType) {
    case ProgType.KPROBE: case ProgType.PERF_EVENT: return struct && t.name === 'pt_regs';
    case ProgType.RAW_TRACEPOINT: case ProgType.RAW_TRACEPOINT_WRITABLE: return u64;
    case ProgType.TRACING:
      if (attachType === AttachType.TRACE_RAW_TP) return (struct && t.name === 'bpf_raw_tracepoint_args') || u64;
      if (attachType === AttachType.TRACE_ITER) return struct && t.name.startsWith('bpf_iter__');
      return (attachType === AttachType.TRACE_FENTRY || attachType === AttachType.TRACE_FEXIT || attachType === AttachType.MODIFY_RETURN) && u64;
    case ProgType.LSM: case ProgType.STRUCT_OPS: return u64;
    case ProgType.TRACEPOINT: case ProgType.SYSCALL: case ProgType.EXT: return true;
    default: return false;
  }
}

/** A type's name without a CO-RE flavor (`task_struct___local` is `task_struct`). */
function essentialName(name: string): string {
  const at = name.indexOf('___');
  return at > 0 ? name.slice(0, at) : name;
}

/** The `arg:` declaration tags the kernel knows (btf_prepare_func_args). */
const KNOWN_ARG_TAGS = new Set(['ctx', 'trusted', 'untrusted', 'nonnull', 'nullable', 'arena']);

/** The `arg:NAME` declaration tags on each of `count` parameters of function `funcTypeId` (`__arg_ctx`, `__arg_nonnull`, ...). */
function argTags(btf: BtfLike, funcTypeId: number, count: number): Set<string>[] {
  const tags = Array.from({ length: count }, () => new Set<string>());
  const own = btf.ownTypes ?? [];
  for (const t of own) {
    if (t.kind !== 'DECL_TAG' || t.type !== funcTypeId || !t.name.startsWith('arg:')) continue;
    const idx = (t as BtfTypeLike & { componentIdx?: number }).componentIdx ?? -1;
    if (idx >= 0 && idx < count) tags[idx]!.add(t.name.slice(4));
  }
  return tags;
}

function resolvePtrId(btf: BtfLike, id: number): number {
  let cur = id;
  for (let n = 0; n < 32; n++) {
    const t = btf.typeById(cur);
    if (!MODIFIERS.has(t.kind)) return cur;
    cur = t.type ?? 0;
  }
  return cur;
}

const BTF_FUNC_GLOBAL = 1;

/**
 * bpf_find_exception_callback_insn_off: the exception callback the main
 * function names (`__exception_cb(name)`, an `exception_callback:` tag),
 * checked as the kernel checks it before verifying: null when there is none.
 */
function exceptionCallback(btf: BtfLike, funcInfo: readonly { slot: number; typeId?: number }[]): { error: string } | { name: string } | null {
  const mainId = funcInfo[0]?.typeId;
  if (!mainId) return null;
  type Tagged = BtfTypeLike & { id?: number; componentIdx?: number };
  const own = (btf.ownTypes ?? []) as readonly Tagged[];
  const tags = own.filter((t) => t.kind === 'DECL_TAG' && t.type === mainId && (t.componentIdx ?? -1) === -1 && t.name.startsWith('exception_callback:'));
  if (tags.length === 0) return null;
  if (tags.length > 1) return { error: 'multiple exception callback tags for main subprog' };
  const name = tags[0]!.name.slice('exception_callback:'.length);
  const fn = own.find((t) => t.kind === 'FUNC' && t.name === name);
  if (!fn) return { error: `exception callback '${name}' could not be found in BTF` };
  if (fn.linkage !== BTF_FUNC_GLOBAL) return { error: `exception callback '${name}' must have global linkage` };
  const at = funcInfo.filter((f) => f.typeId === fn.id);
  if (at.length === 0) return { error: 'exception callback type id not found in func_info' };
  if (at[at.length - 1]!.slot === 0) return { error: 'invalid exception callback insn_off in func_info: 0' };
  return { name };
}

/** check_btf_func's scalar_return: the prototype returns a small int or an enum (void does not count). */
function returnsScalar(btf: BtfLike, protoId: number): boolean {
  const proto = btf.typeById(protoId);
  if (proto.kind !== 'FUNC_PROTO') return true;
  const ret = skipModifiers(btf, proto.type ?? 0);
  return (ret.kind === 'INT' && (ret.size ?? 0) <= 8) || ret.kind === 'ENUM' || ret.kind === 'ENUM64';
}

/**
 * The verdict on a program its loader refused before the verifier saw it
 * (`stage: 'loader'`): `error` is the loader's message, the log says where
 * the cause is (section, byte offset in the file, instruction) when known.
 */
export function loaderRejection(message: string, errno = 'EINVAL', where: { section?: string; offset?: number; insn?: number } = {}): VerifyResult {
  const at = [
    where.section !== undefined ? `section ${where.section}` : '', where.offset !== undefined ? `file offset ${where.offset}` : '',
    where.insn !== undefined ? `insn ${where.insn}` : '',
  ].filter(Boolean).join(', ');
  return {
    accepted: false, error: message, errno, errorInsn: where.insn ?? null, log: `libbpf: ${message}\n${at ? `libbpf: (${at})\n` : ''}`, insnsProcessed: 0,
    stats: { maxStatesPerInsn: 0, totalStates: 0, peakStates: 0, stackDepth: [] }, safeAccesses: new Set(), maxCtxOffset: 0,
    maxTpAccess: 0, stage: 'loader',
  };
}

/**
 * Verifies `program` of `object`; `progType` overrides the type from the
 * section. A program its loader refused (`loadError`) is not verified: the
 * verdict is the loader's refusal.
 */
export function verifyObjectProgram(object: ObjectLike, program: ObjectProgramLike, options: VerifyOptions & { progType?: number } = {}): VerifyResult {
  if (program.loadError) return loaderRejection(program.loadError.message, program.loadError.errno, program.loadError);
  const progType = options.progType ?? program.type;
  const btf = object.btf;
  const funcInfo = program.funcInfo.length > 0
    ? program.funcInfo.map((f, i) => {
      const entry: { insnOff: number; name: string; global: boolean; args?: GlobalArg[]; argsError?: string; scalarReturn?: boolean } = {
        insnOff: f.slot, name: f.name, global: false,
      };
      if (btf && f.typeId && i > 0) {
        const fn = btf.typeById(f.typeId);
        if (fn.kind === 'FUNC') entry.scalarReturn = returnsScalar(btf, fn.type ?? 0);
        if (fn.kind === 'FUNC' && fn.linkage === BTF_FUNC_GLOBAL) {
          entry.global = true;
          const r = globalFuncArgs(btf, f.typeId, progType, program.expectedAttachType ?? 0);
          if ('args' in r) entry.args = r.args;
          else entry.argsError = r.error;
        }
      }
      return entry;
    })
    : undefined;
  const exceptionCb = btf && program.funcInfo.length > 0 ? exceptionCallback(btf, program.funcInfo) : null;
  return explainPoison(program, verify({
    insns: program.insns,
    progType,
    license: object.license,
    maps: object.maps,
    ...(program.expectedAttachType !== undefined ? { expectedAttachType: program.expectedAttachType } : {}),
    flags: program.flags,
    mapFdsIndexMaps: false,
    ...(funcInfo ? { funcInfo } : {}),
    ...(program.lineInfo && program.lineInfo.length > 0
      ? { lineInfo: program.lineInfo.map((l) => ({ insnOff: l.slot, file: l.file, line: l.line, source: l.source })) }
      : {}),
    ...(program.attachTo !== undefined ? { attachTo: program.attachTo } : {}),
    ...(program.structOps ? { structOps: { struct: program.structOps.struct, member: program.structOps.member } } : {}),
    ...(exceptionCb ? { exceptionCallback: exceptionCb } : {}),
    ...(btf && isKernelBtf(btf) ? { progBtf: btf } : {}),
  }, object.kfuncBtf && !options.kfuncBtf ? { ...options, kfuncBtf: object.kfuncBtf } : options));
}
