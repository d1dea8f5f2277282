// SPDX-License-Identifier: GPL-2.0
/*
 * rate_limit — a per-source packet budget per time window (tc ingress).
 *
 * Each IPv4 source may send `budget` packets per window of `window_ns`
 * nanoseconds; packets over the budget are dropped (TC_ACT_SHOT) until
 * the window ends. Both limits are `const volatile` globals in .rodata, so
 * a loader can set them before loading (skeleton->rodata->budget = 100)
 * and the verifier then sees them as constants.
 *
 * The state is kept in two per-CPU hashes keyed by the source address:
 *  - rl_counts: packets passed in the current window, and packets dropped
 *    in total;
 *  - rl_windows: when the current window of that source began
 *    (bpf_ktime_get_ns()).
 * Per-CPU maps take no locks, at the price of a budget per CPU: a source
 * whose packets are spread over N CPUs gets up to N × budget. The window
 * start is kept in a map of its own so that the counters are exactly
 * reproducible (the timestamps are not).
 *
 * Defaults: 3 packets per 60 s, a window far longer than any test run and
 * a budget a test exceeds with a handful of packets, so results never
 * depend on timing.
 *
 * Frames other than IPv4 are not limited.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall rate_limit.o /sys/fs/bpf/rl pinmaps /sys/fs/bpf/rl_maps
 *   bpftool prog run pinned /sys/fs/bpf/rl/rate_limit data_in inputs/ipv4_tcp_syn.bin repeat 5
 *   bpftool map dump pinned /sys/fs/bpf/rl_maps/rl_counts
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u64 window_ns = 60ULL * 1000 * 1000 * 1000;	/* 60 s */
const volatile __u32 budget = 3;				/* packets per window */

struct rl_count {
	__u32 passed;	/* packets let through in the current window */
	__u32 dropped;	/* packets dropped, over all windows */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);			/* IPv4 source address */
	__type(value, struct rl_count);
} rl_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, __u64);			/* window start, ns since boot */
} rl_windows SEC(".maps");

SEC("tc")
int rate_limit(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct rl_count *cnt, zero = {};
	__u64 now, *start;
	__be32 src;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return TC_ACT_OK;
	src = iph->saddr;

	cnt = bpf_map_lookup_elem(&rl_counts, &src);
	if (!cnt) {
		/* First packet of this source. */
		if (bpf_map_update_elem(&rl_counts, &src, &zero, BPF_NOEXIST))
			return TC_ACT_OK;	/* table full: fail open */
		cnt = bpf_map_lookup_elem(&rl_counts, &src);
		if (!cnt)
			return TC_ACT_OK;
	}

	now = bpf_ktime_get_ns();
	start = bpf_map_lookup_elem(&rl_windows, &src);
	if (!start) {
		/* Open the first window. A source whose counts exist without a
		 * window (restored by user space, say) keeps its count. */
		bpf_map_update_elem(&rl_windows, &src, &now, BPF_ANY);
	} else if (now - *start >= window_ns) {
		/* The window is over: a new one begins with a full budget. */
		*start = now;
		cnt->passed = 0;
	}

	if (cnt->passed < budget) {
		cnt->passed++;
		return TC_ACT_OK;
	}
	cnt->dropped++;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
