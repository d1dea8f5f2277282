// SPDX-License-Identifier: GPL-2.0
/*
 * map_in_map — per-tenant port policies in a map of maps (XDP).
 *
 * `tenants` is a BPF_MAP_TYPE_ARRAY_OF_MAPS: each slot holds a whole map,
 * the port policy of one tenant. The inner map type is given by the
 * `__array(values, struct port_policy_map)` template (every inner map must
 * match it: type, key and value sizes, max_entries). The `.values`
 * initialiser puts two declared maps into slots 0 and 2; libbpf inserts
 * them after creating the maps, and user space can swap a tenant's whole
 * policy atomically by updating its slot.
 *
 * The tenant of a packet is the low two bits of its IPv4 destination
 * address. The program looks up the outer map (getting the inner map) and
 * then the destination port in the inner map:
 *  - no inner map in the slot: `unconfigured` counts it, XDP_PASS;
 *  - no rule for the port: `no_rule` counts it, XDP_PASS;
 *  - a rule: its `hits` is incremented and its `action` (an XDP action)
 *    returned.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall map_in_map.o /sys/fs/bpf/mim pinmaps /sys/fs/bpf/mim_maps
 *   # tenant 2 drops SSH: key = port (u16, host order), value = {action, hits}
 *   bpftool map update pinned /sys/fs/bpf/mim_maps/tenant2_ports key hex 16 00 value hex 01 00 00 00 00 00 00 00
 *   bpftool prog run pinned /sys/fs/bpf/mim/map_in_map data_in inputs/ipv4_tcp_syn_b.bin   # retval 1
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct port_policy {
	__u32 action;	/* XDP_DROP, XDP_PASS, ... */
	__u32 hits;
};

/* The inner map template, also the type of the declared inner maps. */
struct port_policy_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);		/* destination port, host order */
	__type(value, struct port_policy);
};

struct port_policy_map tenant0_ports SEC(".maps");
struct port_policy_map tenant2_ports SEC(".maps");
/* A spare map of the same shape, for user space to install anywhere. */
struct port_policy_map spare_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct port_policy_map);
} tenants SEC(".maps") = {
	.values = {
		[0] = &tenant0_ports,
		[2] = &tenant2_ports,
	},
};

__u64 unconfigured;
__u64 no_rule;

SEC("xdp")
int map_in_map(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct port_policy *rule;
	struct udphdr *ports;
	void *policy;
	__u32 tenant;
	__u16 port;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl < 5)
		return XDP_PASS;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	ports = (void *)iph + iph->ihl * 4;	/* TCP and UDP ports sit alike */
	if ((void *)(ports + 1) > data_end)
		return XDP_PASS;

	tenant = bpf_ntohl(iph->daddr) & 3;
	policy = bpf_map_lookup_elem(&tenants, &tenant);
	if (!policy) {
		__sync_fetch_and_add(&unconfigured, 1);
		return XDP_PASS;
	}
	port = bpf_ntohs(ports->dest);
	rule = bpf_map_lookup_elem(policy, &port);
	if (!rule) {
		__sync_fetch_and_add(&no_rule, 1);
		return XDP_PASS;
	}
	__sync_fetch_and_add(&rule->hits, 1);
	return rule->action;
}

char LICENSE[] SEC("license") = "GPL";
