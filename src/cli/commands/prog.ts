/** `tsbpf prog load|dump|run|tracelog`: objects as bpftool shows and runs them. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatInstruction } from '../../asm/index.js';
import type { Syntax } from '../../asm/index.js';
import { TsbpfError } from '../../errors.js';
import { decodeProgram } from '../../isa/decode.js';
import { programToWat } from '../../jit/index.js';
import { helperName } from '../../isa/helper-ids.js';
import type { Instruction } from '../../isa/instruction.js';
import { PseudoSrc } from '../../isa/opcode.js';
import { progTypeName } from '../../hooks/program-types.js';
import { describeRedirect } from '../../hooks/redirect.js';
import { tunnelJson } from '../../hooks/tunnel-helpers.js';
import { formatTraceLine } from '../../vm/helpers/index.js';
import { openObjects } from '../../node/objects.js';
import { hostInfo } from '../../node/host.js';
import { appendTraceLines, drainTraceLines } from '../../node/trace-pipe-file.js';
import { dumpMaps, toHex } from '../../runtime/map-io.js';
import type { Collection } from '../../runtime/collection.js';
import { addLoadOptions, addRunOptions, loadObject, printLoaderLog, runFromFlags, typeOverrides } from '../object-run.js';
import type { LoadFlags, RunFlags } from '../object-run.js';
import { inFile, validChoice } from '../options.js';
import { err, out } from '../output.js';
import { parseLogLevel, printVerifierLog, verdictRow } from '../verifier-output.js';
import { describeMap, formatMapLines } from './map.js';
import { ATTACH_TYPE_NAMES } from '../../isa/uapi.js';

/** Hex dump lines in `xxd` style: offset, 16 bytes. */
export function hexDump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = [...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0'));
    lines.push(`${i.toString(16).padStart(4, '0')}: ${row.join(' ')}`);
  }
  return lines;
}

/**
 * An instruction as `prog dump` shows it: the chosen syntax, with map
 * references by map name (bpftool's `map[...]` notation), callbacks by
 * function name and helper calls annotated with the helper's name.
 */
function describeInsn(insn: Instruction, slot: number, maps: readonly string[], functions: readonly { name: string; slot: number }[], syntax: Syntax): string {
  if (insn.kind === 'lddw' && (insn.pseudo === PseudoSrc.MAP_IDX || insn.pseudo === PseudoSrc.MAP_IDX_VALUE)) {
    const name = maps[insn.imm] ?? `#${insn.imm}`;
    return insn.pseudo === PseudoSrc.MAP_IDX ? `r${insn.dst} = map[${name}]` : `r${insn.dst} = map[${name}][0]+${insn.imm2}`;
  }
  if (insn.kind === 'lddw' && insn.pseudo === PseudoSrc.FUNC) {
    const target = slot + 1 + insn.imm;
    return `r${insn.dst} = func ${functions.find((f) => f.slot === target)?.name ?? `pc+${insn.imm}`}`;
  }
  const text = formatInstruction(insn, { syntax, pc: slot });
  if (syntax === 'llvm' && insn.kind === 'call' && insn.src === 0) return `${text}\t# ${helperName(insn.imm) ?? 'unknown helper'}`;
  if (syntax === 'llvm' && insn.kind === 'call' && insn.src === 1) {
    const callee = functions.find((f) => f.slot === slot + 1 + insn.imm)?.name;
    return callee ? `${text}\t# ${callee}` : text;
  }
  return text;
}

/** Writes trace_printk output of a run where `prog tracelog` finds it, and echoes it to stderr. */
function flushTrace(collection: Collection, echo: boolean): string[] {
  const host = hostInfo();
  const lines = collection.tracePipe.drain().map((l) => formatTraceLine(l, host.comm, host.pid));
  if (echo) for (const l of lines) err(l);
  appendTraceLines(lines);
  return lines;
}

/**
 * Verifies every program of a loaded collection and prints what `prog load`
 * shows of it (nothing with --json: the rows are returned for the caller to
 * print); a rejected program sets exit status 1.
 */
