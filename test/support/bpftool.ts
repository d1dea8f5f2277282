/**
 * The Linux kernel as an oracle for whole BPF objects, through bpftool and
 * libbpf: an object is loaded exactly as `bpftool prog loadall` loads it
 * (libbpf's relocations, CO-RE, global data maps, prog-array and map-in-map
 * initialisers), its maps are given their initial contents with
 * `bpftool map update`, one program is run with `bpftool prog run`
 * (BPF_PROG_TEST_RUN), and every map is read back.
 *
 * Run conditions follow the reference setup of docs/hooks.md: `prog run` is started
 * on CPU 0 (`taskset -c 0`, so per-CPU maps are written in CPU 0's slot)
 * inside a new network namespace whose only device is a down `lo`
 * (`unshare -n`).
 *
 * Every call works in a fresh directory under /sys/fs/bpf and removes it
 * afterwards, whatever happens, so each call starts from the object's
 * initial state and concurrent callers do not meet.
 *
 * How maps are reported (`RunResult.maps`, keyed by the map's libbpf name,
 * e.g. `counter.bss`, `.rodata.str1.1`, `events`):
 *  - keys and values are raw bytes as lowercase hex without separators;
 *  - arrays (and global data) in index order, every index included;
 *  - hash-like maps (hash, LRU hash, per-CPU hash, LPM trie, hash of maps)
 *    sorted by key hex, since the kernel's iteration order is its bucket
 *    order;
 *  - per-CPU maps: `value` is CPU 0's value, `values` every CPU's;
 *  - queue / stack: `{ value }` entries (no key) in the order
 *    `bpftool map dequeue` / `pop` returns them (oldest first for a queue,
 *    top first for a stack); reading empties the map, which is fine since
 *    the load is thrown away afterwards;
 *  - ring buffer: `{ value }` per record that a reader would consume now
 *    (submitted and not discarded), oldest first, read by mapping the ring
 *    read-only through the bpf(2) backend (bpftool cannot dump ring
 *    buffers);
 *  - prog array: value = `prog:NAME` (the program's name; ids differ on
 *    every load), map-in-map: value = `map:NAME` (the inner map's name);
 *  - bloom filter: not readable from user space (no keys, no iteration):
 *    left out of `maps` altogether; its effect shows in return values.
 *
 * `mapInit` uses the same encoding: `{ key, value }` hex per element (key
 * left out for queue, stack and bloom filter, which are pushed), values
 * `prog:NAME` / `map:NAME` for prog arrays and maps of maps. A value given
 * for a per-CPU map is stored on every CPU (bpftool does that).
 *
 * `normaliseMaps()` turns a `maps` record into the form the examples'
 * manifest stores expectations in; see there.
 */
import { missingKernelFeature } from './kernel-features.js';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { closeFd, getPinned, readRingbuf as readRingbufRecords } from '../../src/node/bpf/index.js';

/** Whether the kernel oracle can be used here, and if not, why. */
export type Availability = { ok: true } | { ok: false; reason: string };

/** One initial element of a map: hex bytes, or `prog:NAME` / `map:NAME`. */
export interface MapInitEntry {
  /** Key bytes as hex; left out for queue, stack and bloom filter. */
  key?: string;
  /** Value bytes as hex, or `prog:NAME` (prog array), `map:NAME` (map of maps). */
  value: string;
}

/** Initial map contents, by libbpf map name. */
export type MapInit = Record<string, MapInitEntry[]>;

/** One BPF_PROG_TEST_RUN. */
export interface KernelInput {
  /** The packet (`data_in`). */
  dataIn?: Uint8Array;
  /** The context (`ctx_in`), e.g. a `struct __sk_buff` or `struct xdp_md`. */
  ctxIn?: Uint8Array;
  /** BPF_PROG_TEST_RUN's repeat count (the program runs this many times). */
  repeat?: number;
}

