/**
 * The tokens of pcap-filter expressions. Words are classified the way
 * libpcap's scanner does: keywords, numbers (decimal, 0x hex, 0 octal),
 * dotted IPv4 numbers (`10.1`), MAC addresses, IPv6 addresses and other
 * names; a backslash makes a keyword a plain name (`ether proto \ip`).
 */
import { TsbpfError } from '../../errors.js';

/** A compile error of a filter expression; `offset` is the character offset in the expression. */
export class FilterError extends TsbpfError {
  constructor(reason: string, readonly position: number) {
    super(reason, { offset: position });
  }
}

/** Token kinds. */
export type TokenKind = 'kw' | 'num' | 'hid' | 'hid6' | 'eid' | 'id' | 'op' | 'end';

/** One token, with its character offset. */
export interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
  /** Numeric value of `num` tokens. */
  value?: number;
}

const KEYWORDS = new Set([
  'host', 'net', 'mask', 'port', 'portrange', 'proto', 'protochain', 'src', 'dst', 'and', 'or', 'not',
  'ether', 'link', 'ppp', 'slip', 'fddi', 'tr', 'wlan', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6',
  'sctp', 'igmp', 'broadcast', 'multicast', 'less', 'greater', 'len', 'vlan', 'mpls', 'gateway',
  'inbound', 'outbound', 'ifindex', 'pppoes', 'pppoed', 'pim', 'vrrp', 'carp', 'ah', 'esp',
  'stp', 'sca', 'lat', 'mopdl', 'moprc', 'decnet', 'netbeui', 'iso', 'ipx', 'atalk', 'aarp', 'llc',
  'clnp', 'esis', 'isis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp',
]);

const OPS = ['&&', '||', '<<', '>>', '<=', '>=', '==', '!=', '!', '(', ')', '[', ']', ':', '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '='];

const MAC = /^([0-9a-f]{1,2}([:.-])[0-9a-f]{1,2}(\2[0-9a-f]{1,2}){4}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}|[0-9a-f]{12})$/i;
const IPV6 = /^[0-9a-f:.]*:[0-9a-f:.]*$/i;

/** Parses a libpcap number: 0x hex, leading-0 octal, decimal; undefined if it is not one or exceeds 32 bits. */
export function parseNumber(text: string): number | undefined {
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) v = parseInt(text, 8);
  else if (/^[0-9]+$/.test(text)) v = parseInt(text, 10);
  else return undefined;
  return v;
}

/** The word starting at `i` (empty if none): colons stay only in MAC and IPv6 addresses; no trailing '.' or '-'. */
function wordAt(expr: string, i: number): string {
  let j = i;
  while (j < expr.length && /[A-Za-z0-9_.:-]/.test(expr[j]!)) j++;
  let word = expr.slice(i, j);
  if (word.includes(':') && !MAC.test(word) && !(IPV6.test(word) && word.split(':').length >= 3)) {
    word = word.slice(0, word.indexOf(':'));
  }
  while (word.length > 1 && /[.-]$/.test(word)) word = word.slice(0, -1);
  return word;
}

/** Splits `expr` into tokens, ending with an `end` token. */
export function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    let escaped = false;
    if (c === '\\') { escaped = true; i++; }
    if (i < expr.length && /[A-Za-z0-9_:]/.test(expr[i]!) && wordAt(expr, i).length > 0) {
      const word = wordAt(expr, i);
      i += word.length;
      // Keywords are case-sensitive, as in libpcap (`TCP` is not `tcp`).
      if (!escaped && KEYWORDS.has(word)) out.push({ kind: 'kw', text: word, pos: start });
      else if (/^[0-9a-f]{12}$/i.test(word) || /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(word) || (MAC.test(word) && /[:.-]/.test(word) && !/^[0-9]+(\.[0-9]+){1,3}$/.test(word))) out.push({ kind: 'eid', text: word, pos: start });
      else if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(word)) {
        if (/^0[0-9]*[89]/.test(word)) throw new FilterError(`number ${word} contains non-octal digit`, start);
        const v = parseNumber(word);
        if (v === undefined || v > 0xffffffff) throw new FilterError(`number ${word} overflows 32 bits`, start);
        out.push({ kind: 'num', text: word, pos: start, value: v });
      } else if (/^[0-9]+(\.[0-9]+){1,3}$/.test(word)) out.push({ kind: 'hid', text: word, pos: start });
      else if (MAC.test(word) && (word.includes(':') || word.includes('.') || word.includes('-'))) out.push({ kind: 'eid', text: word, pos: start });
      else if (word.includes(':')) out.push({ kind: 'hid6', text: word, pos: start });
      else out.push({ kind: 'id', text: word, pos: start });
      continue;
    }
    if (escaped) throw new FilterError('syntax error', start);
    const op = OPS.find((o) => expr.startsWith(o, i));
    if (op === undefined) throw new FilterError('syntax error', start);
    out.push({ kind: 'op', text: op, pos: start });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', pos: expr.length });
  return out;
}
