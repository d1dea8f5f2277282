/**
 * The differential verifier corpus: program sources (hand-written rules and
 * seeded random programs), the fixture format the kernel's verdicts are
 * recorded in (test/fixtures/verifier/*.json, written by
 * scripts/record-verifier-corpus.ts) and the glue to run tsbpf's verifier
 * on a recorded entry.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { assemble } from '../../../src/asm/index.js';
import { parseBtf, type Btf } from '../../../src/loader/btf.js';
import { verify, type VerifierMapSpec, type VerifyResult } from '../../../src/verifier/index.js';
import { progTypeByName, attachTypeByName } from '../../../src/verifier/prog-types.js';
import { readKallsyms } from '../../../src/node/objects.js';

/** A map as the kernel oracle takes it (src/node/kernel-oracle, docs/testing.md). */
export interface OracleMap {
  type: string;
  key_size: number;
  value_size: number;
  max_entries: number;
  flags?: string[];
  name?: string;
  inner_map?: number;
}

/** BTF func info of a subprogram (what a loader passes with the program; the kernel needs it for callbacks). */
export interface FuncInfo {
  insn_off: number;
  name: string;
  global?: boolean;
}

/** A program before it is recorded. */
export interface SourceProgram {
  name: string;
  prog_type: string;
  /** LLVM-syntax assembly (labels allowed) ... */
  asm?: string;
  /** ... or raw instructions [code, dst, src, off, imm]. */
  raw?: readonly (readonly [number, number, number, number, number])[];
  maps?: OracleMap[];
  license?: string;
  prog_flags?: string[];
  expected_attach_type?: string;
  /** 'bpf': loaded with CAP_BPF but without CAP_PERFMON/CAP_SYS_ADMIN (pointer leak checks on). */
  caps?: 'bpf';
  /** BTF func info (the oracle loads the program without BTF: the kernel then refuses callbacks). */
  func_info?: FuncInfo[];
  /**
   * Tracing/LSM attach point: the name of its type in the kernel BTF
   * (`btf_trace_sched_wakeup` typedef, `bpf_iter_task`/`tcp_v4_connect`
   * function), resolved to `attach_btf_id` on the machine.
   */
  attach_btf?: string;
  /** The program needs the kernel's BTF (BTF pointers, kfuncs `call kfunc(NAME)` in the assembly). */
  kernel_btf?: boolean;
}

/** One recorded program with the kernel's verdict. */
export interface CorpusEntry {
  name: string;
  prog_type: string;
  insns: string;
  maps?: OracleMap[];
  license?: string;
  prog_flags?: string[];
  expected_attach_type?: string;
  caps?: 'bpf';
  attach_btf?: string;
  kernel_btf?: boolean;
  kernel: {
    accepted: boolean;
    /** The kernel log's last line before "processed" (null when accepted). */
    error: string | null;
    insn_processed: number | null;
  };
}

/** A fixture file. */
export interface CorpusFile {
  kernel: string;
  generated_by: string;
  /** Fingerprint of the kernel BTF the entries with `attach_btf`/`kernel_btf` were recorded with (their ids are that build's). */
  vmlinux_btf?: string;
  programs: CorpusEntry[];
}

const VMLINUX = '/sys/kernel/btf/vmlinux';
let vmlinux: Btf | null | undefined;

/** The machine's kernel BTF (/sys/kernel/btf/vmlinux), or null. */
export function localVmlinux(): Btf | null {
  if (vmlinux === undefined) vmlinux = existsSync(VMLINUX) ? parseBtf(readFileSync(VMLINUX), { name: 'vmlinux' }) : null;
  return vmlinux;
}

/** A fingerprint of the machine's kernel BTF, or null without one. */
export function vmlinuxFingerprint(): string | null {
  return existsSync(VMLINUX) ? createHash('sha256').update(readFileSync(VMLINUX)).digest('hex').slice(0, 16) : null;
}

/** Whether a corpus entry depends on the kernel BTF (ids of its build). */
export function needsKernelBtf(e: { attach_btf?: string; kernel_btf?: boolean }): boolean {
  return e.attach_btf !== undefined || e.kernel_btf === true;
}

