// SPDX-License-Identifier: GPL-2.0
/*
 * parser — a packet classifier built from BPF subprograms (XDP).
 *
 * Each protocol layer has its own function. The `static __noinline` ones
 * are BPF-to-BPF calls that the verifier analyses in the caller's context
 * (so they may take pointers into the packet); the global (non-static)
 * functions are verified once on their own, from their BTF signature, and
 * may only take the context, scalars and pointers to sized memory.
 *
 *   parse_eth      Ethernet, up to two 802.1Q / 802.1ad VLAN tags
 *   parse_ipv4     IPv4 header (options allowed), no fragments
 *   parse_ipv6     fixed IPv6 header
 *   parse_tcp      TCP ports (global: takes the context and an offset)
 *   parse_udp      UDP ports (global)
 *   app_class      well-known port -> application class (global, scalars)
 *
 * The result is counted in two arrays: `class_count` (enum pkt_class) and
 * `app_count` (enum app_class); .bss `last` keeps the last classification.
 * Malformed packets are dropped, the rest passed.
 *
 * Built with -mcpu=v4: bpf_ntohs() becomes the v4 unconditional byte swap
 * (`r1 = bswap16 r1`, BPF_ALU64 | BPF_END) instead of the v1 `be16`.
 *
 *   bpftool prog loadall parser.o /sys/fs/bpf/parser pinmaps /sys/fs/bpf/parser_maps
 *   bpftool prog run pinned /sys/fs/bpf/parser/parser data_in inputs/vlan_ipv4_udp.bin
 *   bpftool map dump pinned /sys/fs/bpf/parser_maps/class_count
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

enum pkt_class {
	CLASS_UNKNOWN = 0,	/* not IP, not ARP */
	CLASS_ARP,
	CLASS_IPV4_TCP,
	CLASS_IPV4_UDP,
	CLASS_IPV4_ICMP,
	CLASS_IPV4_OTHER,
	CLASS_IPV6_TCP,
	CLASS_IPV6_UDP,
	CLASS_IPV6_ICMP,
	CLASS_IPV6_OTHER,
	CLASS_MALFORMED,
	CLASS_MAX = 16,
};

enum app_class {
	APP_NONE = 0,	/* no ports, or none we know */
	APP_DNS,
	APP_HTTP,
	APP_HTTPS,
	APP_SSH,
	APP_MAX = 8,
};

struct l4_ports {
	__u16 sport;	/* host byte order */
	__u16 dport;
};

struct classification {
	__u32 class;
	__u32 app;
	__u16 vlan_id;	/* outer VLAN, 0 if none */
	__u8 vlan_depth;
	__u8 l4_proto;
	__u16 l3_off;
	__u16 l4_off;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLASS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} class_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, APP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} app_count SEC(".maps");

struct classification last;

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Returns the EtherType after the VLAN tags (host order), or -1. The
 * cursor *off moves past the Ethernet header and the tags. */
static __noinline int parse_eth(void *data, void *data_end, __u32 *off, struct classification *c)
{
	struct ethhdr *eth = data;
	struct vlan_hdr *vh;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	*off = sizeof(*eth);

#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		vh = data + *off;
		if ((void *)(vh + 1) > data_end)
			return -1;
		if (i == 0)
			c->vlan_id = bpf_ntohs(vh->tci) & 0x0fff;
		c->vlan_depth++;
		proto = bpf_ntohs(vh->encap_proto);
		*off += sizeof(*vh);
	}
	return proto;
}

/* Returns the IP protocol, or -1; *off moves to the L4 header. */
static __noinline int parse_ipv4(void *data, void *data_end, __u32 *off)
{
	struct iphdr *iph;
	__u32 hlen;

	if (*off > 64)
		return -1;
	iph = data + *off;
	if ((void *)(iph + 1) > data_end || iph->version != 4)
		return -1;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph) || data + *off + hlen > data_end)
		return -1;
	if (iph->frag_off & bpf_htons(0x3fff))	/* MF or an offset */
		return -1;
	*off += hlen;
	return iph->protocol;
}

