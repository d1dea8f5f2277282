// SPDX-License-Identifier: GPL-2.0
/*
 * nat_rewrite — redirect a port and decrement the TTL, fixing checksums
 * (tc).
 *
 * IPv4 TCP and UDP packets to `from_port` (8080) are rewritten to go to
 * `to_port` (80), as a router would forward them: the destination port is
 * replaced with bpf_skb_store_bytes() and the TTL decremented. Each edit
 * is followed by an incremental checksum fix-up:
 *  - bpf_l4_csum_replace() for the port (a 2-byte field of the TCP/UDP
 *    checksum; for UDP, BPF_F_MARK_MANGLED_0 keeps a zero "no checksum"
 *    as it is and turns a computed 0 into 0xffff);
 *  - bpf_l3_csum_replace() for the TTL (the 16-bit word TTL|protocol).
 * A packet whose TTL would reach 0 is dropped (TC_ACT_SHOT) instead, as a
 * router would (without the ICMP time-exceeded).
 *
 * bpf_skb_store_bytes() may move the packet, so every packet pointer is
 * re-derived from skb->data after it. Other packets are not touched.
 *
 * Built with -mcpu=v4.
 *
 *   bpftool prog loadall nat_rewrite.o /sys/fs/bpf/nat pinmaps /sys/fs/bpf/nat_maps
 *   bpftool prog run pinned /sys/fs/bpf/nat/nat_rewrite data_in inputs/ipv4_tcp_8080.bin \
 *           data_out -          # port 80, TTL 63, both checksums still valid
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 from_port = 8080;
const volatile __u16 to_port = 80;

__u64 rewritten;
__u64 ttl_expired;

#define IP_OFF ETH_HLEN
#define IP_TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))

SEC("tc")
int nat_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 l4_off, dport_off, csum_off, csum_flags;
	__be16 old_port, new_port = bpf_htons(to_port);
	__be16 old_word, new_word;
	__u8 proto;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl < 5)
		return TC_ACT_OK;
	proto = iph->protocol;
	l4_off = IP_OFF + iph->ihl * 4;

	if (proto == IPPROTO_TCP) {
		dport_off = l4_off + offsetof(struct tcphdr, dest);
		csum_off = l4_off + offsetof(struct tcphdr, check);
		csum_flags = 0;
	} else if (proto == IPPROTO_UDP) {
		dport_off = l4_off + offsetof(struct udphdr, dest);
		csum_off = l4_off + offsetof(struct udphdr, check);
		csum_flags = BPF_F_MARK_MANGLED_0;
	} else {
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, dport_off, &old_port, sizeof(old_port)))
		return TC_ACT_OK;
	if (old_port != bpf_htons(from_port))
		return TC_ACT_OK;

	if (iph->ttl <= 1) {
		__sync_fetch_and_add(&ttl_expired, 1);
		return TC_ACT_SHOT;
	}

	/* TTL shares a 16-bit checksum word with the protocol. */
	old_word = *(__be16 *)&iph->ttl;
	((__u8 *)&new_word)[0] = iph->ttl - 1;
	((__u8 *)&new_word)[1] = proto;

	/* 1. the port, and the L4 checksum over it */
	if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, csum_flags | sizeof(new_port)))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, dport_off, &new_port, sizeof(new_port), 0))
		return TC_ACT_SHOT;

	/* 2. the TTL, and the IP header checksum (iph is stale by now) */
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_word, new_word, sizeof(new_word)))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, IP_TTL_OFF, &new_word, sizeof(new_word), 0))
		return TC_ACT_SHOT;

	__sync_fetch_and_add(&rewritten, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