/** Whether the entries of `file` that need the kernel BTF can be checked here (same BTF as recorded), else why not. */
export function kernelBtfUsable(file: CorpusFile): { ok: true } | { ok: false; reason: string } {
  const here = vmlinuxFingerprint();
  if (!here) return { ok: false, reason: 'no /sys/kernel/btf/vmlinux on this machine' };
  if (file.vmlinux_btf !== here) return { ok: false, reason: `/sys/kernel/btf/vmlinux (${here}) is not the BTF the kernel verdicts were recorded with (${file.vmlinux_btf ?? 'none'})` };
  return { ok: true };
}

/** The id of the attach point `name` in the machine's kernel BTF (a typedef for `btf_trace_*`, else a function). */
export function attachBtfId(name: string): number {
  const btf = localVmlinux();
  if (!btf) throw new Error('no kernel BTF for the attach point');
  const kind = name.startsWith('btf_trace_') ? 'TYPEDEF' : 'FUNC';
  const id = btf.idsByName(name).find((i) => btf.typeById(i).kind === kind);
  if (id === undefined) throw new Error(`${kind} ${name} is not in the kernel BTF`);
  return id;
}

/** `call kfunc(NAME)` → `call kfunc ID` with the id of function NAME in the machine's kernel BTF. */
export function resolveKfuncs(asm: string): string {
  return asm.replace(/kfunc\(([A-Za-z_0-9]+)\)/g, (_, name: string) => `kfunc ${attachBtfId(name)}`);
}

