/**
 * The object's externs (libbpf's bpf_object__collect_externs and
 * bpf_object__resolve_externs): `.kconfig` variables, laid out in the
 * `.kconfig` map and given values from a kernel configuration, and `.ksyms`
 * kernel symbols and kfuncs, resolved against kernel BTF when one is given.
 * An extern libbpf would refuse fails only the programs that use it.
 */
import type { Btf, BtfDatasec, BtfType, BtfVar } from './btf.js';
import { BtfVarLinkage } from './btf.js';
import { coreTypesAreCompat, essentialName } from './core.js';
import { SHN_UNDEF, SymbolBind, SymbolType } from './elf.js';
import type { KcfgType, KconfigValue } from './kconfig.js';
import { DEFAULT_KCONFIG, setKconfigValue } from './kconfig.js';
import { LoaderError } from './loader-error.js';
import { builtinKfuncBtf } from './kfunc-btf.js';
import type { Extern, ObjectBuild } from './object-build.js';
import type { ExternSpec } from './spec.js';

/**
 * Collects the extern symbols (undefined global or weak NOTYPE symbols) with
 * their BTF, in libbpf's order (`.kconfig` ones first, by alignment and
 * size, then by name), gives each `.kconfig` extern its offset in the
 * `.kconfig` map, and turns the `.kconfig` DATASEC into that layout.
 */
