/**
 * The object's programs: functions found in executable sections, their
 * relocations (maps, global data, externs, subprogram calls and
 * addresses), CO-RE applied against a target BTF, and for each entry
 * program the final instructions with its subprograms appended (libbpf's
 * bpf_object__relocate), with func and line info. What cannot be
 * relocated fails the programs containing the function, not the object.
 */
import { CallSrc, PseudoSrc } from '../isa/opcode.js';
import { coreContext, patchCoreInsn, resolveCoreRelo } from './core.js';
import { contextBtf } from './ctx-btf.js';
import type { ElfRelocation, ElfSection, ElfSymbol } from './elf.js';
import { RelocType, SHN_LORESERVE, SHN_UNDEF, SymbolBind, SymbolType } from './elf.js';
import { LoaderError } from './loader-error.js';
import type { Func, ObjectBuild, RelocDesc } from './object-build.js';
import { failureOf, isDwarf, relocName } from './object-build.js';
import { programTypeOfSection, samplesTailCallKey } from './sections.js';
import type { SectionProgramType } from './sections.js';
import type { LoadFailure, ProgramFuncInfo, ProgramFunction, ProgramLineInfo, ProgramRelocation, ProgramSpec } from './spec.js';
import { LibbpfPoison, ProgType } from '../isa/uapi.js';

/**
 * Finds the functions of the executable sections (a section without FUNC
 * symbols is one program named after it), refuses overlapping ones, and
 * numbers the entry programs in libbpf's order.
 */
export function collectFuncs(build: ObjectBuild): void {
  for (const [idx, kind] of build.kinds) {
    if (kind !== 'prog') continue;
    const sec = build.section(idx);
    const syms = build.elf.symbols.filter((s) => s.shndx === idx && s.type === SymbolType.FUNC);
    if (syms.length === 0) {
      // An old-style object: the whole section is one program named after it.
      addFunc(build, sec, sec.name, 0, sec.size, true);
      continue;
    }
    for (const sym of syms) {
      if (sym.value + sym.size > sec.size) build.fail(`program '${sym.name}' at offset ${sym.value} crosses section boundary (${sym.size} bytes, section ${sec.size})`, sec.name, sec.offset + Math.min(sym.value, sec.size));
      if (sym.value % 8 || sym.size % 8) build.fail(`program '${sym.name}' at offset ${sym.value} (${sym.size} bytes) is not made of whole instructions`, sec.name, sec.offset + sym.value);
      if (sym.size === 0) build.fail(`program '${sym.name}' has size 0`, sec.name, sec.offset + sym.value);
      addFunc(build, sec, sym.name, sym.value, sym.size, sym.bind !== SymbolBind.LOCAL);
    }
  }
  build.funcs.sort((a, b) => a.secIdx - b.secIdx || a.insnOff - b.insnOff);
  for (let i = 1; i < build.funcs.length; i++) {
    const a = build.funcs[i - 1]!;
    const b = build.funcs[i]!;
    if (a.secIdx === b.secIdx && a.insnOff + a.cnt > b.insnOff) {
      build.fail(`functions '${a.name}' and '${b.name}' overlap`, b.secName, build.section(b.secIdx).offset + b.insnOff * 8);
    }
  }
  let n = 0;
  for (const f of build.funcs) {
    if (!f.subprog) f.progIndex = n++;
    build.log.push(`sec '${f.secName}': found program '${f.name}' at insn offset ${f.insnOff} (${f.insnOff * 8} bytes), code size ${f.cnt} insns (${f.cnt * 8} bytes)`);
  }
}

/** Adds a function of `sec` (`off` and `size` in bytes); the functions of `.text` are subprograms. */
function addFunc(build: ObjectBuild, sec: ElfSection, name: string, off: number, size: number, global: boolean): void {
  build.funcs.push({
    name, secIdx: sec.index, secName: sec.name, insnOff: off / 8, cnt: size / 8, global,
    subprog: sec.index === build.textIdx, insns: sec.data.slice(off, off + size), relos: [], progIndex: -1, errors: [],
  });
}

