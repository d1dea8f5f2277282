/**
 * Test support for the loader: the committed fixtures, and the external
 * oracles (clang-19, llvm-readelf-19, bpftool/libbpf, the running
 * kernel). Every oracle reports whether it is available with a reason, so
 * tests skip with a printed message instead of failing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures/loader. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/loader/', import.meta.url));

/** Bytes of a committed fixture object. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** Path of a committed fixture. */
export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

/** Every committed fixture object. */
export function fixtureObjects(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
}

/** Result of running a command. */
export interface Run {
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string } = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...(options.cwd ? { cwd: options.cwd } : {}) });
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const toolCache = new Map<string, boolean>();

/**
 * Whether a command exists on PATH. TSBPF_HIDE_TOOLS (comma-separated
 * names) pretends some are missing, to exercise the skip paths.
 */
export function have(cmd: string): boolean {
  if ((process.env['TSBPF_HIDE_TOOLS'] ?? '').split(',').includes(cmd)) return false;
  let v = toolCache.get(cmd);
  if (v === undefined) {
    v = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
    toolCache.set(cmd, v);
  }
  return v;
}

/** Skip reason for a missing tool, or undefined when present. */
export function missing(...cmds: string[]): string | undefined {
  const gone = cmds.filter((c) => !have(c));
  return gone.length ? `${gone.join(', ')} not installed` : undefined;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'tsbpf-loader-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let bpfProbe: string | undefined | null = null;

/**
 * Whether libbpf (through bpftool) can load programs into this kernel:
 * undefined when it can, else the reason. Mounts bpffs when needed.
 */
export function kernelUnavailable(): string | undefined {
  if (bpfProbe !== null) return bpfProbe;
  bpfProbe = probe();
  return bpfProbe;
}

function probe(): string | undefined {
  if (!have('bpftool')) return 'bpftool not installed';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: loading BPF needs CAP_BPF/CAP_SYS_ADMIN';
  const mounted = readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf');
  if (!mounted) {
    const m = run('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
    if (!m.ok) return `bpffs is not mounted and mount failed: ${m.stderr.trim()}`;
  }
  const dir = `/sys/fs/bpf/tsbpf-probe-${process.pid}`;
  const r = run('bpftool', ['prog', 'loadall', fixturePath('subprogs.o'), dir]);
  rmSync(dir, { recursive: true, force: true });
  if (!r.ok) return `the kernel refused a test object: ${r.stderr.trim().split('\n')[0]}`;
  return undefined;
}

/** What libbpf did with an object (bpftool -d prog loadall). */
export interface LibbpfLoad {
  ok: boolean;
  /** libbpf's debug lines, without the `libbpf: ` prefix. */
  lines: string[];
  stderr: string;
  /** Programs as `bpftool -j prog show` reports them, by name. */
  programs: { name: string; type: string; id: number }[];
  /** Maps as `bpftool -j map show` reports them (name, type, sizes, flags). */
  maps: { name: string; type: string; bytes_key: number; bytes_value: number; max_entries: number; flags: number; id: number }[];
}

/**
 * Loads an object with libbpf (bpftool prog loadall, maps pinned too),
 * collects what libbpf and the kernel report, and unloads it.
 */
export function libbpfLoad(objPath: string, after?: (pinDir: string, load: LibbpfLoad) => void): LibbpfLoad {
  const dir = `/sys/fs/bpf/tsbpf-load-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  const r = run('bpftool', ['-d', 'prog', 'loadall', objPath, dir, 'pinmaps', `${dir}/maps`]);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('libbpf: ')).map((l) => l.slice(8));
  const out: LibbpfLoad = { ok: r.ok, lines, stderr: r.stderr, programs: [], maps: [] };
  try {
    if (r.ok) {
      for (const name of readdirSync(dir)) {
        if (name === 'maps') continue;
        const p = run('bpftool', ['-j', 'prog', 'show', 'pinned', join(dir, name)]);
        if (p.ok) {
          const j = JSON.parse(p.stdout) as { name: string; type: string; id: number };
          out.programs.push({ name: j.name, type: j.type, id: j.id });
        }
      }
      if (existsSync(join(dir, 'maps'))) {
        for (const name of readdirSync(join(dir, 'maps'))) {
          const m = run('bpftool', ['-j', 'map', 'show', 'pinned', join(dir, 'maps', name)]);
          if (m.ok) out.maps.push(JSON.parse(m.stdout) as LibbpfLoad['maps'][number]);
        }
      }
      after?.(dir, out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Decodes a C string literal body (as bpftool writes blobs in skeletons). */
function cStringBytes(lit: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < lit.length; i++) {
    const c = lit[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const n = lit[++i]!;
    if (n === '\n') continue;
    if (/[0-7]/.test(n)) {
      let s = n;
      while (s.length < 3 && /[0-7]/.test(lit[i + 1] ?? '')) s += lit[++i];
      out.push(parseInt(s, 8) & 0xff);
    } else if (n === 'x') {
      let s = '';
      while (/[0-9a-fA-F]/.test(lit[i + 1] ?? '')) s += lit[++i];
      out.push(parseInt(s, 16) & 0xff);
    } else {
      const esc: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11 };
      out.push(esc[n] ?? n.charCodeAt(0));
    }
  }
  return Uint8Array.from(out);
}

/**
 * The data blob of libbpf's light skeleton for an object (`bpftool gen
 * skeleton -L`): libbpf's final instructions of every program (after
 * subprogram linking and data relocations, map references as
 * BPF_PSEUDO_MAP_IDX), before any kernel. Undefined when libbpf's loader
 * generator refuses the object.
 */
export function lightSkeletonData(objPath: string): Uint8Array | undefined {
  const r = run('bpftool', ['gen', 'skeleton', '-L', objPath, 'name', 'oracle']);
  if (!r.ok) return undefined;
  const m = /opts\.data = \(void \*\)"((?:[^"\\]|\\[\s\S])*)";/.exec(r.stdout);
  return m ? cStringBytes(m[1]!) : undefined;
}

/** Index of `needle` in `hay`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  const first = needle[0]!;
  outer: for (let i = hay.indexOf(first); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** /sys/kernel/btf/vmlinux, or undefined with the reason. */
export function vmlinuxBytes(): { bytes?: Uint8Array; reason?: string } {
  const path = '/sys/kernel/btf/vmlinux';
  if (!existsSync(path)) return { reason: `${path} does not exist (kernel without CONFIG_DEBUG_INFO_BTF)` };
  return { bytes: new Uint8Array(readFileSync(path)) };
}
