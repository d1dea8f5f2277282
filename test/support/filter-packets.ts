/**
 * Hand-built packets for the filter tests: Ethernet frames of every kind
 * the filter language distinguishes (IPv4/IPv6 transports, fragments, IP
 * options, extension headers, ARP/RARP, VLAN and MPLS stacks, PPPoE, 802.3 LLC,
 * IPX/AppleTalk/NetBEUI/OSI/DECnet encapsulations,
 * broadcast and multicast, truncated captures), and the same network
 * packets under the other link-layer headers.
 */

/** A test packet: captured bytes and the length on the wire. */
export interface TestPacket {
  data: Uint8Array;
  origLen: number;
}

const bytes = (...parts: (number[] | Uint8Array)[]): number[] => parts.flatMap((p) => [...p]);
const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const ip4 = (s: string): number[] => s.split('.').map(Number);
function ip6(s: string): number[] {
  const [h, t = ''] = s.split('::');
  const g = (x: string): number[] => (x ? x.split(':').map((p) => parseInt(p, 16)) : []);
  const head = g(h!);
  const tail = s.includes('::') ? g(t) : [];
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  return all.flatMap(u16);
}
const mac = (s: string): number[] => s.split(':').map((b) => parseInt(b, 16));

const MAC_A = '00:11:22:33:44:55';
const MAC_B = '66:77:88:99:aa:bb';

function tcp(sport: number, dport: number, flags: number, payload = 0): number[] {
  return bytes(u16(sport), u16(dport), u32(1000), u32(0), [0x50, flags], u16(8192), u16(0), u16(0), new Array<number>(payload).fill(0x61));
}
function udp(sport: number, dport: number, payload = 4): number[] {
  return bytes(u16(sport), u16(dport), u16(8 + payload), u16(0), new Array<number>(payload).fill(0x62));
}
function sctp(sport: number, dport: number): number[] {
  return bytes(u16(sport), u16(dport), u32(1), u32(0), [1, 0, 0, 4]);
}
function icmp(type: number, code: number): number[] {
  return bytes([type, code], u16(0), u16(1), u16(1), [1, 2, 3, 4]);
}
/** An IPv4 packet (options as extra 4-byte words; flags/fragment field given whole). */
function ipv4(proto: number, src: string, dst: string, payload: number[], opts: { frag?: number; options?: number; ttl?: number } = {}): number[] {
  const optWords = opts.options ?? 0;
  const ihl = 5 + optWords;
  const total = ihl * 4 + payload.length;
  return bytes([0x40 | ihl, 0], u16(total), u16(0x1234), u16(opts.frag ?? 0x4000), [opts.ttl ?? 64, proto], u16(0), ip4(src), ip4(dst), new Array<number>(optWords * 4).fill(1), payload);
}
/** An IPv6 packet with extension headers given as [type, body] (each header's own next-header is filled in). */
function ipv6(src: string, dst: string, chain: { proto: number; body: number[] }[], final: number, payload: number[]): number[] {
  const protos = [...chain.map((c) => c.proto), final];
  const ext = chain.flatMap((c, i) => {
    const next = protos[i + 1]!;
    if (c.proto === 44) return bytes([next, 0], u16(c.body[0] ?? 0), u32(7));
    if (c.proto === 51) return bytes([next, 1, 0, 0], u32(0x100), u32(1)); // AH: length 1 -> (1+2)*4 = 12 bytes
    return bytes([next, 0], [4, 0, 0, 0, 0, 0]); // 8-byte option/routing header
  });
  const body = bytes(ext, payload);
  return bytes([0x60, 0, 0, 0], u16(body.length), [protos[0]!, 64], ip6(src), ip6(dst), body);
}
function ether(dst: string, src: string, type: number, payload: number[]): number[] {
  return bytes(mac(dst), mac(src), u16(type), payload);
}
function arp(op: number, type: number, spa: string, tpa: string, dst = 'ff:ff:ff:ff:ff:ff'): number[] {
  return ether(dst, MAC_A, type, bytes(u16(1), u16(0x0800), [6, 4], u16(op), mac(MAC_A), ip4(spa), mac('00:00:00:00:00:00'), ip4(tpa)));
}