/** Shorthand `type:key:value:entries[:flag,flag]` → an oracle map. */
export function m(spec: string, name?: string): OracleMap {
  const [type, k, v, n, flags] = spec.split(':');
  const map: OracleMap = { type: type!, key_size: Number(k), value_size: Number(v), max_entries: Number(n) };
  if (flags) map.flags = flags.split(',');
  if (name) map.name = name;
  return map;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Encodes raw [code, dst, src, off, imm] slots. */
export function rawBytes(raw: readonly (readonly [number, number, number, number, number])[]): Uint8Array {
  const out = new Uint8Array(raw.length * 8);
  const dv = new DataView(out.buffer);
  raw.forEach(([code, dst, src, off, imm], i) => {
    out[i * 8] = code;
    out[i * 8 + 1] = (dst & 0xf) | ((src & 0xf) << 4);
    dv.setInt16(i * 8 + 2, off, true);
    dv.setInt32(i * 8 + 4, imm | 0, true);
  });
  return out;
}

/** The bytes of a source program. */
export function sourceBytes(p: SourceProgram): Uint8Array {
  if (p.raw) return rawBytes(p.raw);
  const asm = p.asm ?? '';
  return assemble(/kfunc\(/.test(asm) ? resolveKfuncs(asm) : asm, { syntax: 'llvm', file: p.name }).bytes;
}

const MAP_TYPES: Record<string, number> = {
  hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6, stack_trace: 7,
  cgroup_array: 8, lru_hash: 9, lru_percpu_hash: 10, lpm_trie: 11, array_of_maps: 12, hash_of_maps: 13,
  devmap: 14, sockmap: 15, cpumap: 16, xskmap: 17, sockhash: 18, cgroup_storage: 19, reuseport_sockarray: 20,
  percpu_cgroup_storage: 21, queue: 22, stack: 23, sk_storage: 24, devmap_hash: 25, struct_ops: 26, ringbuf: 27,
  inode_storage: 28, task_storage: 29, bloom_filter: 30, user_ringbuf: 31, cgrp_storage: 32, arena: 33,
};

const MAP_FLAGS: Record<string, number> = {
  no_prealloc: 1, no_common_lru: 2, numa_node: 4, rdonly: 8, wronly: 16, stack_build_id: 32, zero_seed: 64,
  rdonly_prog: 128, wronly_prog: 256, clone: 512, mmapable: 1024, preserve_elems: 2048, inner_map: 4096,
  link: 8192, path_fd: 16384, vtype_btf_obj_fd: 32768, token_fd: 65536, segv_on_fault: 131072, no_user_conv: 262144,
};

/** An oracle map as tsbpf's verifier takes it. */
export function verifierMap(m: OracleMap, all: readonly OracleMap[]): VerifierMapSpec {
  const spec: VerifierMapSpec = {
    type: MAP_TYPES[m.type] ?? Number(m.type),
    keySize: m.key_size,
    valueSize: m.value_size,
    maxEntries: m.max_entries,
    flags: (m.flags ?? []).reduce((a, f) => a | (MAP_FLAGS[f] ?? 0), 0),
    name: m.name ?? '',
  };
  if (m.inner_map !== undefined) spec.innerMap = verifierMap(all[m.inner_map]!, all);
  return spec;
}

const PROG_FLAGS: Record<string, number> = { strict_alignment: 1, any_alignment: 2, test_state_freq: 8, sleepable: 16, xdp_has_frags: 32 };

/** Runs tsbpf's verifier on a recorded entry. */
export function verifyEntry(e: {
  prog_type: string; insns: string; maps?: OracleMap[]; license?: string; prog_flags?: string[]; expected_attach_type?: string;
  caps?: 'bpf'; func_info?: FuncInfo[]; attach_btf?: string; kernel_btf?: boolean;
}, logLevel: 0 | 1 | 2 = 0): VerifyResult {
  const maps = e.maps ?? [];
  const btf = needsKernelBtf(e) ? localVmlinux() : null;
  return verify({
    ...(e.attach_btf !== undefined ? { attachBtfId: attachBtfId(e.attach_btf) } : {}),
    ...(e.func_info ? { funcInfo: e.func_info.map((f) => ({ insnOff: f.insn_off, name: f.name, global: f.global === true })) } : {}),
    insns: fromHex(e.insns),
    progType: progTypeByName(e.prog_type),
    license: e.license ?? 'GPL',
    maps: maps.map((x) => verifierMap(x, maps)),
    flags: (e.prog_flags ?? []).reduce((a, f) => a | (PROG_FLAGS[f] ?? 0), 0),
    expectedAttachType: e.expected_attach_type ? attachTypeByName(e.expected_attach_type) : 0,
  }, {
    logLevel, allowPtrLeaks: e.caps !== 'bpf',
    ...(btf ? { kernelBtf: btf, kernelSymbols: (name: string) => readKallsyms()?.has(name) ?? false } : {}),
  });
}

/** The kernel oracle's request fields for an entry's attach point. */
export function oracleAttach(e: { attach_btf?: string }): { attach_btf_id?: number } {
  return e.attach_btf !== undefined ? { attach_btf_id: attachBtfId(e.attach_btf) } : {};
}

/** Agreement of tsbpf's verdicts with the recorded ones. */
export interface Agreement {
  total: number;
  verdictAgree: number;
  messageAgree: number;
  processedAgree: number;
  disagreements: { name: string; kernel: string; tsbpf: string }[];
}

export function compareCorpus(entries: readonly CorpusEntry[]): Agreement {
  const a: Agreement = { total: 0, verdictAgree: 0, messageAgree: 0, processedAgree: 0, disagreements: [] };
  for (const e of entries) {
    a.total++;
    let r: VerifyResult;
    try {
      r = verifyEntry(e, 0); // the error does not depend on the log level
    } catch (err) {
      a.disagreements.push({ name: e.name, kernel: describe(e.kernel.accepted, e.kernel.error), tsbpf: `threw ${String(err)}` });
      continue;
    }
    const verdict = r.accepted === e.kernel.accepted;
    const message = verdict && (r.accepted || r.error === e.kernel.error);
    if (verdict) a.verdictAgree++;
    if (message) a.messageAgree++;
    if (r.insnsProcessed === e.kernel.insn_processed) a.processedAgree++;
    if (!message) {
      a.disagreements.push({
        name: e.name,
        kernel: describe(e.kernel.accepted, e.kernel.error),
        tsbpf: describe(r.accepted, r.error),
      });
    }
  }
  return a;
}

function describe(accepted: boolean, error: string | null): string {
  return accepted ? 'accepted' : `rejected: ${error}`;
}