/** The function of section `secIdx` that holds slot `insn`. */
function funcAt(build: ObjectBuild, secIdx: number, insn: number): Func | undefined {
  for (const f of build.funcs) {
    if (f.secIdx === secIdx && insn >= f.insnOff && insn < f.insnOff + f.cnt) return f;
  }
  return undefined;
}

/**
 * Records the relocations of the executable sections on the functions they
 * apply to; one that cannot apply fails the programs containing that
 * function.
 */
export function collectRelos(build: ObjectBuild): void {
  for (const rel of build.elf.relocations) {
    const target = build.section(rel.target);
    if (build.kinds.get(rel.target) !== 'prog') {
      if (rel.target !== build.mapsIdx && !isDwarf(target.name) && target.name !== '.BTF' && target.name !== '.BTF.ext') {
        build.log.push(`elf: skipping relo section(${rel.index}) ${rel.name} for section(${rel.target}) ${target.name}`);
      }
      continue;
    }
    build.log.push(`sec '${rel.name}': collecting relocation for section(${rel.target}) '${target.name}'`);
    rel.entries.forEach((r, i) => recordReloc(build, rel.name, target, r, i));
  }
}

/**
 * Records relocation #`i` of section `sec` on the function holding its
 * instruction; one outside the section or naming no symbol breaks the object.
 */
function recordReloc(build: ObjectBuild, relName: string, sec: ElfSection, r: ElfRelocation, i: number): void {
  if (r.offset % 8 !== 0 || r.offset >= sec.size) {
    build.fail(`relocation #${i} at offset ${r.offset} is outside the section (${sec.size} bytes) or not on an instruction boundary`, sec.name, sec.offset + Math.min(r.offset, sec.size));
  }
  if (r.type === RelocType.NONE) return;
  const sym = build.symbol(r.symbol, relName, r.offset);
  if (sym.shndx !== SHN_UNDEF && sym.shndx < SHN_LORESERVE && sym.shndx >= build.elf.sections.length) {
    build.fail(`corrupted symbol #${r.symbol} pointing to invalid section #${sym.shndx} for relo #${i}`, relName);
  }
  const insnIdx = r.offset / 8;
  const symName = sym.type === SymbolType.SECTION && sym.name === '' ? (build.elf.sections[sym.shndx]?.name ?? '<?>') : sym.name || '<?>';
  build.log.push(`sec '${relName}': relo #${i}: insn #${insnIdx} against '${symName}'`);
  const f = funcAt(build, sec.index, insnIdx);
  if (!f) {
    build.log.push(`sec '${relName}': relo #${i}: couldn't find program in section '${sec.name}' for insn #${insnIdx}, probably overridden weak function, skipping...`);
    return;
  }
  try {
    recordFuncReloc(build, f, sec, r, sym, symName);
  } catch (err) {
    if (!(err instanceof LoaderError)) throw err;
    // libbpf refuses the object here; tsbpf fails the programs that contain this function.
    f.errors.push(failureOf(err));
    build.log.push(err.reason);
  }
}

/**
 * What a relocation does to an instruction of `f` (extern, subprogram call
 * or address, map, global data), checked as libbpf checks it: what libbpf
 * refuses throws, and {@link recordReloc} makes it the function's error.
 */
