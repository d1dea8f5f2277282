/**
 * Filter expressions the tests compile and compare with libpcap (tcpdump):
 * accepted packets on every test capture, and program lengths. Expressions
 * libpcap refuses are in the corpus too: they must be refused here as well.
 */

/** Expressions checked on Ethernet captures. */
export const ETHERNET_CORPUS: readonly string[] = [
  // protocols
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'not ip', 'not tcp', '!udp',
  'ip or ip6', 'ip and tcp', 'ip6 and udp', 'tcp or udp', 'tcp or udp or icmp', 'arp or rarp', 'not (tcp or udp)',
  'ip and not tcp', 'ip6 and not icmp6', 'icmp or icmp6', 'sctp or igmp', 'ip and ip6', 'tcp and udp', 'arp and ip',
  // hosts
  'host 10.0.0.1', 'host 10.0.0.2', 'src host 10.0.0.1', 'dst host 10.0.0.1', 'src or dst host 10.0.0.1',
  'src and dst host 127.0.0.1', 'ip host 10.0.0.1', 'arp host 10.0.0.1', 'rarp host 10.1.0.5', 'ip src 10.0.0.1',
  'ip dst 8.8.8.8', 'src 10.0.0.1', 'dst 10.0.0.2', 'host 10.0.0.1 or 10.0.0.2', 'host 10.0.0.1 and 10.0.0.2',
  'host 10.0.0.1 and not 10.0.0.2', 'host (10.0.0.1 or 8.8.8.8)', 'src host 10.0.0.1 and dst host 10.0.0.2',
  'host 10', 'host 10.1', 'host 192.168.1.5 or host 10.0.0.9', 'not host 10.0.0.1', 'host 255.255.255.255',
  'host 2001:db8::1', 'host 2001:db8::2', 'src host 2001:db8::1', 'dst host ff02::1', 'ip6 host fe80::1',
  'ip6 src fe80::2', 'host ::1', 'host 2001:db8::1 or host 10.0.0.1', 'ip host 2001:db8::1', 'ip6 host 10.0.0.1',
  'tcp host 10.0.0.1', 'host foo', 'src foo', 'host 300.1.1.1', 'host 1.2.3.4.5',
  // nets
  'net 10.0.0.0/8', 'net 10.1.0.0/16', 'net 10', 'net 10.1', 'net 10.1.2', 'net 192.168.1.0/24', 'src net 10.0.0.0/24',
  'dst net 224.0.0.0/4', 'net 10.0.0.0 mask 255.0.0.0', 'net 10.1.0.0 mask 255.255.0.0', 'net 0.0.0.0/0',
  'net 10.1.2.3/8', 'net 10.0.0.0 mask 255.255.0.0', 'ip net 10.0.0.0/8', 'arp net 10.0.0.0/8', 'not net 10.0.0.0/8',
  'net 2001:db8::/32', 'net 2001:db8:1::/48', 'src net fe80::/10', 'dst net ff00::/8', 'net 2001:db8::/129',
  'net 10.0.0.0/33', 'net 172.16.0.0/12 or net 192.168.0.0/16', 'net 10.0.0.0/8 and not net 10.1.0.0/16',
  'ip6 net 2001:db8::/64', 'net 10 or 172.16', 'net foo', 'host 10.0.0.0/8',
  // ports
  'port 80', 'port 53', 'port 443', 'tcp port 80', 'udp port 53', 'sctp port 80', 'src port 80', 'dst port 80',
  'tcp src port 1234', 'tcp dst port 80', 'udp dst port 67', 'src or dst port 80', 'src and dst port 80',
  'port 80 or 443', 'port 80 or port 443', 'tcp port 80 or 443', 'port 80 and (443)', 'not port 80', 'not port 80 or 443',
  'port 22 or 25 or 110', 'tcp port 80 and not src port 80', 'port ftp-data', 'port http', 'port domain', 'port ssh',
  'tcp port ssh', 'udp port ntp', 'udp port ssh', 'port https', 'tcp port telnet or smtp', 'port 99999', 'port foo',
  'ip port 80', 'port 0', 'port 65535', 'portrange 1-1024', 'portrange 80-80', 'portrange 1024-65535', 'tcp portrange 20-25',
  'udp portrange 50-60', 'src portrange 1-100', 'dst portrange 400-500', 'portrange 500-400', 'sctp portrange 1-100',
  'not portrange 1-1024', 'portrange 1-1024 and not port 80', 'portrange 70000-70001', 'portrange ftp-data-ssh',
  'tcp port 80 and host 10.0.0.1', 'udp and port 53 and src net 192.168.0.0/16', 'port 80 and tcp',
  'port 80 and tcp or 443', 'tcp dst port 80 or tcp dst port 443 or udp dst port 53',
  // protocol numbers
  'proto 6', 'proto 17', 'ip proto 6', 'ip proto 1', 'ip6 proto 17', 'ip6 proto 58', 'ip proto 47', 'ip proto \\tcp',
  'ip proto \\udp', 'ip6 proto \\icmp6', 'proto \\sctp', 'ip proto \\foo', 'ip proto 256', 'ether proto 0x800',
  'ether proto 0x86dd', 'ether proto \\ip', 'ether proto \\ip6', 'ether proto \\arp', 'ether proto \\rarp', 'ether proto 100',
  'ether proto 0x42', 'ether proto 6', 'ether proto \\foo', 'ip proto tcp', 'ip6 protochain 6', 'ip6 protochain 17',
  'ip6 protochain 58', 'ip6 protochain 59', 'ip protochain 6', 'protochain 6', 'protochain 17', 'ip6 protochain 51',
  'ip6 protochain 6 and tcp', 'not ip6 protochain 6', 'ip6 protochain \\tcp',
  // ether
  'ether host 00:11:22:33:44:55', 'ether src 00:11:22:33:44:55', 'ether dst 66:77:88:99:aa:bb', 'ether host 66:77:88:99:aa:bb',
  'ether src and dst 00:11:22:33:44:55', 'ether host ff:ff:ff:ff:ff:ff', 'ether dst 1:80:c2:0:0:0', 'ether host 0011.2233.4455',
  'ether host 00-11-22-33-44-55', 'ether host 001122334455', 'ether broadcast', 'ether multicast', 'broadcast', 'multicast',
  'not ether broadcast', 'ether multicast and not ether broadcast', 'ether src 00:11:22:33:44:55 and ip',
  'ether[0] & 1 != 0', 'ether[12:2] = 0x800', 'ether[6:4] = 0x00112233', 'link[0] = 0xff', 'host 00:11:22:33:44:55',
  'ip host 00:11:22:33:44:55',
  // broadcast/multicast
  'ip broadcast', 'ip multicast', 'ip6 multicast', 'ip multicast or ip6 multicast', 'not ip multicast',
  'ip6 broadcast', 'tcp multicast',
  // link-level protocol keywords, and the encapsulations libpcap looks for on Ethernet
  'stp', 'sca', 'lat', 'mopdl', 'moprc', 'decnet', 'netbeui', 'iso', 'ipx', 'atalk', 'aarp', 'ether proto \\ipx', 'ether proto \\atalk',
  'ether proto \\iso', 'ether proto \\stp', 'ether proto \\netbeui', 'ether proto \\aarp', 'ether proto 0xfe', 'not ipx',
  'clnp', 'esis', 'isis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp', 'isis and l1', 'not isis', 'vlan and isis', 'l1 or l2', 'clnp or esis',
  'llc', 'llc i', 'llc s', 'llc u', 'llc rr', 'llc rnr', 'llc rej', 'llc ui', 'llc ua', 'llc disc', 'llc dm', 'llc sabme', 'llc test',
  'llc xid', 'llc frmr', 'llc foo', 'llc 5', 'not llc', 'vlan and llc', 'llc and stp', 'llc or ip', 'pppoes and llc', 'llc u and ether[17] = 0',
  'ipx or atalk', 'vlan and ipx', 'vlan and atalk', 'stp or iso', 'atalk and ip', 'pppoes and atalk', 'mpls and ipx', 'ipx and ether[14] = 0xff',
  // the IPsec, PIM, VRRP and CARP keywords, and what libpcap refuses around them
  'pim', 'vrrp', 'carp', 'ah', 'esp', 'ah or esp', 'not pim', 'pim[0] = 0x20', 'vrrp[1] = 1', 'carp[0] & 0xf0 = 0x20', 'esp and host 10.0.0.1',
  'ip6 and esp', 'ip and ah', 'pim and ip6', 'vlan and esp', 'pppoes and ah', 'tcp or ah or udp', 'vrrp and ip[8] = 255', 'ah host 1.2.3.4',
  'ah[0] = 6', 'esp[0] = 0', 'ah proto 6', 'ah protochain 6', 'src ah', 'ip proto pim', 'ip proto 103', 'ip6 proto 50', 'ip protochain 50',
  'ip6 protochain 51', 'pim port 80', 'vrrp host 10.0.0.2', 'igmp proto 6', 'arp proto 6',
  // PPPoE: discovery, sessions (by id), and what is read inside them
  'pppoed', 'pppoes', 'pppoes 0x1234', 'pppoes 5', 'pppoes 70000', 'pppoes and ip', 'pppoes and ip6', 'pppoes 7 and ip6', 'pppoes and tcp',
  'pppoes and udp port 53', 'pppoes and tcp port 80', 'pppoes and host 10.0.0.1', 'pppoes and ip6 host 2001:db8::1', 'pppoes and net 192.168.0.0/16',
  'pppoes and ip6 proto 17', 'pppoes and ip6 protochain 6', 'pppoes and mpls', 'pppoes and mpls 3 and ip', 'pppoes and arp', 'pppoes and pppoes',
  'vlan and pppoes and ip', 'vlan 5 and pppoes 7 and tcp', 'pppoes and vlan', 'pppoes and ether host 02:00:00:00:00:01', 'pppoes and ether broadcast',
  'pppoes and ether multicast', 'pppoes and ether[0] = 0x45', 'pppoes and ether[0:2] = 0x0021', 'pppoes and ether proto 0x800', 'pppoes and ip broadcast',
  'pppoes and ip multicast', 'pppoes or ip', 'ip or pppoes and ip', 'not pppoes', 'pppoed or pppoes', 'pppoed and ip', 'pppoes and icmp',
  'pppoes and tcp[tcpflags] & tcp-syn != 0', 'pppoes and len > 80', 'pppoes and ip[9] = 6', 'pppoes 5 and udp',
  // vlan / mpls
  'vlan', 'vlan 100', 'vlan 5', 'vlan 200', 'vlan 10', 'vlan and ip', 'vlan 100 and ip', 'vlan and ip6', 'vlan and tcp port 80',
  'vlan and vlan', 'vlan 10 and vlan 20', 'vlan and vlan and ip', 'vlan 10 and vlan 20 and tcp', 'not vlan', 'vlan or ip',
  'ip or vlan', 'vlan and arp', 'vlan 300 and arp', 'vlan and host 10.0.0.1', 'vlan and mpls', 'vlan and mpls 5 and udp',
  'vlan 5000', 'mpls', 'mpls 3', 'mpls 16', 'mpls and ip', 'mpls 3 and ip', 'mpls and ip6', 'mpls and mpls',
  'mpls 16 and mpls 17', 'mpls 16 and mpls 17 and ip6', 'mpls and mpls and udp', 'mpls and tcp', 'mpls and host 10.0.0.1',
  'mpls and arp', 'not mpls', 'mpls 2000000', 'mpls and tcp port 80', 'ip and vlan', 'vlan and ip and vlan',
  // lengths
  'len > 100', 'len < 100', 'len = 60', 'len >= 1000', 'len <= 64', 'len != 74', 'greater 100', 'less 100',
  'greater 1000', 'less 60', 'not greater 100', 'greater 100 and less 200', 'len - 14 > 50', 'len * 2 > 200',
  // packet data and arithmetic
  'ip[8] < 64', 'ip[8] = 1', 'ip[9] = 6', 'ip[0] & 0xf > 5', 'ip[0] & 0xf != 5', 'ip[2:2] > 100', 'ip[2:2] / 4 > 20',
  'ip[6:2] & 0x1fff != 0', 'ip[6] & 0x20 != 0', 'ip[12:4] = 0x0a000001', 'ip[16] >= 224', 'ip[1] = 0', 'ip[0] >> 4 = 4',
  'ip[0] << 1 = 0x8a', 'ip[2:2] % 7 = 3', 'ip[2:2] - 20 > 30', 'ip[8] * 2 = 128', 'ip[8] | 1 = 65', 'ip[8] ^ 0xff = 0xbf',
  'ip[2:2] + 14 = len', 'len - 14 = ip[2:2]', 'ip[2:2] > len', 'ip[ip[0] & 0xf] = 0', 'ip[1+1:2] > 40', 'ip[-1] = 0',
  'ip[8] > 0 and -ip[8] = 0xffffffc0', 'ip[8] = 64 and ip[9] = 6', 'ip[0]=1^2|3', 'ip[1:3] = 1', 'ip[2:2] / 0 = 1', 'ip[8] % 0 = 1',
  'ip[0] << 32 = 0', 'tcp[13] & 2 != 0', 'tcp[13] = 0x12', 'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn',
  'tcp[tcpflags] & tcp-fin != 0', 'tcp[tcpflags] & tcp-rst != 0', 'tcp[tcpflags] & tcp-push != 0', 'tcp[tcpflags] & tcp-ack = 0',
  'tcp[tcpflags] & tcp-urg != 0', 'tcp[tcpflags] & (tcp-ece|tcp-cwr) != 0', 'tcp[0:2] = 80', 'tcp[2:2] = 80',
  'tcp[0:2] > 1023 and tcp[2:2] < 1024', 'tcp[12] >> 4 > 5', 'udp[0:2] = 53', 'udp[2:2] = 5353', 'udp[4:2] > 100',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] == icmp-echoreply', 'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply',
  'icmp[icmpcode] = 1', 'icmp[0] = 3', 'icmp6[icmp6type] = icmp6-echo', 'icmp6[0] = 135', 'icmp6[icmp6type] = icmp6-neighborsolicit',
  'igmp[0] = 0x11', 'sctp[0:2] = 80', 'arp[6:2] = 1', 'arp[7] = 2', 'rarp[7] = 3', 'ip6[6] = 6', 'ip6[7] = 64', 'ip6[24] = 0xff',
  'ip6[40] = 0', 'tcp[tcp[12] >> 4] = 0', 'udp[udp[0]] = 0', 'ip[0] & 0xf0 = 0x40 and ip6', 'tcp[100:4] = 0',
  'ip[2:2] = ip[2:2]', '1 = 1', '1 = 2', 'ip and 1 = 1', 'len > 0 or 1 = 0', '2 > len', 'ip[8] + ip[9] = 70',
  'ip[8] - ip[9] = 58', 'ip[16:4] & 0xff000000 = 0xe0000000', 'ip[0:4] & 0xf000000 = 0',
  // combinations
  'tcp and (port 80 or port 443)', 'ip and (tcp or udp) and not port 53', '(tcp or udp) and host 10.0.0.1',
  'not (host 10.0.0.1 or host 10.0.0.2)', 'ip6 and (tcp or udp)', 'icmp or arp or igmp', 'tcp port 80 and tcp[13] & 2 != 0',
  'host 10.0.0.1 and (port 80 or port 1234)', 'not arp and not ip6 and not ip', 'ether broadcast or ip multicast or ip6 multicast',
  'ip and ip[8] < 10', '(ip or ip6) and tcp', 'tcp and not (tcp[tcpflags] & tcp-ack != 0)', 'src net 10.0.0.0/8 and dst port 80',
  'udp or (tcp and port 22)', 'ip and (ip[6:2] & 0x3fff) != 0', 'greater 100 or arp', 'ip and len < 100 and tcp',
  'not not ip', '!(ip)', 'ip && tcp', 'ip || arp', 'ip and (not tcp or port 80)', '((ip))',
  'tcp or udp and port 53', 'ip or arp and host 10.0.0.1', 'host 10.0.0.1 or (udp and port 53)',
  // more qualifiers, numbers and combinations
  'ether src host 00:11:22:33:44:55', 'ether dst host ff:ff:ff:ff:ff:ff', 'ip6 src net 2001:db8::/32', 'ip6 dst host ff02::1',
  'arp src host 10.0.0.1', 'rarp dst host 10.1.0.5', 'arp dst 10.0.0.2', 'udp src port domain', 'udp dst port bootps',
  'tcp src or dst port 80', 'tcp src and dst port 80', 'ip[010] = 64', 'tcp port 0x50', 'port 080', 'len & 1 = 0',
  'len % 2 = 1', 'len >> 2 > 20', 'ip[ip[0] & 0xf] > 0', 'tcp[tcpflags] == tcp-syn|tcp-ack', 'tcp[tcpflags] = tcp-ack|tcp-push',
  'icmp6[icmp6type] = icmp6-echoreply', 'ether[0:4] & 0xffffff00 = 0x01005e00', 'ip6 and ip6[6] = 58', 'not ip6 and not arp',
  'dst port 80 and src port 1234', 'net 10.0.0.0/8 or net 2001:db8::/32', 'host 10.0.0.1 and not host 10.0.0.2 and port 80',
  'vlan and (ip or ip6)', 'tcp port 80 and vlan', 'vlan and tcp and port 80', 'vlan 100 or vlan 200', 'vlan 100 and tcp[13] = 2',
  'vlan and ether broadcast', 'vlan and ip multicast', 'vlan and ip6 protochain 6', 'mpls and ip[9] = 17', 'mpls and ip6 multicast',
  'mpls 16 and mpls 17 and udp port 53', 'gateway 10.0.0.1', 'TCP', 'IP host 1.2.3.4', 'host 1.2.3.4 mask 255.0.0.0',
  'icmp6 and ip6 multicast', 'ip6 protochain 0', 'ip6 protochain 44', 'ip6 protochain 60 or ip6 protochain 43',
  'ip protochain 1', 'protochain 132', 'ip6 proto 44', 'ip6 proto 0', 'proto \\ipv6-icmp', 'ip6 proto \\ipv6-icmp',
  'ether proto \\loopback', 'ether proto 0x8847', 'ether proto 0x8100', 'ip and ip[6:2] & 0x1fff = 0 and tcp',
  'udp and ip[6] & 0x20 = 0', 'sctp and port 80', 'igmp and ip multicast', 'icmp and icmp[1] != 0', 'udp[8:4] = 0x62626262',
  'ip[2:2] > 1000 and udp', 'len > 1000 and not ip6', 'ip6[4:2] > 20', 'ip[3] = 0x2c or ip6[5] = 0x14',
  'src net 10.0.0.0 mask 255.255.255.0', 'dst net 10.1.0.0/16 and tcp', 'not src net 10.0.0.0/8', 'net 127', 'host 127.0.0.1',
  'ip host 10.0.0.1 or arp host 10.0.0.1', 'ip src 10.0.0.1 and ip dst 10.0.0.2', 'src 10.0.0.1 or dst 10.0.0.1',
  // % and ^ have no precedence in libpcap's grammar (they take everything after them)
  'ip[0] = 7 % 4 * 2', 'ip[0] = 7 * 4 % 5', 'ip[0] = 7 + 4 % 3', 'ip[0] = 5 ^ 3 & 1', 'ip[0] = 7 % 4 & 2', 'ip[0] = -7 % 4 + 1',
  'ip[0] % 3 + 1 = 2', 'len % len << 1 < len - 5', 'ip[8] ^ ip[9] | 1 = 0x47', 'ip[0] * 2 % 7 = 3',
  'ip[0] % (0 + 5) = 1', 'ip[0] / (0 | len) = 1', 'ip[0] / -0 = 1', '0 >> len = 0', '(0 >> len % len & 31) != len',
  'ip[0] % len = 1', '0 / ip[0] = 0', '0 / ip[1] = 0', 'len / ip[0] = 0', 'len / ip[1] = 0', '0 | len = len', 'ip[0] / (5 - 5) = 1', 'ip[0] + tcp[0] = 5', '5 = ip6[0] + tcp[0]',
  // constant relations: decided at once when both sides are literals, kept as a test when arithmetic was needed
  'ip and 1 + 1 = 3', 'ip and 2 * 2 = 4', '1 + 1 = 3', '1 + 1 = 2', 'ip and 1 = 2', 'ip and 13 < 20 * 15', 'ip and not 13 < 20 * 15',
  'ip and -1 = 1', 'ip and 20 * 15 < 13', 'tcp or 1 = 2', 'ip and len < 0', 'ip and 2 < 1', 'ip and 1 != 1',
  '(16 >> tcp[40:1] % 56) != 1', 'len | 5 >> (2 - 17) >= len', 'ip[0] >> (40 - 10) = 0', 'ip[0] >> (10 - 40) = 0',
  // long or-chains (jumps farther than 255 instructions go through ja)
  `port ${Array.from({ length: 60 }, (_, i) => 1 + i).join(' or ')}`,
  `host ${Array.from({ length: 90 }, (_, i) => `10.0.0.${1 + i}`).join(' or ')}`,
  `tcp and (${Array.from({ length: 40 }, (_, i) => `dst port ${1000 + 7 * i}`).join(' or ')}) and not src net 10.2.0.0/16`,
  // syntax errors
  '', 'ip and', 'and', 'tcp port', 'port', '(ip', 'ip)', 'ip[', 'ip[0', 'host', '10.0.0.1', '80', 'tcp port 80 443', 'foo',
  'ip proto', 'len >', '= 1', 'ip[0] = ', 'host 10.0.0.1 or', 'vlan vlan', 'ip host', 'not', 'tcp[0:3] = 1',
];

