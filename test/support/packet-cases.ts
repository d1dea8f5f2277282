/**
 * Packet-program cases run three ways: in the kernel (BPF_PROG_TEST_RUN
 * through the kernel oracle), and in tsbpf on the interpreter and on the
 * JIT, with the kernel's verdict checked against tsbpf's verifier. A case
 * is assembly (llvm syntax) whose `ld_pseudo rX, 1, N` loads map N; maps
 * are created in order and filled from `init` before the run, and read
 * back after it.
 */
import { expect } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeAt } from '../../src/isa/decode.js';
import { writeSlot } from '../../src/isa/encode.js';
import { HookContexts } from '../../src/hooks/contexts.js';
import { helpersForType } from '../../src/hooks/type-helpers.js';
import type { NetNamespace } from '../../src/hooks/net.js';
import { progTypeId } from '../../src/hooks/program-types.js';
import type { RedirectTarget } from '../../src/hooks/redirect.js';
import type { TunnelInfo } from '../../src/hooks/skb.js';
import { TestRunner } from '../../src/hooks/test-run.js';
import { jitEngine } from '../../src/jit/jit-engine.js';
import { verify } from '../../src/verifier/index.js';
import type { Engine } from '../../src/vm/engine.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import { Machine } from '../../src/vm/machine.js';
import type { BpfMap } from '../../src/vm/maps/bpf-map.js';
import { mapTypeName } from '../../src/vm/maps/bpf-map.js';
import type { MapSpec } from '../../src/vm/maps/types.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import type { OracleReply, OracleRequest } from './kernel-oracle.js';
import { kernelLacksFeature, toHex } from './kernel-oracle.js';

/** One case. */
export interface PacketCase {
  name: string;
  /** Program type name (`xdp`, `sched_cls`, ...). */
  type: string;
  /** The packet (data_in); a 64-byte zero frame when absent. */
  packet?: Uint8Array;
  ctxIn?: Uint8Array;
  asm: string;
  maps?: MapSpec[];
  /** User-space updates before the run. */
  init?: { map: number; key: Uint8Array; value: Uint8Array; flags?: number }[];
  /** tsbpf's network for the case (default: the test-run namespace: lo alone, down). */
  net?: () => NetNamespace;
  /** tsbpf's tunnel metadata on the packet. */
  tunnel?: TunnelInfo;
  /** Expected redirect target (tsbpf only: the kernel's test run does not report it). */
  redirect?: RedirectTarget | null;
}

/** What a run gives, in the form compared with the kernel. */
export interface Outcome {
  retval: number;
  data: string;
  /** Every map's entries (`key:value` hex), in iteration order. */
  maps: string[][];
}

export const ENGINES: readonly [string, Engine][] = [['interp', interpreterEngine], ['jit', jitEngine]];

/** The case's instructions with map N loads turned into map addresses (tsbpf). */
function resolveMaps(bytes: Uint8Array, maps: readonly BpfMap[]): Uint8Array {
  const out = bytes.slice();
  for (let pc = 0; pc < out.length / 8; pc++) {
    if (out[pc * 8] !== 0x18) continue;
    const insn = decodeAt(out, pc);
    if (insn.kind === 'lddw' && insn.pseudo === 1) {
      writeSlot(out, pc * 8, { code: 0x18, dst: insn.dst, src: 0, off: 0, imm: maps[insn.imm]!.address });
      writeSlot(out, (pc + 1) * 8, { code: 0, dst: 0, src: 0, off: 0, imm: 0 });
    }
    pc++;
  }
  return out;
}

/** A 64-byte Ethernet frame of zeros (XDP and tc need at least 14 bytes). */
export const ZERO_FRAME = new Uint8Array(64);

