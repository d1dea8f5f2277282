// SPDX-License-Identifier: GPL-2.0
/*
 * queue_stack — recent-packet history in a queue, pending handshakes on a
 * stack (XDP).
 *
 * BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO) have no keys:
 * programs use bpf_map_push_elem(), bpf_map_pop_elem() and
 * bpf_map_peek_elem(); user space uses the same operations
 * (bpftool map push / pop / enqueue / dequeue / peek).
 *
 *  - `history` keeps the facts of the last HISTORY IP packets. When it is
 *    full, push returns -E2BIG; the program then pops the oldest entry
 *    (counting it in .bss `evicted`) and pushes again. (Pushing with
 *    BPF_EXIST would evict silently.) After each packet the oldest entry
 *    still queued is peeked into .bss `oldest`.
 *  - `pending_syns` holds the TCP SYNs seen. A SYN-ACK peeks at the top of
 *    the stack: if it answers that SYN (its source port is the SYN's
 *    destination port and vice versa), the SYN is popped and counted as
 *    `answered`; otherwise it counts as `unmatched`.
 *
 * Every packet passes.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall queue_stack.o /sys/fs/bpf/qs pinmaps /sys/fs/bpf/qs_maps
 *   bpftool prog run pinned /sys/fs/bpf/qs/queue_stack data_in inputs/ipv4_tcp_syn.bin
 *   bpftool map dequeue pinned /sys/fs/bpf/qs_maps/history
 *   bpftool map pop pinned /sys/fs/bpf/qs_maps/pending_syns
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define HISTORY 4
#define E2BIG 7

struct pkt_fact {
	__u16 len;	/* frame length */
	__u8 family;	/* 4 or 6 */
	__u8 proto;	/* IP protocol */
	__u16 sport;	/* host byte order, 0 without ports */
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, HISTORY);
	__type(value, struct pkt_fact);
} history SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 16);
	__type(value, struct pkt_fact);
} pending_syns SEC(".maps");

__u64 evicted;
__u64 answered;
__u64 unmatched;
struct pkt_fact oldest;

SEC("xdp")
int queue_stack(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pkt_fact fact = { .len = data_end - data };
	struct pkt_fact old, top;
	struct tcphdr *th = NULL;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			return XDP_PASS;
		fact.family = 4;
		fact.proto = iph->protocol;
		l4 = (void *)iph + iph->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return XDP_PASS;
		fact.family = 6;
		fact.proto = ip6h->nexthdr;
		l4 = ip6h + 1;
	} else {
		return XDP_PASS;
	}

	if (fact.proto == IPPROTO_TCP || fact.proto == IPPROTO_UDP) {
		struct udphdr *ports = l4;	/* ports sit alike in both */

		if ((void *)(ports + 1) > data_end)
			return XDP_PASS;
		fact.sport = bpf_ntohs(ports->source);
		fact.dport = bpf_ntohs(ports->dest);
		if (fact.proto == IPPROTO_TCP) {
			th = l4;
			if ((void *)(th + 1) > data_end)
				th = NULL;
		}
	}

	/* FIFO history with explicit eviction. */
	if (bpf_map_push_elem(&history, &fact, 0) == -E2BIG) {
		if (bpf_map_pop_elem(&history, &old) == 0)
			__sync_fetch_and_add(&evicted, 1);
		bpf_map_push_elem(&history, &fact, 0);
	}
	if (bpf_map_peek_elem(&history, &old) == 0)
		oldest = old;

	/* LIFO of handshakes in progress. */
	if (th && th->syn && !th->ack) {
		bpf_map_push_elem(&pending_syns, &fact, 0);
	} else if (th && th->syn && th->ack) {
		if (bpf_map_peek_elem(&pending_syns, &top) == 0 &&
		    top.sport == fact.dport && top.dport == fact.sport) {
			bpf_map_pop_elem(&pending_syns, &top);
			__sync_fetch_and_add(&answered, 1);
		} else {
			__sync_fetch_and_add(&unmatched, 1);
		}
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
