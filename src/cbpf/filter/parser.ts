/**
 * The pcap-filter grammar (pcap-filter(7), libpcap's grammar.y) parsed into
 * an AST with character positions. As in libpcap, `and` and `or` have the
 * same precedence and group to the left, and a bare id after `and`/`or`
 * takes the qualifiers of the last primitive (`host a or b`, `port 80 or
 * 443`); a protocol name alone or an arithmetic relation resets them.
 */
import { FilterError, tokenize } from './filter-lexer.js';
import type { Token } from './filter-lexer.js';
import { NAMED_NUMBERS } from './builtin-names.js';

/** Protocol qualifiers. */
export type Proto = 'ether' | 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'sctp' | 'igmp' | 'pim' | 'vrrp' | 'carp' | 'ah' | 'esp';
/** Direction qualifiers (`src or dst` is 'or', `src and dst` is 'and'). */
export type Dir = 'default' | 'src' | 'dst' | 'or' | 'and';
/** Address-type qualifiers. */
export type Addr = 'default' | 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway';

/** The qualifiers of a primitive. */
export interface Qual {
  proto: Proto | 'default';
  dir: Dir;
  addr: Addr;
}

/** The id of a primitive. */
export type IdNode =
  | { kind: 'num'; value: number; text: string; pos: number }
  | { kind: 'hid'; text: string; pos: number }
  | { kind: 'netlen'; text: string; len: number; pos: number }
  | { kind: 'netmask'; text: string; mask: string; pos: number }
  | { kind: 'hid6'; text: string; len?: number; pos: number }
  | { kind: 'eid'; text: string; pos: number }
  | { kind: 'name'; text: string; pos: number };

/** Arithmetic expressions (`proto[expr:size]`, `len`, constants). */
export type Arth =
  | { kind: 'const'; value: number; pos: number }
  | { kind: 'len'; pos: number }
  | { kind: 'load'; proto: Proto; index: Arth; size: number; pos: number }
  | { kind: 'bin'; op: string; left: Arth; right: Arth; pos: number }
  | { kind: 'neg'; arg: Arth; pos: number };

/** A filter expression. */
export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter; pos: number }
  | { kind: 'not'; expr: Filter; pos: number }
  | { kind: 'prim'; qual: Qual; id: IdNode; pos: number }
  | { kind: 'proto'; proto: Proto; pos: number }
  | { kind: 'broadcast' | 'multicast'; proto: Proto | 'default'; pos: number }
  | { kind: 'less' | 'greater' | 'ifindex'; value: number; pos: number }
  | { kind: 'vlan' | 'mpls' | 'pppoes'; id?: number; pos: number }
  | { kind: 'pppoed'; pos: number }
  | { kind: 'linkproto'; name: string; pos: number }
  /** `llc [TYPE]`: an 802.2 frame, of a frame format (`i`, `s`, `u`) or an S/U command (`rr`, `ui`, ...). */
  | { kind: 'llc'; type?: string; typePos?: number; pos: number }
  | { kind: 'inbound' | 'outbound'; pos: number }
  | { kind: 'rel'; op: string; left: Arth; right: Arth; pos: number };

const PROTOS: Record<string, Proto> = {
  ether: 'ether', link: 'ether', fddi: 'ether', tr: 'ether', wlan: 'ether', ppp: 'ether', slip: 'ether',
  ip: 'ip', ip6: 'ip6', arp: 'arp', rarp: 'rarp', tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmp6: 'icmp6', sctp: 'sctp', igmp: 'igmp',
  pim: 'pim', vrrp: 'vrrp', carp: 'carp', ah: 'ah', esp: 'esp',
};
const AQUAL = new Set(['host', 'net', 'port', 'portrange', 'gateway']);
const RELOPS = new Set(['>', '>=', '<', '<=', '=', '==', '!=']);
/**
 * Binary arithmetic operators by precedence, lowest first, as libpcap's
 * grammar declares them. `%` and `^` have no declared precedence there, so
 * yacc always shifts on them: they take only the operand just before them
 * and everything after them (`7 * 4 % 5` is 7 * (4 % 5), `7 % 4 * 2` is
 * 7 % (4 * 2)).
 */
