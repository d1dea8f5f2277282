/**
 * Built-in name tables for the filter language, so compiling a filter
 * never reads system files (tcpdump reads /etc/services, /etc/protocols
 * and /etc/hosts). The tables hold the common names of those files.
 */

/** Transport protocol a service name belongs to. */
export type ServiceProto = 'tcp' | 'udp' | 'sctp';

/** Well-known services: name → port, and which transports list it (as in a typical /etc/services). */
export const SERVICES: ReadonlyMap<string, { port: number; protos: readonly ServiceProto[] }> = new Map(
  ([
    ['echo', 7, 'tu'], ['discard', 9, 'tu'], ['daytime', 13, 'tu'], ['ftp-data', 20, 't'], ['ftp', 21, 't'],
    ['ssh', 22, 't'], ['telnet', 23, 't'], ['smtp', 25, 't'], ['time', 37, 'tu'], ['whois', 43, 't'],
    ['tacacs', 49, 'tu'], ['domain', 53, 'tu'], ['gopher', 70, 't'], ['finger', 79, 't'], ['http', 80, 't'],
    ['www', 80, 't'], ['kerberos', 88, 'tu'], ['pop3', 110, 't'], ['sunrpc', 111, 'tu'], ['auth', 113, 't'],
    ['nntp', 119, 't'], ['ntp', 123, 'u'], ['netbios-ns', 137, 'u'], ['netbios-dgm', 138, 'u'],
    ['netbios-ssn', 139, 't'], ['imap2', 143, 't'], ['imap', 143, 't'], ['snmp', 161, 'tu'], ['snmp-trap', 162, 'tu'],
    ['bgp', 179, 't'], ['irc', 194, 't'], ['ldap', 389, 'tu'], ['https', 443, 'tu'], ['microsoft-ds', 445, 't'],
    ['isakmp', 500, 'u'], ['syslog', 514, 'u'], ['printer', 515, 't'], ['rip', 520, 'u'], ['route', 520, 'u'],
    ['submission', 587, 't'], ['ldaps', 636, 'tu'], ['rsync', 873, 't'], ['ftps', 990, 't'], ['imaps', 993, 't'],
    ['pop3s', 995, 't'], ['openvpn', 1194, 'tu'], ['ms-sql-s', 1433, 't'], ['l2tp', 1701, 'u'], ['radius', 1812, 'u'],
    ['nfs', 2049, 'tu'], ['mysql', 3306, 't'], ['rdp', 3389, 't'], ['sip', 5060, 'tu'], ['postgresql', 5432, 't'],
    ['bootps', 67, 'u'], ['bootpc', 68, 'u'], ['tftp', 69, 'u'], ['x11', 6000, 't'],
  ] as const).map(([name, port, p]) => [name, { port, protos: [...p].map((c) => (c === 't' ? 'tcp' : 'udp')) as ServiceProto[] }]),
);

/** IP protocol names (`ip proto NAME`, /etc/protocols). */
export const IP_PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['icmp', 1], ['igmp', 2], ['ggp', 3], ['ipencap', 4], ['tcp', 6], ['egp', 8], ['igp', 9], ['pup', 12], ['udp', 17],
  ['hmp', 20], ['rdp', 27], ['ipv6', 41], ['ipv6-route', 43], ['ipv6-frag', 44], ['rsvp', 46], ['gre', 47],
  ['esp', 50], ['ah', 51], ['ipv6-icmp', 58], ['ipv6-nonxt', 59], ['ipv6-opts', 60], ['ospf', 89],
  ['vrrp', 112], ['l2tp', 115], ['sctp', 132], ['pim', 103], ['ipcomp', 108],
]);

/** EtherType names (`ether proto \NAME`); what libpcap knows itself. */
export const ETHER_PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['ip', 0x0800], ['ip6', 0x86dd], ['arp', 0x0806], ['rarp', 0x8035], ['atalk', 0x809b], ['aarp', 0x80f3],
  ['decnet', 0x6003], ['lat', 0x6004], ['sca', 0x6007], ['moprc', 0x6002], ['mopdl', 0x6001], ['loopback', 0x9000],
  // LLC SAPs, which libpcap looks up when a name is not an EtherType (pcap_nametollc)
  ['iso', 0xfe], ['stp', 0x42], ['ipx', 0xe0], ['netbeui', 0xf0],
]);

/** TCP/UDP/ICMP header field offsets and flag values usable as numbers in arithmetic. */
export const NAMED_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['icmptype', 0], ['icmpcode', 1], ['icmp6type', 0], ['icmp6code', 1], ['tcpflags', 13],
  ['icmp-echoreply', 0], ['icmp-unreach', 3], ['icmp-sourcequench', 4], ['icmp-redirect', 5], ['icmp-echo', 8],
  ['icmp-routeradvert', 9], ['icmp-routersolicit', 10], ['icmp-timxceed', 11], ['icmp-paramprob', 12],
  ['icmp-tstamp', 13], ['icmp-tstampreply', 14], ['icmp-ireq', 15], ['icmp-ireqreply', 16], ['icmp-maskreq', 17],
  ['icmp-maskreply', 18],
  ['icmp6-destinationunreach', 1], ['icmp6-packettoobig', 2], ['icmp6-timeexceeded', 3], ['icmp6-parameterproblem', 4],
  ['icmp6-echo', 128], ['icmp6-echoreply', 129], ['icmp6-multicastlistenerquery', 130],
  ['icmp6-multicastlistenerreportv1', 131], ['icmp6-multicastlistenerdone', 132], ['icmp6-routersolicit', 133],
  ['icmp6-routeradvert', 134], ['icmp6-neighborsolicit', 135], ['icmp6-neighboradvert', 136], ['icmp6-redirect', 137],
  ['icmp6-routerrenum', 138], ['icmp6-nodeinformationquery', 139], ['icmp6-nodeinformationresponse', 140],
  ['icmp6-ineighbordiscoverysolicit', 141], ['icmp6-ineighbordiscoveryadvert', 142],
  ['icmp6-multicastlistenerreportv2', 143], ['icmp6-homeagentdiscoveryrequest', 144],
  ['icmp6-homeagentdiscoveryreply', 145], ['icmp6-mobileprefixsolicit', 146], ['icmp6-mobileprefixadvert', 147],
  ['icmp6-certpathsolicit', 148], ['icmp6-certpathadvert', 149], ['icmp6-multicastrouteradvert', 151],
  ['icmp6-multicastroutersolicit', 152], ['icmp6-multicastrouterterm', 153],
  ['tcp-fin', 0x01], ['tcp-syn', 0x02], ['tcp-rst', 0x04], ['tcp-push', 0x08], ['tcp-ack', 0x10], ['tcp-urg', 0x20],
  ['tcp-ece', 0x40], ['tcp-cwr', 0x80],
]);
