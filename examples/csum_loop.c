// SPDX-License-Identifier: GPL-2.0
/*
 * csum_loop — verify IPv4 header checksums with bpf_loop (socket filter).
 *
 * A socket filter for AF_PACKET SOCK_DGRAM sockets (and any socket whose
 * packets start at the network header, which is also what
 * BPF_PROG_TEST_RUN gives a socket filter): offset 0 of
 * bpf_skb_load_bytes() is the IP header.
 *
 * bpf_loop(n, callback, ctx, 0) calls the callback n times without the
 * verifier having to unroll anything; the callback gets the iteration
 * number and a pointer to a context struct on the caller's stack, and
 * returns 0 to continue or 1 to stop early.
 *
 *  1. The IPv4 header checksum is summed 16 bits at a time (ihl * 2
 *     iterations); a header whose sum is not 0xffff is corrupt, and the
 *     filter drops the packet (returns 0).
 *  2. A histogram of the high nibble of the first `hist_bytes` bytes (or of
 *     the whole packet if shorter) is added to the .bss array `hist`
 *     (byte_count counts the bytes looked at).
 *
 * Packets that are not IPv4 are kept whole. A socket filter returns how
 * many bytes to keep: skb->len for all of it.
 *
 * Built with -mcpu=v2.
 *
 *   bpftool prog loadall csum_loop.o /sys/fs/bpf/cl pinmaps /sys/fs/bpf/cl_maps
 *   bpftool prog run pinned /sys/fs/bpf/cl/csum_loop data_in inputs/ipv4_bad_csum.bin   # retval 0
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 hist_bytes = 64;

__u64 hist[16];		/* high nibble -> count */
__u64 byte_count;
__u64 bad_checksums;

struct sum_ctx {
	struct __sk_buff *skb;
	__u32 sum;
	int err;
};

static long sum_word(__u32 i, struct sum_ctx *c)
{
	__u16 word;

	if (bpf_skb_load_bytes(c->skb, i * 2, &word, sizeof(word))) {
		c->err = 1;
		return 1;	/* stop */
	}
	c->sum += bpf_ntohs(word);
	return 0;		/* next */
}

struct hist_ctx {
	struct __sk_buff *skb;
	__u32 counted;
};

static long hist_byte(__u32 i, struct hist_ctx *c)
{
	__u8 byte;

	if (bpf_skb_load_bytes(c->skb, i, &byte, 1))
		return 1;
	__sync_fetch_and_add(&hist[byte >> 4], 1);
	c->counted++;
	return 0;
}

SEC("socket")
int csum_loop(struct __sk_buff *skb)
{
	struct hist_ctx hc = { .skb = skb };
	__u32 n = skb->len < hist_bytes ? skb->len : hist_bytes;
	__u8 vihl;

	bpf_loop(n, hist_byte, &hc, 0);
	__sync_fetch_and_add(&byte_count, hc.counted);

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return skb->len;
	if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || (vihl >> 4) != 4 || (vihl & 0xf) < 5)
		return 0;

	struct sum_ctx sc = { .skb = skb };

	bpf_loop((vihl & 0xf) * 2, sum_word, &sc, 0);
	sc.sum = (sc.sum & 0xffff) + (sc.sum >> 16);
	sc.sum = (sc.sum & 0xffff) + (sc.sum >> 16);
	if (sc.err || sc.sum != 0xffff) {
		__sync_fetch_and_add(&bad_checksums, 1);
		return 0;
	}
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
