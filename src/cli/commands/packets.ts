/**
 * `tsbpf xdp|tc|socket OBJ -r CAPTURE`: a packet program over every packet
 * of a capture file, in order, maps kept between packets (src/runtime/
 * packet-stream.ts); the packets that pass go to `-w`, the others to
 * `--write-action` files; a summary (or `--json`) counts packets and bytes
 * per action and prints the maps.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { ENGINE_NAMES, engineByName } from '../../engines.js';
import { TsbpfError } from '../../errors.js';
import { PROG_TYPE_NAMES } from '../../isa/uapi.js';
import { CaptureFile, forEachCapturedPacket, readCaptureHeader } from '../../node/capture-files.js';
import { loadObjectFiles } from '../../node/objects.js';
import { hookFrame, runCaptureOnWorkers } from '../../node/packet-workers.js';
import type { WorkerPacketInfo } from '../../node/packet-workers.js';
import { LinkType } from '../../capture/read.js';
import type { CaptureFormat, CaptureInterface, CapturedPacket, CaptureReader } from '../../capture/read.js';
import { RejectedProgramError } from '../../runtime/collection.js';
import type { Collection, LoadedProgram } from '../../runtime/collection.js';
import { applyMapInit, dumpMaps } from '../../runtime/map-io.js';
import { PacketStream, actionName, hookOfType, passes, redirectPorts } from '../../runtime/packet-stream.js';
import type { PacketHook, PacketOutcome, StreamSummary } from '../../runtime/packet-stream.js';
import { addLoadOptions, mapInitFromFlags, objectLoad, printLoaderLog, programList } from '../object-run.js';
import type { LoadFlags } from '../object-run.js';
import { UsageError, inFile, parseCount, validChoice, validCount } from '../options.js';
import { out } from '../output.js';
import { parseLogLevel, printVerifierLog } from '../verifier-output.js';
import { runPcapBatches } from '../../node/pcap-batches.js';
import type { PcapRecordSink } from '../../node/pcap-batches.js';
import { jitEngine } from '../../jit/index.js';
import { formatMapLines } from './map.js';

interface PacketFlags extends LoadFlags {
  read: string;
  write?: string;
  writeAction: string[];
  format?: string;
  name?: string;
  section?: string;
  engine: string;
  json?: boolean;
  mapInit: string[];
  mapOut?: string;
  workers: string;
}

/** Every action name a hook can report, for checking `--write-action`. */
function knownActions(hook: PacketHook): Set<string> {
  if (hook === 'socket') return new Set(['KEEP', 'DROP', 'REFUSED']);
  const values = hook === 'xdp' ? [0, 1, 2, 3, 4] : [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8];
  return new Set([...values.map((v) => actionName(hook, v >>> 0)), 'REFUSED']);
}

/** Packets per call into WebAssembly on the batch path (node/pcap-batches.ts). */
const XDP_BATCH = 256;

/** The redirect action of a hook: its packets go to one file per output port. */
function isRedirect(hook: PacketHook, action: string): boolean {
  return action === (hook === 'xdp' ? 'XDP_REDIRECT' : 'TC_ACT_REDIRECT');
}

