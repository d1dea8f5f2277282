/**
 * Values of `.kconfig` externs (`extern int CONFIG_HZ __kconfig;`). In the
 * kernel, libbpf reads them from /proc/config.gz (CONFIG_*) or computes
 * them (LINUX_*). tsbpf has no kernel behind it, so it offers a fixed,
 * documented configuration (that of a Debian x86-64 Linux 6.18 kernel,
 * trimmed to what BPF programs test), which callers may override or
 * extend. Values follow Kconfig syntax: `y`, `n`, `m`, numbers, quoted
 * strings.
 */
import { LoaderError } from './loader-error.js';

/** A Kconfig value: `'y' | 'n' | 'm'`, a number, or a string. */
export type KconfigValue = string | number | bigint | boolean;

/** KERNEL_VERSION(a, b, c) as Linux computes it (patch clamped to 255). */
export function kernelVersion(major: number, minor: number, patch: number): number {
  return (major << 16) + (minor << 8) + Math.min(patch, 255);
}

/** The kernel version tsbpf reports in LINUX_KERNEL_VERSION: 6.18.0. */
export const TSBPF_KERNEL_VERSION = kernelVersion(6, 18, 0);

/** tsbpf's default `.kconfig` values. */
export const DEFAULT_KCONFIG: Readonly<Record<string, KconfigValue>> = {
  LINUX_KERNEL_VERSION: TSBPF_KERNEL_VERSION,
  LINUX_HAS_BPF_COOKIE: 'y',
  LINUX_HAS_SYSCALL_WRAPPER: 'y',
  CONFIG_64BIT: 'y',
  CONFIG_X86: 'y',
  CONFIG_X86_64: 'y',
  CONFIG_SMP: 'y',
  CONFIG_HZ: 250,
  CONFIG_HZ_250: 'y',
  CONFIG_PAGE_SHIFT: 12,
  CONFIG_NR_CPUS: 8192,
  CONFIG_BPF: 'y',
  CONFIG_BPF_SYSCALL: 'y',
  CONFIG_BPF_JIT: 'y',
  CONFIG_BPF_JIT_ALWAYS_ON: 'y',
  CONFIG_BPF_EVENTS: 'y',
  CONFIG_BPF_LSM: 'y',
  CONFIG_BPF_STREAM_PARSER: 'y',
  CONFIG_CGROUP_BPF: 'y',
  CONFIG_CGROUPS: 'y',
  CONFIG_DEBUG_INFO_BTF: 'y',
  CONFIG_NET: 'y',
  CONFIG_INET: 'y',
  CONFIG_IPV6: 'y',
  CONFIG_XDP_SOCKETS: 'y',
  CONFIG_NET_CLS_BPF: 'm',
  CONFIG_NET_ACT_BPF: 'm',
  CONFIG_NET_SCH_INGRESS: 'm',
  CONFIG_KPROBES: 'y',
  CONFIG_UPROBES: 'y',
  CONFIG_TRACEPOINTS: 'y',
  CONFIG_FTRACE: 'y',
  CONFIG_PREEMPT: 'n',
  CONFIG_PREEMPT_DYNAMIC: 'y',
  CONFIG_SECCOMP: 'y',
  CONFIG_SECCOMP_FILTER: 'y',
};

/** How libbpf classifies a `.kconfig` extern's C type. */
export type KcfgType = 'bool' | 'tristate' | 'char' | 'int' | 'char_array' | 'unknown';

/** What the loader knows about one `.kconfig` extern. */
export interface KcfgDesc {
  name: string;
  type: KcfgType;
  size: number;
  signed: boolean;
}

/** `enum libbpf_tristate`. */
const TRI = { n: 0, y: 1, m: 2 } as const;

function fail(ext: KcfgDesc, reason: string): never {
  throw new LoaderError(`extern (kcfg) '${ext.name}': ${reason}`);
}

/** Writes `value` into `out` (the extern's bytes), checking it fits its type as libbpf does. */
export function setKconfigValue(ext: KcfgDesc, out: Uint8Array, value: KconfigValue): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let v: KconfigValue = value;
  if (typeof v === 'boolean') v = v ? 'y' : 'n';
  if (typeof v === 'string' && (v === 'y' || v === 'n' || v === 'm')) {
    switch (ext.type) {
      case 'bool':
        if (v === 'm') fail(ext, `value '${v}' implies tristate or char type`);
        out[0] = v === 'y' ? 1 : 0;
        return;
      case 'tristate':
        view.setUint32(0, TRI[v], true);
        return;
      case 'char':
        out[0] = v.charCodeAt(0);
        return;
      default:
        fail(ext, `value '${v}' implies bool, tristate, or char type`);
    }
  }
  if (typeof v === 'string' && v.startsWith('"')) {
    if (ext.type !== 'char_array') fail(ext, `value '${v}' implies char array type`);
    if (!v.endsWith('"') || v.length < 2) fail(ext, `invalid string config '${v}'`);
    const bytes = new TextEncoder().encode(v.slice(1, -1));
    const n = Math.min(bytes.length, ext.size - 1);
    out.fill(0);
    out.set(bytes.subarray(0, n));
    return;
  }
  let num: bigint;
  try {
    num = typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? Math.trunc(v) : v.trim());
  } catch {
    return fail(ext, `value '${String(v)}' is not a number`);
  }
  if (ext.type !== 'int' && ext.type !== 'bool') fail(ext, `value '${num}' implies integer type`);
  if (ext.type === 'bool') {
    if (num !== 0n && num !== 1n) fail(ext, `value ${num} isn't boolean compatible`);
    out[0] = Number(num);
    return;
  }
  const bits = ext.size * 8;
  const inRange = ext.signed
    ? num >= -(1n << BigInt(bits - 1)) && num < (1n << BigInt(bits - 1))
    : num >= 0n && num < (1n << BigInt(bits));
  if (!inRange && !(ext.size === 8)) fail(ext, `value ${num} doesn't fit in ${ext.size} bytes`);
  const u = BigInt.asUintN(bits, num);
  for (let i = 0; i < ext.size; i++) out[i] = Number((u >> BigInt(8 * i)) & 0xffn);
}

/**
 * The values of a kernel configuration file (`.config`, or /proc/config.gz
 * once decompressed), as libbpf reads it: `CONFIG_NAME=value` lines, values
 * kept in Kconfig syntax; `# CONFIG_NAME is not set` lines and comments are
 * skipped (an unset option is an unresolved extern, as in libbpf). Errors
 * name the line; the caller adds the file.
 */
export function parseKconfig(text: string): Record<string, KconfigValue> {
  const out: Record<string, KconfigValue> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!m) throw new LoaderError(`line ${i + 1}: expected CONFIG_NAME=value, got '${line.slice(0, 60)}'`);
    out[m[1]!] = m[2]!;
  });
  return out;
}
