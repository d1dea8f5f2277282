/**
 * `npm run bench`: engine speed on the programs in bench/programs, with the
 * Linux kernel's JIT (BPF_PROG_TEST_RUN on the same bytes, maps and packet)
 * as the reference measured in the same run. Prints, per program: the
 * interpreter's and the JIT's ns per run (the JIT in checked and unchecked
 * mode, over a batch, and for one `run()` call), the kernel's, the ratios,
 * and the JIT's compile time per instruction; then the packets per second
 * of an XDP filter over a batch on one core. Only ratios count: machines
 * are noisy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { CaptureFile, forEachCapturedPacket } from '../src/node/capture-files.js';
import { filterCaptureFile } from '../src/node/capture-filter.js';
import { runPcapBatches } from '../src/node/pcap-batches.js';
import { compileFilter } from '../src/cbpf/filter/index.js';
import { parseObject } from '../src/loader/object.js';
import { loadCollection } from '../src/runtime/collection.js';
import { PacketStream, passes } from '../src/runtime/packet-stream.js';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/asm/index.js';
import { benchVerifier } from './verifier.js';
import { benchLargePrograms } from './large-programs.js';
import { XdpContext } from '../src/hooks/xdp.js';
import { encodeProgram } from '../src/isa/encode.js';
import { compileProgram } from '../src/jit/compile.js';
import { jitEngine } from '../src/jit/jit-engine.js';
import type { JitRunner } from '../src/jit/jit-engine.js';
import { HelperTable } from '../src/vm/helper-call.js';
import { standardHelpers } from '../src/vm/helpers/basic.js';
import { mapHelpers } from '../src/vm/helpers/map-helpers.js';
import { interpreterEngine } from '../src/vm/engine.js';
import type { LoadedRunner } from '../src/vm/engine.js';
import { Machine } from '../src/vm/machine.js';
import { lpmKey, MapFlags, MapType } from '../src/vm/maps/index.js';
import type { MapSpec } from '../src/vm/maps/index.js';
import { prepareProgram } from '../src/vm/prepared-program.js';
import type { PreparedProgram } from '../src/vm/prepared-program.js';
import { ask, kernelAvailable, toHex } from '../test/support/kernel-oracle.js';
import type { OracleRequest } from '../test/support/kernel-oracle.js';
import { fuzzMachine, randomProgram } from '../test/jit/random-programs.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** A map of a benchmark: the spec on both sides and its initial entries. */
interface BenchMap {
  spec: MapSpec;
  kernel: { type: string; key_size: number; value_size: number; max_entries: number; flags?: string[] };
  init: { key: Uint8Array; value: Uint8Array }[];
}

interface Bench {
  name: string;
  file: string;
  packet: Uint8Array;
  maps?: BenchMap[];
  /** Load the program this many times as a tail-call chain (r3 = i + 1 patched into program i). */
  chain?: number;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function u64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
}

/** An Ethernet/IPv4/TCP SYN to `port` from `src` to `dst` (IPv4 as 4 numbers). */
function tcpPacket(src: number[], dst: number[], port: number): Uint8Array {
  const p = new Uint8Array(readFileSync(here('../samples/tcp-syn.bin')));
  p.set(src, 26);
  p.set(dst, 30);
  p[36] = port >> 8;
  p[37] = port & 0xff;
  return p;
}

const samplePacket = new Uint8Array(readFileSync(here('../samples/tcp-syn.bin')));
const src = Array.from(samplePacket.subarray(26, 30));
const dst = Array.from(samplePacket.subarray(30, 34));

