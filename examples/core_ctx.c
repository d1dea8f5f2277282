// SPDX-License-Identifier: GPL-2.0
/*
 * core_ctx — read the tc context through CO-RE relocations (tc).
 *
 * The program does not use the layout of `struct __sk_buff` from the
 * headers it was built with: it declares its own flavour,
 * `struct __sk_buff___local` (libbpf ignores everything from the triple
 * underscore on when matching type names), with only the fields it needs
 * and in a different order, marked __attribute__((preserve_access_index)).
 * clang then records a CO-RE relocation (.BTF.ext) for every field access
 * instead of a fixed offset, and libbpf patches each instruction with the
 * offset of the field of that name in the kernel's own BTF
 * (/sys/kernel/btf/vmlinux). Because the local order differs from the
 * kernel's, a loader that skipped the relocations would read the wrong
 * fields.
 *
 * bpf_core_field_exists() and bpf_core_field_size() are relocations too:
 * they become constants at load time. `tstamp` exists in every kernel with
 * BTF; `not_in_any_kernel` exists in none, so its check is 0 and the
 * branch that would read it is dead code.
 *
 * BPF_CORE_READ() is deliberately not used: it reads through
 * bpf_probe_read_kernel(), which on a tc context pointer would read the
 * kernel's internal `struct sk_buff`, not the __sk_buff view that context
 * accesses are rewritten to. Direct field accesses are the CO-RE way to
 * read a context.
 *
 * What was read is stored in the .bss struct `seen`; the packet passes.
 *
 * Built with -mcpu=v3.
 *
 *   bpftool prog loadall core_ctx.o /sys/fs/bpf/core pinmaps /sys/fs/bpf/core_maps
 *   bpftool prog run pinned /sys/fs/bpf/core/core_ctx data_in inputs/arp_request.bin
 *   bpftool map dump pinned /sys/fs/bpf/core_maps/core_ctx_bss
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Our view of the context: a subset, in our own order. */
struct __sk_buff___local {
	__u32 protocol;
	__u32 ifindex;
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u64 tstamp;
	__u32 not_in_any_kernel;
} __attribute__((preserve_access_index));

struct ctx_seen {
	__u32 len;
	__u32 protocol;		/* network byte order, as in the context */
	__u32 pkt_type;
	__u32 ifindex;
	__u32 mark;
	__u32 has_tstamp;	/* bpf_core_field_exists(tstamp) */
	__u32 tstamp_size;	/* bpf_core_field_size(tstamp) */
	__u32 has_fake;		/* bpf_core_field_exists(not_in_any_kernel) */
	__u32 fake;		/* read only when it exists: stays 0 */
	__u32 runs;
};

struct ctx_seen seen;

SEC("tc")
int core_ctx(struct __sk_buff *ctx)
{
	struct __sk_buff___local *skb = (void *)ctx;

	seen.len = skb->len;
	seen.protocol = skb->protocol;
	seen.pkt_type = skb->pkt_type;
	seen.ifindex = skb->ifindex;
	seen.has_tstamp = bpf_core_field_exists(skb->tstamp);
	seen.tstamp_size = bpf_core_field_size(skb->tstamp);
	seen.has_fake = bpf_core_field_exists(skb->not_in_any_kernel);
	if (bpf_core_field_exists(skb->not_in_any_kernel))
		seen.fake = skb->not_in_any_kernel;

	/* A context write through a relocated offset: tag the packet. */
	skb->mark = 0x5eed;
	seen.mark = skb->mark;
	seen.runs++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