/** What `runObjectInKernel` should do. */
export interface RunOptions extends KernelInput {
  /** The program to run: its function name (as bpftool pins it). */
  program: string;
  /** Initial map contents, applied once after loading. */
  mapInit?: MapInit;
  /**
   * Several test runs, in order, against the same loaded maps (e.g. a
   * rate limiter fed packet after packet). When given, the top-level
   * dataIn/ctxIn/repeat are ignored.
   */
  inputs?: KernelInput[];
}

/** One map element as read back. */
export interface MapEntry {
  /** Key hex; absent for queue, stack and ring buffer records. */
  key?: string;
  /** Value hex (per-CPU maps: CPU 0's), or `prog:NAME` / `map:NAME`. */
  value: string;
  /** Per-CPU maps only: every CPU's value, CPU 0 first. */
  values?: string[];
}

/** A map's shape, from `bpftool map show`. */
export interface MapInfo {
  /** bpftool's type name: `array`, `percpu_hash`, `lpm_trie`, `ringbuf`, ... */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

/** The result of one test run. */
export interface TestRunResult {
  /**
   * Set when the kernel refused the run (BPF_PROG_TEST_RUN failed, e.g. a
   * packet too short for its program type): the errno's name, `EINVAL`.
   * retval, durationNs and dataOut are then 0 / ''.
   */
  error?: string;
  retval: number;
  durationNs: number;
  /** `data_out` as hex ('' without data_in). */
  dataOut: string;
  /** `ctx_out` as hex, when ctxIn was given. */
  ctxOut?: string;
}

/** What `runObjectInKernel` returns: the last run, every run, and the maps after the last. */
export interface RunResult extends TestRunResult {
  /** Every run, in order (one unless `inputs` was given). */
  runs: TestRunResult[];
  /** Every map of the object after the runs, by libbpf name (see the module doc). */
  maps: Record<string, MapEntry[]>;
  /** The shape of every map, by the same names (bloom filters included). */
  mapInfo: Record<string, MapInfo>;
}

/** Raised when bpftool fails; `stderr` carries libbpf's log (and the verifier's). */
export class BpftoolError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`${message}\n$ ${args.join(' ')}\n${stderr.trim()}`);
    this.name = 'BpftoolError';
  }

  /** The feature this kernel build lacks that made it fail (support/kernel-features.ts), if that is why. */
  get missingFeature(): string | undefined {
    return missingKernelFeature(this.stderr);
  }
}

const BPFFS = '/sys/fs/bpf';
const BPFTOOL = process.env['BPFTOOL'] ?? 'bpftool';

let availability: Availability | null = null;
let wrapWithTaskset = false;
let wrapWithUnshare = false;
let sequence = 0;

function run(cmd: string, args: readonly string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000, input });
}

function works(cmd: string, args: readonly string[]): boolean {
  const r = run(cmd, args);
  return !r.error && r.status === 0;
}

function bpffsMounted(): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((line) => {
        const f = line.split(' ');
        return f[1] === BPFFS && f[2] === 'bpf';
      });
  } catch {
    return false;
  }
}

/**
 * Whether objects can be run in the kernel here: Linux, root, bpftool, a
 * bpffs at /sys/fs/bpf (mounted here if it is not), and bpf(2) allowed
 * (a map is created and pinned as a probe). Cached.
 */
export function kernelAvailable(): Availability {
  if (availability) return availability;
  availability = probe();
  return availability;
}