export function collectExterns(build: ObjectBuild): void {
  const btf = build.btf;
  const raw: Extern[] = [];
  for (const sym of build.elf.symbols) {
    if (sym.shndx !== SHN_UNDEF || (sym.bind !== SymbolBind.GLOBAL && sym.bind !== SymbolBind.WEAK) || sym.type !== SymbolType.NOTYPE || sym.name === '') continue;
    const ext: Extern = { name: sym.name, symIdx: sym.index, weak: sym.bind === SymbolBind.WEAK, btfId: -1, type: 'ksym', ksymTypeId: 0, func: false, resolved: false };
    raw.push(ext);
    // What libbpf refuses about one extern fails the programs that use it.
    const bad = (message: string): void => {
      ext.error = { message, errno: 'EINVAL', section: '.symtab' };
      build.log.push(message);
    };
    if (!btf) {
      bad(`extern '${sym.name}' needs BTF (build with -g)`);
      continue;
    }
    let btfId = -1;
    let badLinkage = '';
    for (const t of btf.types()) {
      if ((t.kind !== 'VAR' && t.kind !== 'FUNC') || t.name !== sym.name) continue;
      if (t.kind === 'VAR' && t.linkage !== BtfVarLinkage.GLOBAL_EXTERN) badLinkage = `extern '${sym.name}': its BTF VAR is not extern`;
      if (t.kind === 'FUNC' && t.linkage !== 2) badLinkage = `extern '${sym.name}': its BTF FUNC is not extern`;
      btfId = t.id;
      break;
    }
    if (badLinkage) {
      bad(badLinkage);
      continue;
    }
    if (btfId < 0) {
      bad(`failed to find BTF for extern '${sym.name}'`);
      continue;
    }
    ext.btfId = btfId;
    const t = btf.typeById(btfId);
    ext.func = t.kind === 'FUNC';
    let sec: BtfDatasec | undefined;
    for (const d of btf.types()) {
      if (d.kind === 'DATASEC' && d.vars.some((v) => v.type === btfId)) {
        sec = d;
        break;
      }
    }
    if (!sec) {
      bad(t.kind === 'FUNC'
        ? `extern function '${sym.name}' is not defined in this object: link it with the object that defines it (tsbpf link, bpftool gen object)`
        : `extern '${sym.name}' is not in a .kconfig or .ksyms section (an unresolved extern variable: link it with the object that defines it)`);
      continue;
    }
    if (sec.name === '.kconfig') {
      ext.type = 'kcfg';
      if (t.kind === 'FUNC') {
        bad(`extern function ${t.name} is unsupported under .kconfig section`);
        continue;
      }
      const vt = (t as BtfVar).type;
      const size = btf.tryResolveSize(vt);
      if (typeof size === 'string' || size <= 0) {
        bad(`failed to resolve size of extern (kcfg) '${t.name}'`);
        continue;
      }
      const align = btf.alignOf(vt);
      const { type, signed } = kcfgType(btf, vt);
      if (type === 'unknown') {
        bad(`extern (kcfg) '${t.name}': type is unsupported`);
        continue;
      }
      ext.kcfg = { name: t.name, type, size, signed, align, dataOff: 0 };
    } else if (sec.name === '.ksyms') {
      ext.ksymTypeId = t.kind === 'FUNC' ? t.type : btf.skipModsAndTypedefs((t as BtfVar).type).id;
    } else {
      bad(`unrecognized extern section '${sec.name}'`);
    }
  }
  raw.sort((a, b) => {
    if (a.type !== b.type) return a.type === 'kcfg' ? -1 : 1;
    if (a.kcfg && b.kcfg) {
      if (a.kcfg.align !== b.kcfg.align) return b.kcfg.align - a.kcfg.align;
      if (a.kcfg.size !== b.kcfg.size) return a.kcfg.size - b.kcfg.size;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  build.externs.push(...raw);
  build.log.push(`collected ${raw.length} externs total`);
  let off = 0;
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i]!;
    if (e.kcfg) {
      e.kcfg.dataOff = Math.ceil(off / e.kcfg.align) * e.kcfg.align;
      off = e.kcfg.dataOff + e.kcfg.size;
      build.log.push(`extern (kcfg) #${i}: symbol ${e.symIdx}, off ${e.kcfg.dataOff}, name ${e.name}`);
    } else if (!e.error) {
      build.log.push(`extern (ksym) #${i}: symbol ${e.symIdx}, name ${e.name}`);
    }
  }
  // libbpf turns the .kconfig DATASEC into an allocated variable layout.
  if (btf && raw.some((e) => e.kcfg)) {
    const sec = btf.findByName('.kconfig', 'DATASEC') as BtfDatasec | undefined;
    if (sec) {
      sec.size = off;
      for (const v of sec.vars) {
        const vt = btf.typeById(v.type);
        const e = raw.find((x) => x.name === vt.name);
        if (!e) build.fail(`failed to find extern definition for BTF var '${vt.name}'`, '.BTF');
        if (!e.kcfg) continue; // refused above: its programs fail
        if (vt.kind === 'VAR') vt.linkage = BtfVarLinkage.GLOBAL_ALLOCATED;
        v.offset = e.kcfg.dataOff;
      }
      sec.vars.sort((a, b) => a.offset - b.offset);
    }
  }
}

/**
 * Writes the `.kconfig` externs' values ({@link DEFAULT_KCONFIG} and the
 * `kconfig` option) into `data`, the `.kconfig` map's value; a strong
 * extern without a value fails the programs that use it.
 */
export function resolveKconfig(build: ObjectBuild, data: Uint8Array): void {
  const values: Record<string, KconfigValue> = { ...DEFAULT_KCONFIG, ...(build.options.kconfig ?? {}) };
  for (const e of build.externs) {
    if (!e.kcfg) continue;
    const v = Object.prototype.hasOwnProperty.call(values, e.name) ? values[e.name] : undefined;
    if (v === undefined) {
      // libbpf (bpf_object__resolve_externs): CONFIG_ externs come from the
      // kernel's config, LINUX_ ones are virtual, anything else is refused.
      if (!e.name.startsWith('CONFIG_') && (!e.name.startsWith('LINUX_') || !e.weak)) {
        e.error = { message: `extern (kcfg) '${e.name}': unrecognized virtual extern`, errno: 'EINVAL', section: '.kconfig' };
        build.log.push(`${e.error.message} (tsbpf's kconfig option can give it a value)`);
      } else if (!e.weak) {
        e.error = { message: `extern '${e.name}' (strong): not resolved`, errno: 'ESRCH', section: '.kconfig' };
        build.log.push(`${e.error.message}: tsbpf knows no value for it (see docs/loader.md; pass it in the kconfig option)`);
      } else {
        build.log.push(`extern '${e.name}' (weak): not resolved, defaulting to zero`);
      }
      continue;
    }
    const bytes = data.subarray(e.kcfg.dataOff, e.kcfg.dataOff + e.kcfg.size);
    try {
      setKconfigValue(e.kcfg, bytes, v);
    } catch (err) {
      if (!(err instanceof LoaderError)) throw err;
      e.error = { message: err.reason, errno: 'EINVAL', section: '.kconfig' };
      build.log.push(err.reason);
      continue;
    }
    e.resolved = true;
    e.value = typeof v === 'string' && v.startsWith('"') ? v : typeof v === 'string' && /^[ynm]$/.test(v) ? v : BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' ? Math.trunc(v) : v);
    let shown = 0n;
    for (let i = Math.min(8, bytes.length) - 1; i >= 0; i--) shown = (shown << 8n) | BigInt(bytes[i]!);
    build.log.push(`extern (kcfg) '${e.name}': set to 0x${shown.toString(16)}`);
  }
}

/**
 * Resolves the `.ksyms` externs against the `ksymTarget` kernel BTF (kfuncs
 * tsbpf knows against its built-in kfunc BTF when there is none): a
 * strong one that stays unresolved fails the programs that use it, a weak
 * one is zero. Runs right after the maps are collected (the log's order).
 */
export function resolveKsyms(build: ObjectBuild): void {
  for (const e of build.externs) {
    if (e.type !== 'ksym' || e.error) continue;
    if (resolveKsym(build, e)) continue;
    // libbpf reads typeless ones from kallsyms (bpf_object__read_kallsyms_file)
    const address = !e.func && e.ksymTypeId === 0 ? build.options.ksymAddress?.(e.name) : undefined;
    if (address !== undefined) {
      e.address = address;
      e.resolved = true;
      build.log.push(`extern (ksym) '${e.name}': set to 0x${address.toString(16)}`);
      continue;
    }
    if (!e.weak) {
      // libbpf's messages (bpf_object__resolve_externs): kernel symbols and kfuncs do not exist in user space.
      const message = e.func
        ? `extern (func ksym) '${e.name}': not found in kernel or module BTFs`
        : e.ksymTypeId !== 0 ? `extern (var ksym) '${e.name}': not found in kernel BTF` : `extern '${e.name}' (strong): not resolved`;
      // libbpf returns -EINVAL when BTF resolution fails, -ESRCH for what stays unresolved (typeless, from kallsyms).
      e.error = { message, errno: e.ksymTypeId !== 0 || e.func ? 'EINVAL' : 'ESRCH', section: '.ksyms' };
      build.log.push(`${message}: kernel ${e.func ? 'functions (kfuncs)' : 'symbols'} do not exist in user space (declare it __weak and test bpf_ksym_exists()); the programs that use it cannot load`);
      continue;
    }
    build.log.push(`extern '${e.name}' (weak): not resolved, defaulting to zero`);
  }
}

/**
 * bpf_object__resolve_ksym_func_btf_id / _var_btf_id: a kfunc or a typed
 * kernel variable, found by name in the kernel BTF and checked against
 * the object's declaration. (Typeless ksyms take kallsyms addresses, from
 * the `ksymAddress` option: see {@link resolveKsyms}.)
 */
function resolveKsym(build: ObjectBuild, e: Extern): boolean {
  if (!e.func && e.ksymTypeId === 0) return false;
  // without a kernel BTF, kfuncs resolve against the ones tsbpf knows (iterators, RCU markers)
  let kern = build.options.ksymTarget?.() ?? null;
  if (!kern && e.func && builtinKfuncBtf().idsByName(essentialName(e.name)).length > 0) kern = build.kfuncBtf = builtinKfuncBtf();
  const local = build.btf;
  if (!kern || !local) return false;
  const kind = e.func ? 'FUNC' : 'VAR';
  const what = e.func ? 'func ksym' : 'var ksym';
  const name = e.func ? essentialName(e.name) : e.name;
  const id = kern.idsByName(name).find((i) => kern.typeById(i).kind === kind);
  if (id === undefined) {
    if (e.weak) return false;
    return ksymFailure(build, e, `extern (${what}) '${e.name}': not found in kernel or module BTFs`);
  }
  const kt = kern.typeById(id) as { type: number };
  if (e.func) {
    if (!coreTypesAreCompat(local, e.ksymTypeId, kern, kt.type)) {
      if (e.weak) return false;
      return ksymFailure(build, e, `extern (func ksym) '${e.name}': func_proto [${e.ksymTypeId}] incompatible with ${kern.name || 'vmlinux'} [${kt.type}]`);
    }
  } else {
    const targ = kern.skipModsAndTypedefs(kt.type);
    if (!coreTypesAreCompat(local, e.ksymTypeId, kern, targ.id)) {
      const lt = local.typeById(e.ksymTypeId);
      return ksymFailure(build, e, `extern (var ksym) '${e.name}': incompatible types, expected [${e.ksymTypeId}] ${lt.kind} ${lt.name}, but kernel has [${targ.id}] ${targ.kind} ${targ.name}`);
    }
  }
  e.kernelBtfId = id;
  e.resolved = true;
  build.log.push(`extern (${what}) '${e.name}': resolved to ${kern.name || 'vmlinux'} [${id}]`);
  return true;
}

/** A kernel symbol libbpf would refuse: the programs that use it cannot load (the others can). */
function ksymFailure(build: ObjectBuild, e: Extern, message: string): true {
  e.error = { message, errno: 'EINVAL', section: '.ksyms' };
  build.log.push(`${message}: the programs that use it cannot load`);
  return true;
}

/** The {@link ExternSpec} an extern is reported as in the `ObjectSpec`. */
export function externSpec(e: Extern): ExternSpec {
  const out: ExternSpec = { name: e.name, kind: e.type === 'kcfg' ? 'kconfig' : 'ksym', weak: e.weak, btfId: e.btfId, resolved: e.resolved };
  if (e.kcfg) {
    out.offset = e.kcfg.dataOff;
    out.size = e.kcfg.size;
  }
  if (e.value !== undefined) out.value = e.value;
  if (e.type === 'ksym') {
    out.func = e.func;
    out.typeless = e.ksymTypeId === 0;
  }
  if (e.error) out.error = e.error;
  return out;
}

/** libbpf's find_kcfg_type. */
function kcfgType(btf: Btf, id: number): { type: KcfgType; signed: boolean } {
  const t: BtfType = btf.skipModsAndTypedefs(id);
  switch (t.kind) {
    case 'INT': {
      if (t.encoding & 4) return { type: t.size === 1 ? 'bool' : 'unknown', signed: false };
      const signed = (t.encoding & 1) !== 0;
      if (t.size === 1) return { type: 'char', signed };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1))) return { type: 'unknown', signed };
      return { type: 'int', signed };
    }
    case 'ENUM':
      return { type: t.size === 4 && t.name === 'libbpf_tristate' ? 'tristate' : 'unknown', signed: false };
    case 'ENUM64':
      return { type: t.name === 'libbpf_tristate' ? 'tristate' : 'unknown', signed: false };
    case 'ARRAY':
      if (t.nelems === 0) return { type: 'unknown', signed: false };
      return { type: kcfgType(btf, t.type).type === 'char' ? 'char_array' : 'unknown', signed: false };
    default:
      return { type: 'unknown', signed: false };
  }
}
