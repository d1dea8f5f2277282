/**
 * `tsbpf seccomp compile POLICY.json` and `tsbpf seccomp run PROG --nr N
 * --arch A --args ...`: seccomp filters (src/hooks/seccomp.ts) from an
 * allow/deny policy, and what the kernel would decide for one syscall.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assembleClassic } from '../../cbpf/assemble.js';
import { formatClassic } from '../../cbpf/listings.js';
import type { CbpfInsn } from '../../cbpf/insn.js';
import { AUDIT_ARCH, checkSeccompFilter, compileSeccompPolicy, runSeccomp, syscallNumber } from '../../hooks/seccomp.js';
import { readTextFile } from '../../node/files.js';
import { UsageError, countFlag, inFile, listingFormat } from '../options.js';
import { out } from '../output.js';

/** The filter in `file`: a JSON policy (compiled), or a `tcpdump -d`/`-dd`/`-ddd` listing. */
function loadFilter(file: string): CbpfInsn[] {
  const text = readTextFile(file);
  return inFile(file, () => (text.trimStart().startsWith('{') ? compileSeccompPolicy(text) : assembleClassic(text)));
}

/** A u64 argument: decimal or 0x hex. */
function parseArg(text: string, what: string): bigint {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text.trim())) throw new UsageError(`${what}: '${text}' is not a number (decimal or 0x hex)`);
  const v = BigInt(text.trim());
  if (v >= 1n << 64n) throw new UsageError(`${what}: ${text} does not fit in 64 bits`);
  return v;
}

/** Registers `seccomp compile` and `seccomp run`. */
export function registerSeccomp(program: Command): void {
  const seccomp = program.command('seccomp').description('seccomp filters: compile a policy, run a filter on a system call');

  seccomp.command('compile')
    .description('compile a JSON policy ({"arch","default","rules":[{"syscall","action","args"}]}, docs/classic.md) into a classic seccomp filter, printed as tcpdump -d prints programs')
    .argument('<policy>', 'the policy (JSON)')
    .option('-d', 'listing: -d (default), -dd (C initialisers) or -ddd (decimal)', countFlag, 0)
    .option('-o, --output <file>', 'also write the filter as raw struct sock_filter bytes (8 per instruction, little-endian), as seccomp(2) takes it')
    .action((file: string, flags: { d: number; output?: string }) => {
      const format = listingFormat(flags.d);
      const prog = inFile(file, () => compileSeccompPolicy(readTextFile(file)));
      out(formatClassic(prog, format).replace(/\n$/, ''));
      if (flags.output !== undefined) {
        const bytes = new Uint8Array(prog.length * 8);
        const v = new DataView(bytes.buffer);
        prog.forEach((i, n) => {
          v.setUint16(n * 8, i.code, true);
          bytes[n * 8 + 2] = i.jt;
          bytes[n * 8 + 3] = i.jf;
          v.setUint32(n * 8 + 4, i.k, true);
        });
        writeFileSync(flags.output, bytes);
      }
    });

  seccomp.command('run')
    .description('what the kernel decides for one system call under a filter (a JSON policy, or a tcpdump -d/-dd/-ddd listing): the action and its data')
    .argument('<filter>', 'a policy (.json) or a classic listing')
    .requiredOption('--nr <n|name>', 'the system call: its number, or its name on --arch (x86_64, aarch64)')
    .option('--arch <arch>', `the calling convention (${Object.keys(AUDIT_ARCH).join(', ')}) or an AUDIT_ARCH number`, 'x86_64')
    .option('--args <a,b,...>', 'up to six arguments (u64, decimal or 0x hex), comma-separated')
    .option('--ip <addr>', 'the instruction pointer (u64)', '0')
    .option('--json', 'print {"action":"errno","data":N,"ret":N,"errno":N}')
    .action((file: string, flags: { nr: string; arch: string; args?: string; ip: string; json?: boolean }) => {
      const arch = AUDIT_ARCH[flags.arch] ?? (/^(0x[0-9a-f]+|\d+)$/i.test(flags.arch) ? Number(flags.arch) : undefined);
      if (arch === undefined || arch > 0xffffffff) throw new UsageError(`--arch: unknown architecture '${flags.arch}' (${Object.keys(AUDIT_ARCH).join(', ')}, or a number)`);
      let nr: number;
      if (/^\d+$/.test(flags.nr)) {
        nr = Number(flags.nr);
      } else {
        const n = syscallNumber(flags.arch, flags.nr);
        if (n === undefined) throw new UsageError(`--nr: no system call '${flags.nr}' on ${flags.arch} (give its number)`);
        nr = n;
      }
      const args = flags.args === undefined || flags.args === '' ? [] : flags.args.split(',').map((a, i) => parseArg(a, `--args[${i}]`));
      if (args.length > 6) throw new UsageError(`--args: a system call has at most 6 arguments, not ${args.length}`);
      const prog = loadFilter(file);
      inFile(file, () => checkSeccompFilter(prog));
      const verdict = runSeccomp(prog, { nr, arch, instructionPointer: parseArg(flags.ip, '--ip'), args });
      if (flags.json) {
        out(JSON.stringify({ action: verdict.action, data: verdict.data, ret: verdict.ret, ...(verdict.errno !== undefined ? { errno: verdict.errno } : {}) }));
      } else {
        out(`${verdict.action.toUpperCase()}${verdict.action === 'errno' ? `(${verdict.errno ?? verdict.data})` : verdict.data ? ` (data ${verdict.data})` : ''}  ret 0x${verdict.ret.toString(16).padStart(8, '0')}`);
      }
    });
}