function probe(): Availability {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'not root (bpftool needs CAP_BPF and CAP_SYS_ADMIN)' };
  const version = run(BPFTOOL, ['version']);
  if (version.error || version.status !== 0) return { ok: false, reason: `${BPFTOOL} not found or not working (Debian: apt-get install bpftool)` };
  if (!bpffsMounted()) {
    if (!existsSync(BPFFS)) return { ok: false, reason: `${BPFFS} does not exist` };
    const m = run('mount', ['-t', 'bpf', 'bpf', BPFFS]);
    if (m.error || m.status !== 0 || !bpffsMounted()) return { ok: false, reason: `cannot mount bpffs at ${BPFFS}: ${(m.stderr ?? String(m.error)).trim()}` };
  }
  const pin = join(BPFFS, `tsbpf-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  const create = run(BPFTOOL, ['map', 'create', pin, 'type', 'array', 'key', '4', 'value', '4', 'entries', '1', 'name', 'tsbpf_probe']);
  rmSync(pin, { force: true });
  if (create.error || create.status !== 0) return { ok: false, reason: `bpf(2) refused to create a map: ${(create.stderr ?? '').trim()}` };
  wrapWithTaskset = works('taskset', ['-c', '0', 'true']);
  wrapWithUnshare = works('unshare', ['-n', 'true']);
  return { ok: true };
}

/** Hex of bytes, lowercase, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Bytes of a hex string (whitespace allowed). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex bytes: ${hex}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** `['0x01', ...]` (bpftool's JSON) to hex. */
function jsonBytes(bytes: readonly string[]): string {
  return bytes.map((b) => Number.parseInt(b, 16).toString(16).padStart(2, '0')).join('');
}

/** bpftool's `hex 01 02 ...` argument words for a hex string. */
function hexWords(hex: string): string[] {
  const bytes = fromHex(hex);
  return bytes.length === 0 ? [] : ['hex', ...Array.from(bytes, (b) => b.toString(16).padStart(2, '0'))];
}

/** bpftool with its arguments; throws BpftoolError on failure. */
function bpftool(args: readonly string[], what: string): string {
  const r = run(BPFTOOL, args);
  if (r.error) throw new BpftoolError(`${what}: ${r.error.message}`, [BPFTOOL, ...args], r.stderr ?? '');
  if (r.status !== 0) throw new BpftoolError(`${what}: bpftool exited ${r.status}`, [BPFTOOL, ...args], `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  return r.stdout;
}

function bpftoolJson<T>(args: readonly string[], what: string): T {
  const out = bpftool(['-j', ...args], what);
  return JSON.parse(out) as T;
}

/** Types whose iteration order is not meaningful: reported sorted by key. */
const HASH_LIKE = new Set(['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash', 'lpm_trie', 'hash_of_maps']);
/** Types whose every index always exists. */
export const ARRAY_LIKE = new Set(['array', 'percpu_array']);
const PER_CPU = new Set(['percpu_array', 'percpu_hash', 'lru_percpu_hash']);
const MAP_IN_MAP = new Set(['array_of_maps', 'hash_of_maps']);

interface PinnedMap {
  name: string;
  path: string;
  id: number;
  info: MapInfo;
}

interface MapShowJson {
  id: number;
  type: string;
  name?: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
}

interface DumpJson {
  key: string[];
  /** The value, or an error bpftool met reading it ({"error": "..."}). */
  value?: string[] | { error: string };
  values?: { cpu: number; value: string[] }[];
}

/**
 * libbpf pins a map under its name with every '.' turned into '_'
 * (`counter.bss` → `counter_bss`); the kernel keeps the first 15
 * characters of the name. The real name is the kernel's when it matches
 * the pin, the pin's otherwise (a long user map name has no dots).
 */
function mapName(pinned: string, kernelName: string | undefined): string {
  if (kernelName && kernelName.replace(/\./g, '_') === pinned) return kernelName;
  return pinned;
}

function listPinnedMaps(dir: string): PinnedMap[] {
  return readdirSync(dir).sort().map((file) => {
    const path = join(dir, file);
    const show = bpftoolJson<MapShowJson>(['map', 'show', 'pinned', path], `map show ${file}`);
    return {
      name: mapName(file, show.name),
      path,
      id: show.id,
      info: { type: show.type, keySize: show.bytes_key, valueSize: show.bytes_value, maxEntries: show.max_entries, flags: show.flags },
    };
  });
}