const LEVELS: readonly (readonly string[])[] = [['|'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/']];
const ARITH_OPS = new Set([...LEVELS.flat(), '%', '^']);

/** Parses a filter expression; an empty expression is undefined (it accepts everything). */
export function parseFilter(expr: string): Filter | undefined {
  const p = new Parser(tokenize(expr));
  if (p.peek().kind === 'end') return undefined;
  const f = p.expr();
  if (p.peek().kind !== 'end') p.fail();
  return f;
}

class Parser {
  private i = 0;
  /** Qualifiers a bare id takes (libpcap's `$<blk>0.q`); null where a bare id is a syntax error. */
  private carry: Qual | null = null;

  constructor(private readonly toks: Token[]) {}

  peek(n = 0): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.i++;
    return t;
  }
  private is(text: string, n = 0): boolean {
    const t = this.peek(n);
    return (t.kind === 'kw' || t.kind === 'op') && t.text === text;
  }
  private isAnd(n = 0): boolean {
    return this.is('and', n) || this.is('&&', n);
  }
  private isOr(n = 0): boolean {
    return this.is('or', n) || this.is('||', n);
  }
  private isNot(n = 0): boolean {
    return this.is('not', n) || this.is('!', n);
  }
  fail(t: Token = this.peek()): never {
    throw new FilterError('syntax error', t.pos);
  }
  private expect(text: string): Token {
    if (!this.is(text)) this.fail();
    return this.next();
  }

  expr(): Filter {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      let kind: 'and' | 'or';
      if (this.isAnd()) kind = 'and';
      else if (this.isOr()) kind = 'or';
      else return left;
      this.next();
      const right = this.term();
      left = { kind, left, right, pos: t.pos };
    }
  }

  private term(): Filter {
    const t = this.peek();
    if (this.isNot()) {
      this.next();
      return { kind: 'not', expr: this.term(), pos: t.pos };
    }
    return this.rterm();
  }

  private isIdToken(t: Token): boolean {
    return t.kind === 'num' || t.kind === 'hid' || t.kind === 'hid6' || t.kind === 'eid' || t.kind === 'id';
  }
  private startsRelation(): boolean {
    const t = this.peek();
    if (t.kind === 'kw' && t.text === 'len') return true;
    if (t.kind === 'op' && t.text === '-') return true;
    if (t.kind === 'kw' && t.text in PROTOS && this.is('[', 1)) return true;
    const after = this.peek(1);
    const opAfter = after.kind === 'op' && (ARITH_OPS.has(after.text) || RELOPS.has(after.text));
    if (t.kind === 'num') return opAfter || this.carry === null;
    if (t.kind === 'id' && NAMED_NUMBERS.has(t.text.toLowerCase())) return opAfter || this.carry === null;
    return false;
  }

  private rterm(): Filter {
    const t = this.peek();
    if (this.is('(')) {
      // Either an arithmetic relation that starts with '(' or a parenthesised expression.
      const save = this.i;
      try {
        return this.relation();
      } catch (e) {
        if (!(e instanceof FilterError)) throw e;
        this.i = save;
      }
      const before = this.carry;
      this.next();
      const inner = this.expr();
      this.expect(')');
      this.carry = before;
      return inner;
    }
    if (this.startsRelation()) return this.relation();
    if (t.kind === 'kw') {
      switch (t.text) {
        case 'less':
        case 'greater':
        case 'ifindex': {
          this.next();
          const n = this.peek();
          if (n.kind !== 'num') this.fail();
          this.next();
          this.carry = null;
          return { kind: t.text, value: n.value!, pos: t.pos };
        }
        case 'pppoed':
          this.next();
          this.carry = null;
          return { kind: 'pppoed', pos: t.pos };
        case 'llc': {
          this.next();
          this.carry = null;
          const n = this.peek();
          if (n.kind === 'id') {
            this.next();
            return { kind: 'llc', type: n.text, typePos: n.pos, pos: t.pos };
          }
          return { kind: 'llc', pos: t.pos };
        }
        // link-level protocols libpcap names by keyword (its `pname`s that stand alone here)
        case 'stp':
        case 'sca':
        case 'lat':
        case 'mopdl':
        case 'moprc':
        case 'decnet':
        case 'netbeui':
        case 'iso':
        case 'ipx':
        case 'atalk':
        case 'aarp':
        case 'clnp':
        case 'esis':
        case 'isis':
        case 'l1':
        case 'l2':
        case 'iih':
        case 'lsp':
        case 'snp':
        case 'csnp':
        case 'psnp':
          this.next();
          this.carry = null;
          return { kind: 'linkproto', name: t.text, pos: t.pos };
        case 'vlan':
        case 'mpls':
        case 'pppoes': {
          this.next();
          this.carry = null;
          const n = this.peek();
          if (n.kind === 'num') {
            this.next();
            return { kind: t.text, id: n.value!, pos: t.pos };
          }
          return { kind: t.text, pos: t.pos };
        }
        case 'broadcast':
        case 'multicast':
          this.next();
          this.carry = null;
          return { kind: t.text, proto: 'default', pos: t.pos };
        case 'inbound':
        case 'outbound':
          this.next();
          this.carry = null;
          return { kind: t.text, pos: t.pos };
      }
      if (t.text in PROTOS) {
        const proto = PROTOS[t.text]!;
        const n = this.peek(1);
        if (n.kind === 'kw' && (n.text === 'broadcast' || n.text === 'multicast')) {
          this.next();
          this.next();
          this.carry = null;
          return { kind: n.text, proto, pos: t.pos };
        }
        if (!(n.kind === 'kw' && (n.text === 'src' || n.text === 'dst' || AQUAL.has(n.text) || n.text === 'proto' || n.text === 'protochain'))) {
          this.next();
          this.carry = null;
          return { kind: 'proto', proto, pos: t.pos };
        }
      }
      if (t.text in PROTOS || t.text === 'src' || t.text === 'dst' || AQUAL.has(t.text) || t.text === 'proto' || t.text === 'protochain') {
        const qual = this.head();
        this.carry = qual;
        return this.id(qual);
      }
      this.fail();
    }
    if (this.isIdToken(t) && this.carry !== null) return this.id(this.carry);
    return this.fail();
  }

  /** `pqual dqual aqual` and the shorter forms. */
  private head(): Qual {
    const q: Qual = { proto: 'default', dir: 'default', addr: 'default' };
    let t = this.peek();
    if (t.kind === 'kw' && t.text in PROTOS) {
      q.proto = PROTOS[t.text]!;
      this.next();
      t = this.peek();
    }
    if (this.is('src') || this.is('dst')) {
      const first = this.next().text;
      q.dir = first as 'src' | 'dst';
      const other = first === 'src' ? 'dst' : 'src';
      if ((this.isOr() || this.isAnd()) && this.is(other, 1)) {
        q.dir = this.isOr() ? 'or' : 'and';
        this.next();
        this.next();
      }
      t = this.peek();
    }
    if (t.kind === 'kw' && (AQUAL.has(t.text) || ((t.text === 'proto' || t.text === 'protochain') && q.dir === 'default'))) {
      q.addr = t.text as Addr;
      this.next();
    }
    return q;
  }

  /** An id of a primitive with the qualifiers `q`: an address, a number, a name, `not id` or `(id or id ...)`. */
  private id(q: Qual): Filter {
    const t = this.peek();
    if (this.isNot()) {
      this.next();
      return { kind: 'not', expr: this.id(q), pos: t.pos };
    }
    if (this.is('(')) {
      this.next();
      let left = this.id(q);
      while (this.isAnd() || this.isOr()) {
        const op = this.next();
        const kind = op.text === 'and' || op.text === '&&' ? 'and' : 'or';
        left = { kind, left, right: this.id(q), pos: op.pos };
      }
      this.expect(')');
      return left;
    }
    this.next();
    const prim = (id: IdNode): Filter => ({ kind: 'prim', qual: { ...q }, id, pos: t.pos });
    switch (t.kind) {
      case 'num':
        return prim({ kind: 'num', value: t.value!, text: t.text, pos: t.pos });
      case 'hid': {
        if (this.is('/')) {
          this.next();
          const n = this.next();
          if (n.kind !== 'num') this.fail(n);
          return prim({ kind: 'netlen', text: t.text, len: n.value!, pos: t.pos });
        }
        if (this.is('mask')) {
          this.next();
          const m = this.next();
          if (m.kind !== 'hid') this.fail(m);
          return prim({ kind: 'netmask', text: t.text, mask: m.text, pos: t.pos });
        }
        return prim({ kind: 'hid', text: t.text, pos: t.pos });
      }
      case 'hid6': {
        if (this.is('/')) {
          this.next();
          const n = this.next();
          if (n.kind !== 'num') this.fail(n);
          return prim({ kind: 'hid6', text: t.text, len: n.value!, pos: t.pos });
        }
        return prim({ kind: 'hid6', text: t.text, pos: t.pos });
      }
      case 'eid':
        return prim({ kind: 'eid', text: t.text, pos: t.pos });
      case 'id':
        return prim({ kind: 'name', text: t.text, pos: t.pos });
      case 'kw':
        // `ether proto ip` style is a syntax error in libpcap (keywords need a backslash).
        return this.fail(t);
      default:
        return this.fail(t);
    }
  }

  private relation(): Filter {
    const left = this.arth(0);
    const t = this.peek();
    if (!(t.kind === 'op' && RELOPS.has(t.text))) this.fail();
    this.next();
    const right = this.arth(0);
    this.carry = null;
    return { kind: 'rel', op: t.text === '==' ? '=' : t.text, left, right, pos: t.pos };
  }

  private arth(level: number): Arth {
    if (level === LEVELS.length) return this.unary();
    let left = this.arth(level + 1);
    for (;;) {
      const t = this.peek();
      if (!(t.kind === 'op' && LEVELS[level]!.includes(t.text))) return left;
      this.next();
      left = { kind: 'bin', op: t.text, left, right: this.arth(level + 1), pos: t.pos };
    }
  }

  private unary(): Arth {
    const left = this.primary();
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '%' || t.text === '^')) {
      this.next();
      return { kind: 'bin', op: t.text, left, right: this.arth(0), pos: t.pos };
    }
    return left;
  }

  private primary(): Arth {
    const t = this.peek();
    if (this.is('-')) {
      this.next();
      return { kind: 'neg', arg: this.unary(), pos: t.pos };
    }
    if (this.is('(')) {
      this.next();
      const e = this.arth(0);
      this.expect(')');
      return e;
    }
    if (t.kind === 'num') {
      this.next();
      return { kind: 'const', value: t.value!, pos: t.pos };
    }
    if (t.kind === 'id' && NAMED_NUMBERS.has(t.text.toLowerCase())) {
      this.next();
      return { kind: 'const', value: NAMED_NUMBERS.get(t.text.toLowerCase())!, pos: t.pos };
    }
    if (t.kind === 'kw' && t.text === 'len') {
      this.next();
      return { kind: 'len', pos: t.pos };
    }
    if (t.kind === 'kw' && t.text in PROTOS && this.is('[', 1)) {
      this.next();
      this.next();
      const index = this.arth(0);
      let size = 1;
      if (this.is(':')) {
        this.next();
        const n = this.next();
        if (n.kind !== 'num') this.fail(n);
        if (n.value !== 1 && n.value !== 2 && n.value !== 4) throw new FilterError('data size must be 1, 2, or 4', n.pos);
        size = n.value;
      }
      this.expect(']');
      return { kind: 'load', proto: PROTOS[t.text]!, index, size, pos: t.pos };
    }
    return this.fail();
  }
}