function recordFuncReloc(build: ObjectBuild, f: Func, sec: ElfSection, r: ElfRelocation, sym: ElfSymbol, symName: string): void {
  const at = sec.offset + r.offset;
  const insnIdx = r.offset / 8;
  const local = insnIdx - f.insnOff;
  const view = new DataView(f.insns.buffer, f.insns.byteOffset, f.insns.byteLength);
  const code = view.getUint8(local * 8);
  const isCall = code === 0x85;
  const isLddw = code === 0x18;
  if (!isCall && !isLddw) {
    build.fail(`prog '${f.name}': invalid relo against '${symName}' for insns[${local}].code 0x${code.toString(16)}: a relocation must point at a lddw or call instruction`, sec.name, at, insnIdx);
  }
  if (isLddw && local + 1 >= f.cnt) build.fail(`prog '${f.name}': lddw at insn ${local} has no second slot`, sec.name, at, insnIdx);
  const okType = isCall ? r.type === RelocType.R_BPF_64_32 : r.type === RelocType.R_BPF_64_64 || r.type === RelocType.R_BPF_64_ABS64;
  if (!okType) build.fail(`prog '${f.name}': relocation type ${relocName(r.type)} cannot apply to a ${isCall ? 'call' : 'lddw'} instruction`, sec.name, at, insnIdx);
  const imm = view.getInt32(local * 8 + 4, true);
  const src = view.getUint8(local * 8 + 1) >> 4;
  // Extern.
  if (sym.shndx === SHN_UNDEF && (sym.bind === SymbolBind.GLOBAL || sym.bind === SymbolBind.WEAK) && sym.type === SymbolType.NOTYPE && sym.name !== '') {
    const ext = build.externs.findIndex((e) => e.symIdx === r.symbol);
    if (ext < 0) build.fail(`prog '${f.name}': extern relo failed to find extern for '${symName}' (${r.symbol})`, sec.name, at, insnIdx);
    f.relos.push({ insn: local, type: isCall ? 'extern_call' : 'extern_ld64', ext });
    build.log.push(`prog '${f.name}': found extern #${ext} '${build.externs[ext]!.name}' (sym ${r.symbol}) for insn #${local}`);
    return;
  }
  if (isCall) {
    if (src !== 1) build.fail(`prog '${f.name}': incorrect bpf_call opcode (a relocated call must be a bpf-to-bpf call, src 1)`, sec.name, at, insnIdx);
    if (!sym.shndx || sym.shndx >= SHN_LORESERVE || build.kinds.get(sym.shndx) !== 'prog') {
      build.fail(`prog '${f.name}': bad call relo against '${symName}' in section '${build.elf.sections[sym.shndx]?.name ?? '?'}'`, sec.name, at, insnIdx);
    }
    if (sym.value % 8) build.fail(`prog '${f.name}': bad call relo against '${symName}' at offset ${sym.value}`, sec.name, at, insnIdx);
    f.relos.push({ insn: local, type: 'call', secIdx: sym.shndx, symOff: sym.value, symName });
    return;
  }
  if (!sym.shndx || sym.shndx >= SHN_LORESERVE) {
    build.fail(`prog '${f.name}': invalid relo against '${symName}' in special section 0x${sym.shndx.toString(16)}; forgot to initialize global var?..`, sec.name, at, insnIdx);
  }
  const kind = build.kinds.get(sym.shndx);
  const symSec = build.section(sym.shndx);
  if (kind === 'prog') {
    if (sym.value % 8 || imm % 8) build.fail(`prog '${f.name}': bad subprog addr relo against '${symName}' at offset ${sym.value}+${imm}`, sec.name, at, insnIdx);
    f.relos.push({ insn: local, type: 'subprog_addr', secIdx: sym.shndx, symOff: sym.value, symName });
    // libbpf marks these as BPF_PSEUDO_FUNC before linking.
    view.setUint8(local * 8 + 1, (view.getUint8(local * 8 + 1) & 0x0f) | (PseudoSrc.FUNC << 4));
    return;
  }
  if (kind === 'maps' || kind === 'legacy_maps') {
    const off = sym.value + (sym.type === SymbolType.SECTION ? imm : 0);
    const map = build.maps.findIndex((m) => (m.kind === 'btf' || m.kind === 'legacy') && m.sectionIndex === sym.shndx && m.sectionOffset === off);
    if (map < 0) build.fail(`prog '${f.name}': map relo failed to find map for section '${symSec.name}', off ${off}`, sec.name, at, insnIdx);
    f.relos.push({ insn: local, type: 'ld64', map });
    build.log.push(`prog '${f.name}': found map ${map} (${build.maps[map]!.name}, sec ${sym.shndx}, off ${off}) for insn #${local}`);
    return;
  }
  if (kind === 'data' || kind === 'rodata' || kind === 'bss') {
    const map = build.maps.findIndex((m) => (m.kind === 'data' || m.kind === 'rodata' || m.kind === 'bss') && m.sectionIndex === sym.shndx);
    if (map < 0) build.fail(`prog '${f.name}': data relo failed to find map for section '${symSec.name}'`, sec.name, at, insnIdx);
    f.relos.push({ insn: local, type: 'data', map, symOff: sym.value });
    build.log.push(`prog '${f.name}': found data map ${map} (${build.maps[map]!.name}, sec ${sym.shndx}, off 0) for insn ${local}`);
    return;
  }
  build.fail(`prog '${f.name}': bad data relo against '${symName}' in section '${symSec.name}'`, sec.name, at, insnIdx);
}