/** The file of one output port: `out.pcap` and `if3` give `out.if3.pcap`. */
export function portFile(path: string, port: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.${port}${path.slice(dot)}` : `${path}.${port}`;
}

/** The program to run: by --name or --section, else the object's only program of the hook's type. */
function chooseHookProgram(collection: Collection, hook: PacketHook, flags: PacketFlags): LoadedProgram {
  if (flags.name !== undefined || flags.section !== undefined) {
    return collection.program({ ...(flags.name !== undefined ? { name: flags.name } : {}), ...(flags.section !== undefined ? { section: flags.section } : {}) });
  }
  const candidates = collection.programs.filter((x) => hookOfType(x.typeId) === hook);
  if (candidates.length === 0) {
    throw new TsbpfError(`the object has no ${hook} program (programs: ${programList(collection.programs) || 'none'}); choose one with --name or --section`);
  }
  if (candidates.length > 1) throw new UsageError(`the object has ${candidates.length} ${hook} programs: choose one with --name or --section (${programList(candidates)})`);
  return candidates[0]!;
}

function registerHook(program: Command, hook: PacketHook, what: string): void {
  addLoadOptions(program.command(hook)
    .description(`run ${what} over every packet of a capture (pcap or pcapng), maps kept between packets; prints packets and bytes per action and the maps`)
    .argument('<objects...>', 'ELF object files')
    .requiredOption('-r, --read <file>', 'capture to read (pcap or pcapng; Ethernet, raw IP, Linux SLL/SLL2 and loopback link types)')
    .option('-w, --write <file>', `write the packets that pass (${hook === 'xdp' ? 'XDP_PASS' : hook === 'tc' ? 'TC_ACT_OK, TC_ACT_UNSPEC, TC_ACT_PIPE' : 'kept, cut to the bytes kept'}), with the program's changes`)
    .option('--write-action <action=file>', `write the packets of another action to a file (e.g. XDP_TX=tx.pcap; repeatable); ${hook === 'socket' ? '' : `${hook === 'xdp' ? 'XDP_REDIRECT' : 'TC_ACT_REDIRECT'}=out.pcap writes one file per output port (out.if3.pcap, out.cpu1.pcap, out.xsk0.pcap)`}`, (v: string, acc: string[]) => [...acc, v], [])
    .option('--format <format>', 'format of written captures: pcap or pcapng (default: the input\'s)', validChoice(['pcap', 'pcapng']))
    .option('--section <name>', 'run the program in this ELF section')
    .option('--name <function>', 'run the program with this function name')
    .option('--engine <name>', 'execution engine: interp or jit', validChoice(ENGINE_NAMES), 'jit')
    .option('--map-init <name=file>', 'initial map contents: NAME=FILE with [{"key":"hex","value":"hex"}...], or a --map-out file (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--map-out <file>', 'write every map after the last packet as JSON {"name":[...]} (a later --map-init takes it)')
    .option('--workers <n>', 'run on N worker threads over one shared memory, packets dealt by flow hash; per-CPU maps get a slot per worker (docs/hooks.md)', validCount, '1')
    .option('--json', 'print {"packets":N,"bytes":N,"actions":{"ACTION":N,...},"pps":N,"ports":{"if3":N,...},"maps":{...}} (ports: packets redirected to each output port; maps as prog run --json prints them)'))
    .action(async (objects: string[], flags: PacketFlags) => {
      const workers = parseCount(flags.workers, '--workers');
      const where = objects.join(' + ');
      // several workers: one shared memory, and a per-CPU slot for each of them
      const load = inFile(where, () => objectLoad(objects, flags, workers > 1 ? { possibleCpus: workers, shared: true } : {}));
      const { collection, log } = inFile(where, () => loadObjectFiles(load));
      printLoaderLog(log, flags);
      applyMapInit(collection, mapInitFromFlags(flags.mapInit));
      const prog = inFile(where, () => chooseHookProgram(collection, hook, flags));
      const stream = inFile(where, () => new PacketStream(collection, prog, hook, engineByName(flags.engine)));
      if (collection.verifies) {
        // judged before the first packet, with the verifier's log as prog run prints it
        const verdict = collection.verify(prog);
        printVerifierLog(prog.spec.name, verdict, parseLogLevel(flags.logLevel ?? '0'));
        if (!verdict.accepted) throw new RejectedProgramError(prog, verdict);
      }
      const actions = knownActions(hook);
      const targets = new Map<string, string>();
      for (const spec of flags.writeAction) {
        const eq = spec.indexOf('=');
        const action = spec.slice(0, eq);
        if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--write-action: expected ACTION=FILE, got '${spec}'`);
        if (!actions.has(action)) throw new UsageError(`--write-action: '${action}' is not a ${hook} action (${[...actions].join(', ')})`);
        targets.set(action, spec.slice(eq + 1));
      }
      for (const path of [flags.write, ...targets.values()]) {
        if (path !== undefined && resolve(path) === resolve(flags.read)) throw new TsbpfError(`${path}: the capture being read cannot also be written`);
      }
      const files = new Map<string, CaptureFile>();
      const open = (path: string, format: CaptureFormat, interfaces: readonly CaptureInterface[]): CaptureFile => {
        let f = files.get(path);
        if (!f) {
          // what is written is what the program saw: Ethernet frames
          const ifaces = interfaces.map((i) => ({ linkType: LinkType.ETHERNET, snapLen: i.snapLen, ...(i.name ? { name: i.name } : {}) }));
          f = new CaptureFile(path, { format: flags.format === 'pcap' || flags.format === 'pcapng' ? flags.format : format, interfaces: ifaces.length ? ifaces : [{ linkType: 1, snapLen: 262144 }] });
          files.set(path, f);
        }
        return f;
      };
      const ports = new Map<string, number>();
      const started = performance.now();
      let workerStartupMs = 0;
      // a progress bar for long captures, on a terminal only (never in pipes or CI logs)
      const bar = process.stderr.isTTY ? new SingleBar({ format: '{bar} {percentage}% | {value}/{total} MiB | {packets} packets', hideCursor: true, stream: process.stderr }) : undefined;
      let lastBar = 0;
      const progress = bar ? (read: number, size: number, packets: number): void => {
        const now = performance.now();
        if (now - started < 1000 || now - lastBar < 200) return; // short captures show no bar
        if (lastBar === 0) bar.start(Math.max(1, Math.round(size / 2 ** 20)), 0, { packets: 0 });
        lastBar = now;
        bar.update(Math.round(read / 2 ** 20), { packets });
      } : undefined;
      /** The file a packet of `action` (return value `retval`) goes to, if any: -w for the passing ones, else its --write-action. */
      const destination = (action: string, retval: number): string | undefined =>
        action !== 'REFUSED' && passes(hook, retval) ? flags.write : targets.get(action);
      /** Writes a packet where its action goes. */
      const handle = (outcome: PacketOutcome, p: Pick<WorkerPacketInfo, 'sec' | 'nsec' | 'iface' | 'cutOff'>, r: CaptureReader): void => {
        const path = destination(outcome.action, outcome.retval);
        if (path === undefined) return;
        const written = { data: outcome.data, sec: p.sec, nsec: p.nsec, iface: p.iface, origLen: outcome.data.length + p.cutOff };
        if (outcome.redirect === undefined) {
          open(path, r.format ?? 'pcap', r.interfaces).write(written);
        } else {
          // one file per output port: XDP_REDIRECT=out.pcap writes out.if3.pcap, out.cpu1.pcap, ...
          for (const port of redirectPorts(outcome.redirect)) open(portFile(path, port), r.format ?? 'pcap', r.interfaces).write(written);
        }
      };
      let reader: Pick<CaptureReader, 'format' | 'interfaces'>;
      let summary: StreamSummary;
      try {
        // XDP on the JIT over a pcap of Ethernet frames, with no redirect to record per packet: whole batches per call
        const batch = workers === 1 && hook === 'xdp' && flags.engine === 'jit' ? collection.xdpBatchFor(prog, jitEngine, XDP_BATCH) : null;
        let batchedInterfaces: readonly CaptureInterface[] = [];
        // where the batch paths put the packets of a verdict, as pcap records; the file is made when the first packet goes to it, as on the other paths
        const sinks = new Map<string, PcapRecordSink>();
        const sinkFor = (action: string, retval: number): PcapRecordSink | undefined => {
          const path = destination(action, retval);
          if (path === undefined) return undefined;
          let sink = sinks.get(path);
          if (sink === undefined) {
            sink = { writeRecords: (bytes, start, end, count) => open(path, 'pcap', batchedInterfaces).writeRecords(bytes, start, end, count) };
            sinks.set(path, sink);
          }
          return sink;
        };
        const batched = batch === null ? null : runPcapBatches(flags.read, stream, batch, sinkFor, {
          header: (r) => { batchedInterfaces = r.interfaces; },
          ...(progress ? { progress: (read: number, size: number) => progress(read, size, stream.summary.packets) } : {}),
        });
        if (batched !== null) {
          reader = batched;
          summary = stream.summary;
        } else if (workers === 1) {
          // one thread: no workers, no shared memory, packets in file order as they are read
          reader = forEachCapturedPacket(flags.read, (p: CapturedPacket, index, r) => {
            // the capture's interfaces are the devices packets arrive on: ifindex 1, 2, ... in file order
            const outcome = stream.step(hookFrame(p, index, hook, flags.read), index, p.iface + 1);
            if (outcome.redirect !== undefined) {
              for (const port of redirectPorts(outcome.redirect)) ports.set(port, (ports.get(port) ?? 0) + 1);
            }
            handle(outcome, { sec: p.sec, nsec: p.nsec, iface: p.iface, cutOff: Math.max(0, p.origLen - p.data.length) }, r);
          }, progress ? (read, size) => progress(read, size, stream.summary.packets) : undefined);
          summary = stream.summary;
        } else {
          let counted: Record<string, number>;
          let startupMs: number;
          try {
            batchedInterfaces = readCaptureHeader(flags.read).interfaces;
          } catch {
            // a file the workers' reader words the complaint about
          }
          ({ reader, summary, ports: counted, startupMs } = await runCaptureOnWorkers(collection, {
            load, program: prog, hook, engine: flags.engine, workers, capture: flags.read,
            keepPassing: flags.write !== undefined, keepActions: [...targets.keys()],
            onPacket: handle, ...(progress ? { progress } : {}),
            ...(hook === 'xdp' ? { sinkFor } : {}),
          }));
          for (const [port, n] of Object.entries(counted)) ports.set(port, n);
          // packets/s counts from the first packet, as on one thread (where loading and compiling come before too)
          workerStartupMs = startupMs;
        }
      } finally {
        for (const f of files.values()) f.close();
        if (lastBar !== 0) bar?.stop();
      }
      // files named but never written to still exist, as tcpdump -w leaves an empty capture
      for (const [action, path] of [['', flags.write], ...targets.entries()]) {
        if (path !== undefined && !files.has(path) && !isRedirect(hook, action!)) open(path, reader.format ?? 'pcap', reader.interfaces).close();
      }
      const seconds = (performance.now() - started - workerStartupMs) / 1000;
      const s = summary;
      const pps = seconds > 0 ? Math.round(s.packets / seconds) : 0;
      const maps = dumpMaps(collection, { skipZeroArrayEntries: true });
      if (flags.mapOut !== undefined) writeFileSync(flags.mapOut, JSON.stringify(maps) + '\n');
      if (flags.json) {
        out(JSON.stringify({
          packets: s.packets, bytes: s.bytes,
          actions: Object.fromEntries(Object.entries(s.actions).map(([a, c]) => [a, c.packets])),
          pps, ...(ports.size ? { ports: Object.fromEntries(ports) } : {}), maps,
        }));
        return;
      }
      out(`${prog.spec.name} (${PROG_TYPE_NAMES[prog.typeId]}): ${s.packets} packets, ${s.bytes} bytes in ${(seconds * 1000).toFixed(1)} ms (${pps} packets/s)${workers > 1 ? ` on ${workers} workers (started in ${workerStartupMs.toFixed(0)} ms)` : ''}`);
      for (const [a, c] of Object.entries(s.actions).sort((x, y) => y[1].packets - x[1].packets)) {
        out(`  ${a.padEnd(18)} ${String(c.packets).padStart(10)} packets ${String(c.bytes).padStart(12)} bytes`);
      }
      if (ports.size) out(`  redirected to ${[...ports].map(([p, n]) => `${p}: ${n}`).join(', ')}`);
      for (const [i, map] of collection.maps.entries()) {
        out(`map ${collection.object.maps[i]!.name} (${map.typeName}):`);
        for (const l of formatMapLines(collection, map, { compact: true, skipZeroArrayEntries: true })) out('  ' + l);
      }
    });
}

/** Registers `xdp`, `tc` and `socket`. */
export function registerPackets(program: Command): void {
  registerHook(program, 'xdp', 'an XDP program');
  registerHook(program, 'tc', 'a tc (sched_cls/sched_act) program');
  registerHook(program, 'socket', 'a socket filter');
}