const benches: Bench[] = [
  { name: 'ALU loop (1000 iterations)', file: 'alu-loop.s', packet: new Uint8Array(64) },
  { name: 'checksum over 1500 bytes', file: 'checksum.s', packet: Uint8Array.from({ length: 1500 }, (_, i) => (i * 7) & 0xff) },
  { name: 'Ethernet/IPv4/TCP parse', file: 'parse.s', packet: samplePacket },
  {
    name: 'hash-map counter update', file: 'hash-counter.s', packet: samplePacket,
    maps: [{
      spec: { name: 'counts', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1024 },
      kernel: { type: 'hash', key_size: 4, value_size: 8, max_entries: 1024 },
      init: Array.from({ length: 200 }, (_, i) => ({ key: Uint8Array.from(i === 0 ? src : [10, 0, i >> 8, i & 0xff]), value: u64(i) })),
    }],
  },
  {
    name: 'LPM trie lookup', file: 'lpm.s', packet: samplePacket,
    maps: [{
      spec: { name: 'routes', type: MapType.LPM_TRIE, keySize: 8, valueSize: 8, maxEntries: 1024, flags: MapFlags.NO_PREALLOC },
      kernel: { type: 'lpm_trie', key_size: 8, value_size: 8, max_entries: 1024, flags: ['no_prealloc'] },
      init: [
        { key: lpmKey(8, [dst[0]!, 0, 0, 0]), value: u64(2) },
        { key: lpmKey(16, [dst[0]!, dst[1]!, 0, 0]), value: u64(2) },
        { key: lpmKey(24, [dst[0]!, dst[1]!, dst[2]!, 0]), value: u64(1) },
        ...Array.from({ length: 100 }, (_, i) => ({ key: lpmKey(16 + (i % 17), [10, i, i * 3 & 0xff, 0]), value: u64(2) })),
      ],
    }],
  },
  {
    name: 'tail-call chain (8 programs)', file: 'tail-call.s', packet: samplePacket, chain: 8,
    maps: [{
      spec: { name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 16 },
      kernel: { type: 'prog_array', key_size: 4, value_size: 4, max_entries: 16 },
      init: [],
    }],
  },
];

/** `bytes` with every `lddw rX, map N` pointing at `addresses[N]`, and (for chains) r3 = `next`. */
function patch(bytes: Uint8Array, addresses: number[] | null, next?: number): Uint8Array {
  const out = bytes.slice();
  const d = new DataView(out.buffer);
  for (let at = 0; at < out.length; at += 8) {
    if (out[at] === 0x18) {
      if (addresses !== null && out[at + 1]! >> 4 === 1) {
        d.setInt32(at + 4, addresses[d.getInt32(at + 4, true)]!, true);
        out[at + 1] = out[at + 1]! & 0x0f;
      }
      at += 8;
    } else if (next !== undefined && out[at] === 0xb7 && (out[at + 1]! & 0x0f) === 3) {
      d.setInt32(at + 4, next, true);
    }
  }
  return out;
}

interface Built {
  machine: Machine;
  prog: PreparedProgram;
  ctx: number;
}

function build(b: Bench, bytes: Uint8Array): Built {
  const machine = new Machine({ helpers: new HelperTable([...standardHelpers(), ...mapHelpers()]) });
  const maps = (b.maps ?? []).map((m) => {
    const map = machine.maps.create(m.spec);
    for (const e of m.init) map.update(e.key, e.value);
    return map;
  });
  const addresses = maps.map((m) => m.address);
  const prep = (i: number) => prepareProgram(patch(bytes, addresses, b.chain ? i + 1 : undefined), { name: `${b.file}#${i}`, helpers: machine.helpers, allowPseudo: true });
  const prog = prep(0);
  if (b.chain) {
    for (let i = 1; i < b.chain; i++) maps[0]!.update(u32(i), u32(machine.programs.add(prep(i))));
  }
  const xdp = new XdpContext(machine);
  xdp.load(b.packet);
  return { machine, prog, ctx: xdp.ctx.start };
}