function listLoaded(collection: Collection, flags: LoadFlags & { json?: boolean }): object[] {
  const o = collection.object;
  const level = parseLogLevel(flags.logLevel ?? '0');
  const verdicts = collection.programs.map((p) => (collection.verifies ? collection.verify(p) : null));
  collection.programs.forEach((p, i) => {
    const v = verdicts[i];
    if (v) printVerifierLog(p.spec.name, v, level);
  });
  if (verdicts.some((v) => v !== null && !v.accepted)) process.exitCode = 1;
  if (flags.json) {
    return collection.programs.map((p, i) => {
      const v = verdicts[i];
      return v
        ? verdictRow(p.spec.name, p.spec.section, progTypeName(p.typeId), v)
        : { name: p.spec.name, section: p.spec.section, type: progTypeName(p.typeId), accepted: null, error: null, insns_processed: null };
    });
  }
  out(`object ${o.name}: license '${o.license}', ${o.btf ? `BTF (${o.btf.ownTypes.length} types)` : 'no BTF'}${o.btfExt ? ', BTF.ext' : ''}`);
  collection.programs.forEach((p, i) => {
    const subs = p.spec.functions.slice(1).map((f) => f.name);
    const v = verdicts[i];
    const verdict = v === null ? (p.spec.loadError ? `NOT LOADED: ${p.spec.loadError.message}` : 'not verified')
      : v.accepted ? `verified (${v.insnsProcessed} insns processed)` : v.stage === 'loader' ? `NOT LOADED: ${v.error}` : `REJECTED: ${v.error}`;
    const slots = p.spec.insns.length / 8;
    const cannotRun = p.runError && (v === null || v.accepted) ? `  cannot run in tsbpf: ${p.runError}` : '';
    out(`prog ${i}: ${progTypeName(p.typeId)}  name ${p.spec.name}  section ${p.spec.section}  ${slots} insns (${slots * 8} bytes)${subs.length ? `  subprograms ${subs.join(', ')}` : ''}  ${verdict}${cannotRun}`);
  });
  collection.maps.forEach((_m, i) => out(describeMap(collection, i)));
  return [];
}

/** The rows `prog show` prints for a collection (printed here without --json; returned for the caller with it). */
function showPrograms(collection: Collection, flags: { json?: boolean }): object[] {
  const rows = collection.programs.map((p) => ({
    name: p.spec.name, section: p.spec.section, type: progTypeName(p.typeId),
    expected_attach_type: p.spec.expectedAttachTypeName ?? null, rule: p.spec.sectionRule, loader: p.spec.sectionRuleKind,
    tail_call: p.spec.tailCall ?? null, load_error: p.spec.loadError?.message ?? null, run_error: p.runError ?? null,
  }));
  if (flags.json) return rows;
  rows.forEach((r, i) => {
    const tail = r.tail_call ? `  tail call: key ${r.tail_call.key} of ${r.tail_call.mapId !== undefined ? `the prog array with id ${r.tail_call.mapId}` : r.tail_call.map !== undefined ? `prog array '${r.tail_call.map}'` : 'the last prog array'} (${r.tail_call.loader})` : '';
    out(`prog ${i}: ${r.type}${r.expected_attach_type ? `/${r.expected_attach_type}` : ''}  name ${r.name}  section ${r.section}  rule ${r.rule || '(none)'} (${r.loader})${tail}${r.load_error ? `  NOT LOADED: ${r.load_error}` : ''}${r.run_error ? `  cannot run in tsbpf: ${r.run_error}` : ''}`);
  });
  collection.maps.forEach((_m, i) => out(describeMap(collection, i)));
  return [];
}

