// SPDX-License-Identifier: GPL-2.0
/*
 * sock_filter — a socket filter with the legacy packet loads (socket).
 *
 * Written the way classic BPF filters are (and the way tcpdump-style
 * filters look once translated): the packet is read with the absolute and
 * indirect load instructions (BPF_LD | BPF_ABS / BPF_IND), which clang
 * emits for the llvm.bpf.load.{byte,half,word} intrinsics. These loads
 * convert from network byte order, and a load past the end of the packet
 * ends the program with return value 0 (drop).
 *
 * Offset 0 is the network header: this filter is for AF_PACKET SOCK_DGRAM
 * sockets (and, since BPF_PROG_TEST_RUN pulls the Ethernet header of a
 * socket filter's packet, for test runs too).
 *
 * What it keeps (the return value is the number of bytes to keep):
 *  - TCP to or from ports 22, 80 and 443: the first `snap_tcp` (96) bytes;
 *  - DNS (UDP port 53): all of it (262144, as tcpdump's filters say);
 *  - everything else: nothing (0).
 * IPv4 (with options, via the IHL) and IPv6 (fixed header only).
 *
 * Built with clang's default CPU (v1).
 *
 *   bpftool prog loadall sock_filter.o /sys/fs/bpf/sf
 *   bpftool prog run pinned /sys/fs/bpf/sf/sock_filter data_in inputs/ipv4_tcp_syn.bin   # 96
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

/* The legacy packet-access intrinsics (BPF_LD_ABS / BPF_LD_IND). */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

#define SNAP_TCP 96
#define KEEP_ALL 262144

static __always_inline int wanted_tcp_port(__u32 port)
{
	return port == 22 || port == 80 || port == 443;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u32 version = load_byte(skb, 0) >> 4;
	__u32 proto, l4, sport, dport;

	if (version == 4) {
		/* Fragments after the first carry no ports. */
		if (load_half(skb, 6) & 0x1fff)
			return 0;
		proto = load_byte(skb, 9);
		l4 = (load_byte(skb, 0) & 0xf) << 2;	/* IHL in bytes */
	} else if (version == 6) {
		proto = load_byte(skb, 6);
		l4 = 40;
	} else {
		return 0;
	}

	/* One 32-bit load gives both ports: source in the high half. */
	if (proto == IPPROTO_TCP) {
		__u32 both = load_word(skb, l4);

		sport = both >> 16;
		dport = both & 0xffff;
		if (wanted_tcp_port(sport) || wanted_tcp_port(dport))
			return SNAP_TCP;
		return 0;
	}
	if (proto == IPPROTO_UDP) {
		sport = load_half(skb, l4);
		dport = load_half(skb, l4 + 2);
		if (sport == 53 || dport == 53)
			return KEEP_ALL;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
