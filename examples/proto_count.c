// SPDX-License-Identifier: GPL-2.0
/*
 * proto_count — count packets and bytes per IP protocol (XDP).
 *
 * The classic first XDP program (the kernel's samples/bpf/xdp1 does the
 * same): parse Ethernet, then IPv4 or IPv6, and add the frame to a per-CPU
 * counter indexed by the IP protocol number (IPv6: the first next-header).
 * Per-CPU slots need no atomics: each CPU only touches its own copy, and
 * user space adds the copies up. Frames that are not IP are counted apart
 * in a small shared array (updated with atomic adds, since every CPU
 * writes the same slots). Every frame is passed on: this program only
 * observes.
 *
 * Built with clang's default CPU (v1 for clang 19), like most older
 * libbpf projects.
 *
 *   bpftool prog loadall proto_count.o /sys/fs/bpf/pc pinmaps /sys/fs/bpf/pc_maps
 *   bpftool prog run pinned /sys/fs/bpf/pc/proto_count data_in inputs/ipv4_tcp_syn.bin repeat 3
 *   bpftool map dump pinned /sys/fs/bpf/pc_maps/proto_stats
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* One record per IP protocol number and per CPU. */
struct datarec {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);		/* every possible protocol number */
	__type(key, __u32);
	__type(value, struct datarec);
} proto_stats SEC(".maps");

/* Frames that carry no IP packet. */
enum l2_class {
	L2_ARP = 0,		/* ARP requests and replies */
	L2_OTHER = 1,		/* any other EtherType */
	L2_TRUNCATED = 2,	/* too short for the header it announces */
	L2_MAX = 4,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, L2_MAX);
	__type(key, __u32);
	__type(value, __u64);
} l2_stats SEC(".maps");

static __always_inline void count_l2(__u32 class)
{
	__u64 *cnt = bpf_map_lookup_elem(&l2_stats, &class);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);	/* shared slot: atomic add */
}

SEC("xdp")
int proto_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct datarec *rec;
	__u32 proto;

	if ((void *)(eth + 1) > data_end) {
		count_l2(L2_TRUNCATED);
		return XDP_PASS;
	}

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP): {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end) {
			count_l2(L2_TRUNCATED);
			return XDP_PASS;
		}
		proto = iph->protocol;
		break;
	}
	case bpf_htons(ETH_P_IPV6): {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end) {
			count_l2(L2_TRUNCATED);
			return XDP_PASS;
		}
		proto = ip6h->nexthdr;
		break;
	}
	case bpf_htons(ETH_P_ARP):
		count_l2(L2_ARP);
		return XDP_PASS;
	default:
		count_l2(L2_OTHER);
		return XDP_PASS;
	}

	rec = bpf_map_lookup_elem(&proto_stats, &proto);
	if (!rec)	/* cannot happen (proto < 256), but the verifier wants the check */
		return XDP_ABORTED;
	/* Per-CPU value: plain read-modify-write is safe. */
	rec->packets++;
	rec->bytes += data_end - data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
