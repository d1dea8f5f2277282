/**
 * Code generation: the AST becomes a graph of blocks, as libpcap's
 * gencode does — each primitive is a few tests (statements, then one
 * conditional jump), combined with and/or/not by wiring true and false
 * exits. Offsets follow the link type, and `vlan`/`mpls` shift the
 * offsets of everything parsed after them, as in libpcap.
 */
import { AluOp, Class, JmpOp, Mode, RetVal, Size, Src, insn } from '../insn.js';
import type { CbpfInsn } from '../insn.js';
import { FilterError, parseNumber } from './filter-lexer.js';
import { ETHER_PROTOCOLS, IP_PROTOCOLS, SERVICES } from './builtin-names.js';
import type { Arth, Filter, IdNode, Proto, Qual } from './parser.js';

/** A basic block: statements, then a conditional jump to `jt`/`jf`, or a leaf returning `ret`. */
export interface Block {
  /** Straight-line statements (no jumps, unless `raw`). */
  stmts: CbpfInsn[];
  /** The statements contain internal jumps (relative, within the block) and are opaque to the optimizer. */
  raw?: boolean;
  /** The conditional jump ending the block (a JMP opcode and its constant). */
  jmp?: { code: number; k: number };
  jt?: Block;
  jf?: Block;
  /** The value a leaf returns. */
  ret?: number;
  /**
   * A comparison of constants that needed arithmetic: libpcap folds it only
   * in its last phase, which no longer moves jumps, so the block stays
   * (both branches to one place) unless it is at the top.
   */
  sticky?: boolean;
}

/** A condition under construction: tests combined by and/or/not, materialized into blocks at the end. */
export type Cond =
  | { t: 'test'; stmts: CbpfInsn[]; code: number; k: number; raw?: boolean; sticky?: boolean }
  | { t: 'and' | 'or'; a: Cond; b: Cond }
  | { t: 'not'; a: Cond }
  | { t: 'const'; v: boolean };

const TRUE: Cond = { t: 'const', v: true };
const FALSE: Cond = { t: 'const', v: false };
function and(...cs: Cond[]): Cond {
  return cs.reduce((a, b) => ({ t: 'and', a, b }));
}
function or(...cs: Cond[]): Cond {
  return cs.reduce((a, b) => ({ t: 'or', a, b }));
}
function not(a: Cond): Cond {
  return { t: 'not', a };
}

const LD = { 1: Class.LD | Size.B | Mode.ABS, 2: Class.LD | Size.H | Mode.ABS, 4: Class.LD | Size.W | Mode.ABS } as const;
const LDI = { 1: Class.LD | Size.B | Mode.IND, 2: Class.LD | Size.H | Mode.IND, 4: Class.LD | Size.W | Mode.IND } as const;
const JEQ = Class.JMP | JmpOp.JEQ | Src.K;
const JGT = Class.JMP | JmpOp.JGT | Src.K;
const JGE = Class.JMP | JmpOp.JGE | Src.K;
const JSET = Class.JMP | JmpOp.JSET | Src.K;
const MSH = Class.LDX | Size.B | Mode.MSH;

function test(stmts: CbpfInsn[], code: number, k: number): Cond {
  return { t: 'test', stmts, code, k: k >>> 0 };
}
/** `[off:size] & mask == v` (no `and` when the mask is all ones). */
function cmp(off: number, size: 1 | 2 | 4, v: number, mask = 0xffffffff): Cond {
  const stmts = [insn(LD[size], off)];
  const full = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  if ((mask & full) >>> 0 !== full) stmts.push(insn(Class.ALU | AluOp.AND | Src.K, mask));
  return test(stmts, JEQ, v);
}

/** The 8-byte SNAP header at `llc` (AA AA 03, the organisation code, the type), compared as libpcap's gen_bcmp does: the last word first. */
function snap(llc: number, org: number, ptype: number): Cond {
  return and(cmp(llc + 4, 4, (((org & 0xffff) << 16) | ptype) >>> 0), cmp(llc, 4, (0xaaaa0300 | (org >>> 16)) >>> 0));
}

/** Link-layer layouts: where the EtherType (or equivalent) and the network header are. */
type LinkKind = 'ether' | 'sll' | 'sll2' | 'raw' | 'ipv4' | 'ipv6' | 'null' | 'loop';

const LINKS: Record<number, { kind: LinkKind; name: string; linktype: number | null; nl: number }> = {
  1: { kind: 'ether', name: 'Ethernet', linktype: 12, nl: 14 },
  113: { kind: 'sll', name: 'Linux cooked v1', linktype: 14, nl: 16 },
  276: { kind: 'sll2', name: 'Linux cooked v2', linktype: 0, nl: 20 },
  12: { kind: 'raw', name: 'Raw IP', linktype: null, nl: 0 },
  14: { kind: 'raw', name: 'Raw IP', linktype: null, nl: 0 },
  101: { kind: 'raw', name: 'Raw IP', linktype: null, nl: 0 },
  228: { kind: 'ipv4', name: 'IPv4', linktype: null, nl: 0 },
  229: { kind: 'ipv6', name: 'IPv6', linktype: null, nl: 0 },
  0: { kind: 'null', name: 'BSD loopback', linktype: null, nl: 4 },
  108: { kind: 'loop', name: 'OpenBSD loopback', linktype: null, nl: 4 },
};

/** The link types {@link compileToBlocks} supports (LINKTYPE_/DLT_ values). */
export const SUPPORTED_LINK_TYPES: readonly number[] = Object.keys(LINKS).map(Number);

const ETHERTYPE = { IP: 0x0800, IPV6: 0x86dd, ARP: 0x0806, RARP: 0x8035, MPLS: 0x8847, PPPOED: 0x8863, PPPOES: 0x8864 } as const;

/** The PPP protocol numbers of the EtherTypes (and LLC SAPs) that have one (libpcap's `ethertype_to_ppptype`); others are compared as they are. */
const PPP_TYPES: Readonly<Record<number, number>> = {
  0x0800: 0x0021, 0x86dd: 0x0057, 0x6003: 0x0027, 0x809b: 0x0029, 0x0600: 0x003f, 0xfe: 0x0023, 0x42: 0x0031, 0xe0: 0x002b,
};
/** 802.2 LLC S-frame commands (control & 0x0f) and U-frame commands (control & 0xef), by libpcap's names. */
const LLC_S_COMMANDS: Readonly<Record<string, number>> = { rr: 0x01, rnr: 0x05, rej: 0x09 };
const LLC_U_COMMANDS: Readonly<Record<string, number>> = { ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 };
/** OSI network-layer protocol ids (ISO 9577) the keywords name. */
const OSI_NLPIDS: Readonly<Record<string, number>> = { clnp: 0x81, esis: 0x82, isis: 0x83 };
/** IS-IS PDU types of each keyword, in libpcap's order. */
const ISIS_PDUS: Readonly<Record<string, readonly number[]>> = {
  l1: [26, 24, 18, 15, 17], l2: [27, 25, 20, 16, 17], iih: [17, 15, 16], lsp: [18, 20], snp: [27, 26, 24, 25], csnp: [24, 25], psnp: [26, 27],
};
/** PPP's protocol number for MPLS unicast. */
const PPP_MPLS_UCAST = 0x0281;
const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, FRAGMENT: 44, ICMPV6: 58, SCTP: 132 } as const;
const PROTO_NUM: Partial<Record<Proto, number>> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, igmp: 2, icmp6: 58, pim: 103, vrrp: 112, carp: 112, ah: 51, esp: 50 };

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Parses a dotted IPv4 number (`10`, `10.1`, `10.1.2.3`): its value and how many bits it gives. */
function atoin(text: string, pos: number): { v: number; len: number } {
  const parts = text.split('.').map(Number);
  let v = 0;
  for (const p of parts) {
    if (p > 255) throw new FilterError(`invalid IPv4 address '${text}'`, pos);
    v = (v << 8) | p;
  }
  return { v: v >>> 0, len: parts.length * 8 };
}

