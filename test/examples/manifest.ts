/**
 * The examples' manifest (examples/examples.json): which object, which
 * program, which inputs, and what the Linux kernel gives for them. Loaded
 * and checked here so every consumer (the kernel test, the tsbpf
 * comparison) reads the same thing. The format is described in
 * docs/examples.md.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { KernelInput, MapEntry, MapInit, RunOptions } from '../support/bpftool.js';

/** Folder of the examples (C sources, objects, inputs, manifest). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
/** Path of the manifest. */
export const MANIFEST_PATH = join(EXAMPLES_DIR, 'examples.json');

/** The program a case runs. */
export interface ManifestProgram {
  /** ELF section, as clang wrote it (`xdp`, `tc`, `socket`). */
  section: string;
  /** Function name: what bpftool pins and `--program` selects. */
  function: string;
  /** Program type, bpftool's name (`xdp`, `sched_cls`, `socket_filter`). */
  type: string;
}

/** What one test run must give: a retval, or an error. */
export interface RunExpectation {
  /** BPF_PROG_TEST_RUN's retval (unsigned 32-bit). */
  retval?: number;
  /** The kernel refuses the run: the errno's name (`EINVAL`). */
  error?: string;
  /**
   * `data_out` as lowercase hex, or the word `input` for "the input packet,
   * unchanged". Left out where it says nothing.
   */
  dataOut?: string;
}

/** One BPF_PROG_TEST_RUN of a sequence. */
export interface ManifestInput {
  /** Packet file, relative to examples/. */
  packet?: string;
  /** Context bytes as hex (`ctx_in`). */
  ctx?: string;
  /** Repeat count (default 1). */
  repeat?: number;
  expect: RunExpectation;
}

/** A test case: a fresh load, optional initial maps, one run or a sequence of runs. */
export interface ManifestCase {
  name: string;
  /** Initial map contents, by libbpf map name (see test/support/bpftool.ts). */
  mapInit?: MapInit;
  /** Single-run form: packet file, context, repeat. */
  packet?: string;
  ctx?: string;
  repeat?: number;
  /** Sequence form: several runs against the same maps (then packet/ctx/repeat are not used). */
  inputs?: ManifestInput[];
  expect: {
    /** Single-run form only. */
    retval?: number;
    error?: string;
    dataOut?: string;
    /**
     * Maps after the last run, in normalised form (normaliseMaps): only the
     * maps named here are compared, each in full.
     */
    maps?: Record<string, MapEntry[]>;
  };
}

/** One example program. */
export interface ManifestExample {
  name: string;
  /** C source and object, relative to examples/. */
  source: string;
  object: string;
  /** The -mcpu the object was built with (`v1` is clang 19's default). */
  cpu: string;
  program: ManifestProgram;
  /** What it exercises, in a few words each. */
  features: string[];
  cases: ManifestCase[];
}

export interface Manifest {
  format: 1;
  /** Where the format is described. */
  doc?: string;
  examples: ManifestExample[];
}

/** Reads and sanity-checks the manifest. */
export function loadManifest(path = MANIFEST_PATH): Manifest {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (manifest.format !== 1) throw new Error(`${path}: unknown manifest format ${String(manifest.format)}`);
  for (const ex of manifest.examples) {
    for (const c of ex.cases) {
      const where = `${ex.name} / ${c.name}`;
      if (c.inputs && (c.packet !== undefined || c.ctx !== undefined || c.expect.retval !== undefined || c.expect.error !== undefined)) {
        throw new Error(`${where}: a case has either inputs[] or packet/ctx with expect.retval, not both`);
      }
      caseRuns(c).forEach((run, i) => {
        if ((run.expect.retval === undefined) === (run.expect.error === undefined)) {
          throw new Error(`${where}, run ${i + 1}: expect needs exactly one of retval and error`);
        }
      });
    }
  }
  return manifest;
}

/** A case as a list of runs (the single-run form becomes a list of one). */
export function caseRuns(c: ManifestCase): ManifestInput[] {
  if (c.inputs) return c.inputs;
  const run: ManifestInput = { expect: {} };
  if (c.expect.retval !== undefined) run.expect.retval = c.expect.retval;
  if (c.expect.error !== undefined) run.expect.error = c.expect.error;
  if (c.packet !== undefined) run.packet = c.packet;
  if (c.ctx !== undefined) run.ctx = c.ctx;
  if (c.repeat !== undefined) run.repeat = c.repeat;
  if (c.expect.dataOut !== undefined) run.expect.dataOut = c.expect.dataOut;
  return [run];
}

/** The bytes of a packet file named in the manifest. */
export function readPacket(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(EXAMPLES_DIR, file)));
}

/** The expected data_out hex of a run (`input` resolved). */
export function expectedDataOut(run: ManifestInput): string | undefined {
  const d = run.expect.dataOut;
  if (d === undefined) return undefined;
  if (d === 'input') return run.packet ? Buffer.from(readPacket(run.packet)).toString('hex') : '';
  return d.toLowerCase();
}

/** The harness options (runObjectInKernel) for a manifest case. */
export function caseOptions(example: ManifestExample, c: ManifestCase): RunOptions {
  const inputs = caseRuns(c).map((run): KernelInput => {
    const input: KernelInput = {};
    if (run.packet !== undefined) input.dataIn = readPacket(run.packet);
    if (run.ctx !== undefined) input.ctxIn = new Uint8Array(Buffer.from(run.ctx, 'hex'));
    if (run.repeat !== undefined) input.repeat = run.repeat;
    return input;
  });
  const options: RunOptions = { program: example.program.function, inputs };
  if (c.mapInit) options.mapInit = c.mapInit;
  return options;
}
