// SPDX-License-Identifier: GPL-2.0
/*
 * syn_events — report new TCP connections through a ring buffer (tc).
 *
 * Every TCP SYN (SYN set, ACK clear) becomes a `struct flow_event` in the
 * BPF ring buffer `events`, which user space reads with libbpf's
 * ring_buffer__poll(). Two ways of writing a record are shown:
 *
 *  - IPv4: bpf_ringbuf_reserve() hands out space in the ring, the event is
 *    built in place and then bpf_ringbuf_submit()ted, or, for SYNs to
 *    `ignore_port`, bpf_ringbuf_discard()ed (the record is skipped by
 *    readers). Building in place saves a copy, and the port filter shows
 *    that a reservation can still be abandoned.
 *  - IPv6: the event is built on the stack and copied in with
 *    bpf_ringbuf_output().
 *
 * A record is written whole (padding included) so readers never see
 * stale bytes. Counters in .bss tell what happened to each SYN. Every
 * packet passes (TC_ACT_OK): this program only reports.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall syn_events.o /sys/fs/bpf/syn pinmaps /sys/fs/bpf/syn_maps
 *   bpftool prog run pinned /sys/fs/bpf/syn/syn_events data_in inputs/ipv4_tcp_syn.bin
 *   (bpftool cannot dump a ring buffer: read it with libbpf's ring_buffer API)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* SYNs to this port are not reported (e.g. health checks). */
const volatile __u16 ignore_port = 22;

struct flow_event {
	__u8 family;		/* 4 or 6 */
	__u8 protocol;		/* IPPROTO_TCP */
	__u8 tcp_flags;		/* byte 13 of the TCP header */
	__u8 pad;
	__be16 sport;
	__be16 dport;
	__be32 saddr[4];	/* IPv4: saddr[0] only, the rest zero */
	__be32 daddr[4];
	__u32 pkt_len;		/* skb->len */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);	/* bytes; a power of two and a page multiple */
} events SEC(".maps");

/* Statistics, in .bss. */
__u64 submitted;	/* reserve + submit (IPv4) */
__u64 discarded;	/* reserve + discard (IPv4 to ignore_port) */
__u64 output;		/* bpf_ringbuf_output (IPv6) */
__u64 lost;		/* the ring was full */

static __always_inline int is_syn(struct tcphdr *th)
{
	return th->syn && !th->ack;
}

SEC("tc")
int syn_events(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		struct flow_event *ev;

		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_TCP || iph->ihl < 5)
			return TC_ACT_OK;
		th = (void *)iph + iph->ihl * 4;
		if ((void *)(th + 1) > data_end || !is_syn(th))
			return TC_ACT_OK;

		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (!ev) {
			__sync_fetch_and_add(&lost, 1);
			return TC_ACT_OK;
		}
		__builtin_memset(ev, 0, sizeof(*ev));
		ev->family = 4;
		ev->protocol = IPPROTO_TCP;
		ev->tcp_flags = ((__u8 *)th)[13];
		ev->sport = th->source;
		ev->dport = th->dest;
		ev->saddr[0] = iph->saddr;
		ev->daddr[0] = iph->daddr;
		ev->pkt_len = skb->len;
		if (th->dest == bpf_htons(ignore_port)) {
			bpf_ringbuf_discard(ev, 0);
			__sync_fetch_and_add(&discarded, 1);
		} else {
			bpf_ringbuf_submit(ev, 0);
			__sync_fetch_and_add(&submitted, 1);
		}
		return TC_ACT_OK;
	}

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);
		struct flow_event ev = {};

		if ((void *)(ip6h + 1) > data_end || ip6h->nexthdr != IPPROTO_TCP)
			return TC_ACT_OK;
		th = (void *)(ip6h + 1);
		if ((void *)(th + 1) > data_end || !is_syn(th))
			return TC_ACT_OK;

		ev.family = 6;
		ev.protocol = IPPROTO_TCP;
		ev.tcp_flags = ((__u8 *)th)[13];
		ev.sport = th->source;
		ev.dport = th->dest;
		__builtin_memcpy(ev.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(ev.daddr, &ip6h->daddr, 16);
		ev.pkt_len = skb->len;
		if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0))
			__sync_fetch_and_add(&lost, 1);
		else
			__sync_fetch_and_add(&output, 1);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