/** Nanoseconds per call of `fn` (warm-up first, then at least `ms` of calls). */
function time(fn: () => void, ms = 300, warmMs = 200): number {
  const w0 = performance.now();
  while (performance.now() - w0 < warmMs) for (let i = 0; i < 20; i++) fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  let batch = 1;
  do {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    elapsed = performance.now() - start;
    if (elapsed < 5) batch *= 2;
  } while (elapsed < ms);
  return (elapsed * 1e6) / calls;
}

function timeRunner(runner: LoadedRunner, ctx: number, checked: boolean): number {
  return time(() => { runner.run({ args: [ctx], checked }); });
}

function timeBatch(runner: JitRunner, ctxs: Uint32Array, checked: boolean): number {
  return time(() => { runner.runBatch(ctxs, { checked }); }) / ctxs.length;
}

/** Compile time (our compiler + WebAssembly.Module) in ns per instruction: the best of 15, as the machine is noisy. */
function compileNsPerInsn(machine: Machine, prog: PreparedProgram, checked: boolean): number {
  const insns = prog.bySlot.filter((x) => x !== undefined).length;
  const env = { helperName: (id: number) => machine.helpers.get(id)?.name };
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    const c = compileProgram(prog, { checked, budget: checked, shared: false, role: 'entry' }, env);
    new WebAssembly.Module(c.bytes as Uint8Array<ArrayBuffer>);
    samples.push((performance.now() - t0) * 1e6 / insns);
  }
  return Math.min(...samples);
}

function kernelRun(b: Bench, bytes: Uint8Array): { ns: number; retval: number } | string {
  const req: OracleRequest = { cmd: 'run', prog_type: 'xdp', insns: toHex(patch(bytes, null, b.chain ? 1 : undefined)), data_in: toHex(b.packet), repeat: 20000 };
  if (b.maps) {
    req.maps = b.maps.map((m) => m.kernel);
    req.map_init = b.maps.flatMap((m, i) => m.init.map((e) => ({ map: i, key: toHex(e.key), value: toHex(e.value) })));
  }
  if (b.chain) {
    req.progs = Array.from({ length: b.chain - 1 }, (_, i) => ({ insns: toHex(patch(bytes, null, i + 2)) }));
    req.map_init = Array.from({ length: b.chain - 1 }, (_, i) => ({ map: 0, key: toHex(u32(i + 1)), value_prog: i }));
  }
  const [reply] = ask([req]);
  if (!reply?.ok) return `${reply?.error ?? 'no reply'}${reply?.log ? `\n${reply.log}` : ''}`;
  return { ns: reply.duration_ns!, retval: reply.retval! };
}

