/**
 * The pcap-filter language (pcap-filter(7)) compiled to classic BPF, the
 * way libpcap's pcap_compile does: parse, generate blocks per link type,
 * optimize, lay out.
 */
import { Class, RetVal, insn } from '../insn.js';
import type { CbpfInsn } from '../insn.js';
import { emit, generate, materialize } from './codegen.js';
import type { Block } from './codegen.js';
import { FilterError } from './filter-lexer.js';
import { optimizeBlocks } from './optimize.js';
import { parseFilter } from './parser.js';

export { FilterError } from './filter-lexer.js';
export { SUPPORTED_LINK_TYPES } from './codegen.js';

/** Options of {@link compileFilter}. */
export interface CompileFilterOptions {
  /** Run the optimizer (default true, as tcpdump does unless given -O). */
  optimize?: boolean;
  /** What an accepting program returns (default 262144, libpcap's default snapshot length). */
  snaplen?: number;
  /**
   * The netmask `ip broadcast` uses: default 0, as tcpdump reading a
   * capture file; null when it is not known (libpcap on an interface
   * without an IPv4 address), which makes `ip broadcast` an error.
   */
  netmask?: number | null;
}

/**
 * Compiles a pcap-filter expression (`tcp port 80 and host 10.0.0.1`) for
 * a link type (LINKTYPE_/DLT_ value: 1 Ethernet, 12/14/101 raw IP, 228
 * IPv4, 229 IPv6, 113 Linux SLL, 276 Linux SLL2, 0 null, 108 loopback)
 * into classic BPF, accepting the packets libpcap's program for the same
 * expression accepts. Throws {@link FilterError} (a TsbpfError) with the
 * character offset for syntax errors, unknown names and filters libpcap
 * refuses, including "expression rejects all packets" when optimizing.
 */
export function compileFilter(expression: string, linkType: number, options: CompileFilterOptions = {}): CbpfInsn[] {
  const snaplen = options.snaplen ?? 262144;
  const ast = parseFilter(expression);
  if (!ast) return [insn(Class.RET | RetVal.K, snaplen)];
  const { cond, optimizable } = generate(ast, linkType, { netmask: options.netmask === undefined ? 0 : options.netmask });
  const accept: Block = { stmts: [], ret: snaplen };
  const reject: Block = { stmts: [], ret: 0 };
  let root = materialize(cond, accept, reject);
  if ((options.optimize ?? true) && optimizable) {
    root = optimizeBlocks(root);
    if (!root.jmp && root.ret === 0) throw new FilterError('expression rejects all packets', 0);
  }
  return emit(root);
}