/** Parses an IPv6 address into 4 words, or undefined. */
function parseIp6(text: string): number[] | undefined {
  let s = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const p = v4[2]!.split('.').map(Number);
    if (p.some((x) => x > 255)) return undefined;
    tail = [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    s = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): number[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    if (g.some((x) => !/^[0-9a-f]{1,4}$/i.test(x))) return undefined;
    return g.map((x) => parseInt(x, 16));
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  } else {
    if (given !== 8) return undefined;
    groups = [...head, ...tail];
  }
  return [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
}

/** Parses a MAC address into 6 bytes. */
function parseMac(text: string): number[] {
  const hex = text.includes(':') || text.includes('-') || /^[0-9a-f]{1,2}\./i.test(text)
    ? text.split(/[:.-]/).map((b) => b.padStart(2, '0')).join('')
    : text.replace(/\./g, '');
  const out: number[] = [];
  for (let i = 0; i < 12; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** Options of code generation. */
export interface CodegenOptions {
  /** The network's netmask for `ip broadcast` (tcpdump reading a file uses 0); null: unknown, `ip broadcast` is refused. */
  netmask?: number | null;
}

/**
 * Generates the condition of a whole filter for `linkType`. `optimizable`
 * is false when the filter uses protochain: libpcap then turns its
 * optimizer off for the whole filter, which decides what happens to
 * truncated packets and which filters it refuses, so we do the same.
 */
export function generate(filter: Filter, linkType: number, options: CodegenOptions = {}): { cond: Cond; optimizable: boolean } {
  const link = LINKS[linkType];
  if (!link) throw new FilterError(`unsupported link type ${linkType}`, 0);
  const gen = new Gen(link, options.netmask === undefined ? 0 : options.netmask);
  const cond = gen.filter(filter);
  return { cond, optimizable: !gen.usesProtochain };
}

class Gen {
  private offLinktype: number | null;
  private nl: number;
  /** The link layer the offsets are in: the capture's, or PPP inside PPPoE after `pppoes`. */
  private kind: LinkKind | 'ppp';
  private linkName: string;
  /** Where `ether[...]` reads from: the link header (moved by `pppoes`). */
  private linkHdr = 0;
  private mplsDepth = 0;
  private nextScratch = 0;
  /** Set once a protochain loop is generated. */
  usesProtochain = false;

  constructor(private readonly link: { kind: LinkKind; name: string; linktype: number | null; nl: number }, private readonly netmask: number | null) {
    this.offLinktype = link.linktype;
    this.nl = link.nl;
    this.kind = link.kind;
    this.linkName = link.name;
  }

  /** Everything is generated in source order, since vlan/mpls change the offsets of what follows. */
  filter(f: Filter): Cond {
    switch (f.kind) {
      case 'and': {
        const a = this.filter(f.left);
        return and(a, this.filter(f.right));
      }
      case 'or': {
        const a = this.filter(f.left);
        return or(a, this.filter(f.right));
      }
      case 'not':
        return not(this.filter(f.expr));
      case 'proto':
        return this.protoAbbrev(f.proto, f.pos);
      case 'less':
        return not(test([insn(Class.LD | Size.W | Mode.LEN)], JGT, f.value));
      case 'greater':
        return test([insn(Class.LD | Size.W | Mode.LEN)], JGE, f.value);
      case 'broadcast':
      case 'multicast':
        return this.cast(f.kind, f.proto, f.pos);
      case 'inbound':
      case 'outbound':
        return this.direction(f.kind === 'outbound', f.pos);
      case 'ifindex':
        return this.ifindex(f.value, f.pos);
      case 'vlan':
        return this.vlan(f.id, f.pos);
      case 'mpls':
        return this.mpls(f.id, f.pos);
      case 'pppoed':
        return this.linktype(ETHERTYPE.PPPOED, f.pos);
      case 'linkproto':
        return this.linkProto(f.name, f.pos);
      case 'llc':
        return this.llc(f.type, f.typePos ?? f.pos, f.pos);
      case 'pppoes':
        return this.pppoes(f.id, f.pos);
      case 'rel':
        return this.relation(f.op, f.left, f.right);
      case 'prim':
        return this.prim(f.qual, f.id);
    }
  }

  // ---- link layer ----

  /**
   * `inbound`/`outbound`: Linux cooked captures record the packet type
   * (4 = PACKET_OUTGOING; SLL: a u16 at 0, SLL2: a byte at 10). Other link
   * types have no direction in a capture file, and libpcap refuses them
   * when it reads one.
   */
  private direction(outbound: boolean, pos: number): Cond {
    const outgoing = this.link.kind === 'sll' ? cmp(0, 2, 4) : this.link.kind === 'sll2' ? cmp(10, 1, 4) : undefined;
    if (!outgoing) throw new FilterError(`inbound/outbound not supported on ${this.link.name} when reading savefiles`, pos);
    return outbound ? outgoing : not(outgoing);
  }

  /** `ifindex N`: only Linux cooked v2 captures record the interface (a u32 at 4). */
  private ifindex(value: number, pos: number): Cond {
    if (this.link.kind !== 'sll2') throw new FilterError(`ifindex not supported on ${this.link.name} when reading savefiles`, pos);
    return cmp(4, 4, value);
  }

  private requireEther(pos: number): void {
    if (this.kind !== 'ether') throw new FilterError('ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel', pos);
  }

  /** Is the link-layer protocol `type` (an EtherType)? */
  private linktype(type: number, pos: number): Cond {
    if (this.mplsDepth > 0) {
      // Over MPLS: the previous label is the bottom of the stack and the IP version nibble matches.
      const bos = cmp(this.nl - 2, 1, 1, 0x01);
      if (type === ETHERTYPE.IP) return and(bos, cmp(this.nl, 1, 0x40, 0xf0));
      if (type === ETHERTYPE.IPV6) return and(bos, cmp(this.nl, 1, 0x60, 0xf0));
      throw new FilterError('unsupported protocol over mpls', pos);
    }
    switch (this.kind) {
      case 'ppp':
        return cmp(this.offLinktype!, 2, PPP_TYPES[type] ?? type);
      case 'ether':
      case 'sll':
      case 'sll2':
        if (this.kind === 'ether' || this.kind === 'sll') {
          const special = this.multiEncapsulation(type);
          if (special) return special;
        }
        if (type <= 1500 && this.kind === 'ether') {
          // An 802.3 length field: the value is an LLC SAP.
          return and(this.lengthInTypeField(), cmp(this.offLinktype! + 2, 1, type));
        }
        if (type <= 1500 && this.kind === 'sll') {
          // Linux cooked captures mark 802.2 LLC frames with protocol 4 (LINUX_SLL_P_802_2); the SAP follows.
          return and(cmp(this.offLinktype!, 2, 4), cmp(this.nl, 1, type));
        }
        return cmp(this.offLinktype!, 2, type);
      case 'raw':
        if (type === ETHERTYPE.IP) return cmp(this.nl, 1, 0x40, 0xf0);
        if (type === ETHERTYPE.IPV6) return cmp(this.nl, 1, 0x60, 0xf0);
        return FALSE;
      case 'ipv4':
        return type === ETHERTYPE.IP ? TRUE : FALSE;
      case 'ipv6':
        return type === ETHERTYPE.IPV6 ? TRUE : FALSE;
      case 'null':
      case 'loop': {
        // DLT_NULL carries the address family in the capturing host's byte order (here little-endian, as the
        // captures tsbpf writes); AF_INET6 differs between systems, and libpcap reading a capture file accepts
        // the BSD values 24, 28 and 30.
        const order = (af: number): number => (this.link.kind === 'null' ? swap32(af) : af);
        if (type === ETHERTYPE.IP) return cmp(0, 4, order(2));
        if (type === ETHERTYPE.IPV6) return or(cmp(0, 4, order(24)), cmp(0, 4, order(28)), cmp(0, 4, order(30)));
        return FALSE;
      }
    }
  }

  /** The Ethernet type field holds a length (at most 1500): an 802.3 frame, an 802.2 header after it. */
  private lengthInTypeField(): Cond {
    return not(test([insn(LD[2], this.offLinktype!)], JGT, 1500));
  }

  /**
   * The protocols libpcap finds in more than one encapsulation, on
   * Ethernet (`gen_ether_linktype`) and Linux cooked v1 captures
   * (`gen_linux_sll_linktype`, which marks 802.2 frames with protocol 4 and
   * raw 802.3 with 1): OSI, IP-over-802.2 and NetBEUI by DSAP and SSAP;
   * IPX in Ethernet II, 802.2, SNAP and raw 802.3; AppleTalk and AARP in
   * Ethernet II and SNAP. Undefined for the others.
   */
  private multiEncapsulation(type: number): Cond | undefined {
    const lt = this.offLinktype!;
    const llc = this.nl;
    const ether = this.kind === 'ether';
    const is8022 = ether ? this.lengthInTypeField() : cmp(lt, 2, 4);
    switch (type) {
      case 0x06:
      case 0xf0:
      case 0xfe:
        return and(is8022, cmp(llc, 2, (type << 8) | type));
      case 0xe0:
        // each in libpcap's order; on Ethernet raw 802.3 is FF FF where the 802.2 header would be
        return ether
          ? or(cmp(lt, 2, 0x8137), and(is8022, or(snap(llc, 0x000000, 0x8137), cmp(llc, 1, 0xe0), cmp(llc, 2, 0xffff))))
          : or(cmp(lt, 2, 0x8137), cmp(lt, 2, 1), and(is8022, or(cmp(llc, 1, 0xe0), snap(llc, 0x000000, 0x8137))));
      case 0x809b:
        return or(cmp(lt, 2, 0x809b), and(is8022, snap(llc, 0x080007, 0x809b)));
      case 0x80f3:
        return or(cmp(lt, 2, 0x80f3), and(is8022, snap(llc, 0x000000, 0x80f3)));
      default:
        return undefined;
    }
  }

  /**
   * A link-level protocol keyword: an EtherType or LLC SAP, or an OSI
   * network protocol inside OSI's 802.2 frames (CLNP, ES-IS, IS-IS by the
   * NLPID after the LLC header) and IS-IS PDU types (the byte 4 after it).
   */
  private linkProto(name: string, pos: number): Cond {
    const nlpid = OSI_NLPIDS[name];
    const pdus = ISIS_PDUS[name];
    if (nlpid === undefined && pdus === undefined) return this.linktype(ETHER_PROTOCOLS.get(name)!, pos);
    // the NLPID follows the 3-byte LLC header on Ethernet; libpcap takes Linux cooked captures' payload as starting with it
    const at = this.kind === 'ether' ? this.nl + 3 : this.nl;
    const osi = and(this.linktype(0xfe, pos), cmp(at, 1, nlpid ?? OSI_NLPIDS['isis']!));
    return pdus === undefined ? osi : and(osi, or(...pdus.map((t) => cmp(at + 4, 1, t))));
  }

  /**
   * `llc [TYPE]` (libpcap's gen_llc*): an 802.2 frame on Ethernet, a length
   * in the type field and not Novell's raw 802.3 (FF FF); with TYPE, its
   * control byte's format (I: bit 0 clear; S: 01; U: 11) or S/U command.
   */
  private llc(type: string | undefined, typePos: number, pos: number): Cond {
    const name = type?.toLowerCase();
    // libpcap names an unknown type before it looks at the link type
    if (name !== undefined && !['i', 's', 'u'].includes(name) && LLC_S_COMMANDS[name] === undefined && LLC_U_COMMANDS[name] === undefined) {
      throw new FilterError(`unknown LLC type name "${type}"`, typePos);
    }
    if (this.kind !== 'ether') throw new FilterError(`'llc' not supported for ${this.linkName}`, pos);
    const frame = and(this.lengthInTypeField(), not(cmp(this.nl, 2, 0xffff)));
    if (name === undefined) return frame;
    const control = this.nl + 2;
    if (name === 'i') return and(frame, not(test([insn(LD[1], control)], JSET, 0x01)));
    if (name === 's') return and(frame, cmp(control, 1, 0x01, 0x03));
    if (name === 'u') return and(frame, cmp(control, 1, 0x03, 0x03));
    const s = LLC_S_COMMANDS[name];
    return s !== undefined ? and(frame, cmp(control, 1, s, 0x0f)) : and(frame, cmp(control, 1, LLC_U_COMMANDS[name]!, 0xef));
  }

  private vlan(id: number | undefined, pos: number): Cond {
    if (this.kind !== 'ether') throw new FilterError(`no VLAN support for ${this.linkName}`, pos);
    if (this.mplsDepth > 0) throw new FilterError('no VLAN match after MPLS', pos);
    const lt = this.offLinktype!;
    let c = or(cmp(lt, 2, 0x8100), cmp(lt, 2, 0x88a8), cmp(lt, 2, 0x9100));
    if (id !== undefined) {
      if (id > 0x0fff) throw new FilterError(`VLAN tag ${id} greater than maximum 4095`, pos);
      c = and(c, cmp(lt + 2, 2, id, 0x0fff));
    }
    this.offLinktype = lt + 4;
    this.nl += 4;
    return c;
  }

  private mpls(label: number | undefined, pos: number): Cond {
    let c: Cond;
    if (this.mplsDepth > 0) c = cmp(this.nl - 2, 1, 0, 0x01);
    else if (this.kind === 'ether') c = cmp(this.offLinktype!, 2, ETHERTYPE.MPLS);
    else if (this.kind === 'ppp') c = cmp(this.offLinktype!, 2, PPP_MPLS_UCAST);
    else throw new FilterError(`no MPLS support for ${this.linkName}`, pos);
    if (label !== undefined) {
      if (label > 0xfffff) throw new FilterError(`MPLS label ${label} greater than maximum 1048575`, pos);
      c = and(c, cmp(this.nl, 4, label << 12, 0xfffff000));
    }
    this.nl += 4;
    this.mplsDepth++;
    return c;
  }

  /**
   * `pppoes [id]`: a PPPoE session frame (and its session id, the low 16
   * bits of the word at the payload); what follows is read inside it, as
   * PPP whose protocol field is 6 bytes into the payload (libpcap's
   * `gen_pppoes`: the link header moves there).
   */
  private pppoes(id: number | undefined, pos: number): Cond {
    let c = this.linktype(ETHERTYPE.PPPOES, pos);
    if (id !== undefined) {
      if (id > 0xffff) throw new FilterError(`PPPoE session number ${id} greater than maximum 65535`, pos);
      c = and(c, cmp(this.nl, 4, id, 0xffff));
    }
    this.linkHdr = this.nl + 6;
    this.offLinktype = this.linkHdr;
    this.nl = this.linkHdr + 2;
    this.kind = 'ppp';
    this.linkName = 'PPP';
    return c;
  }

  // ---- protocols ----

  private ipProto(p: number, pos: number): Cond {
    return and(this.linktype(ETHERTYPE.IP, pos), cmp(this.nl + 9, 1, p));
  }
  /** `ip6 proto p`: the next header, or a fragment header followed by it. */
  private ip6Proto(p: number, pos: number): Cond {
    return and(this.linktype(ETHERTYPE.IPV6, pos), or(cmp(this.nl + 6, 1, p), and(cmp(this.nl + 6, 1, IPPROTO.FRAGMENT), cmp(this.nl + 40, 1, p))));
  }

  private protoAbbrev(proto: Proto, pos: number): Cond {
    switch (proto) {
      case 'ether':
        throw new FilterError('link layer applied in wrong context', pos);
      case 'ip':
        return this.linktype(ETHERTYPE.IP, pos);
      case 'ip6':
        return this.linktype(ETHERTYPE.IPV6, pos);
      case 'arp':
        return this.linktype(ETHERTYPE.ARP, pos);
      case 'rarp':
        return this.linktype(ETHERTYPE.RARP, pos);
      case 'tcp':
      case 'udp':
      case 'sctp':
      case 'pim':
      case 'ah':
      case 'esp':
        return or(this.ipProto(PROTO_NUM[proto]!, pos), this.ip6Proto(PROTO_NUM[proto]!, pos));
      // VRRP and CARP share protocol 112 and are IPv4 only (libpcap's gen_proto_abbrev)
      case 'vrrp':
      case 'carp':
        return this.ipProto(PROTO_NUM[proto]!, pos);
      case 'icmp':
        return this.ipProto(IPPROTO.ICMP, pos);
      case 'igmp':
        return this.ipProto(IPPROTO.IGMP, pos);
      case 'icmp6':
        return this.ip6Proto(IPPROTO.ICMPV6, pos);
    }
  }

  private cast(kind: 'broadcast' | 'multicast', proto: Proto | 'default', pos: number): Cond {
    if (proto === 'default' || proto === 'ether') {
      if (this.kind !== 'ether') {
        throw new FilterError(kind === 'broadcast' ? 'not a broadcast link'
          : 'link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel', pos);
      }
      if (kind === 'broadcast') return and(cmp(2, 4, 0xffffffff), cmp(0, 2, 0xffff));
      return test([insn(LD[1], 0)], JSET, 1);
    }
    if (proto === 'ip') {
      if (kind === 'multicast') return and(this.linktype(ETHERTYPE.IP, pos), test([insn(LD[1], this.nl + 16)], JGE, 224));
      if (this.netmask === null) throw new FilterError("netmask not known, so 'ip broadcast' not supported", pos);
      const hostmask = ~this.netmask >>> 0;
      return and(this.linktype(ETHERTYPE.IP, pos), or(cmp(this.nl + 16, 4, 0, hostmask), cmp(this.nl + 16, 4, hostmask, hostmask)));
    }
    if (proto === 'ip6' && kind === 'multicast') return and(this.linktype(ETHERTYPE.IPV6, pos), cmp(this.nl + 24, 1, 0xff));
    throw new FilterError(`only link-layer/IP ${kind} filters supported`, pos);
  }

  // ---- primitives ----

  private prim(q: Qual, id: IdNode): Cond {
    const pos = id.pos;
    switch (q.addr) {
      case 'gateway':
        throw new FilterError("'gateway' requires a name lookup, which is not supported", pos);
      case 'proto':
        return this.protoPrim(q, id);
      case 'protochain':
        return this.protochainPrim(q, id);
      case 'port':
        return this.portPrim(q, id);
      case 'portrange':
        return this.portrangePrim(q, id);
      default:
        return this.hostOrNet(q, id);
    }
  }

  private protoPrim(q: Qual, id: IdNode): Cond {
    let v: number;
    const byName = (table: ReadonlyMap<string, number>, what: string): number => {
      if (id.kind === 'num') return id.value;
      if (id.kind === 'name') {
        const n = table.get(id.text.toLowerCase());
        if (n !== undefined) return n;
        throw new FilterError(`unknown ${what} '${id.text}'`, id.pos);
      }
      throw new FilterError('syntax error', id.pos);
    };
    switch (q.proto) {
      case 'ether':
        v = byName(ETHER_PROTOCOLS, 'ether proto');
        return this.linktype(v, id.pos);
      case 'ip':
        v = byName(IP_PROTOCOLS, 'ip proto');
        return this.ipProto(v, id.pos);
      case 'ip6':
        v = byName(IP_PROTOCOLS, 'ip proto');
        return this.ip6Proto(v, id.pos);
      case 'default':
        v = byName(IP_PROTOCOLS, 'ip proto');
        return or(this.ipProto(v, id.pos), this.ip6Proto(v, id.pos));
      case 'arp':
      case 'rarp':
        throw new FilterError(`${q.proto} does not encapsulate another protocol`, id.pos);
      default:
        throw new FilterError(`'${q.proto} proto' is bogus`, id.pos);
    }
  }

  private protochainPrim(q: Qual, id: IdNode): Cond {
    let v: number;
    if (id.kind === 'num') v = id.value;
    else if (id.kind === 'name') {
      const n = IP_PROTOCOLS.get(id.text.toLowerCase());
      if (n === undefined) throw new FilterError(`unknown ip proto '${id.text}'`, id.pos);
      v = n;
    } else throw new FilterError('syntax error', id.pos);
    if (q.proto === 'ip') return this.protochain(v, 'ip', id.pos);
    if (q.proto === 'ip6') return this.protochain(v, 'ip6', id.pos);
    if (q.proto === 'default') return or(this.protochain(v, 'ip', id.pos), this.protochain(v, 'ip6', id.pos));
    throw new FilterError("bad protocol applied for 'protochain'", id.pos);
  }

  /**
   * libpcap's protochain loop, written out: walk the IPv6 extension
   * headers (hop-by-hop, destination options, routing, fragment) and AH
   * until the wanted protocol or "no next header". The instructions jump
   * inside the block (a backward `ja`); the block ends comparing A with
   * `v`. The AH step sets X to the AH length alone, not added to the
   * current offset, exactly as libpcap does.
   */
  private protochain(v: number, which: 'ip' | 'ip6', pos: number): Cond {
    this.usesProtochain = true;
    const reg = this.scratch();
    const nl = this.nl;
    const s: CbpfInsn[] = [];
    if (which === 'ip') {
      s.push(insn(LD[1], nl + 9), insn(MSH, nl));
    } else {
      s.push(insn(LD[1], nl + 6), insn(Class.LDX | Mode.IMM, 40));
    }
    const again = s.length;
    // Positions of the instructions that follow, computed as we go; jumps are patched at the end.
    const fix: { at: number; jt?: string; jf?: string }[] = [];
    const label: Record<string, number> = {};
    const j = (k: number, jt: string | null, jf: string | null): void => {
      fix.push({ at: s.length, ...(jt ? { jt } : {}), ...(jf ? { jf } : {}) });
      s.push(insn(JEQ, k));
    };
    j(v, 'end', null);
    j(59, 'end', null);
    if (which === 'ip6') {
      j(0, 'advance', null);
      j(60, 'advance', null);
      j(43, 'advance', null);
      j(44, 'advance', 'ah');
      label.advance = s.length;
      s.push(insn(LDI[1], nl), insn(Class.ST, reg), insn(LDI[1], nl + 1), insn(Class.ALU | AluOp.ADD | Src.K, 1),
        insn(Class.ALU | AluOp.MUL | Src.K, 8), insn(Class.ALU | AluOp.ADD | Src.X), insn(Class.MISC | 0x00),
        insn(Class.LD | Mode.MEM, reg));
      s.push(insn(Class.JMP | JmpOp.JA, (again - s.length - 1) >>> 0));
    } else {
      s.push(insn(Class.ALU | AluOp.ADD | Src.K, 0));
    }
    label.ah = s.length;
    j(51, null, 'end');
    s.push(insn(Class.MISC | 0x80), insn(LDI[1], nl), insn(Class.ST, reg), insn(Class.MISC | 0x80),
      insn(Class.ALU | AluOp.ADD | Src.K, 1), insn(Class.MISC | 0x00), insn(LDI[1], nl), insn(Class.ALU | AluOp.ADD | Src.K, 2),
      insn(Class.ALU | AluOp.MUL | Src.K, 4), insn(Class.MISC | 0x00), insn(Class.LD | Mode.MEM, reg));
    s.push(insn(Class.JMP | JmpOp.JA, (again - s.length - 1) >>> 0));
    label.end = s.length;
    s.push(insn(Class.ALU | AluOp.ADD | Src.K, 0));
    for (const f of fix) {
      const at = f.at;
      s[at]!.jt = f.jt ? label[f.jt]! - at - 1 : 0;
      s[at]!.jf = f.jf ? label[f.jf]! - at - 1 : 0;
    }
    const chain: Cond = { t: 'test', stmts: s, code: JEQ, k: v, raw: true };
    return and(this.linktype(which === 'ip' ? ETHERTYPE.IP : ETHERTYPE.IPV6, pos), chain);
  }

  /** Transport protocols a port primitive covers; undefined is tcp, udp and sctp. */
  private portProtos(q: Qual, pos: number, what: string, real?: readonly string[]): number[] {
    const all = [IPPROTO.SCTP, IPPROTO.TCP, IPPROTO.UDP];
    if (q.proto === 'default') {
      if (!real || (real.includes('tcp') && real.includes('udp'))) return all;
      return [real.includes('tcp') ? IPPROTO.TCP : IPPROTO.UDP];
    }
    if (q.proto !== 'tcp' && q.proto !== 'udp' && q.proto !== 'sctp') throw new FilterError(`illegal qualifier of '${what}'`, pos);
    return [PROTO_NUM[q.proto]!];
  }

  private service(id: IdNode, proto: Qual['proto']): { port: number; protos?: readonly string[] } {
    if (id.kind === 'num') {
      if (id.value > 65535) throw new FilterError(`illegal port number ${id.value} > 65535`, id.pos);
      return { port: id.value };
    }
    if (id.kind !== 'name') throw new FilterError('syntax error', id.pos);
    const s = SERVICES.get(id.text.toLowerCase());
    if (!s) throw new FilterError(`unknown port '${id.text}'`, id.pos);
    if ((proto === 'tcp' || proto === 'udp' || proto === 'sctp') && !s.protos.includes(proto)) {
      throw new FilterError(`port '${id.text}' is ${s.protos[0]}`, id.pos);
    }
    return { port: s.port, protos: s.protos };
  }

  private portPrim(q: Qual, id: IdNode): Cond {
    const { port, protos } = this.service(id, q.proto);
    const ps = this.portProtos(q, id.pos, 'port', protos);
    const atom = (off: number): Cond => test([insn(LD[2], off)], JEQ, port);
    return this.portop(ps, q, atom, id.pos);
  }

  private portrangePrim(q: Qual, id: IdNode): Cond {
    let lo: number;
    let hi: number;
    let real: readonly string[] | undefined;
    if (id.kind === 'num') {
      if (id.value > 65535) throw new FilterError(`illegal port number ${id.value} > 65535`, id.pos);
      lo = hi = id.value;
    } else if (id.kind === 'name') {
      const m = /^([^-]+)-([^-]+)$/.exec(id.text);
      if (!m) {
        const s = this.service(id, q.proto);
        lo = hi = s.port;
        real = s.protos;
      } else {
        const end = (t: string): number => {
          const n = parseNumber(t);
          if (n !== undefined) {
            if (n > 65535) throw new FilterError(`illegal port number ${n} > 65535`, id.pos);
            return n;
          }
          const s = SERVICES.get(t.toLowerCase());
          if (!s) throw new FilterError(`unknown port in range '${id.text}'`, id.pos);
          return s.port;
        };
        lo = end(m[1]!);
        hi = end(m[2]!);
      }
    } else throw new FilterError('syntax error', id.pos);
    if (lo > hi) [lo, hi] = [hi, lo];
    const ps = this.portProtos(q, id.pos, 'portrange', real);
    const atom = (off: number): Cond => and(test([insn(LD[2], off)], JGE, lo), not(test([insn(LD[2], off)], JGT, hi)));
    return this.portop(ps, q, atom, id.pos);
  }

  /** A port test on IPv6 (fixed header) or IPv4 (unfragmented, variable header), for each transport protocol. */
  private portop(protos: number[], q: Qual, atom: (off: number) => Cond, pos: number): Cond {
    const dirs = (base: number): Cond => {
      const src = (): Cond => atom(base);
      const dst = (): Cond => atom(base + 2);
      switch (q.dir) {
        case 'src': return src();
        case 'dst': return dst();
        case 'and': return and(src(), dst());
        default: return or(src(), dst());
      }
    };
    // One copy of the port tests per transport protocol, as libpcap generates them: on each copy's paths
    // the protocol is known exactly, which lets the optimizer skip later protocol tests.
    const v6 = and(this.linktype(ETHERTYPE.IPV6, pos), or(...protos.map((p) => and(cmp(this.nl + 6, 1, p), dirs(this.nl + 40)))));
    const v4 = and(
      this.linktype(ETHERTYPE.IP, pos),
      or(...protos.map((p) => and(cmp(this.nl + 9, 1, p), this.notFrag(), this.withIpHeaderLength(dirs(this.nl))))),
    );
    return or(v6, v4);
  }

  private notFrag(): Cond {
    return not(test([insn(LD[2], this.nl + 6)], JSET, 0x1fff));
  }

  /** Turns absolute loads at the network layer into loads at X + offset, with X the IPv4 header length, set first. */
  private withIpHeaderLength(c: Cond): Cond {
    // Every test sets X itself; the optimizer drops the repeated loads.
    const map = (c: Cond): Cond => {
      switch (c.t) {
        case 'test': {
          const stmts = c.stmts.map((s) => ((s.code & 0xe0) === Mode.ABS && (s.code & 0x07) === Class.LD ? insn(LDI[(s.code & 0x18) === Size.H ? 2 : (s.code & 0x18) === Size.B ? 1 : 4], s.k) : s));
          stmts.unshift(insn(MSH, this.nl));
          return { ...c, stmts };
        }
        case 'and':
        case 'or':
          return { t: c.t, a: map(c.a), b: map(c.b) };
        case 'not':
          return { t: 'not', a: map(c.a) };
        case 'const':
          return c;
      }
    };
    return map(c);
  }

  private hostOrNet(q: Qual, id: IdNode): Cond {
    const pos = id.pos;
    switch (id.kind) {
      case 'name':
        if (q.addr === 'net') throw new FilterError(`unknown network '${id.text}'`, pos);
        if (q.proto === 'ether') throw new FilterError(`unknown ether host '${id.text}'`, pos);
        throw new FilterError(`unknown host '${id.text}'`, pos);
      case 'eid':
        if ((q.addr === 'host' || q.addr === 'default') && q.proto === 'ether') return this.ehost(parseMac(id.text), q.dir, pos);
        throw new FilterError('ethernet address used in non-ether expression', pos);
      case 'hid6':
      {
        const a = parseIp6(id.text);
        if (!a) throw new FilterError(`invalid IPv6 address '${id.text}'`, pos);
        const len = id.len ?? 128;
        if (id.len !== undefined && q.addr !== 'net') throw new FilterError(`mask syntax for networks only`, pos);
        if (len > 128) throw new FilterError(`mask length must be <= 128`, pos);
        const m = [0, 1, 2, 3].map((i) => {
          const bits = Math.max(0, Math.min(32, len - 32 * i));
          return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        });
        if (a.some((w, i) => (w & ~m[i]!) >>> 0 !== 0)) throw new FilterError('non-network bits set in "' + id.text + (id.len !== undefined ? '/' + id.len : '') + '"', pos);
        if (q.proto !== 'default' && q.proto !== 'ip6') throw new FilterError(`'${q.proto}' modifier applied to ip6 ${q.addr === 'net' ? 'net' : 'host'}`, pos);
        return and(this.linktype(ETHERTYPE.IPV6, pos), this.dir(q.dir, (src) => this.ip6Words(this.nl + (src ? 8 : 24), a, m)));
      }
      default: {
        let v: number;
        let mask: number;
        if (id.kind === 'num') {
          v = id.value >>> 0;
          mask = 0xffffffff;
          if (q.addr === 'net') {
            // A short net number like `net 10` is the top bytes.
            while (v !== 0 && (v & 0xff000000) === 0) {
              v = (v << 8) >>> 0;
              mask = (mask << 8) >>> 0;
            }
          }
        } else if (id.kind === 'hid') {
          const r = atoin(id.text, pos);
          v = r.len === 32 ? r.v : (r.v << (32 - r.len)) >>> 0;
          mask = r.len === 32 ? 0xffffffff : (0xffffffff << (32 - r.len)) >>> 0;
        } else if (id.kind === 'netlen') {
          if (q.addr !== 'net') throw new FilterError('mask syntax for networks only', pos);
          const r = atoin(id.text, pos);
          v = r.len === 32 ? r.v : (r.v << (32 - r.len)) >>> 0;
          if (id.len > 32) throw new FilterError(`mask length must be <= 32`, pos);
          mask = id.len === 0 ? 0 : (0xffffffff << (32 - id.len)) >>> 0;
          if ((v & ~mask) >>> 0 !== 0) throw new FilterError(`non-network bits set in "${id.text}/${id.len}"`, pos);
        } else {
          if (q.addr !== 'net') throw new FilterError('mask syntax for networks only', pos);
          const r = atoin(id.text, pos);
          v = r.len === 32 ? r.v : (r.v << (32 - r.len)) >>> 0;
          mask = atoin(id.mask, pos).v;
          if ((v & ~mask) >>> 0 !== 0) throw new FilterError(`non-network bits set in "${id.text} mask ${id.mask}"`, pos);
        }
        return this.host4(q, v, mask, pos);
      }
    }
  }

  private dir(dir: Qual['dir'], atom: (src: boolean) => Cond): Cond {
    switch (dir) {
      case 'src': return atom(true);
      case 'dst': return atom(false);
      case 'and': return and(atom(true), atom(false));
      default: return or(atom(true), atom(false));
    }
  }

  private ip6Words(off: number, a: number[], m: number[]): Cond {
    const parts: Cond[] = [];
    for (let i = 0; i < 4; i++) if (m[i] !== 0) parts.push(cmp(off + 4 * i, 4, a[i]!, m[i]!));
    return parts.length ? and(...parts) : TRUE;
  }

  private host4(q: Qual, v: number, mask: number, pos: number): Cond {
    const what = q.addr === 'net' ? 'net' : 'host';
    const one = (type: number, srcOff: number, dstOff: number): Cond =>
      and(this.linktype(type, pos), this.dir(q.dir, (src) => cmp(this.nl + (src ? srcOff : dstOff), 4, v, mask)));
    switch (q.proto) {
      case 'default':
        // Over MPLS only IPv4 is looked at.
        if (this.mplsDepth > 0) return one(ETHERTYPE.IP, 12, 16);
        return or(one(ETHERTYPE.IP, 12, 16), one(ETHERTYPE.ARP, 14, 24), one(ETHERTYPE.RARP, 14, 24));
      case 'ip':
        return one(ETHERTYPE.IP, 12, 16);
      case 'arp':
        return one(ETHERTYPE.ARP, 14, 24);
      case 'rarp':
        return one(ETHERTYPE.RARP, 14, 24);
      case 'ip6':
        throw new FilterError(`'ip6' modifier applied to ip ${what}`, pos);
      case 'ether':
        throw new FilterError(`ethernet address used in non-ether expression`, pos);
      default:
        throw new FilterError(`'${q.proto}' modifier applied to ${what}`, pos);
    }
  }

  private ehost(mac: number[], dir: Qual['dir'], pos: number): Cond {
    this.requireEther(pos);
    const at = (off: number): Cond =>
      and(cmp(off + 2, 4, ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0), cmp(off, 2, (mac[0]! << 8) | mac[1]!));
    return this.dir(dir, (src) => at(src ? 6 : 0));
  }

  // ---- arithmetic ----

  private scratch(): number {
    const r = this.nextScratch;
    this.nextScratch = (this.nextScratch + 1) % 16;
    return r;
  }

  /** Code leaving the value in A (or a constant), and the protocol checks that must hold first. */
  private arth(a: Arth): { stmts: CbpfInsn[]; checks: Cond[]; value?: number } {
    switch (a.kind) {
      case 'const':
        return { stmts: [], checks: [], value: a.value >>> 0 };
      case 'len':
        return { stmts: [insn(Class.LD | Size.W | Mode.LEN)], checks: [] };
      case 'neg': {
        const r = this.arth(a.arg);
        if (r.value !== undefined) return { stmts: [], checks: r.checks, value: -r.value >>> 0 };
        return { stmts: [...r.stmts, insn(Class.ALU | AluOp.NEG)], checks: r.checks };
      }
      case 'bin': {
        const l = this.arth(a.left);
        const r = this.arth(a.right);
        const op = { '+': AluOp.ADD, '-': AluOp.SUB, '*': AluOp.MUL, '/': AluOp.DIV, '%': AluOp.MOD, '&': AluOp.AND, '|': AluOp.OR, '^': AluOp.XOR, '<<': AluOp.LSH, '>>': AluOp.RSH }[a.op]!;
        // libpcap checks the first instruction of the right operand's code: a divisor that starts by loading
        // the constant 0 (`x / (0 | len)`, `x / ip[0]`) or a shift count that starts with a constant above 31
        // is refused. A divisor only found to be 0 by folding is the optimizer's error (see optimize.ts).
        const first = leftmostConst(a.right);
        if ((op === AluOp.DIV || op === AluOp.MOD) && first === 0) throw new FilterError(op === AluOp.DIV ? 'division by zero' : 'modulus by zero', a.pos);
        if ((op === AluOp.LSH || op === AluOp.RSH) && first !== undefined && first > 31) throw new FilterError('shift by more than 31 bits', a.pos);
        // libpcap keeps only the left operand's protocol checks (gen_arth returns the left operand):
        // in `ip[0] + tcp[0]` nothing checks for TCP.
        const checks = l.checks;
        if (l.value !== undefined && r.value !== undefined && !((op === AluOp.DIV || op === AluOp.MOD) && r.value === 0)) {
          return { stmts: [], checks, value: fold(op, l.value, r.value) };
        }
        const left = l.value !== undefined ? [insn(Class.LD | Mode.IMM, l.value)] : l.stmts;
        if (r.value !== undefined) return { stmts: [...left, insn(Class.ALU | op | Src.K, r.value)], checks };
        const reg = this.scratch();
        return { stmts: [...left, insn(Class.ST, reg), ...r.stmts, insn(Class.MISC | 0x00), insn(Class.LD | Mode.MEM, reg), insn(Class.ALU | op | Src.X)], checks };
      }
      case 'load': {
        const idx = this.arth(a.index);
        const size = a.size as 1 | 2 | 4;
        const checks = [...idx.checks];
        let base: number;
        let transport = false;
        switch (a.proto) {
          case 'ether':
            base = this.linkHdr;
            break;
          case 'ip':
          case 'ip6':
          case 'arp':
          case 'rarp':
            checks.push(this.protoAbbrev(a.proto, a.pos));
            base = this.nl;
            break;
          case 'icmp6':
            checks.push(and(this.linktype(ETHERTYPE.IPV6, a.pos), cmp(this.nl + 6, 1, IPPROTO.ICMPV6)));
            base = this.nl + 40;
            break;
          case 'ah':
          case 'esp':
            throw new FilterError('unsupported index operation', a.pos);
          default:
            checks.push(this.ipProto(PROTO_NUM[a.proto]!, a.pos), this.notFrag());
            base = this.nl;
            transport = true;
        }
        if (idx.value !== undefined) {
          if (transport) return { stmts: [insn(MSH, this.nl), insn(LDI[size], base + idx.value)], checks };
          return { stmts: [insn(LD[size], (base + idx.value) >>> 0)], checks };
        }
        if (transport) {
          const reg = this.scratch();
          return { stmts: [...idx.stmts, insn(Class.ST, reg), insn(MSH, this.nl), insn(Class.LD | Mode.MEM, reg), insn(Class.ALU | AluOp.ADD | Src.X), insn(Class.MISC | 0x00), insn(LDI[size], base)], checks };
        }
        return { stmts: [...idx.stmts, insn(Class.MISC | 0x00), insn(LDI[size], base)], checks };
      }
    }
  }

  private relation(op: string, left: Arth, right: Arth): Cond {
    const l = this.arth(left);
    const r = this.arth(right);
    const checks = [...l.checks, ...r.checks];
    const rel = (a: number, b: number): boolean =>
      op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : op === '<=' ? a <= b : op === '=' ? a === b : a !== b;
    let c: Cond;
    if (l.value !== undefined && r.value !== undefined) {
      if (left.kind === 'const' && right.kind === 'const') c = rel(l.value, r.value) ? TRUE : FALSE;
      else {
        const t = constCompare([insn(Class.LD | Mode.IMM, l.value)], op, r.value);
        c = markSticky(t);
      }
    }
    else if (r.value !== undefined || l.value !== undefined) {
      // Compare with a constant; a constant on the left swaps the operands.
      const swap = r.value === undefined;
      const stmts = swap ? r.stmts : l.stmts;
      const k = (swap ? l.value : r.value)!;
      const o = swap ? ({ '>': '<', '<': '>', '>=': '<=', '<=': '>=' } as Record<string, string>)[op] ?? op : op;
      c = constCompare(stmts, o, k);
    } else {
      const reg = this.scratch();
      const stmts = [...l.stmts, insn(Class.ST, reg), ...r.stmts, insn(Class.MISC | 0x00), insn(Class.LD | Mode.MEM, reg)];
      const x = (code: number): Cond => test(stmts, code | Src.X, 0);
      switch (op) {
        case '>': c = x(Class.JMP | JmpOp.JGT); break;
        case '>=': c = x(Class.JMP | JmpOp.JGE); break;
        case '<': c = not(x(Class.JMP | JmpOp.JGE)); break;
        case '<=': c = not(x(Class.JMP | JmpOp.JGT)); break;
        case '=': c = x(Class.JMP | JmpOp.JEQ); break;
        default: c = not(x(Class.JMP | JmpOp.JEQ)); break;
      }
    }
    return checks.length ? and(...checks, c) : c;
  }
}

function constCompare(stmts: CbpfInsn[], op: string, k: number): Cond {
  const last = stmts[stmts.length - 1];
  if ((op === '=' || op === '!=') && k === 0 && last && last.code === (Class.ALU | AluOp.AND | Src.K)) {
    // `x & m == 0` is `jset #m` false (libpcap's peephole).
    const c = test(stmts.slice(0, -1), JSET, last.k);
    return op === '=' ? not(c) : c;
  }
  switch (op) {
    case '>': return test(stmts, JGT, k);
    case '>=': return test(stmts, JGE, k);
    case '<': return not(test(stmts, JGE, k));
    case '<=': return not(test(stmts, JGT, k));
    case '=': return test(stmts, JEQ, k);
    default: return not(test(stmts, JEQ, k));
  }
}

function markSticky(c: Cond): Cond {
  if (c.t === 'test') return { ...c, sticky: true };
  if (c.t === 'not') return { t: 'not', a: markSticky(c.a) };
  return c;
}

/** The constant an arithmetic expression's code starts with, if it starts with one. */
function leftmostConst(a: Arth): number | undefined {
  switch (a.kind) {
    case 'const': return a.value;
    case 'bin': return leftmostConst(a.left);
    case 'neg': return leftmostConst(a.arg);
    // A load's code starts with its index (`x / ip[0]` is refused too).
    case 'load': return leftmostConst(a.index);
    default: return undefined;
  }
}

/** u32 arithmetic of two constants. */
export function fold(op: number, a: number, b: number): number {
  switch (op) {
    case AluOp.ADD: return (a + b) >>> 0;
    case AluOp.SUB: return (a - b) >>> 0;
    case AluOp.MUL: return Math.imul(a, b) >>> 0;
    case AluOp.DIV: return b === 0 ? 0 : Math.floor(a / b) >>> 0;
    case AluOp.MOD: return b === 0 ? 0 : a % b >>> 0;
    case AluOp.AND: return (a & b) >>> 0;
    case AluOp.OR: return (a | b) >>> 0;
    case AluOp.XOR: return (a ^ b) >>> 0;
    case AluOp.LSH: return b < 32 ? (a << b) >>> 0 : 0;
    case AluOp.RSH: return b < 32 ? a >>> b : 0;
    default: return 0;
  }
}

/** Wires a condition into blocks ending in `t` (accept) and `f` (reject). */
export function materialize(c: Cond, t: Block, f: Block): Block {
  switch (c.t) {
    case 'const': return c.v ? t : f;
    case 'not': return materialize(c.a, f, t);
    case 'and': return materialize(c.a, materialize(c.b, t, f), f);
    case 'or': return materialize(c.a, t, materialize(c.b, t, f));
    case 'test':
      return { stmts: c.stmts.map((s) => ({ ...s })), ...(c.raw ? { raw: true } : {}), ...(c.sticky ? { sticky: true } : {}), jmp: { code: c.code, k: c.k }, jt: t, jf: f };
  }
}

/** Lays blocks out as instructions (forward jumps; `ja` hops where a conditional jump is farther than 255). */
export function emit(root: Block): CbpfInsn[] {
  // Order: depth-first, false branch last so shared tails come late; every jump then goes forward.
  const order: Block[] = [];
  const state = new Map<Block, number>();
  const visit = (b: Block): void => {
    if (state.has(b)) return;
    state.set(b, 0);
    if (b.jt) visit(b.jf!);
    if (b.jt) visit(b.jt);
    order.push(b);
  };
  visit(root);
  order.reverse();
  // Leaves at the end, accept before reject, like libpcap's listings.
  const leaves = order.filter((b) => !b.jmp).sort((a, b) => (a.ret === 0 ? 1 : 0) - (b.ret === 0 ? 1 : 0));
  const blocks = [...order.filter((b) => b.jmp), ...leaves];
  // Conditional jumps reach 255 instructions; a farther target gets a `ja` right after the jump. Adding
  // hops moves code, so repeat until every conditional jump is in reach.
  const hops = new Map<Block, Block[]>(blocks.map((b) => [b, []]));
  const start = new Map<Block, number>();
  for (;;) {
    let pc = 0;
    for (const b of blocks) {
      start.set(b, pc);
      pc += b.stmts.length + 1 + hops.get(b)!.length;
    }
    let grew = false;
    for (const b of blocks) {
      if (!b.jmp) continue;
      const jumpPc = start.get(b)! + b.stmts.length;
      const hs = hops.get(b)!;
      for (const s of [b.jt!, b.jf!]) {
        if (!hs.includes(s) && start.get(s)! - jumpPc - 1 > 255) {
          hs.push(s);
          grew = true;
        }
      }
    }
    if (!grew) break;
  }
  const out: CbpfInsn[] = [];
  for (const b of blocks) {
    out.push(...b.stmts.map((s) => ({ ...s })));
    if (!b.jmp) {
      out.push(insn(Class.RET | RetVal.K, b.ret!));
      continue;
    }
    const at = out.length;
    const hs = hops.get(b)!;
    const rel = (s: Block): number => (hs.includes(s) ? at + 1 + hs.indexOf(s) : start.get(s)!) - at - 1;
    out.push({ code: b.jmp.code, jt: rel(b.jt!), jf: rel(b.jf!), k: b.jmp.k });
    for (const s of hs) out.push(insn(Class.JMP | JmpOp.JA, start.get(s)! - out.length - 1));
  }
  return out;
}