function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`;
}

function table(rows: string[][]): void {
  console.log(`| ${rows[0]!.join(' | ')} |`);
  console.log(`|${rows[0]!.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`);
}

function main(): void {
  if (process.argv.includes('--verifier')) {
    // `npm run bench -- --verifier`: only the verification tables
    benchVerifier(table);
    benchLargePrograms(table);
    return;
  }
  if (process.argv.includes('--packets')) {
    // `npm run bench -- --packets`: only the capture tables (tsbpf xdp and filters against tcpdump)
    filterCaptures(captureStream());
    workerStreams();
    return;
  }
  const kernel = kernelAvailable();
  console.log(`tsbpf bench: Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} CPUs); kernel reference: ${kernel.ok ? 'BPF_PROG_TEST_RUN (kernel JIT)' : `unavailable (${kernel.reason})`}`);
  console.log('ns per run; JIT columns run a batch of 1024 contexts per call (`runBatch`), `1 run` is one `run()` call from JavaScript.\n');
  const rows: string[][] = [[
    'program', 'insns/run', 'interp', 'interp ns/insn', 'JIT checked', 'JIT unchecked', 'JIT 1 run', 'kernel',
    'JIT/kernel unchecked', 'JIT/kernel checked', 'interp/JIT', 'compile ns/insn', 'r0',
  ]];
  let aluKernelNsPerInsn: number | undefined;
  for (const b of benches) {
    const bytes = assemble(readFileSync(here(`programs/${b.file}`), 'utf8'), { file: b.file }).bytes;
    const ib = build(b, bytes);
    const interp = interpreterEngine.load(ib.machine, ib.prog);
    const first = interp.run({ args: [ib.ctx] });
    const interpNs = timeRunner(interp, ib.ctx, true);
    const jb = build(b, bytes);
    const jit = jitEngine.load(jb.machine, jb.prog);
    const jitR0 = jit.run({ args: [jb.ctx] }).r0;
    const ctxs = new Uint32Array(1024).fill(jb.ctx);
    const checkedNs = timeBatch(jit, ctxs, true);
    const uncheckedNs = timeBatch(jit, ctxs, false);
    const singleNs = timeRunner(jit, jb.ctx, false);
    const compile = compileNsPerInsn(jb.machine, jb.prog, false);
    let kernelNs: number | undefined;
    let agree = `${first.r0}`;
    if (jitR0 !== first.r0) agree += ` (JIT ${jitR0}!)`;
    if (kernel.ok) {
      const k = kernelRun(b, bytes);
      if (typeof k === 'string') console.log(`kernel refused ${b.file}: ${k}`);
      else {
        kernelNs = k.ns;
        agree += k.retval === Number(first.r0 & 0xffffffffn) ? ' (=)' : ` (kernel ${k.retval}!)`;
      }
    }
    if (b.file === 'alu-loop.s' && kernelNs !== undefined) aluKernelNsPerInsn = kernelNs / first.insns;
    rows.push([
      b.name, String(first.insns), fmt(interpNs), fmt(interpNs / first.insns, 2), fmt(checkedNs), fmt(uncheckedNs), fmt(singleNs), fmt(kernelNs),
      ratio(uncheckedNs, kernelNs), ratio(checkedNs, kernelNs), ratio(interpNs, uncheckedNs), fmt(compile, 0), agree,
    ]);
  }
  table(rows);

  // Compile time of a large program.
  const fm = fuzzMachine();
  const big = prepareProgram(encodeProgram(randomProgram(7, fm, { length: 1500, faults: false }).insns), { helpers: fm.machine.helpers });
  const bigInsns = big.bySlot.filter((x) => x !== undefined).length;
  console.log(`\nCompile time of a ${bigInsns}-instruction program (our compiler + WebAssembly.Module): unchecked ${fmt(compileNsPerInsn(fm.machine, big, false), 0)} ns/insn, checked ${fmt(compileNsPerInsn(fm.machine, big, true), 0)} ns/insn.`);

  // Batch: an XDP filter over 64 different packets, on one core.
  const parse = assemble(readFileSync(here('programs/parse.s'), 'utf8'), { file: 'parse.s' }).bytes;
  const machine = new Machine({ helpers: new HelperTable(standardHelpers()) });
  const prog = prepareProgram(parse, { helpers: machine.helpers });
  const packetCtxs: number[] = [];
  for (let i = 0; i < 64; i++) {
    const x = new XdpContext(machine, `xdp${i}`);
    x.load(tcpPacket([10, 0, 0, i], dst, i % 4 === 0 ? 23 : 80 + i));
    packetCtxs.push(x.ctx.start);
  }
  const batch = Uint32Array.from({ length: 8192 }, (_, i) => packetCtxs[i % 64]!);
  const runner = jitEngine.load(machine, prog);
  const dropped = runner.runBatch(batch).filter((r) => r === 1n).length;
  const pps = (checked: boolean) => 1e9 / timeBatch(runner, batch, checked);
  const interpRunner = interpreterEngine.load(machine, prog);
  const interpPps = 1e9 / (time(() => { interpRunner.runBatch?.(batch.subarray(0, 256)); }) / 256);
  console.log(`\nXDP filter (parse.s, drop TCP port 23) over batches of ${batch.length} packets (64 different frames, ${dropped} dropped per batch), one core:`);
  table([
    ['engine', 'packets/s'],
    ['JIT, unchecked', `${(pps(false) / 1e6).toFixed(1)} M`],
    ['JIT, checked', `${(pps(true) / 1e6).toFixed(1)} M`],
    ['interpreter, checked', `${(interpPps / 1e6).toFixed(2)} M`],
  ]);
  longSingleRun(aluKernelNsPerInsn);
  filterCaptures(captureStream());
  workerStreams();
  benchVerifier(table);
  benchLargePrograms(table);
  console.log('\nKernel times are BPF_PROG_TEST_RUN averages (repeat 20000) and include the test-run loop overhead per repetition.');
  console.log('Checked = bounds checks against the regions + instruction budget (unverified programs); unchecked = programs the verifier accepted (what `tsbpf prog run` uses for them), every access but r10-relative ones guarded by its page\'s rights.');
}

/**
 * The JIT on one long call: V8 compiles WebAssembly with a baseline
 * compiler first and switches a function to optimized code only between
 * calls, so a long first call is where a slow tier would show.
 */
function longSingleRun(kernelNsPerInsn: number | undefined): void {
  const iterations = 20_000_000;
  const src = readFileSync(here('programs/alu-loop.s'), 'utf8').replace('if r3 < 1000 goto loop', `if r3 < ${iterations} goto loop`);
  const machine = new Machine({ helpers: new HelperTable(standardHelpers()) });
  const prog = prepareProgram(assemble(src).bytes, { helpers: machine.helpers });
  const ctx = machine.space.allocate('ctx', 'ctx', 64).start;
  const runner = jitEngine.load(machine, prog);
  const start = performance.now();
  runner.run({ args: [ctx], checked: false });
  const ns = ((performance.now() - start) * 1e6) / (9 * iterations);
  console.log(`\nJIT, one call of the ALU loop with ${iterations.toLocaleString('en')} iterations on a freshly compiled module: ${ns.toFixed(3)} ns/insn`
    + (kernelNsPerInsn !== undefined ? ` (kernel JIT in the table above: ${kernelNsPerInsn.toFixed(3)} ns/insn, ${(ns / kernelNsPerInsn).toFixed(2)}x)` : ''));
}

/** The median of a few timings or rates (this machine's speed varies from run to run). */
function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/**
 * `tsbpf xdp` over a capture (what the command does in process: the file
 * read in chunks, PacketStream.step per packet, maps kept, the packets that
 * pass written) next to `tcpdump -r FILE -w /dev/null` with the equivalent
 * filter on the same file: the issue-12 goal is to be at least as fast.
 */
function captureStream(): string {
  const obj = parseObject(new Uint8Array(readFileSync(here('../examples/xdp_firewall.o'))), { name: 'xdp_firewall.o' });
  const inputs = ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv6_tcp_syn.bin', 'ipv4_tcp_telnet.bin', 'arp_request.bin']
    .map((f) => new Uint8Array(readFileSync(here(`../examples/inputs/${f}`))));
  const count = 1_000_000;
  const file = join(mkdtempSync(join(tmpdir(), 'tsbpf-bench-')), 'capture.pcap');
  const ethernet = [{ linkType: 1, snapLen: 65535 }];
  const w = new CaptureFile(file, { format: 'pcap', interfaces: ethernet });
  for (let i = 0; i < count; i++) w.write({ data: inputs[i % inputs.length]!, sec: Math.floor(i / 1e6), nsec: (i % 1e6) * 1000 });
  w.close();
  // each row: the median of 3 runs, each on a freshly loaded collection (this machine's speed varies from run to run)
  const medianPps = (once: () => boolean): number | undefined => {
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      if (!once()) return undefined;
      rates.push(count / ((performance.now() - start) / 1000));
    }
    return median(rates);
  };
  const tsbpfPps = medianPps(() => {
    const collection = loadCollection(obj);
    const stream = new PacketStream(collection, collection.program(), 'xdp', jitEngine);
    const out = new CaptureFile('/dev/null', { format: 'pcap', interfaces: ethernet });
    forEachCapturedPacket(file, (p, index) => {
      const o = stream.step(p.data, index, p.iface + 1);
      if (passes('xdp', o.retval)) out.write({ data: o.data, sec: p.sec, nsec: p.nsec });
    });
    out.close();
    return true;
  })!;
  // what `tsbpf xdp` runs for a pcap of Ethernet frames: the file read into the memory, 256 packets per call into WebAssembly
  const batchPps = medianPps(() => {
    const batched = loadCollection(obj);
    const batchProgram = batched.program();
    const batchStream = new PacketStream(batched, batchProgram, 'xdp', jitEngine);
    const batch = batched.xdpBatchFor(batchProgram, jitEngine, 256)!;
    const outBatch = new CaptureFile('/dev/null', { format: 'pcap', interfaces: ethernet });
    runPcapBatches(file, batchStream, batch, (_action, retval) => (passes('xdp', retval) ? outBatch : undefined));
    outBatch.close();
    return true;
  })!;
  const rows: string[][] = [['path', 'packets/s', 'vs tcpdump (goal 1x)']];
  const tcpdumpPps = medianPps(() => spawnSync('tcpdump', ['-r', file, '-w', '/dev/null', 'tcp dst port 23 or tcp dst port 80'], { encoding: 'utf8' }).status === 0);
  const ratio = (pps: number): string => (tcpdumpPps === undefined ? 'no tcpdump' : `${(pps / tcpdumpPps).toFixed(2)}x`);
  rows.push(['tsbpf xdp: batches of 256 packets per call, the pcap read into the memory', `${(batchPps / 1e6).toFixed(2)} M`, ratio(batchPps)]);
  rows.push(['PacketStream.step, one packet per call (tc, socket, pcapng, redirects)', `${(tsbpfPps / 1e6).toFixed(2)} M`, ratio(tsbpfPps)]);
  if (tcpdumpPps !== undefined) rows.push(['tcpdump -r FILE -w /dev/null with the equivalent filter', `${(tcpdumpPps / 1e6).toFixed(2)} M`, '1.00x']);
  console.log(`\nCapture stream: xdp_firewall.o over ${count.toLocaleString('en')} packets read from a pcap file, the passing ones written (the JIT, one core; each row the median of 3 runs):`);
  table(rows);
  return file;
}

/**
 * `tsbpf xdp --workers N` (the built command, the whole run: workers
 * started, each loading, verifying and compiling, the capture read and
 * dealt out by flow hash, results merged back in order) with 1 and 2
 * workers, over a 1,000,000-packet capture of 4096 IPv4 flows (the
 * example inputs with the source address varied): how much a second
 * worker adds, with the reading thread in the loop.
 */
function workerStreams(): void {
  const cli = here('../dist/cli/main.js');
  const inputs = ['ipv4_tcp_syn.bin', 'ipv4_udp_dns.bin', 'ipv4_tcp_telnet.bin']
    .map((f) => new Uint8Array(readFileSync(here(`../examples/inputs/${f}`))));
  const count = 1_000_000;
  const file = join(mkdtempSync(join(tmpdir(), 'tsbpf-bench-')), 'flows.pcap');
  const w = new CaptureFile(file, { format: 'pcap', interfaces: [{ linkType: 1, snapLen: 65535 }] });
  for (let i = 0; i < count; i++) {
    const frame = inputs[i % inputs.length]!.slice();
    new DataView(frame.buffer).setUint32(26, 0x0a000000 + (i % 4096)); // the IPv4 source: 4096 flows
    w.write({ data: frame, sec: Math.floor(i / 1e6), nsec: (i % 1e6) * 1000 });
  }
  w.close();
  // the reference: tcpdump with the filter that keeps what proto_count passes (everything); each row the median of 3 runs
  const tcpdumpRuns: number[] = [];
  let tcpdumpOk = true;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const td = spawnSync('tcpdump', ['-r', file, '-w', '/dev/null', 'ip or ip6 or arp'], { encoding: 'utf8' });
    tcpdumpRuns.push((performance.now() - t0) / 1000);
    tcpdumpOk &&= td.status === 0;
  }
  const tcpdumpSeconds = median(tcpdumpRuns);
  const tcpdumpPps = tcpdumpOk ? count / tcpdumpSeconds : undefined;
  const vs = (pps: number): string => (tcpdumpPps === undefined ? 'no tcpdump' : `${(pps / tcpdumpPps).toFixed(2)}x`);
  const rows: string[][] = [['workers', 'packets/s (from the first packet)', 'vs tcpdump (goal 1x / 1.5x)', 'whole command', 'vs 1 worker']];
  let one = 0;
  for (const workers of [1, 2]) {
    const walls: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const r = spawnSync(process.execPath, [cli, 'xdp', here('../examples/proto_count.o'), '-r', file, '--json', '--workers', String(workers)], { encoding: 'utf8' });
      walls.push((performance.now() - start) / 1000);
      if (r.status !== 0) {
        console.log(`
