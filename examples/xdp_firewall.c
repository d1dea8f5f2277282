// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_firewall — drop IPv4 packets whose source lies in a blocked prefix.
 *
 * The blocked prefixes live in an LPM trie (longest-prefix match), filled
 * from user space: each key is a prefix length plus an address, and a
 * lookup with a full /32 key finds the most specific prefix that contains
 * the address. LPM tries must be created with BPF_F_NO_PREALLOC. The value
 * of each rule counts the packets and bytes it dropped (atomic adds:
 * several CPUs may hit the same rule), and a per-CPU array keeps the
 * overall verdicts.
 *
 * Frames that are not IPv4 pass; an IPv4 frame too short for its header is
 * dropped as malformed.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall xdp_firewall.o /sys/fs/bpf/fw pinmaps /sys/fs/bpf/fw_maps
 *   # block 10.0.0.0/8: key = prefixlen (u32, host order) + address (network order)
 *   bpftool map update pinned /sys/fs/bpf/fw_maps/blocked key hex 08 00 00 00 0a 00 00 00 \
 *           value hex 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
 *   bpftool prog run pinned /sys/fs/bpf/fw/xdp_firewall data_in inputs/ipv4_tcp_syn.bin
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_v4_key {
	__u32 prefixlen;	/* bits of addr that count, 0..32 */
	__u8 addr[4];		/* network byte order */
};

struct rule_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* mandatory for LPM tries */
	__type(key, struct lpm_v4_key);
	__type(value, struct rule_stats);
} blocked SEC(".maps");

enum verdict_slot {
	V_PASSED = 0,
	V_DROPPED = 1,
	V_MALFORMED = 2,
	V_MAX = 3,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, V_MAX);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int verdict(__u32 slot, int action)
{
	__u64 *cnt = bpf_map_lookup_elem(&verdicts, &slot);

	if (cnt)
		*cnt += 1;
	return action;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct lpm_v4_key key;
	struct rule_stats *rule;

	if ((void *)(eth + 1) > data_end)
		return verdict(V_MALFORMED, XDP_DROP);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(V_PASSED, XDP_PASS);

	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return verdict(V_MALFORMED, XDP_DROP);

	/* A /32 lookup key: the trie answers with the longest matching prefix. */
	key.prefixlen = 32;
	__builtin_memcpy(key.addr, &iph->saddr, sizeof(key.addr));
	rule = bpf_map_lookup_elem(&blocked, &key);
	if (!rule)
		return verdict(V_PASSED, XDP_PASS);

	__sync_fetch_and_add(&rule->packets, 1);
	__sync_fetch_and_add(&rule->bytes, data_end - data);
	return verdict(V_DROPPED, XDP_DROP);
}

char LICENSE[] SEC("license") = "GPL";
