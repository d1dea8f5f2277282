// SPDX-License-Identifier: GPL-2.0
/*
 * vlan_strip — remove an 802.1Q tag and truncate long frames (XDP).
 *
 *  - A frame with an 802.1Q (or 802.1ad) tag loses it: the two MAC
 *    addresses are copied 4 bytes forward, over the tag, and
 *    bpf_xdp_adjust_head(ctx, 4) moves the start of the frame past the old
 *    first 4 bytes. The tag's VLAN id and priority are kept in .bss.
 *  - A frame longer than `snaplen` (128 bytes, a `const volatile`) is cut
 *    to that length with bpf_xdp_adjust_tail(ctx, snaplen - len), e.g. for
 *    a packet sampler that only needs the headers.
 * Both helpers invalidate every packet pointer; they are reloaded from ctx.
 * bpf_printk() reports each stripped tag in the trace pipe
 * (/sys/kernel/tracing/trace_pipe).
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall vlan_strip.o /sys/fs/bpf/vs pinmaps /sys/fs/bpf/vs_maps
 *   bpftool prog run pinned /sys/fs/bpf/vs/vlan_strip data_in inputs/vlan_ipv4_udp.bin \
 *           data_out out.bin      # out.bin: the untagged frame, 4 bytes shorter
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 snaplen = 128;

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

__u64 stripped;
__u64 truncated;
__u16 last_vid;
__u8 last_pcp;

SEC("xdp")
int vlan_strip(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);
	unsigned char macs[2 * ETH_ALEN];
	__u32 len;

	if ((void *)(vh + 1) <= data_end &&
	    (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))) {
		__u16 tci = bpf_ntohs(vh->tci);

		last_vid = tci & 0x0fff;
		last_pcp = tci >> 13;
		/* dst+src MACs go right before the inner EtherType */
		__builtin_memcpy(macs, eth, sizeof(macs));
		if (bpf_xdp_adjust_head(ctx, (int)sizeof(*vh)))
			return XDP_ABORTED;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		if (data + sizeof(struct ethhdr) > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(data, macs, sizeof(macs));
		__sync_fetch_and_add(&stripped, 1);
		bpf_printk("vlan_strip: vid %u pcp %u", last_vid, last_pcp);
	}

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	len = data_end - data;
	if (len > snaplen) {
		if (bpf_xdp_adjust_tail(ctx, (int)snaplen - (int)len))
			return XDP_ABORTED;
		__sync_fetch_and_add(&truncated, 1);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