/** Network-layer packets (IPv4 or IPv6) with their EtherType, reused under every link type. */
export function networkPackets(): { type: number; data: number[] }[] {
  return [
    { type: 0x0800, data: ipv4(6, '10.0.0.1', '10.0.0.2', tcp(1234, 80, 0x02)) },
    { type: 0x0800, data: ipv4(6, '10.0.0.2', '10.0.0.1', tcp(80, 1234, 0x12)) },
    { type: 0x0800, data: ipv4(6, '192.168.1.10', '10.1.0.5', tcp(8080, 443, 0x18, 20)) },
    { type: 0x0800, data: ipv4(17, '192.168.1.5', '10.1.2.3', udp(53, 5353)) },
    { type: 0x0800, data: ipv4(17, '10.0.0.9', '255.255.255.255', udp(68, 67)) },
    { type: 0x0800, data: ipv4(1, '10.0.0.1', '8.8.8.8', icmp(8, 0)) },
    { type: 0x0800, data: ipv4(1, '8.8.8.8', '10.0.0.1', icmp(0, 0)) },
    { type: 0x0800, data: ipv4(1, '172.16.0.1', '10.0.0.1', icmp(3, 1)) },
    { type: 0x0800, data: ipv4(2, '10.0.0.7', '224.0.0.1', [0x11, 0x64, 0, 0, 0, 0, 0, 0]) },
    { type: 0x0800, data: ipv4(132, '10.0.0.3', '10.0.0.4', sctp(80, 9999)) },
    { type: 0x0800, data: ipv4(6, '10.0.0.1', '10.0.0.2', tcp(2000, 80, 0x10), { frag: 0x2000 }) },
    { type: 0x0800, data: ipv4(6, '10.0.0.1', '10.0.0.2', tcp(80, 80, 0x10), { frag: 0x00b9 }) },
    { type: 0x0800, data: ipv4(6, '10.2.3.4', '10.0.0.2', tcp(443, 22, 0x11), { options: 2 }) },
    { type: 0x0800, data: ipv4(17, '10.0.0.5', '239.1.2.3', udp(5000, 5001, 1100)) },
    { type: 0x0800, data: ipv4(6, '127.0.0.1', '127.0.0.1', tcp(25, 110, 0x04), { ttl: 1 }) },
    { type: 0x0800, data: ipv4(47, '10.9.9.9', '10.8.8.8', [0, 0, 8, 0]) },
    { type: 0x86dd, data: ipv6('2001:db8::1', '2001:db8::2', [], 6, tcp(1234, 80, 0x02)) },
    { type: 0x86dd, data: ipv6('2001:db8::2', '2001:db8::1', [], 17, udp(53, 1053)) },
    { type: 0x86dd, data: ipv6('2001:db8::1', '2001:db8:1::5', [{ proto: 0, body: [] }, { proto: 60, body: [] }], 6, tcp(5555, 443, 0x10)) },
    { type: 0x86dd, data: ipv6('fe80::1', '2001:db8::2', [{ proto: 44, body: [0] }], 17, udp(123, 123)) },
    { type: 0x86dd, data: ipv6('fe80::1', '2001:db8::2', [{ proto: 44, body: [0] }], 6, tcp(22, 2222, 0x18)) },
    { type: 0x86dd, data: ipv6('fe80::1', 'ff02::1', [], 58, icmp(128, 0)) },
    { type: 0x86dd, data: ipv6('fe80::2', 'ff02::1:ff00:1', [{ proto: 0, body: [] }], 58, icmp(135, 0)) },
    { type: 0x86dd, data: ipv6('2001:db8::7', '2001:db8::8', [{ proto: 43, body: [] }, { proto: 51, body: [] }], 6, tcp(80, 8080, 0x11)) },
    { type: 0x86dd, data: ipv6('2001:db8::7', '2001:db8::8', [{ proto: 51, body: [] }], 17, udp(500, 500)) },
    { type: 0x86dd, data: ipv6('2001:db8::9', '2001:db8::a', [], 132, sctp(80, 80)) },
    { type: 0x86dd, data: ipv6('::1', '::1', [{ proto: 60, body: [] }], 59, []) },
    // PIM, VRRP (CARP's protocol too), ESP and AH over IPv4; ESP and PIM over IPv6
    { type: 0x0800, data: ipv4(103, '10.0.0.1', '224.0.0.13', [0x20, 0x00, 0x00, 0x00]) },
    { type: 0x0800, data: ipv4(112, '10.0.0.2', '224.0.0.18', [0x21, 0x01, 0x64, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01]) },
    { type: 0x0800, data: ipv4(50, '10.0.0.1', '10.0.0.2', [0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd]) },
    { type: 0x0800, data: ipv4(51, '10.0.0.3', '10.0.0.4', [6, 4, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) },
    { type: 0x86dd, data: ipv6('2001:db8::1', '2001:db8::2', [], 50, [0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb]) },
    { type: 0x86dd, data: ipv6('fe80::1', 'ff02::d', [], 103, [0x20, 0x00, 0x00, 0x00]) },
  ];
}

/** Ethernet frames: every network packet, plus link-layer-only kinds. */
export function ethernetPackets(): TestPacket[] {
  const out: TestPacket[] = [];
  const add = (d: number[], caplen = d.length): void => {
    out.push({ data: Uint8Array.from(d.slice(0, caplen)), origLen: d.length });
  };
  for (const [i, p] of networkPackets().entries()) {
    const dst = i === 4 ? 'ff:ff:ff:ff:ff:ff' : i === 8 ? '01:00:5e:00:00:01' : i === 21 ? '33:33:00:00:00:01' : MAC_B;
    add(ether(dst, MAC_A, p.type, p.data));
  }
  const n = networkPackets();
  // VLAN: single tag 100, 802.1ad + 802.1Q double tag, 0x9100 tag with IPv6.
  add(ether(MAC_B, MAC_A, 0x8100, bytes(u16(100), u16(0x0800), n[0]!.data)));
  add(ether(MAC_B, MAC_A, 0x8100, bytes(u16(0x2005), u16(0x0800), n[3]!.data)));
  add(ether(MAC_B, MAC_A, 0x88a8, bytes(u16(10), u16(0x8100), u16(20), u16(0x0800), n[1]!.data)));
  add(ether(MAC_B, MAC_A, 0x9100, bytes(u16(200), u16(0x86dd), n[16]!.data)));
  add(ether(MAC_B, MAC_A, 0x8100, bytes(u16(300), u16(0x0806), arp(1, 0x0806, '10.0.0.1', '10.0.0.2').slice(14))));
  // MPLS: one label (3, bottom) with IPv4; two labels (16, 17) with IPv6; a VLAN then MPLS.
  add(ether(MAC_B, MAC_A, 0x8847, bytes(u32((3 << 12) | 0x100 | 64), n[0]!.data)));
  add(ether(MAC_B, MAC_A, 0x8847, bytes(u32((16 << 12) | 64), u32((17 << 12) | 0x100 | 64), n[17]!.data)));
  add(ether(MAC_B, MAC_A, 0x8100, bytes(u16(7), u16(0x8847), u32((5 << 12) | 0x100 | 64), n[3]!.data)));
  // PPPoE: session frames (version/type 0x11, code 0, session id, length, then the PPP protocol) with IPv4, IPv6, MPLS and LCP,
  // one behind a VLAN tag, one cut inside its PPP header; and a discovery frame (PADI).
  const pppoe = (session: number, proto: number, payload: number[]): number[] => bytes([0x11, 0x00], u16(session), u16(payload.length + 2), u16(proto), payload);
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(0x1234, 0x0021, n[0]!.data)));
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(5, 0x0021, n[3]!.data)));
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(7, 0x0057, n[16]!.data)));
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(7, 0x0057, n[19]!.data)));
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(9, 0x0281, bytes(u32((3 << 12) | 0x100 | 64), n[1]!.data))));
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(9, 0xc021, [0x01, 0x01, 0x00, 0x04])));
  add(ether(MAC_B, MAC_A, 0x8100, bytes(u16(5), u16(0x8864), pppoe(7, 0x0021, n[1]!.data))));
  add(ether(MAC_B, MAC_A, 0x8864, pppoe(5, 0x0021, n[0]!.data)), 21);
  add(ether('ff:ff:ff:ff:ff:ff', MAC_A, 0x8863, [0x11, 0x09, 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]));
  // Link-level protocols in their encapsulations: IPX in Ethernet II, 802.2 (SAP E0), SNAP and raw 802.3 (FF FF); AppleTalk in
  // Ethernet II and SNAP (org 08 00 07); AARP in SNAP; NetBEUI (F0 F0) and OSI (FE FE) in 802.2; DECnet, LAT and MOP in Ethernet II.
  const ipxBody = [0xff, 0xff, 0x00, 0x1e, 0x00, 0x04, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 0x04, 0x52];
  const llc = (payload: number[]): number[] => bytes(mac(MAC_B), mac(MAC_A), u16(payload.length), payload);
  add(ether(MAC_B, MAC_A, 0x8137, ipxBody));
  add(llc(bytes([0xe0, 0xe0, 0x03], ipxBody)));
  add(llc(bytes([0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00], u16(0x8137), ipxBody)));
  add(llc(ipxBody));
  add(ether(MAC_B, MAC_A, 0x809b, [0, 13, 0, 0, 0, 0, 0, 1, 0, 2, 3, 4, 2]));
  add(llc(bytes([0xaa, 0xaa, 0x03, 0x08, 0x00, 0x07], u16(0x809b), [0, 13, 0, 0, 0, 0, 0, 1, 0, 2, 3, 4, 2])));
  add(llc(bytes([0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00], u16(0x80f3), [0, 1, 0x80, 0x9b, 6, 4, 0, 1])));
  add(llc(bytes([0xf0, 0xf0, 0x03], new Array<number>(20).fill(0x20))));
  add(llc(bytes([0xfe, 0xfe, 0x03, 0x83, 0x1b, 0x01], new Array<number>(24).fill(0))));
  // IS-IS PDUs (L1 LSP, L2 CSNP, point-to-point IIH), ES-IS and CLNP over OSI's 802.2
  add(llc(bytes([0xfe, 0xfe, 0x03, 0x83, 0x1b, 0x01, 0x00, 0x12, 0x01, 0x00], new Array<number>(16).fill(0))));
  add(llc(bytes([0xfe, 0xfe, 0x03, 0x83, 0x21, 0x01, 0x00, 0x19, 0x01, 0x00], new Array<number>(16).fill(0))));
  add(llc(bytes([0xfe, 0xfe, 0x03, 0x83, 0x14, 0x01, 0x00, 0x11, 0x01, 0x00], new Array<number>(16).fill(0))));
  add(llc(bytes([0xfe, 0xfe, 0x03, 0x82, 0x0d, 0x01, 0x00, 0x04], new Array<number>(12).fill(0))));
  add(llc(bytes([0xfe, 0xfe, 0x03, 0x81, 0x1c, 0x01, 0x10, 0x1c], new Array<number>(20).fill(0))));
  add(ether(MAC_B, MAC_A, 0x6003, [0x0b, 0x00, 0x81, 0x02, 0x04, 0x04, 0x00, 0x08]));
  add(ether(MAC_B, MAC_A, 0x6004, [0x00, 0x01, 0x02, 0x03]));
  add(ether(MAC_B, MAC_A, 0x6002, [0x00, 0x01, 0x02, 0x03]));
  // 802.2 frames of each format: I (control 0x0a 0x00), S (RR, REJ), U (XID, TEST, SABME)
  add(llc([0x04, 0x04, 0x0a, 0x00, 1, 2, 3, 4]));
  add(llc([0x04, 0x04, 0x01, 0x02]));
  add(llc([0x04, 0x05, 0x09, 0x04]));
  add(llc([0x04, 0x04, 0xaf, 0x81, 0x01, 0x00]));
  add(llc([0x04, 0x04, 0xf3, 1, 2]));
  add(llc([0x04, 0x04, 0x7f]));
  // ARP request/reply and RARP.
  add(arp(1, 0x0806, '10.0.0.1', '10.0.0.2'));
  add(arp(2, 0x0806, '10.0.0.2', '10.0.0.1', MAC_A));
  add(arp(3, 0x8035, '0.0.0.0', '10.1.0.5'));
  // 802.3 with LLC (STP, SAP 0x42), a frame to a multicast MAC.
  add(bytes(mac('01:80:c2:00:00:00'), mac(MAC_A), u16(38), [0x42, 0x42, 0x03], new Array<number>(35).fill(0)));
  add(bytes(mac(MAC_B), mac(MAC_A), u16(20), [0x06, 0x06, 0x03], new Array<number>(17).fill(0)));
  // Truncated captures: cut inside the TCP header, inside the IPv4 header, inside the IPv6 header, in a VLAN tag.
  add(ether(MAC_B, MAC_A, 0x0800, n[0]!.data), 40);
  add(ether(MAC_B, MAC_A, 0x0800, n[3]!.data), 20);
  add(ether(MAC_B, MAC_A, 0x86dd, n[18]!.data), 60);
  add(ether(MAC_B, MAC_A, 0x86dd, n[16]!.data), 56);
  add(ether(MAC_B, MAC_A, 0x8100, bytes(u16(100), u16(0x0800), n[0]!.data)), 16);
  add(ether(MAC_B, MAC_A, 0x0800, n[13]!.data), 100);
  return out;
}