/**
 * Applies the CO-RE relocations of `.BTF.ext` in place, against the
 * `coreTarget` BTF (default: tsbpf's context types); one that fails to
 * resolve fails the programs containing its function.
 */
export function applyCore(build: ObjectBuild): void {
  const ext = build.btfExt;
  if (!ext || !ext.coreRelos.length || !build.btf) return;
  const given = typeof build.options.coreTarget === 'function' ? build.options.coreTarget() : build.options.coreTarget;
  const target = given ?? contextBtf();
  const targetName = build.options.coreTargetName ?? (given ? (target.name || 'vmlinux') : 'tsbpf');
  const ctx = coreContext(build.btf, target, targetName, build.log);
  for (const sec of ext.coreRelos) {
    if (sec.section === '') build.fail('CO-RE relocations for a section with an empty name', '.BTF.ext');
    const elfSec = build.elf.sections.find((s) => s.name === sec.section);
    build.log.push(`sec '${sec.section}': found ${sec.records.length} CO-RE relocations`);
    sec.records.forEach((rec, i) => {
      if (rec.insnOff % 8) build.fail(`CO-RE relocation #${i} of section '${sec.section}' at byte offset ${rec.insnOff} is not on an instruction boundary`, '.BTF.ext');
      const insnIdx = rec.insnOff / 8;
      const f = elfSec ? funcAt(build, elfSec.index, insnIdx) : undefined;
      if (!f) {
        build.log.push(`sec '${sec.section}': skipping CO-RE relocation #${i} for insn #${insnIdx} belonging to eliminated weak subprogram`);
        return;
      }
      const local = insnIdx - f.insnOff;
      const site = { ...(build.file !== undefined ? { file: build.file } : {}), section: sec.section };
      try {
        const res = resolveCoreRelo(ctx, f.name, rec, i, site);
        patchCoreInsn(ctx, f.name, f.insns, local, i, res, site);
        if (res.poison) (f.coreFailures ??= []).push({ insn: local, spec: res.localSpecText ?? '' });
      } catch (err) {
        if (!(err instanceof LoaderError)) throw err;
        // libbpf fails the object; tsbpf the programs containing this function.
        f.errors.push({ ...failureOf(err), insn: err.location.insn ?? insnIdx });
        build.log.push(err.reason);
      }
    });
  }
}

/**
 * The {@link ProgramSpec} of an entry program: its subprograms appended
 * depth first (libbpf's bpf_object__reloc_code), calls and data
 * relocations applied (map indexes instead of fds), func and line info,
 * and the first reason it cannot load.
 */
