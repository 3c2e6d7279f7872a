// SPDX-License-Identifier: GPL-2.0
/*
 * baseline.bpf.c - the trivial XDP programs the data-path benchmark
 * measures xlb against: the floor of the hook (drop, pass), the cheapest
 * program that sends every frame back out (MAC swap + XDP_TX), and the
 * cheapest encapsulating one (push a fixed outer header, no lookups),
 * that one with the flow-table lookup an established flow cannot skip,
 * and the memory a new flow cannot avoid touching.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "xlb.h"
#include "xlb_hash.h"

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

/*
 * The trivial forwarder's outer header, written as xlb writes its own:
 * whole words, the IPv4 checksum summed in registers (no byte stores read
 * back as words), so the floor is not raised by the way it is written.
 * eth is the frame's header as bound_key checked it; len the datagram's.
 */
static __always_inline int bound_push(struct xdp_md *ctx, struct ethhdr *eth,
				      int v6, __u32 len)
{
	__u8 dmac[ETH_ALEN], smac[ETH_ALEN];
	__u32 w0, w2;
	__u64 sum;

	__builtin_memcpy(dmac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);
	if (!v6) {
		__u32 *o = push_outer(ctx, sizeof(struct iphdr), dmac, smac,
				      bpf_htons(ETH_P_IP));

		if (!o)
			return XDP_DROP;
		w0 = bpf_htonl(0x45000000 | (len + sizeof(struct iphdr)));
		w2 = bpf_htonl(64 << 24 | IPPROTO_IPIP << 16);
		sum = (__u64)w0 + bpf_htons(0x4000) + w2 + bpf_htonl(OUT4_SRC) +
		      bpf_htonl(OUT4_DST);
		sum = (sum & 0xffffffff) + (sum >> 32);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		o[0] = w0;
		o[1] = bpf_htons(0x4000) << 16;
		o[2] = w2 | (__u32)(~sum & 0xffff) << 16;
		o[3] = bpf_htonl(OUT4_SRC);
		o[4] = bpf_htonl(OUT4_DST);
	} else {
		__u32 *o = push_outer(ctx, sizeof(struct ipv6hdr), dmac, smac,
				      bpf_htons(ETH_P_IPV6));

		if (!o)
			return XDP_DROP;
		o[0] = bpf_htonl(0x60000000);
		o[1] = bpf_htonl(len << 16 | IPPROTO_IPV6 << 8 | 64);
		o[2] = bpf_htonl(0xfd00ffff);
		o[3] = 0;
		o[4] = 0;
		o[5] = bpf_htonl(1);
		o[6] = bpf_htonl(0xfd00000b);
		o[7] = 0;
		o[8] = 0;
		o[9] = bpf_htonl(0x86dd);
	}
	return XDP_TX;
}

/*
 * The flow-table probe an established flow cannot skip, and nothing else:
 * the flow key from Ethernet, IPv4 or IPv6 (no options or extension
 * headers) and TCP/UDP ports, xlb's keyed flow hash, one set of a table
 * laid out as xlb's (struct xlb_flow_set), its tags and the matching way's
 * key compared; a hit pushes the trivial forwarder's outer header. No
 * VIP check, no counters, no next hop, no backend state: the floor of a
 * balancer that keeps established flows on their backend.
 */
#define BOUND_SETS 1024

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BOUND_SETS);
	__type(key, __u32);
	__type(value, struct xlb_flow_set);
} bound_flows SEC(".maps");

__u64 bound_seed[2]; /* the bench sets it and fills bound_flows with it */

/* The flow key, and the IP datagram's length in *len; -1 if none. */
static __always_inline int bound_key(void *data, void *end,
				     struct xlb_flow_key *k, __u32 *len)
{
	struct ethhdr *eth = data;
	__be16 *ports;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5)
			return -1;
		*len = bpf_ntohs(ip->tot_len);
		k->src[0] = ip->saddr;
		k->dst[0] = ip->daddr;
		k->proto = ip->protocol;
		k->family = XLB_AF_INET;
		ports = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		*len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(k->src, &ip6->saddr, 16);
		__builtin_memcpy(k->dst, &ip6->daddr, 16);
		k->proto = ip6->nexthdr;
		k->family = XLB_AF_INET6;
		ports = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return -1;
	if ((void *)(ports + 2) > end)
		return -1;
	k->sport = ports[0];
	k->dport = ports[1];
	return 0;
}

SEC("xdp")
int base_flow_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xlb_flow_key k = {};
	struct xlb_flow_set *s;
	__u64 h, tag;
	__u32 idx, len;
	int i, hit = 0;

	if (bound_key(data, end, &k, &len))
		return XDP_PASS;
	h = xlb_flow_hash(bound_seed, &k);
	idx = xlb_flow_set_of(h, BOUND_SETS);
	s = bpf_map_lookup_elem(&bound_flows, &idx);
	if (!s)
		return XDP_PASS;
	tag = xlb_flow_tag(h);
#pragma unroll
	for (i = 0; i < XLB_FLOW_WAYS; i++)
		if (s->tag[i] == tag && xlb_flow_key_eq(&s->way[i].key, &k))
			hit = 1;
	if (!hit)
		return XDP_PASS;
	return bound_push(ctx, data, k.family == XLB_AF_INET6, len);
}

char LICENSE[] SEC("license") = "GPL";
