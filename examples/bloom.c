// SPDX-License-Identifier: GPL-2.0
/*
 * bloom — a learned blocklist behind a bloom filter (XDP).
 *
 * A source that touches the honeypot port (2323) is blocked from then on.
 * The blocklist is an exact hash map, and a BPF_MAP_TYPE_BLOOM_FILTER in
 * front of it answers "certainly not blocked" for most traffic without a
 * hash lookup:
 *  - bpf_map_push_elem(&bad_bloom, &saddr, 0) adds a source;
 *  - bpf_map_peek_elem(&bad_bloom, &saddr) returns 0 if the source may be
 *    in the set (then the hash decides) and -ENOENT if it is certainly not.
 * A bloom filter has no keys and cannot be iterated or have elements
 * removed; `map_extra` sets the number of hash functions (1..15, default
 * 5). BPF_F_ZERO_SEED makes the hashing reproducible (the kernel seeds it
 * at random otherwise), so tests give the same false positives every run.
 *
 * .bss counters: bloom_negative (answered by the filter alone),
 * bloom_positive (filter said maybe, the hash confirmed), false_positive
 * (filter said maybe, the hash did not), learned.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall bloom.o /sys/fs/bpf/bloom pinmaps /sys/fs/bpf/bloom_maps
 *   bpftool prog run pinned /sys/fs/bpf/bloom/bloom data_in inputs/ipv4_tcp_honeypot.bin  # 1: learned
 *   bpftool prog run pinned /sys/fs/bpf/bloom/bloom data_in inputs/ipv4_tcp_syn.bin       # 1: blocked
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define HONEYPOT_PORT 2323

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 1024);
	__uint(map_extra, 3);			/* hash functions */
	__uint(map_flags, BPF_F_ZERO_SEED);
	__type(value, __be32);			/* source address; no key */
} bad_bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __be32);
	__type(value, __u64);			/* packets dropped since learned */
} blocklist SEC(".maps");

__u64 bloom_negative;
__u64 bloom_positive;
__u64 false_positive;
__u64 learned;

SEC("xdp")
int bloom(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *ports;
	__be32 saddr;
	__u64 *hits, zero = 0;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl < 5)
		return XDP_PASS;
	saddr = iph->saddr;

	if (iph->protocol == IPPROTO_TCP || iph->protocol == IPPROTO_UDP) {
		ports = (void *)iph + iph->ihl * 4;
		if ((void *)(ports + 1) > data_end)
			return XDP_PASS;
		if (ports->dest == bpf_htons(HONEYPOT_PORT)) {
			if (bpf_map_update_elem(&blocklist, &saddr, &zero, BPF_NOEXIST) == 0) {
				bpf_map_push_elem(&bad_bloom, &saddr, 0);
				__sync_fetch_and_add(&learned, 1);
			}
			return XDP_DROP;
		}
	}

	if (bpf_map_peek_elem(&bad_bloom, &saddr) != 0) {
		__sync_fetch_and_add(&bloom_negative, 1);
		return XDP_PASS;
	}
	hits = bpf_map_lookup_elem(&blocklist, &saddr);
	if (!hits) {
		__sync_fetch_and_add(&false_positive, 1);
		return XDP_PASS;
	}
	__sync_fetch_and_add(&bloom_positive, 1);
	__sync_fetch_and_add(hits, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