export function finishProgram(build: ObjectBuild, main: Func): ProgramSpec {
  const secName = main.secName.startsWith('?') ? main.secName.slice(1) : main.secName;
  const autoload = !main.secName.startsWith('?');
  const pt: SectionProgramType = programTypeOfSection(secName);
  // Append subprograms (libbpf bpf_object__reloc_code), depth first.
  const chunks: Uint8Array[] = [main.insns.slice()];
  let total = main.cnt;
  const placed = new Map<Func, number>([[main, 0]]);
  const order: Func[] = [main];
  const relos: { insn: number; desc: RelocDesc }[] = [];
  const relocCode = (prog: Func, depth: number): void => {
    if (depth > 1000) build.fail(`prog '${main.name}': subprogram calls nest too deep`, prog.secName);
    const base = placed.get(prog)!;
    for (const d of prog.relos) relos.push({ insn: base + d.insn, desc: d });
    const view = new DataView(prog.insns.buffer, prog.insns.byteOffset, prog.insns.byteLength);
    for (let i = 0; i < prog.cnt; i++) {
      const code = view.getUint8(i * 8);
      const regs = view.getUint8(i * 8 + 1);
      const isSubCall = code === 0x85 && (regs >> 4) === 1 && (regs & 0xf) === 0 && view.getInt16(i * 8 + 2, true) === 0;
      const isFunc = code === 0x18 && (regs >> 4) === PseudoSrc.FUNC;
      if (!isSubCall && !isFunc) continue;
      const relo = prog.relos.find((r) => r.insn === i);
      if (relo && relo.type === 'extern_call') continue;
      if (relo && relo.type !== 'call' && relo.type !== 'subprog_addr') {
        build.fail(`prog '${prog.name}': unexpected relo for insn #${i}, type ${relo.type}`, prog.secName, undefined, i);
      }
      const imm = view.getInt32(i * 8 + 4, true);
      let secIdx: number;
      let subInsn: number;
      if (relo) {
        const r = relo as { secIdx: number; symOff: number };
        secIdx = r.secIdx;
        subInsn = relo.type === 'call' ? r.symOff / 8 + imm + 1 : (r.symOff + imm) / 8;
      } else if (isFunc) {
        return build.fail(`prog '${prog.name}': missing subprog addr relo for insn #${i}`, prog.secName, undefined, i);
      } else {
        secIdx = prog.secIdx;
        subInsn = prog.insnOff + i + imm + 1;
      }
      const callee = funcAt(build, secIdx, subInsn);
      if (!callee) {
        build.fail(`prog '${prog.name}': call at insn #${i} targets insn ${subInsn} of section '${build.elf.sections[secIdx]?.name ?? '?'}', where no function starts`, prog.secName, undefined, i);
      }
      if (callee.insnOff !== subInsn) {
        build.fail(`prog '${prog.name}': call at insn #${i} jumps into the middle of function '${callee.name}'`, prog.secName, undefined, i);
      }
      if (!placed.has(callee)) {
        placed.set(callee, total);
        order.push(callee);
        chunks.push(callee.insns.slice());
        total += callee.cnt;
        relocCode(callee, depth + 1);
      }
      const newImm = placed.get(callee)! - (base + i) - 1;
      patches.push({ slot: base + i, imm: newImm, callee, isFunc });
      build.log.push(`prog '${prog.name}': insn #${i} relocated, imm ${newImm} points to subprog '${callee.name}' (now at ${placed.get(callee)} offset)`);
    }
  };
  const patches: { slot: number; imm: number; callee: Func; isFunc: boolean }[] = [];
  let linkError: LoadFailure | undefined;
  try {
    relocCode(main, 0);
  } catch (err) {
    if (!(err instanceof LoaderError)) throw err;
    // libbpf refuses the object; tsbpf this program (its code is what could be linked).
    linkError = failureOf(err);
    build.log.push(err.reason);
  }
  const insns = new Uint8Array(total * 8);
  let at = 0;
  for (const c of chunks) {
    insns.set(c, at);
    at += c.length;
  }
  const view = new DataView(insns.buffer);
  const records: ProgramRelocation[] = [];
  for (const p of patches) {
    view.setInt32(p.slot * 8 + 4, p.imm, true);
    records.push(p.isFunc ? { slot: p.slot, kind: 'func', target: placed.get(p.callee)!, function: p.callee.name } : { slot: p.slot, kind: 'call', target: placed.get(p.callee)!, function: p.callee.name });
  }
  // Data relocations (libbpf bpf_object__relocate_data), with map indexes instead of fds.
  for (const { insn, desc } of relos) {
    const o = insn * 8;
    switch (desc.type) {
      case 'ld64':
        view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.MAP_IDX << 4));
        view.setInt32(o + 4, desc.map, true);
        records.push({ slot: insn, kind: 'map', map: desc.map });
        break;
      case 'data': {
        const offset = (view.getInt32(o + 4, true) + desc.symOff) | 0;
        view.setInt32(o + 12, offset, true);
        view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.MAP_IDX_VALUE << 4));
        view.setInt32(o + 4, desc.map, true);
        records.push({ slot: insn, kind: 'map_value', map: desc.map, offset });
        break;
      }
      case 'extern_ld64': {
        const ext = build.externs[desc.ext]!;
        if (ext.kcfg) {
          view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.MAP_IDX_VALUE << 4));
          view.setInt32(o + 4, build.kconfigMap, true);
          view.setInt32(o + 12, ext.kcfg.dataOff, true);
          records.push({ slot: insn, kind: 'kconfig', name: ext.name, map: build.kconfigMap, offset: ext.kcfg.dataOff });
        } else if (ext.kernelBtfId !== undefined) {
          view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.BTF_ID << 4));
          view.setInt32(o + 4, ext.kernelBtfId, true);
          view.setInt32(o + 12, 0, true);
          records.push({ slot: insn, kind: 'ksym', name: ext.name, weak: ext.weak });
        } else {
          // a typeless ksym's address (0 when unresolved and weak), as a plain 64-bit constant
          const address = BigInt.asUintN(64, ext.address ?? 0n);
          view.setUint32(o + 4, Number(address & 0xffff_ffffn), true);
          view.setUint32(o + 12, Number(address >> 32n), true);
          records.push({ slot: insn, kind: 'ksym', name: ext.name, weak: ext.weak });
        }
        break;
      }
      case 'extern_call': {
        const ext = build.externs[desc.ext]!;
        view.setUint8(o, 0x85);
        view.setInt16(o + 2, 0, true);
        if (ext.kernelBtfId !== undefined) {
          view.setUint8(o + 1, CallSrc.KFUNC << 4);
          view.setInt32(o + 4, ext.kernelBtfId, true);
        } else {
          view.setUint8(o + 1, 0);
          view.setInt32(o + 4, LibbpfPoison.KFUNC_BASE + desc.ext, true);
        }
        records.push({ slot: insn, kind: 'kfunc', name: ext.name, weak: ext.weak });
        break;
      }
      case 'call': case 'subprog_addr':
        break;
    }
  }
  for (const f of order) {
    for (const c of f.coreFailures ?? []) records.push({ slot: placed.get(f)! + c.insn, kind: 'core_failed', spec: c.spec });
  }
  records.sort((a, b) => a.slot - b.slot);
  const functions: ProgramFunction[] = order.map((f) => ({ name: f.name, slot: placed.get(f)!, slots: f.cnt, section: f.secName }));
  const { funcInfo, lineInfo } = extInfo(build, order, placed);
  const spec: ProgramSpec = {
    name: main.name, section: secName, sectionIndex: main.secIdx, sectionOffset: main.insnOff * 8,
    type: pt.type, typeName: pt.typeName, flags: pt.flags, sectionRule: pt.rule, sectionRuleKind: pt.ruleKind,
    autoload, global: main.global, insns, relocations: records, functions, funcInfo, lineInfo,
  };
  if (pt.expectedAttachType !== undefined) {
    spec.expectedAttachType = pt.expectedAttachType;
    spec.expectedAttachTypeName = pt.expectedAttachTypeName!;
  }
  if (pt.attachTo !== undefined) spec.attachTo = pt.attachTo;
  if (pt.tailCall) spec.tailCall = pt.tailCall;
  else if (build.legacyMapSections.length > 0) {
    const key = samplesTailCallKey(secName);
    if (key !== undefined) spec.tailCall = { key, loader: 'samples' };
  }
  const failure = order.map((f) => f.errors[0]).find((e) => e !== undefined) ?? linkError ?? usedFailure(build, relos.map((r) => r.desc));
  if (failure) spec.loadError = failure;
  if (pt.ruleKind === 'unknown') build.log.push(`prog '${main.name}': section '${secName}' names no known program type; type unspec`);
  return spec;
}