tsbpf xdp --workers ${workers} failed (is dist/ built? npm run build): ${r.stderr.trim()}`);
        return;
      }
      rates.push((JSON.parse(r.stdout) as { pps: number }).pps);
    }
    const wall = median(walls);
    const pps = median(rates);
    if (workers === 1) one = pps;
    rows.push([String(workers), `${(pps / 1e6).toFixed(2)} M`, vs(pps), `${wall.toFixed(2)} s`, `${(pps / one).toFixed(2)}x`]);
  }
  if (tcpdumpPps !== undefined) rows.push(['tcpdump -r FILE -w /dev/null', `${(tcpdumpPps / 1e6).toFixed(2)} M`, '1.00x', `${tcpdumpSeconds.toFixed(2)} s`, '']);
  console.log(`
tsbpf xdp proto_count.o over ${count.toLocaleString('en')} packets of 4096 flows (${cpus().length} cores; each row the median of 3 runs); the whole command includes Node's start-up, loading, verifying and compiling, and each worker's own:`);
  table(rows);
}

/**
 * `tsbpf filter -c EXPR -r FILE` (what the command runs: the expression
 * compiled as libpcap would, the program compiled to WebAssembly, the pcap
 * walked in place) next to `tcpdump -r FILE -w /dev/null EXPR` on the same
 * 1,000,000-packet file: the issue-13 goal is to be faster.
 */
function filterCaptures(file: string): void {
  const rows: string[][] = [];
  for (const expr of ['tcp dst port 23 or tcp dst port 80', 'ip and not net 10.0.0.0/8', 'ip6 or (udp and port 53) or arp']) {
    const start = performance.now();
    const r = filterCaptureFile(file, (linkType) => compileFilter(expr, linkType));
    const ours = r.packets / ((performance.now() - start) / 1000);
    const t0 = performance.now();
    const td = spawnSync('tcpdump', ['-r', file, '-w', '/dev/null', expr], { encoding: 'utf8' });
    const theirs = td.status === 0 ? r.packets / ((performance.now() - t0) / 1000) : undefined;
    rows.push([expr, `${(ours / 1e6).toFixed(1)} M`, theirs !== undefined ? `${(theirs / 1e6).toFixed(1)} M` : 'no tcpdump', theirs !== undefined ? `${(ours / theirs).toFixed(2)}x` : '-', String(r.matched)]);
  }
  console.log(`\nFilters over the same ${'1,000,000'}-packet pcap (packets/s; goal: tsbpf faster than tcpdump)`);
  const widths = [40, 10, 12, 10, 8];
  console.log(['expression', 'tsbpf', 'tcpdump', 'ratio', 'matched'].map((h, i) => h.padEnd(widths[i]!)).join(' '));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join(' '));
}

main();
