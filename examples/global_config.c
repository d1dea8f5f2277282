// SPDX-License-Identifier: GPL-2.0
/*
 * global_config — configuration and statistics in global variables (XDP).
 *
 * libbpf turns each global-data section into a one-entry array map, named
 * after the object and the section ("global_c.rodata", "global_c.data",
 * "global_c.bss"; a custom section keeps its own name: ".data.stats"), and
 * rewrites the program's accesses into loads and stores on that map.
 *
 *  - .rodata: `const volatile` settings. A loader may set them before
 *    loading; the map is then frozen and the verifier treats the values
 *    as constants (dead branches are pruned).
 *  - .data: initialised, writable at run time from user space: `enabled`
 *    is a kill switch an operator flips without reloading.
 *  - .bss: zero-initialised counters.
 *  - .data.stats: a custom data section, here a per-protocol tally with a
 *    non-zero initial `version`, so user space can find it by name.
 *  - .rodata.str1.1: the string literal passed to bpf_trace_printk() is
 *    merged by clang into this section, which libbpf also maps.
 *
 * The program blocks TCP and UDP traffic to `blocked_port` (23, telnet):
 * XDP_DROP when `enforce` is set, otherwise it only counts.
 *
 * Built with clang's default CPU (v1).
 *
 *   bpftool prog loadall global_config.o /sys/fs/bpf/gc pinmaps /sys/fs/bpf/gc_maps
 *   bpftool prog run pinned /sys/fs/bpf/gc/global_config data_in inputs/ipv4_tcp_telnet.bin
 *   bpftool map dump pinned /sys/fs/bpf/gc_maps/global_c_bss   # pinned names: '.' -> '_'
 *   bpftool map update pinned /sys/fs/bpf/gc_maps/global_c_data key hex 00 00 00 00 value hex 00 00 00 00
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* .rodata: fixed at load time. */
const volatile __u16 blocked_port = 23;
const volatile __u8 enforce = 1;	/* 1: drop, 0: count only */
const volatile __u8 log_blocked = 1;	/* bpf_trace_printk on each block */

/* .data: initialised, changeable while loaded. */
__u32 enabled = 1;

/* .bss: zero at load. */
__u64 seen;
__u64 blocked;

/* A custom data section. */
struct proto_tally {
	__u32 version;
	__u32 pad;
	__u64 tcp;
	__u64 udp;
	__u64 other;
};
struct proto_tally tally SEC(".data.stats") = { .version = 2 };

SEC("xdp")
int global_config(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__be16 dport;
	void *l4;

	if (!enabled)
		return XDP_PASS;
	__sync_fetch_and_add(&seen, 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl < 5)
		return XDP_PASS;
	l4 = (void *)iph + iph->ihl * 4;

	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return XDP_PASS;
		dport = th->dest;
		__sync_fetch_and_add(&tally.tcp, 1);
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return XDP_PASS;
		dport = uh->dest;
		__sync_fetch_and_add(&tally.udp, 1);
	} else {
		__sync_fetch_and_add(&tally.other, 1);
		return XDP_PASS;
	}

	if (dport != bpf_htons(blocked_port))
		return XDP_PASS;

	__sync_fetch_and_add(&blocked, 1);
	if (log_blocked)
		/* A literal (not bpf_printk's static array) lands in .rodata.str1.1. */
		bpf_trace_printk("global_config: blocked port %d\n",
				 sizeof("global_config: blocked port %d\n"), blocked_port);
	return enforce ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
