// SPDX-License-Identifier: GPL-2.0
/*
 * baseline.bpf.c - the trivial XDP programs the data-path benchmark
 * measures xlb against: the floor of the hook (drop, pass), the cheapest
 * program that sends every frame back out (MAC swap + XDP_TX), and the
 * cheapest encapsulating one (push a fixed outer header, no lookups),
 * and the memory a new flow cannot avoid touching.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef IPPROTO_IPIP
#define IPPROTO_IPIP 4
#endif
#ifndef IPPROTO_IPV6
#define IPPROTO_IPV6 41
#endif

/* Does nothing: the cost of running any XDP program at all. */
SEC("xdp")
int base_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/*
 * The two random reads of a new flow, and nothing else: a line of a
 * flow-table-sized array and an element of a 65,537-slot table (xlb's
 * slots go two to an 8-byte element: 32,769 of them), at indexes
 * from the client address (a fresh one per run in the benchmark). What
 * these cost is memory and TLB latency, not code: the two reads of a run
 * overlap, the runs do not (mem_chain).
 */
#define MEM_SETS 65536 /* xlb's XLB_FLOW_SETS */
struct mem_set {
	__u64 line[32]; /* 256 bytes: xlb's struct xlb_flow_set */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MEM_SETS);
	__type(key, __u32);
	__type(value, struct mem_set);
} mem_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32769);
	__type(key, __u32);
	__type(value, __u64);
} mem_slots SEC(".maps");

/*
 * What the previous run read, folded into this run's addresses: a run
 * cannot start its reads before the previous run's have arrived, as a
 * program the length of xlb's cannot either (its window of out-of-order
 * work does not reach the next packet). Without it, repeated runs of
 * this short program overlap their misses and time throughput, not the
 * latency a new flow waits for. Always 0 (the maps are never written).
 */
__u64 mem_chain;

SEC("xdp")
int base_memory(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct mem_set *set;
	__u64 h, *slot;
	__u32 idx;

	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	h = ((__u64)ip->saddr ^ mem_chain) * 0x9e3779b97f4a7c15ULL;
	idx = (__u32)(h >> 32) & (MEM_SETS - 1);
	set = bpf_map_lookup_elem(&mem_sets, &idx);
	idx = (__u32)(((h & 0xffffffffULL) * 65537) >> 32) / 2;
	slot = bpf_map_lookup_elem(&mem_slots, &idx);
	if (!set || !slot)
		return XDP_PASS;
	mem_chain = set->line[0] | *slot;
	return mem_chain ? XDP_PASS : XDP_DROP;
}

/* Hands every frame to the kernel. */
SEC("xdp")
int base_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Frames the sink received (the live benchmark's peer interface). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

/* Counts and drops: attached on the peer to see what really arrived. */
SEC("xdp")
int base_sink(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&sink_count, &zero);

	if (c)
		*c += 1;
	return XDP_DROP;
}

/* Bounces every Ethernet frame back where it came from. */
SEC("xdp")
int base_swap_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

/*
 * Outer addresses of the trivial forwarder. The destinations end in 08 00
 * and 86 dd like the benchmark's xlb backends: when the live-frame
 * generator recycles a page without resetting it, the outer header's tail
 * has overwritten the old Ethernet header, and these bytes land on its
 * EtherType, so the recycled frame is again a valid frame of the flow.
 */
#define OUT4_SRC 0x0aff0001 /* 10.255.0.1 */
#define OUT4_DST 0x0a000800 /* 10.0.8.0 */

static __always_inline __u16 csum20(const __u16 *w)
{
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Makes room for an outer header of len bytes and writes the Ethernet
 * header in front of it. Returns the outer header, or NULL.
 */
static __always_inline void *push_outer(struct xdp_md *ctx, int len,
					const __u8 *dmac, const __u8 *smac,
					__be16 proto)
{
	struct ethhdr *eth;
	void *end;

	if (bpf_xdp_adjust_head(ctx, -len))
		return NULL;
	eth = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) + len > end)
		return NULL;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	eth->h_proto = proto;
	return eth + 1;
}

/*
 * A trivial IPIP / IP6IP6 forwarder: no parsing beyond the EtherType, no
 * lookups; pushes one constant outer header and bounces the frame. The
 * floor of what any encapsulating balancer pays.
 */
SEC("xdp")
int base_ipip_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 dmac[ETH_ALEN], smac[ETH_ALEN];
	__u16 inner_len;
	int v6;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		inner_len = bpf_ntohs(ip->tot_len);
		v6 = 0;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		inner_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		v6 = 1;
	} else {
		return XDP_PASS;
	}
	__builtin_memcpy(dmac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);

	if (!v6) {
		struct iphdr *o = push_outer(ctx, sizeof(*o), dmac, smac,
					     bpf_htons(ETH_P_IP));

		if (!o)
			return XDP_DROP;
		o->version = 4;
		o->ihl = 5;
		o->tos = 0;
		o->tot_len = bpf_htons(inner_len + sizeof(*o));
		o->id = 0;
		o->frag_off = bpf_htons(0x4000);
		o->ttl = 64;
		o->protocol = IPPROTO_IPIP;
		o->check = 0;
		o->saddr = bpf_htonl(OUT4_SRC);
		o->daddr = bpf_htonl(OUT4_DST);
		o->check = csum20((const __u16 *)o);
	} else {
		struct ipv6hdr *o = push_outer(ctx, sizeof(*o), dmac, smac,
					       bpf_htons(ETH_P_IPV6));

		if (!o)
			return XDP_DROP;
		*(__be32 *)o = bpf_htonl(0x60000000);
		o->payload_len = bpf_htons(inner_len);
		o->nexthdr = IPPROTO_IPV6;
		o->hop_limit = 64;
		/* fd00:ffff::1 -> fd00:b::86dd */
		o->saddr.in6_u.u6_addr32[0] = bpf_htonl(0xfd00ffff);
		o->saddr.in6_u.u6_addr32[1] = 0;
		o->saddr.in6_u.u6_addr32[2] = 0;
		o->saddr.in6_u.u6_addr32[3] = bpf_htonl(1);
		o->daddr.in6_u.u6_addr32[0] = bpf_htonl(0xfd00000b);
		o->daddr.in6_u.u6_addr32[1] = 0;
		o->daddr.in6_u.u6_addr32[2] = 0;
		o->daddr.in6_u.u6_addr32[3] = bpf_htonl(0x86dd);
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