/** The first unresolved extern or unusable map among a program's relocations (libbpf fails at extern resolution, then at map creation). */
function usedFailure(build: ObjectBuild, relos: readonly RelocDesc[]): LoadFailure | undefined {
  for (const r of relos) {
    if ((r.type === 'extern_ld64' || r.type === 'extern_call') && build.externs[r.ext]!.error) return build.externs[r.ext]!.error;
  }
  for (const r of relos) {
    const map = r.type === 'ld64' || r.type === 'data' ? build.maps[r.map] : undefined;
    if (map?.loadError) return map.loadError;
  }
  return undefined;
}

/** The func and line info of the functions of a program, at their slots in it. */
function extInfo(build: ObjectBuild, order: Func[], placed: Map<Func, number>): { funcInfo: ProgramFuncInfo[]; lineInfo: ProgramLineInfo[] } {
  const funcInfo: ProgramFuncInfo[] = [];
  const lineInfo: ProgramLineInfo[] = [];
  const ext = build.btfExt;
  if (!ext) return { funcInfo, lineInfo };
  for (const f of order) {
    const base = placed.get(f)!;
    const inRange = (off: number): number | undefined => {
      if (off % 8) return undefined;
      const idx = off / 8;
      return idx >= f.insnOff && idx < f.insnOff + f.cnt ? base + idx - f.insnOff : undefined;
    };
    for (const s of ext.funcInfo) {
      if (s.section !== f.secName) continue;
      for (const r of s.records) {
        const slot = inRange(r.insnOff);
        if (slot === undefined) continue;
        funcInfo.push({ slot, typeId: r.typeId, name: build.btf?.tryType(r.typeId)?.name ?? '' });
      }
    }
    for (const s of ext.lineInfo) {
      if (s.section !== f.secName) continue;
      for (const r of s.records) {
        const slot = inRange(r.insnOff);
        if (slot === undefined) continue;
        lineInfo.push({ slot, file: r.fileName, line: r.lineNum, column: r.column, source: r.line });
      }
    }
  }
  funcInfo.sort((a, b) => a.slot - b.slot);
  lineInfo.sort((a, b) => a.slot - b.slot);
  return { funcInfo, lineInfo };
}

/**
 * iproute2 loads tail-call sections (`id/key`) with the type of the command
 * that loads the object (tc filter: sched_cls, tc action: sched_act, ip
 * link xdp: xdp). tsbpf gives them the type every other program of the
 * object agrees on, else sched_cls.
 */
export function tailCallTypes(build: ObjectBuild): void {
  const others = build.programs.filter((p) => p.sectionRuleKind !== 'iproute2-tail-call' && p.sectionRuleKind !== 'unknown');
  const first = others[0];
  if (!first || first.type === ProgType['SCHED_CLS'] || others.some((p) => p.type !== first.type)) return;
  for (const p of build.programs) {
    if (p.sectionRuleKind !== 'iproute2-tail-call') continue;
    p.type = first.type;
    p.typeName = first.typeName;
    if (first.expectedAttachType !== undefined) {
      p.expectedAttachType = first.expectedAttachType;
      p.expectedAttachTypeName = first.expectedAttachTypeName!;
    }
    build.log.push(`prog '${p.name}': tail-call section '${p.section}' loaded as ${first.typeName}, the type of the object's other programs`);
  }
}
