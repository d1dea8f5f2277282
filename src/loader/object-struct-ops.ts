/**
 * libbpf's struct_ops maps: a `.struct_ops` or `.struct_ops.link` section
 * holds variables of a kernel struct type (`struct tcp_congestion_ops cc =
 * { .ssthresh = (void *)my_ssthresh, ... }`), and the section's
 * relocations point its function-pointer members at programs. Each
 * program so named is loaded for that member of the kernel's struct
 * (`attach_btf_id` the struct, `expected_attach_type` the member's index),
 * which the verifier needs to type its context and check what it may do.
 * The struct_ops maps themselves are not created.
 */
import type { BtfDatasec } from './btf.js';
import type { ObjectBuild } from './object-build.js';
import type { ProgramSpec } from './spec.js';

/** Which program each struct_ops member names, by the program's section and first slot. */
export interface StructOpsRefs {
  get(secIdx: number, insnOff: number): { struct: string; member: string; map: string } | undefined;
}

/** Reads the struct_ops sections and their relocations (bpf_object__collect_st_ops_relos). */
export function collectStructOps(build: ObjectBuild): StructOpsRefs {
  const refs = new Map<string, { struct: string; member: string; map: string }>();
  const btf = build.btf;
  for (const s of build.elf.sections) {
    if (s.name !== '.struct_ops' && s.name !== '.struct_ops.link') continue;
    const sec = btf?.ownTypes.find((t): t is BtfDatasec => t.kind === 'DATASEC' && t.name === s.name);
    if (!btf || !sec) {
      build.log.push(`struct_ops init: DATASEC ${s.name} not found`);
      continue;
    }
    for (const rel of build.elf.relocations) {
      if (rel.target !== s.index) continue;
      rel.entries.forEach((r, i) => {
        const sym = build.symbol(r.symbol, rel.name, r.offset);
        const v = sec.vars.find((x) => r.offset >= x.offset && r.offset < x.offset + x.size);
        const varType = v ? btf.tryType(v.type) : undefined;
        if (!v || !varType || varType.kind !== 'VAR') {
          build.log.push(`struct_ops reloc ${s.name}: relo #${i}: cannot find map for offset ${r.offset}`);
          return;
        }
        const struct = btf.skipModsAndTypedefs(varType.type);
        const moff = (r.offset - v.offset) * 8;
        const member = struct.kind === 'STRUCT' ? struct.members.find((m) => m.bitOffset === moff) : undefined;
        if (!member) {
          build.log.push(`struct_ops reloc ${varType.name}: cannot find member at moff ${moff / 8}`);
          return;
        }
        const prog = `${sym.shndx}:${sym.value / 8}`;
        refs.set(prog, { struct: struct.name, member: member.name, map: varType.name });
        build.log.push(`struct_ops reloc ${varType.name}: member ${member.name} of struct ${struct.name} is program at section ${sym.shndx} offset ${sym.value}`);
      });
    }
  }
  return { get: (secIdx, insnOff) => refs.get(`${secIdx}:${insnOff}`) };
}

/** Gives each struct_ops program the member it is loaded for. */
export function applyStructOps(build: ObjectBuild, refs: StructOpsRefs, programs: readonly ProgramSpec[]): void {
  for (const f of build.funcs) {
    if (f.subprog) continue;
    const ref = refs.get(f.secIdx, f.insnOff);
    const p = programs.find((x) => x.name === f.name);
    if (ref && p && p.typeName === 'struct_ops') p.structOps = ref;
  }
}