/** Expressions checked on every supported link type (Ethernet, raw IP, Linux SLL and SLL2, null, loopback). */
export const LINK_CORPUS: readonly string[] = [
  'ip', 'ip6', 'arp', 'tcp', 'udp', 'icmp', 'icmp6', 'not ip', 'ip or ip6', 'tcp port 80', 'port 53', 'host 10.0.0.1',
  'net 10.0.0.0/8', 'host 2001:db8::1', 'ip6 protochain 6', 'ip[9] = 6', 'tcp[tcpflags] & tcp-syn != 0', 'len > 60',
  'portrange 1-1024', 'icmp[icmptype] = icmp-echo', 'ip6 multicast', 'ip multicast', 'ether host 00:11:22:33:44:55',
  'vlan', 'mpls', 'ether broadcast', 'ip and not udp', 'ether[0] = 0', 'ether proto 0x800', 'arp or rarp',
  'proto 17', 'udp port 53 or tcp port 80', 'src net 192.168.0.0/16', 'ip6 and tcp', 'ether proto 100', 'ether proto 0x42',
  'ether proto 4', 'vlan and ip', 'mpls and ip', 'ip6 protochain 17', 'host 2001:db8::1 or net 10.0.0.0/8', 'less 60', 'greater 80',
  'ipx', 'atalk', 'aarp', 'iso', 'netbeui', 'stp', 'decnet', 'not ipx', 'llc', 'pppoes', 'pppoes and ip', 'pppoed', 'pim', 'vrrp', 'ah or esp',
  'isis', 'l1', 'llc foo',
];
