/**
 * isa/uapi.ts against Linux itself: the enums of the running kernel's BTF
 * (/sys/kernel/btf/vmlinux: `enum bpf_prog_type`, `bpf_map_type`,
 * `bpf_attach_type`, `bpf_func_id`) and the installed UAPI header
 * (/usr/include/linux/bpf.h, usually older than the kernel, so it is
 * checked as far as it goes). Each source is skipped, with the reason
 * printed, where the machine lacks it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ATTACH_TYPE_NAMES, AttachType, BpfFunc, HELPER_NAMES, MAP_TYPE_NAMES, MapType, PROG_TYPE_NAMES, ProgType,
} from '../../src/isa/index.js';
import { localVmlinux } from '../verifier/corpus/common.js';

const HEADER = '/usr/include/linux/bpf.h';

/** `PREFIX_NAME = value` pairs of a kernel enum, as `name → value` (prefix stripped, lower case). */
function kernelEnum(typeName: string, prefix: string): Map<string, number> | null {
  const btf = localVmlinux();
  const t = btf?.findByName(typeName, 'ENUM');
  if (!t || t.kind !== 'ENUM') return null;
  const out = new Map<string, number>();
  for (const v of t.values) {
    if (v.name.startsWith(prefix) && !v.name.startsWith('__')) out.set(v.name.slice(prefix.length).toLowerCase(), v.value);
  }
  return out;
}

/** The names of a table indexed by id, as the same `name → id` map. */
function byId(names: readonly string[]): Map<string, number> {
  return new Map(names.map((n, i) => [n, i]));
}

const vmlinux = localVmlinux();
if (!vmlinux) console.log('uapi: skipping the kernel BTF checks: /sys/kernel/btf/vmlinux is not readable');

describe.skipIf(!vmlinux)('uapi.ts matches the running kernel (BTF enums)', () => {
  it('program types: every kernel id has our name, ours stop where the kernel stops', () => {
    const k = kernelEnum('bpf_prog_type', 'BPF_PROG_TYPE_')!;
    expect(k.size).toBeGreaterThan(30);
    expect(byId(PROG_TYPE_NAMES)).toEqual(k);
    expect(ProgType.XDP).toBe(k.get('xdp'));
  });

  it('map types', () => {
    const k = kernelEnum('bpf_map_type', 'BPF_MAP_TYPE_')!;
    // the kernel keeps aliases for the renamed cgroup storage types
    for (const alias of ['cgroup_storage_deprecated', 'percpu_cgroup_storage_deprecated']) k.delete(alias);
    expect(byId(MAP_TYPE_NAMES)).toEqual(k);
    expect(MapType.RINGBUF).toBe(27);
  });

  it('attach types: the kernel defines a prefix of libbpf\'s list, with the same ids', () => {
    const k = kernelEnum('bpf_attach_type', 'BPF_')!;
    expect(k.size).toBeGreaterThan(50);
    for (const [name, id] of k) expect(ATTACH_TYPE_NAMES[id], `BPF_${name.toUpperCase()}`).toBe(name);
    expect(AttachType.XDP).toBe(k.get('xdp'));
  });

  it('helper ids: all 212 names and ids', () => {
    const k = kernelEnum('bpf_func_id', 'BPF_FUNC_')!;
    expect(byId(HELPER_NAMES.map((n) => n.slice(4)))).toEqual(k);
    expect(BpfFunc.tail_call).toBe(k.get('tail_call'));
    expect(BpfFunc.cgrp_storage_delete).toBe(211);
  });
});

const header = existsSync(HEADER) ? readFileSync(HEADER, 'utf8') : null;
if (!header) console.log(`uapi: skipping the UAPI header checks: ${HEADER} is missing (Debian: linux-libc-dev)`);

describe.skipIf(!header)('uapi.ts matches the installed UAPI header', () => {
  /** The enumerators of `enum NAME { ... }` in order (values are implicit in the header). */
  function headerEnum(name: string, prefix: string): string[] {
    const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(header!)![1]!;
    return [...body.matchAll(new RegExp(`^\\s*${prefix}(\\w+)`, 'gm'))].map((m) => m[1]!.toLowerCase());
  }

  it('program and map types in order', () => {
    const progs = headerEnum('bpf_prog_type', 'BPF_PROG_TYPE_');
    expect(PROG_TYPE_NAMES.slice(0, progs.length)).toEqual(progs);
    const maps = headerEnum('bpf_map_type', 'BPF_MAP_TYPE_').filter((n) => !n.endsWith('_deprecated'));
    expect(MAP_TYPE_NAMES.slice(0, maps.length)).toEqual(maps);
  });

  it('helper names in __BPF_FUNC_MAPPER order', () => {
    const fns = [...header!.matchAll(/^\s*FN\((\w+),?\s*(\d*)/gm)].map((m) => m[1]!);
    expect(fns.length).toBeGreaterThan(200);
    expect(HELPER_NAMES.slice(0, fns.length).map((n) => n.slice(4))).toEqual(fns);
  });
});