/** Runs `c` in tsbpf on `engine`. */
export function runOurs(c: PacketCase, engine: Engine): Outcome & { redirect?: RedirectTarget | null; clones: number; tunnel?: TunnelInfo | null } {
  const machine = new Machine({ possibleCpus: 2 });
  const contexts = new HookContexts();
  if (c.net) contexts.net = c.net();
  const runner = new TestRunner(machine, contexts);
  const maps = (c.maps ?? []).map((spec) => machine.maps.create({ ...spec, hashSeed: 0 }));
  for (const i of c.init ?? []) maps[i.map]!.update(i.key, i.value, i.flags ?? 0);
  const typeId = progTypeId(c.type);
  const prog = prepareProgram(resolveMaps(assemble(c.asm).bytes, maps), { helpers: helpersForType(typeId, contexts) });
  const r = runner.run(prog, typeId, engine, {
    dataIn: c.packet ?? ZERO_FRAME, ...(c.ctxIn ? { ctxIn: c.ctxIn } : {}), ...(c.tunnel ? { tunnel: c.tunnel } : {}),
  });
  return {
    retval: r.retval, data: toHex(r.dataOut), maps: maps.map((m) => dump(m)), clones: r.clones.length,
    ...('redirect' in r ? { redirect: r.redirect } : {}), ...('tunnel' in r ? { tunnel: r.tunnel } : {}),
  };
}

function dump(m: BpfMap): string[] {
  try {
    return m.entries().map((e) => `${toHex(e.key)}:${toHex(e.value)}`);
  } catch {
    return [];
  }
}

/** The oracle request of `c`. */
export function kernelRequest(c: PacketCase): OracleRequest {
  return {
    cmd: 'run', prog_type: c.type, insns: toHex(assemble(c.asm).bytes), data_in: toHex(c.packet ?? ZERO_FRAME),
    ...(c.ctxIn ? { ctx_in: toHex(c.ctxIn) } : {}),
    maps: (c.maps ?? []).map((m) => ({ type: m.type, key_size: m.keySize, value_size: m.valueSize, max_entries: m.maxEntries, flags: m.flags ?? 0, name: m.name })),
    map_init: (c.init ?? []).map((i) => ({ map: i.map, key: toHex(i.key), value: toHex(i.value), flags: i.flags ?? 0 })),
  };
}

/** The kernel's outcome from an oracle reply. */
export function kernelOutcome(reply: OracleReply, c: PacketCase): Outcome {
  const dumps = (reply.maps ?? []) as { entries?: { key?: string; value: string }[] }[];
  return {
    retval: reply.retval ?? -1,
    data: reply.data_out ?? '',
    maps: (c.maps ?? []).map((_, i) => (dumps[i]?.entries ?? []).map((e) => `${e.key ?? ''}:${e.value}`)),
  };
}

/** Only maps the kernel can dump compare (XSK maps cannot be read back). */
function comparable(c: PacketCase, o: Outcome): Outcome {
  return { ...o, maps: o.maps.map((m, i) => (mapTypeName(c.maps![i]!.type) === 'xskmap' ? [] : m)) };
}

/**
 * Runs every case in the kernel (`ask`) and on both tsbpf engines, and
 * checks the verdicts, return values, output packets and maps agree.
 */
export function compareWithKernel(cases: readonly PacketCase[], ask: (r: readonly OracleRequest[]) => OracleReply[]): void {
  const replies = ask(cases.map(kernelRequest));
  const got: unknown[] = [];
  const want: unknown[] = [];
  cases.forEach((c, i) => {
    const reply = replies[i]!;
    if (kernelLacksFeature(c.name, reply)) return;
    const typeId = progTypeId(c.type);
    const verdict = verify({ insns: assemble(c.asm).bytes, progType: typeId, maps: c.maps ?? [] });
    const kernelAccepted = reply.ok || reply['stage'] !== 'load';
    expect({ name: c.name, accepted: verdict.accepted }, `${c.name}: tsbpf's verifier: ${verdict.error ?? 'accepted'}; kernel: ${reply.error ?? 'accepted'}\n${reply.log ?? ''}`)
      .toEqual({ name: c.name, accepted: kernelAccepted });
    expect(reply.ok, `${c.name}: ${reply.error}\n${reply.log}`).toBe(true);
    const k = comparable(c, kernelOutcome(reply, c));
    for (const [engine, e] of ENGINES) {
      const ours = runOurs(c, e);
      got.push({ name: `${c.name} (${engine})`, ...comparable(c, { retval: ours.retval, data: ours.data, maps: ours.maps }), ...(c.redirect !== undefined ? { redirect: ours.redirect } : {}) });
      want.push({ name: `${c.name} (${engine})`, ...k, ...(c.redirect !== undefined ? { redirect: c.redirect } : {}) });
    }
  });
  expect(got).toEqual(want);
}