static __noinline int parse_ipv6(void *data, void *data_end, __u32 *off)
{
	struct ipv6hdr *ip6h;

	if (*off > 64)
		return -1;
	ip6h = data + *off;
	if ((void *)(ip6h + 1) > data_end || ip6h->version != 6)
		return -1;
	*off += sizeof(*ip6h);
	return ip6h->nexthdr;
}

/* Global functions: verified independently of their callers. */
__noinline int parse_tcp(struct xdp_md *ctx, __u32 off, struct l4_ports *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *th;

	if (!p || off > 128)
		return -1;
	th = data + off;
	if ((void *)(th + 1) > data_end || th->doff < 5)
		return -1;
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	return 0;
}

__noinline int parse_udp(struct xdp_md *ctx, __u32 off, struct l4_ports *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct udphdr *uh;

	if (!p || off > 128)
		return -1;
	uh = data + off;
	if ((void *)(uh + 1) > data_end || bpf_ntohs(uh->len) < sizeof(*uh))
		return -1;
	p->sport = bpf_ntohs(uh->source);
	p->dport = bpf_ntohs(uh->dest);
	return 0;
}

__noinline int app_class(__u32 sport, __u32 dport)
{
	/* The lower port is usually the service. */
	__u32 port = sport < dport ? sport : dport;

	switch (port) {
	case 53:
		return APP_DNS;
	case 80:
	case 8080:
		return APP_HTTP;
	case 443:
		return APP_HTTPS;
	case 22:
		return APP_SSH;
	default:
		return APP_NONE;
	}
}

static __noinline __u32 classify(struct xdp_md *ctx, struct classification *c)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct l4_ports ports = {};
	__u32 off = 0;
	int proto, ethertype, v6, err;

	ethertype = parse_eth(data, data_end, &off, c);
	if (ethertype < 0)
		return CLASS_MALFORMED;
	if (ethertype == ETH_P_ARP)
		return CLASS_ARP;
	if (ethertype != ETH_P_IP && ethertype != ETH_P_IPV6)
		return CLASS_UNKNOWN;

	v6 = ethertype == ETH_P_IPV6;
	c->l3_off = off;
	proto = v6 ? parse_ipv6(data, data_end, &off) : parse_ipv4(data, data_end, &off);
	if (proto < 0)
		return CLASS_MALFORMED;
	c->l4_off = off;
	c->l4_proto = proto;

	switch (proto) {
	case IPPROTO_TCP:
		err = parse_tcp(ctx, off, &ports);
		break;
	case IPPROTO_UDP:
		err = parse_udp(ctx, off, &ports);
		break;
	case IPPROTO_ICMP:
		return v6 ? CLASS_IPV6_OTHER : CLASS_IPV4_ICMP;
	case IPPROTO_ICMPV6:
		return v6 ? CLASS_IPV6_ICMP : CLASS_IPV4_OTHER;
	default:
		return v6 ? CLASS_IPV6_OTHER : CLASS_IPV4_OTHER;
	}
	if (err)
		return CLASS_MALFORMED;
	c->app = app_class(ports.sport, ports.dport);
	if (proto == IPPROTO_TCP)
		return v6 ? CLASS_IPV6_TCP : CLASS_IPV4_TCP;
	return v6 ? CLASS_IPV6_UDP : CLASS_IPV4_UDP;
}

SEC("xdp")
int parser(struct xdp_md *ctx)
{
	struct classification c = {};
	__u64 *cnt;
	__u32 app;

	c.class = classify(ctx, &c);
	last = c;

	cnt = bpf_map_lookup_elem(&class_count, &c.class);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	app = c.app;
	cnt = bpf_map_lookup_elem(&app_count, &app);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	return c.class == CLASS_MALFORMED ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
