/** Test data shared by the classic tests (not part of the library). */

/** Filter expressions whose programs use every kind of instruction tcpdump emits. */
export const LISTING_EXPRESSIONS = [
  'tcp', 'udp port 53', 'ip6 protochain 6', 'ip protochain 17', 'vlan', 'vlan 100 and tcp', 'portrange 1-1024',
  'tcp portrange 8000-8080', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'ether broadcast', 'ether multicast',
  'ether host 00:11:22:33:44:55', 'net 10.0.0.0/8', 'src net 192.168.0.0/16', 'len > 100', 'ip[2:2]/4 > 20', 'icmp6',
  'arp', 'rarp', 'mpls', 'mpls 42', 'greater 1000', 'less 64', 'host 10.0.0.1', 'ip6 host fe80::1',
  'dst host 2001:db8::1 and tcp port 443', 'icmp[icmptype] == icmp-echo', 'ip multicast', 'ip broadcast', 'ip[8] < 64',
  'tcp[13] & 0x12 == 0x12', 'not ip and not arp', 'udp and (port 67 or port 68)', 'ip[0] & 0xf != 5',
  'ip[6:2] & 0x1fff != 0', 'ether proto 0x88cc', 'ip proto 47', 'sctp', 'ip6 and udp', 'ip[2:2] - ((ip[0]&0xf)<<2) > 400',
  'tcp[0:2] % 7 = 3 or ip[1] ^ 3 == 1 or ip[4:2] - len > 0 or ip[0]>>2 = 1 or -ip[3] = 3',
  'ether[0] & 1 = 0 and ip[16] >= 224', 'pppoes and tcp', 'geneve', 'ip6 protochain 17 or ip protochain 6',
];

/**
 * Expressions compiled for a live Linux interface (`tcpdump -d -i lo`),
 * where libpcap uses the kernel's ancillary loads: `[vlanp]`, `[vlan_tci]`
 * (byte loads), `[type]`, `[ifidx]`.
 */
export const LIVE_EXPRESSIONS = ['vlan', 'vlan 100 and tcp', 'not vlan and udp', 'inbound', 'outbound', 'ifindex 1', 'vlan and vlan 200'];

