/** `tsbpf btf dump OBJ`: the BTF types of an object, like `bpftool btf dump file`. */
import type { Command } from 'commander';
import { TsbpfError } from '../../errors.js';
import { dumpBtf } from '../../loader/btf-dump.js';
import { readBtfFile } from '../../node/objects.js';
import { inFile, validChoice } from '../options.js';

/** Registers `btf`. */
export function registerBtf(program: Command): void {
  const btf = program.command('btf').description('inspect BTF type information');
  btf.command('dump')
    .description('print every BTF type of an object file or raw BTF file (e.g. /sys/kernel/btf/vmlinux), as `bpftool btf dump file` does')
    .argument('<file>', 'ELF object or raw BTF file')
    .option('--format <format>', 'raw', validChoice(['raw']), 'raw')
    .action((file: string, flags: { format: string }) => {
      if (flags.format !== 'raw') throw new TsbpfError(`--format: only 'raw' is supported, not '${flags.format}'`);
      const types = inFile(file, () => readBtfFile(file));
      process.stdout.write(dumpBtf(types));
    });
}