/** The network packets under another link-layer header (`linkType`: 101 raw, 228 IPv4, 229 IPv6, 113 SLL, 276 SLL2, 0 null, 108 loop). */
export function linkPackets(linkType: number): TestPacket[] {
  const out: TestPacket[] = [];
  const n = networkPackets();
  const arpBody = arp(1, 0x0806, '10.0.0.1', '10.0.0.2').slice(14);
  const add = (d: number[], caplen = d.length): void => {
    out.push({ data: Uint8Array.from(d.slice(0, caplen)), origLen: d.length });
  };
  const wrap = (type: number, data: number[], i: number): number[] => {
    switch (linkType) {
      case 101:
      case 228:
      case 229:
        return data;
      case 113:
        return bytes(u16(i % 5), u16(1), u16(6), mac(MAC_A), [0, 0], u16(type), data);
      case 276:
        return bytes(u16(type), u16(0), u32(2), u16(1), [i % 5, 6], mac(MAC_A), [0, 0], data);
      case 0: {
        const af = type === 0x0800 ? 2 : i % 3 === 0 ? 24 : 10;
        return bytes([af, 0, 0, 0], data);
      }
      case 108:
        return bytes(u32(type === 0x0800 ? 2 : i % 2 ? 24 : 10), data);
      default:
        throw new Error(`no test packets for link type ${linkType}`);
    }
  };
  // The IPv4-only and IPv6-only link types carry only their own version.
  const fits = (type: number): boolean => (linkType === 228 ? type === 0x0800 : linkType === 229 ? type === 0x86dd : true);
  for (const [i, p] of n.entries()) if (fits(p.type)) add(wrap(p.type, p.data, i));
  if (linkType === 113 || linkType === 276) {
    add(wrap(0x0806, arpBody, 0));
    add(wrap(0x8100, bytes(u16(100), u16(0x0800), n[0]!.data), 1));
    add(wrap(0x8847, bytes(u32((3 << 12) | 0x100 | 64), n[0]!.data), 2));
    // 802.2 LLC (SLL protocol 4) with SAP 0x42, and an 802.3 length-like protocol value.
    add(wrap(4, [0x42, 0x42, 0x03, 0, 0, 0, 0], 3));
    add(wrap(100, [0x64, 0x64, 0x03, 0, 0, 0, 0], 4));
  }
  if (linkType === 0) add(bytes([0, 0, 0, 2], n[0]!.data));
  if (fits(n[0]!.type)) add(wrap(n[0]!.type, n[0]!.data, 0), 30);
  if (fits(n[16]!.type)) add(wrap(n[16]!.type, n[16]!.data, 0), 44);
  return out;
}
