/**
 * `tsbpf kernel-oracle [probe|serve]`: the running Linux kernel as an
 * oracle, speaking JSON (docs/testing.md): one request (an object, or an
 * array of them) on stdin and one reply on stdout; `probe` alone; or
 * `serve`, one request per line and one reply per line until EOF. Every
 * request gets a reply, and the exit status is 0 unless stdin cannot be
 * read.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { TsbpfError } from '../../errors.js';
import { KernelOracle, answerJson, probe } from '../../node/kernel-oracle/index.js';
import { out } from '../output.js';

/** Registers `kernel-oracle`. */
export function registerKernelOracle(program: Command): void {
  program
    .command('kernel-oracle')
    .description('the Linux kernel as an oracle: JSON requests (probe, verify, run) on stdin, JSON replies on stdout')
    .argument('[mode]', 'probe (print the probe), serve (JSON lines until EOF); default: one request from stdin')
    .action(async (mode: string | undefined) => {
      if (mode === 'probe') {
        out(JSON.stringify(probe()));
        return;
      }
      const oracle = new KernelOracle();
      try {
        if (mode === 'serve') {
          for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
            if (line.trim()) out(JSON.stringify(answerJson(line, oracle)));
          }
          return;
        }
        if (mode !== undefined) throw new TsbpfError(`kernel-oracle: unknown mode '${mode}' (probe, serve, or none)`);
        const text = readFileSync(0, 'utf8');
        out(JSON.stringify(text.trim()
          ? answerJson(text, oracle)
          : { ok: false, error: 'empty request on stdin (try: tsbpf kernel-oracle probe)', stage: 'input' }));
      } finally {
        oracle.close();
      }
    });
}