/** Registers `prog` and its subcommands. */
export function registerProg(program: Command): void {
  const prog = program.command('prog').description('load, inspect and run the programs of BPF object files (like bpftool prog)');

  addLoadOptions(prog.command('load')
    .description('load object files (side by side; with --link, linked into one like `bpftool gen object`), verify every program, and list programs and maps')
    .argument('<objects...>', 'ELF object files built by clang -target bpf')
    .option('--json', 'print {"programs":[{"name","section","type","accepted","error","insns_processed"}]} (with "object" on each row when several objects load side by side)'))
    .action((files: string[], flags: LoadFlags & { json?: boolean }) => {
      const groups = flags.link || files.length === 1 ? [files] : files.map((f) => [f]);
      const rows: object[] = [];
      for (const group of groups) {
        const collection = inFile(group.join(' + '), () => loadObject(group, flags));
        const listed = listLoaded(collection, flags);
        rows.push(...(groups.length > 1 ? listed.map((r) => ({ object: group[0], ...r })) : listed));
      }
      if (flags.json) out(JSON.stringify({ programs: rows }));
    });

  addLoadOptions(prog.command('show')
    .description('list the programs of objects as the loader reads them: type and the section convention it comes from, tail-call slots, why a program cannot load or run (nothing is verified)')
    .argument('<objects...>', 'ELF object files')
    .option('--json', 'print [{"name","section","type","expected_attach_type","rule","loader","tail_call","load_error","run_error"}]'))
    .action((files: string[], flags: LoadFlags & { json?: boolean }) => {
      const groups = flags.link || files.length === 1 ? [files] : files.map((f) => [f]);
      const all: object[] = [];
      for (const group of groups) {
        const collection = inFile(group.join(' + '), () => loadObject(group, { ...flags, verify: false }));
        const rows = showPrograms(collection, flags);
        all.push(...(groups.length > 1 ? rows.map((r) => ({ object: group[0], ...r })) : rows));
      }
      if (flags.json) out(JSON.stringify(all));
    });

  addLoadOptions(prog.command('dump')
    .description('disassemble the programs of an object, with source lines from BTF')
    .argument('<objects...>', 'ELF object files')
    .option('--section <name>', 'only the programs of this section')
    .option('--name <function>', 'only this program')
    .option('--linum', 'show file:line of each source line')
    .option('--syntax <syntax>', 'llvm (llvm-objdump) or kernel (verifier log)', validChoice(['llvm', 'kernel']), 'llvm')
    .option('--opcodes', 'show the raw bytes of each instruction')
    .option('--wat', 'print the WebAssembly module the JIT generates, as text')
    .option('--unsafe', 'with --wat: the unchecked module (page guards for what the verifier proved, region checks for the rest, no budget)'))
    .action((files: string[], flags: LoadFlags & { section?: string; name?: string; linum?: boolean; syntax: Syntax; opcodes?: boolean; wat?: boolean; unsafe?: boolean }) => {
      if (flags.wat) {
        const collection = inFile(files.join(' + '), () => loadObject(files, flags));
        const chosen = collection.programs.filter((p) => (flags.name === undefined || p.spec.name === flags.name) && (flags.section === undefined || p.spec.section === flags.section));
        if (chosen.length === 0) throw new TsbpfError(`no matching program (programs: ${collection.programs.map((p) => `${p.spec.name} [${p.spec.section}]`).join(', ')})`);
        for (const p of chosen) {
          if (p.prepareError) {
            out(`;; ${p.spec.name} (section ${p.spec.section}): no module: tsbpf cannot run it: ${p.prepareError}`);
            continue;
          }
          out(`;; ${p.spec.name} (section ${p.spec.section}), ${flags.unsafe ? 'unchecked' : 'checked'} mode`);
          const safe = flags.unsafe && collection.verifies && collection.verify(p).accepted ? { safe: collection.verify(p).safeAccesses } : {};
          process.stdout.write(programToWat(p.prepared, { checked: !flags.unsafe, machine: collection.machine, ...safe }));
        }
        return;
      }
      const { progType, attachType } = typeOverrides(flags);
      const object = inFile(files.join(' + '), () => openObjects(files, flags.btf !== undefined ? { btf: flags.btf } : {}));
      printLoaderLog(object.log, flags);
      const selected = object.programs.filter((p) => (flags.name === undefined || p.name === flags.name) && (flags.section === undefined || p.section === flags.section));
      if (selected.length === 0) throw new TsbpfError(`no matching program (programs: ${object.programs.map((p) => `${p.name} [${p.section}]`).join(', ')})`);
      selected.forEach((p, n) => {
        if (n > 0) out();
        const type = progType !== undefined ? progTypeName(progType) : p.typeName;
        const attach = attachType !== undefined ? ATTACH_TYPE_NAMES[attachType] : p.expectedAttachTypeName;
        out(`${p.name} (section ${p.section}, ${type}${attach && attach !== type ? `/${attach}` : ''}, ${p.insns.length / 8} insns):`);
        if (p.loadError) out(`; cannot be loaded: ${p.loadError.message}`);
        const { insns, slotOf } = decodeProgram(p.insns);
        const lines = new Map(p.lineInfo.map((l) => [l.slot, l]));
        const funcs = new Map(p.functions.map((f) => [f.slot, f.name]));
        let shown = '';
        insns.forEach((insn, i) => {
          const slot = slotOf[i]!;
          const fn = funcs.get(slot);
          if (fn !== undefined && slot !== 0) out(`${fn}:`);
          const line = lines.get(slot);
          // Without --linum, a source line is shown once for a run of instructions it produced.
          const key = line ? `${line.file}:${line.line}${flags.linum ? `:${line.column}` : ''}` : shown;
          if (line && (key !== shown || fn !== undefined)) out(`; ${line.source.trim()}${flags.linum ? ` [${line.file}:${line.line}:${line.column}]` : ''}`);
          shown = key;
          const text = describeInsn(insn, slot, object.maps.map((m) => m.name), p.functions, flags.syntax);
          const raw = flags.opcodes ? [...p.insns.subarray(slot * 8, slot * 8 + (insn.kind === 'lddw' ? 16 : 8))].map((b) => b.toString(16).padStart(2, '0')).join(' ') + '\t' : '';
          out(`${String(slot).padStart(8)}:\t${raw}${text}`);
        });
      });
    });

  addRunOptions(prog.command('run')
    .description('run a program the way BPF_PROG_TEST_RUN does; prints the return value, average duration, data out and maps')
    .argument('<objects...>', 'ELF object files')
    .option('--data-out <file>', 'write the packet after the run to a file')
    .option('--ctx-out <file>', 'write the context after the run to a file')
    .option('--json', 'print {"retval":N,"duration_ns":N,"data_out":"hex","maps":{...}} (array maps without their all-zero slots), plus "redirect", "clones" and "tunnel" when the run has them (docs/hooks.md)'))
    .action((files: string[], flags: RunFlags & { json?: boolean; dataOut?: string; ctxOut?: string }) => {
      const { collection, program, result, timersFired } = inFile(files.join(' + '), () => runFromFlags(files, flags));
      flushTrace(collection, !flags.json);
      if (flags.dataOut !== undefined) writeOut(flags.dataOut, result.dataOut);
      if (flags.ctxOut !== undefined) writeOut(flags.ctxOut, result.ctxOut);
      if (flags.json) {
        out(JSON.stringify({
          retval: result.retval, duration_ns: result.durationNs, data_out: toHex(result.dataOut),
          ...('redirect' in result ? { redirect: result.redirect } : {}),
          ...(result.clones.length ? { clones: result.clones.map((c) => ({ ifindex: c.ifindex, ingress: c.ingress, data: toHex(c.data) })) } : {}),
          ...(result.tunnel ? { tunnel: tunnelJson(result.tunnel) } : {}),
          ...(result.socketOptions ? { socket_options: result.socketOptions } : {}),
          ...(timersFired !== undefined ? { timers: { fired: timersFired, clock_ns: collection.timerClock.toString() } } : {}),
          maps: dumpMaps(collection, { skipZeroArrayEntries: true }),
        }));
        return;
      }
      out(`${program.spec.name} (${progTypeName(program.typeId)}): return value ${result.retval}${result.r0 > 0xffffffffn ? ` (r0 = 0x${result.r0.toString(16)})` : ''}, duration (average) ${result.durationNs} ns${result.insns >= 0 ? `, ${result.insns} insns` : ''}`);
      if ('redirect' in result) out(`redirect: ${describeRedirect(result.redirect ?? undefined)}`);
      for (const c of result.clones) out(`clone to ifindex ${c.ifindex}${collection.network.device(c.ifindex) ? ` (${collection.network.device(c.ifindex)!.name})` : ''} ${c.ingress ? 'ingress' : 'egress'}: ${c.data.length} bytes`);
      if (result.tunnel) out(`tunnel: ${JSON.stringify(tunnelJson(result.tunnel))}`);
      if (result.socketOptions && Object.keys(result.socketOptions).length) out(`socket options set: ${JSON.stringify(result.socketOptions)}`);
      if (timersFired !== undefined) out(`timers: ${timersFired} callback${timersFired === 1 ? '' : 's'} ran; virtual clock at ${collection.timerClock} ns`);
      if (result.dataOut.length > 0) {
        out(`data_out (${result.dataOut.length} bytes):`);
        for (const l of hexDump(result.dataOut)) out('  ' + l);
      }
      for (const [i, map] of collection.maps.entries()) {
        out(`map ${collection.object.maps[i]!.name} (${map.typeName}):`);
        for (const l of formatMapLines(collection, map, { compact: true, skipZeroArrayEntries: true })) out('  ' + l);
      }
    });

  addRunOptions(prog.command('tracelog')
    .description('print bpf_trace_printk output: of a run of OBJECTS, or (without objects) what earlier `prog run`s left, like trace_pipe')
    .argument('[objects...]', 'ELF object files to run first'))
    .action((files: string[], flags: RunFlags) => {
      if (files.length === 0) {
        for (const l of drainTraceLines()) out(l);
        return;
      }
      const { collection } = inFile(files.join(' + '), () => runFromFlags(files, flags));
      drainTraceLines();
      for (const l of flushTrace(collection, false)) out(l);
      drainTraceLines();
    });
}

function writeOut(file: string, bytes: Uint8Array): void {
  try {
    writeFileSync(file, bytes);
  } catch (e) {
    throw new TsbpfError(`cannot write: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
}
