// SPDX-License-Identifier: GPL-2.0
/*
 * tail_dispatch — dispatch IPv4 packets to one program per protocol with
 * tail calls (XDP).
 *
 * `jmp_table` is a BPF_MAP_TYPE_PROG_ARRAY indexed by IP protocol number.
 * Its `.values` initialiser names the handler programs, and libbpf fills the
 * slots with their file descriptors right after loading the object
 * (`bpftool prog loadall` does it too), so the dispatcher works without
 * any setup from user space.
 *
 * A tail call replaces the running program and does not return, so state
 * that the handlers need (here, where the IPv4 header starts) is passed
 * through a per-CPU scratch array. When a slot is empty, bpf_tail_call()
 * returns and the dispatcher carries on: such packets are counted as
 * unhandled and passed.
 *
 * Handlers:
 *  - handle_icmp: answers ICMP echo requests in place (swaps MAC and IP
 *    addresses, turns the request into a reply, updates the ICMP checksum
 *    incrementally per RFC 1624) and sends the frame back out: XDP_TX.
 *  - handle_tcp: counts, XDP_PASS.
 *  - handle_udp: drops datagrams to the discard port (9), passes others.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall tail_dispatch.o /sys/fs/bpf/td pinmaps /sys/fs/bpf/td_maps
 *   bpftool map dump pinned /sys/fs/bpf/td_maps/jmp_table   # 3 programs
 *   bpftool prog run pinned /sys/fs/bpf/td/xdp_dispatch data_in inputs/ipv4_icmp_echo.bin \
 *           data_out -     # prints the reply frame
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> drags in libc's socket headers; the two fields and
 * constants used here are defined locally instead. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

/* Handlers, defined below; the prog array initialiser refers to them. */
int handle_icmp(struct xdp_md *ctx);
int handle_tcp(struct xdp_md *ctx);
int handle_udp(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 256);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = {
		[IPPROTO_ICMP] = (void *)&handle_icmp,
		[IPPROTO_TCP] = (void *)&handle_tcp,
		[IPPROTO_UDP] = (void *)&handle_udp,
	},
};

/* What the dispatcher hands to the handler: where the IPv4 header is. */
struct scratch {
	__u32 l3_off;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Counters, in .bss. */
struct {
	__u64 dispatched;	/* tail calls attempted */
	__u64 unhandled;	/* no program for the protocol */
	__u64 icmp_replies;
	__u64 tcp;
	__u64 udp_passed;
	__u64 udp_dropped;
} stats;

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct scratch *s;
	__u32 zero = 0;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return XDP_ABORTED;
	s->l3_off = sizeof(*eth);

	__sync_fetch_and_add(&stats.dispatched, 1);
	bpf_tail_call(ctx, &jmp_table, iph->protocol);

	/* Only reached when the slot is empty. */
	__sync_fetch_and_add(&stats.unhandled, 1);
	return XDP_PASS;
}

/* The IPv4 header the dispatcher found, bounds-checked for the verifier. */
static __always_inline struct iphdr *ipv4_header(struct xdp_md *ctx, void **end)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct scratch *s;
	struct iphdr *iph;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s || s->l3_off > 64)
		return NULL;
	iph = data + s->l3_off;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return NULL;
	*end = data_end;
	return iph;
}

SEC("xdp")
int handle_icmp(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	unsigned char mac[ETH_ALEN];
	struct icmphdr *icmp;
	struct iphdr *iph;
	void *data_end = (void *)(long)ctx->data_end;
	__be32 addr;
	__u32 sum;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	iph = ipv4_header(ctx, &data_end);
	if (!iph)
		return XDP_PASS;
	icmp = (void *)iph + iph->ihl * 4;
	if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_ECHO || icmp->code != 0)
		return XDP_PASS;

	/* Back to the sender: swap the MAC and IP addresses. The IP header
	 * checksum does not change: the same 16-bit words are summed. */
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;

	/* Echo request (8) -> echo reply (0). RFC 1624: HC' = ~(~HC + ~m + m'),
	 * with m = the old type/code word and m' = the new one (0). */
	icmp->type = ICMP_ECHOREPLY;
	sum = (__u16)~icmp->checksum + (__u16)~bpf_htons(ICMP_ECHO << 8);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	icmp->checksum = ~sum;

	__sync_fetch_and_add(&stats.icmp_replies, 1);
	return XDP_TX;
}

SEC("xdp")
int handle_tcp(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&stats.tcp, 1);
	return XDP_PASS;
}

SEC("xdp")
int handle_udp(struct xdp_md *ctx)
{
	struct iphdr *iph;
	struct udphdr *udp;
	void *data_end;

	iph = ipv4_header(ctx, &data_end);
	if (!iph)
		return XDP_PASS;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (udp->dest == bpf_htons(9)) {	/* the discard service */
		__sync_fetch_and_add(&stats.udp_dropped, 1);
		return XDP_DROP;
	}
	__sync_fetch_and_add(&stats.udp_passed, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