/**
 * {@link runObjectInKernel}, or undefined, with the reason printed, when
 * this kernel build lacks a feature the object needs (a helper, a kfunc, a
 * map type; support/kernel-features.ts): the caller then compares nothing.
 */
export function runObjectInKernelIfAble(objPath: string, options: RunOptions): RunResult | undefined {
  try {
    return runObjectInKernel(objPath, options);
  } catch (err) {
    const lacks = err instanceof BpftoolError ? err.missingFeature : undefined;
    if (lacks === undefined) throw err;
    console.log(`${basename(objPath)} (${options.program}): not compared with the kernel: ${lacks}`);
    return undefined;
  }
}

/**
 * Runs one program of an object in the kernel, as `bpftool prog loadall`
 * + `bpftool prog run` would, and reads back every map. Each call loads
 * the object afresh and removes everything it pinned before returning.
 * Throws BpftoolError (with libbpf's and the verifier's log) when a step
 * fails; call kernelAvailable() first.
 */
export function runObjectInKernel(objPath: string, options: RunOptions): RunResult {
  const avail = kernelAvailable();
  if (!avail.ok) throw new Error(`the kernel oracle is not available: ${avail.reason}`);

  const base = join(BPFFS, `tsbpf-${process.pid}-${++sequence}-${randomBytes(4).toString('hex')}`);
  const progDir = join(base, 'progs');
  const mapDir = join(base, 'maps');
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-kernel-'));
  try {
    mkdirSync(mapDir, { recursive: true });
    bpftool(['prog', 'loadall', objPath, progDir, 'pinmaps', mapDir], `loading ${basename(objPath)}`);

    const programs = readdirSync(progDir);
    if (!programs.includes(options.program)) {
      throw new Error(`${basename(objPath)} has no program '${options.program}' (it has: ${programs.join(', ')})`);
    }
    const maps = listPinnedMaps(mapDir);
    const byName = new Map(maps.map((m) => [m.name, m]));

    for (const [name, entries] of Object.entries(options.mapInit ?? {})) {
      const map = byName.get(name);
      if (!map) throw new Error(`mapInit: ${basename(objPath)} has no map '${name}' (it has: ${[...byName.keys()].join(', ')})`);
      for (const entry of entries) initEntry(map, entry, byName, progDir);
    }

    const inputs = options.inputs ?? [{ dataIn: options.dataIn, ctxIn: options.ctxIn, repeat: options.repeat }];
    if (inputs.length === 0) throw new Error('runObjectInKernel: no input to run');
    const runs = inputs.map((input, i) => testRun(join(progDir, options.program), input, tmp, i));

    const dumped: Record<string, MapEntry[]> = {};
    const mapInfo: Record<string, MapInfo> = {};
    const idNames = new Map(maps.map((m) => [m.id, m.name]));
    for (const map of maps) {
      mapInfo[map.name] = map.info;
      const entries = dumpMap(map, idNames);
      if (entries) dumped[map.name] = entries;
    }
    const last = runs[runs.length - 1]!;
    return { ...last, runs, maps: dumped, mapInfo };
  } finally {
    rmSync(base, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

function initEntry(map: PinnedMap, entry: MapInitEntry, byName: Map<string, PinnedMap>, progDir: string): void {
  let value: string[];
  if (entry.value.startsWith('prog:')) {
    value = ['pinned', join(progDir, entry.value.slice(5))];
  } else if (entry.value.startsWith('map:')) {
    const inner = byName.get(entry.value.slice(4));
    if (!inner) throw new Error(`mapInit of ${map.name}: no map '${entry.value.slice(4)}'`);
    value = ['pinned', inner.path];
  } else {
    value = hexWords(entry.value);
  }
  if (entry.key === undefined) {
    bpftool(['map', 'push', 'pinned', map.path, 'value', ...value], `mapInit: push into ${map.name}`);
  } else {
    bpftool(['map', 'update', 'pinned', map.path, 'key', ...hexWords(entry.key), 'value', ...value, 'any'], `mapInit: update ${map.name}`);
  }
}

interface ProgRunJson {
  retval: number;
  duration: number;
}

function testRun(progPath: string, input: KernelInput, tmp: string, index: number): TestRunResult {
  const args = ['-j', 'prog', 'run', 'pinned', progPath];
  const dataOut = join(tmp, `data_out.${index}`);
  const ctxOut = join(tmp, `ctx_out.${index}`);
  if (input.dataIn) {
    const dataIn = join(tmp, `data_in.${index}`);
    writeFileSync(dataIn, input.dataIn);
    // Room for programs that grow the packet (adjust_head, change_tail, ...).
    args.push('data_in', dataIn, 'data_out', dataOut, 'data_size_out', String(input.dataIn.length + 8192));
  }
  if (input.ctxIn) {
    const ctxIn = join(tmp, `ctx_in.${index}`);
    writeFileSync(ctxIn, input.ctxIn);
    args.push('ctx_in', ctxIn, 'ctx_out', ctxOut, 'ctx_size_out', String(input.ctxIn.length));
  }
  if (input.repeat !== undefined) args.push('repeat', String(input.repeat));

  let cmd = BPFTOOL;
  let full: string[] = args;
  if (wrapWithUnshare) [cmd, full] = ['unshare', ['-n', cmd, ...full]];
  if (wrapWithTaskset) [cmd, full] = ['taskset', ['-c', '0', cmd, ...full]];
  const r = run(cmd, full);
  if (r.error || r.status !== 0) {
    const refused = refusal(r.stdout ?? '');
    if (refused) return { error: refused, retval: 0, durationNs: 0, dataOut: '' };
    throw new BpftoolError(`prog run ${basename(progPath)} failed`, [cmd, ...full], `${r.stdout ?? ''}\n${r.stderr ?? String(r.error)}`);
  }
  const out = JSON.parse(r.stdout) as ProgRunJson;
  const result: TestRunResult = {
    retval: out.retval >>> 0,
    durationNs: out.duration,
    dataOut: input.dataIn && existsSync(dataOut) ? toHex(readFileSync(dataOut)) : '',
  };
  if (input.ctxIn) result.ctxOut = existsSync(ctxOut) ? toHex(readFileSync(ctxOut)) : '';
  return result;
}

/** strerror() texts of the errors BPF_PROG_TEST_RUN gives, by errno name. */
const ERRNO_NAMES: Record<string, string> = {
  'Invalid argument': 'EINVAL',
  'No space left on device': 'ENOSPC',
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'Argument list too long': 'E2BIG',
  'Bad address': 'EFAULT',
  'Operation not supported': 'EOPNOTSUPP',
  'Unknown error 524': 'ENOTSUPP',
};

/** The errno name when bpftool says the kernel refused the test run. */
function refusal(stdout: string): string | null {
  try {
    const out = JSON.parse(stdout) as { error?: string };
    const m = /^failed to run program: (.*)$/.exec(out.error ?? '');
    return m ? (ERRNO_NAMES[m[1]!] ?? m[1]!) : null;
  } catch {
    return null;
  }
}

function dumpMap(map: PinnedMap, idNames: Map<number, string>): MapEntry[] | null {
  const { type } = map.info;
  switch (type) {
    case 'bloom_filter':
      return null;
    case 'queue':
    case 'stack':
      return drain(map, type === 'queue' ? 'dequeue' : 'pop');
    case 'ringbuf':
      return readRingbuf(map);
    default:
      break;
  }
  const raw = bpftoolJson<DumpJson[]>(['map', 'dump', 'pinned', map.path], `map dump ${map.name}`);
  // Slots bpftool cannot read (an empty devmap or cpumap slot: ENOENT; XSK maps: EOPNOTSUPP) come with an error instead of a value.
  let entries: MapEntry[] = raw.filter((e) => e.value === undefined || Array.isArray(e.value)).map((e) => {
    const key = jsonBytes(e.key);
    if (PER_CPU.has(type)) {
      const values = (e.values ?? []).slice().sort((a, b) => a.cpu - b.cpu).map((v) => jsonBytes(v.value));
      return { key, value: values[0] ?? '', values };
    }
    const value = jsonBytes((e.value as string[] | undefined) ?? []);
    if (type === 'prog_array') return { key, value: `prog:${progName(value)}` };
    if (MAP_IN_MAP.has(type)) {
      const id = Buffer.from(value, 'hex').readUInt32LE(0);
      return { key, value: `map:${idNames.get(id) ?? `id${id}`}` };
    }
    return { key, value };
  });
  if (HASH_LIKE.has(type)) entries = entries.sort((a, b) => (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : 0));
  return entries;
}

function progName(idHex: string): string {
  const id = Buffer.from(idHex, 'hex').readUInt32LE(0);
  const show = bpftoolJson<{ name?: string }>(['prog', 'show', 'id', String(id)], `prog show id ${id}`);
  return show.name ?? `id${id}`;
}

function drain(map: PinnedMap, verb: 'dequeue' | 'pop'): MapEntry[] {
  const entries: MapEntry[] = [];
  for (let i = 0; i <= map.info.maxEntries; i++) {
    const r = run(BPFTOOL, ['-j', 'map', verb, 'pinned', map.path]);
    if (r.error || r.status !== 0) break; // empty
    const e = JSON.parse(r.stdout) as { value: string[] } | null;
    if (!e) break;
    entries.push({ value: jsonBytes(e.value) });
  }
  return entries;
}

/**
 * Reads the records of a ring buffer that a consumer would get now, without
 * consuming them: BPF_OBJ_GET on the pin, then the consumer page and the
 * (double-mapped) data pages mapped read-only, as libbpf's ring_buffer does
 * (src/node/bpf/ringbuf-read.ts).
 */
function readRingbuf(map: PinnedMap): MapEntry[] {
  let fd = -1;
  try {
    fd = getPinned(map.path);
    return readRingbufRecords(fd, map.info.maxEntries).records.map((r) => ({ value: toHex(r) }));
  } catch (err) {
    throw new BpftoolError(`reading ring buffer ${map.name}`, ['bpf(BPF_OBJ_GET)', map.path], err instanceof Error ? err.message : String(err));
  } finally {
    closeFd(fd);
  }
}

/**
 * The comparable form of a `maps` record, in which the examples' manifest
 * keeps its expectations (apply it to tsbpf's output as well, then compare
 * with plain equality):
 *  - `values` (every CPU's copy) is dropped: the comparison is on CPU 0's
 *    value, the CPU the kernel run was pinned to;
 *  - entries of array maps (`array`, `percpu_array`, hence global data too)
 *    whose value is all zero bytes are dropped: every index of an array
 *    exists, and listing 256 zero counters says nothing;
 *  - hash-like maps are sorted by key hex (already so from the harness).
 * `types` gives each map's bpftool type name (RunResult.mapInfo); maps not
 * in it are treated as hash-like.
 */
export function normaliseMaps(maps: Record<string, MapEntry[]>, types: Record<string, string>): Record<string, MapEntry[]> {
  const out: Record<string, MapEntry[]> = {};
  for (const [name, entries] of Object.entries(maps)) {
    const type = types[name] ?? 'hash';
    let list = entries.map((e): MapEntry => (e.key === undefined ? { value: e.value } : { key: e.key, value: e.value }));
    if (ARRAY_LIKE.has(type)) list = list.filter((e) => /[1-9a-f]/.test(e.value));
    if (HASH_LIKE.has(type)) list.sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
    out[name] = list;
  }
  return out;
}
