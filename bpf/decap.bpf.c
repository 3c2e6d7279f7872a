// SPDX-License-Identifier: GPL-2.0
/*
 * decap.bpf.c - the backend side: strips the outer IPv4/IPv6 header of
 * IPIP, IP6IP6, 4in6 and 6in4 packets addressed to this host, so the inner
 * packet reaches the VIP on loopback. For hosts without the ipip module.
 * The host's addresses and the outer sources it accepts tunnels from (the
 * balancers, `xlb decap attach DEV --from PREFIX`) are fixed at load time
 * (read-only data). A tunnel packet from any other source is dropped and
 * counted: stripped, it would hand whoever can reach the backend a way to
 * put packets from any client to its VIPs past every filter in front.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "frame.h"
#include "xlb.h"

#define XLB_INLINE static __always_inline

const volatile __be32 local4[XLB_DECAP_MAX_ADDRS];
const volatile __u32 n_local4;
const volatile __be32 local6[XLB_DECAP_MAX_ADDRS][4];
const volatile __u32 n_local6;
/* Outer sources accepted, per family; none: that family is refused. */
const volatile struct xlb_decap_prefix from4[XLB_DECAP_MAX_FROM];
const volatile __u32 n_from4;
const volatile struct xlb_decap_prefix from6[XLB_DECAP_MAX_FROM];
const volatile __u32 n_from6;

/* enum xlb_decap_stat counters; read by `xlb decap stats DEV`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xlb_decap_stats SEC(".maps");

XLB_INLINE void decap_stat_inc(enum xlb_decap_stat s)
{
	__u32 k = s;
	__u64 *v = bpf_map_lookup_elem(&xlb_decap_stats, &k);

	if (v)
		(*v)++;
}

XLB_INLINE int decap_is_local4(__be32 a)
{
	int i;

#pragma unroll
	for (i = 0; i < XLB_DECAP_MAX_ADDRS; i++)
		if (i < n_local4 && local4[i] == a)
			return 1;
	return 0;
}

XLB_INLINE int decap_is_local6(const __be32 *a)
{
	int i;

#pragma unroll
	for (i = 0; i < XLB_DECAP_MAX_ADDRS; i++)
		if (i < n_local6 && local6[i][0] == a[0] &&
		    local6[i][1] == a[1] && local6[i][2] == a[2] &&
		    local6[i][3] == a[3])
			return 1;
	return 0;
}

/* The outer IPv4 source is inside one of the --from prefixes. */
XLB_INLINE int decap_from4(__be32 a)
{
	int i;

#pragma unroll
	for (i = 0; i < XLB_DECAP_MAX_FROM; i++)
		if (i < n_from4 && (a & from4[i].mask[0]) == from4[i].addr[0])
			return 1;
	return 0;
}

XLB_INLINE int decap_from6(const __be32 *a)
{
	int i;

#pragma unroll
	for (i = 0; i < XLB_DECAP_MAX_FROM; i++)
		if (i < n_from6 &&
		    (a[0] & from6[i].mask[0]) == from6[i].addr[0] &&
		    (a[1] & from6[i].mask[1]) == from6[i].addr[1] &&
		    (a[2] & from6[i].mask[2]) == from6[i].addr[2] &&
		    (a[3] & from6[i].mask[3]) == from6[i].addr[3])
			return 1;
	return 0;
}

SEC("xdp.frags")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 l2 = sizeof(*eth), hlen;
	__be16 proto, inner_proto;
	__u8 next;
	int from_ok;
	void *l3;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(0x88A8)) {
		__be16 *p = data + sizeof(*eth) + 2;

		if ((void *)(p + 1) > end)
			return XDP_PASS;
		proto = *p;
		l2 += 4;
	}
	l3 = data + l2;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > end || iph->version != 4 || iph->ihl < 5)
			return XDP_PASS;
		/* The whole outer datagram must be there (never strip a stub). */
		if (bpf_ntohs(iph->tot_len) < iph->ihl * 4 ||
		    !frame_holds(ctx, data, end, l3, bpf_ntohs(iph->tot_len)))
			return XDP_PASS;
		/* Fragments go to the kernel, which reassembles them. */
		if (iph->frag_off & bpf_htons(0x3fff))
			return XDP_PASS;
		if (!decap_is_local4(iph->daddr))
			return XDP_PASS;
		hlen = iph->ihl * 4;
		next = iph->protocol;
		from_ok = decap_from4(iph->saddr);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > end || ip6h->version != 6)
			return XDP_PASS;
		if (!frame_holds(ctx, data, end, ip6h + 1,
				 bpf_ntohs(ip6h->payload_len)))
			return XDP_PASS;
		if (!decap_is_local6(ip6h->daddr.in6_u.u6_addr32))
			return XDP_PASS;
		hlen = sizeof(*ip6h);
		next = ip6h->nexthdr;
		from_ok = decap_from6(ip6h->saddr.in6_u.u6_addr32);
	} else {
		return XDP_PASS;
	}
	if (next == IPPROTO_IPIP)
		inner_proto = bpf_htons(ETH_P_IP);
	else if (next == IPPROTO_IPV6)
		inner_proto = bpf_htons(ETH_P_IPV6);
	else
		return XDP_PASS;
	/*
	 * A tunnel to this host from a source that is no balancer: dropped
	 * whatever it carries, so that a kernel tunnel device behind this
	 * program never sees it either.
	 */
	if (!from_ok) {
		decap_stat_inc(XLB_DECAP_STAT_DROP_SOURCE);
		return XDP_DROP;
	}
	/* The inner header must be there and of the announced family. */
	if (l3 + hlen + 1 > end)
		return XDP_PASS;
	if ((*(__u8 *)(l3 + hlen) >> 4) != (next == IPPROTO_IPIP ? 4 : 6))
		return XDP_PASS;

	/* Slide the L2 header forward over the outer IP header. */
	{
		__u8 *src = data, *dst = data + hlen;
		int i;

		if ((void *)dst + 18 > end)
			return XDP_PASS;
#pragma unroll
		for (i = 11; i >= 0; i--)
			dst[i] = src[i];
		if (l2 == sizeof(*eth)) {
			*(__be16 *)(dst + 12) = inner_proto;
		} else {
			dst[12] = src[12];
			dst[13] = src[13];
			dst[14] = src[14];
			dst[15] = src[15];
			*(__be16 *)(dst + 16) = inner_proto;
		}
	}
	/* The Ethernet header has moved already: the frame cannot go on. */
	if (bpf_xdp_adjust_head(ctx, (int)hlen)) {
		decap_stat_inc(XLB_DECAP_STAT_DROP_HEAD);
		return XDP_DROP;
	}
	decap_stat_inc(XLB_DECAP_STAT_DECAP);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
