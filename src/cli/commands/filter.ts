/**
 * `tsbpf filter [-r FILE] [-w OUT] [-c] [-y LINKTYPE] [-d|-dd|-ddd] [-O]
 * [--json] EXPRESSION`: a tcpdump filter expression compiled to classic BPF
 * (src/cbpf/filter), printed as `tcpdump -d` prints it, or run over a
 * capture (src/node/capture-filter.ts) as `tcpdump -r FILE EXPR` runs it.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { LinkType } from '../../capture/read.js';
import type { CaptureInterface } from '../../capture/read.js';
import { compileFilter } from '../../cbpf/filter/index.js';
import { formatClassic } from '../../cbpf/listings.js';
import type { CbpfInsn } from '../../cbpf/insn.js';
import { TsbpfError } from '../../errors.js';
import { CaptureFile } from '../../node/capture-files.js';
import { filterCaptureFile } from '../../node/capture-filter.js';
import { UsageError, countFlag, listingFormat, validChoice } from '../options.js';
import { out } from '../output.js';

interface FilterFlags {
  read?: string;
  write?: string;
  count?: boolean;
  linktype: string;
  d: number;
  O?: boolean;
  json?: boolean;
  engine: 'interp' | 'jit';
}

/** `-y` names as tcpdump takes them (DLT names), and the LINKTYPE_ values they mean. */
const LINK_TYPE_NAMES: Record<string, number> = {
  EN10MB: LinkType.ETHERNET, RAW: LinkType.RAW, IPV4: LinkType.IPV4, IPV6: LinkType.IPV6,
  LINUX_SLL: LinkType.LINUX_SLL, LINUX_SLL2: LinkType.LINUX_SLL2, NULL: LinkType.NULL, LOOP: LinkType.LOOP,
};

/** The link type `-y` names (a DLT name or a LINKTYPE_ number). */
function linkTypeOf(text: string): number {
  const byName = LINK_TYPE_NAMES[text.toUpperCase()];
  if (byName !== undefined) return byName;
  if (/^\d+$/.test(text)) return Number(text);
  throw new UsageError(`-y: unknown link type '${text}' (${Object.keys(LINK_TYPE_NAMES).join(', ')}, or a number)`);
}

/** Registers `filter`. */
export function registerFilter(program: Command): void {
  program.command('filter')
    .description('compile a tcpdump filter expression to classic BPF (as libpcap does) and print it (-d, -dd, -ddd), or run it over a capture (-r) as tcpdump -r does')
    .argument('<expression...>', 'the filter expression (pcap-filter(7)); several words are joined with spaces, as tcpdump joins them')
    .option('-r, --read <file>', 'capture to filter (pcap or pcapng); the program is compiled for its link type')
    .option('-w, --write <file>', 'write the matching packets to a capture of the input\'s format')
    .option('-c, --count', 'print only the number of matching packets')
    .option('-y, --linktype <type>', 'link type to compile for without -r: EN10MB, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2, NULL, LOOP or a number', 'EN10MB')
    .option('-d', 'print the program as tcpdump -d does (-dd: as C initialisers, -ddd: as decimal numbers) and exit', countFlag, 0)
    .option('-O', 'do not run the optimizer (tcpdump -O)')
    .option('--json', 'print {"packets":N,"matched":N,"indices":[1-based indices of the matching packets]}')
    .option('--engine <name>', 'interp (the classic interpreter) or jit (the program compiled to WebAssembly)', validChoice(['interp', 'jit']), 'jit')
    .action((words: string[], flags: FilterFlags) => {
      const expression = words.join(' ');
      const compile = (linkType: number): CbpfInsn[] => compileFilter(expression, linkType, { optimize: !flags.O });
      if (flags.d > 0) {
        const format = listingFormat(flags.d);
        out(formatClassic(compile(linkTypeOf(flags.linktype)), format).replace(/\n$/, ''));
        return;
      }
      if (flags.read === undefined) throw new UsageError('nothing to do: give -r FILE to filter a capture, or -d/-dd/-ddd to print the program');
      let writer: CaptureFile | undefined;
      const indices: number[] = [];
      try {
        const result = filterCaptureFile(flags.read, compile, {
          engine: flags.engine,
          onStart: (capture) => {
            if (flags.write !== undefined) writer = openWriter(flags.write, flags.read!, capture.format, capture.interfaces);
          },
          onMatch: (m) => {
            if (flags.json) indices.push(m.index + 1);
            else if (!flags.count && writer === undefined) out(`${m.index + 1} ${m.sec}.${String(Math.floor(m.nsec / 1000)).padStart(6, '0')} ${m.data.length}/${m.origLen} bytes`);
            writer?.write({ data: m.data, origLen: m.origLen, sec: m.sec, nsec: m.nsec, iface: m.iface });
          },
        });
        // an empty capture still leaves the file tcpdump -w would
        if (flags.write !== undefined && writer === undefined) writer = openWriter(flags.write, flags.read, result.format, result.interfaces);
        if (flags.json) out(JSON.stringify({ packets: result.packets, matched: result.matched, indices }));
        else if (flags.count) out(String(result.matched));
      } finally {
        writer?.close();
      }
    });
}

/** The -w capture, of the input's format and interfaces. */
function openWriter(path: string, input: string, format: 'pcap' | 'pcapng', interfaces: readonly CaptureInterface[]): CaptureFile {
  if (resolve(path) === resolve(input)) throw new TsbpfError(`${path}: the capture being read cannot also be written`);
  const ifaces = interfaces.map((i) => ({ linkType: i.linkType, snapLen: i.snapLen, ...(i.name ? { name: i.name } : {}) }));
  return new CaptureFile(path, { format, interfaces: ifaces.length ? ifaces : [{ linkType: 1, snapLen: 262144 }] });
}
