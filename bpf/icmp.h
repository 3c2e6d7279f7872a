/* SPDX-License-Identifier: GPL-2.0 */
/*
 * icmp.h - a client packet that would exceed the path MTU once
 * encapsulated is answered, like a router would, with ICMP "fragmentation
 * needed" (IPv4 with DF) or ICMPv6 "packet too big", sent back out the
 * ingress interface, so the client lowers its MSS/PMTU instead of its
 * connection hanging. The quote is the client's IP header and the first 8
 * bytes after it, which is what its stack needs to find the socket.
 */
#ifndef XLB_ICMP_H
#define XLB_ICMP_H

#include "csum.h"
#include "encap.h"
#include "parse.h"
#include "stats.h"

#define ICMP_FRAG_NEEDED 4
#define ICMPV6_PKT_TOOBIG 2
#define ICMP_Q4 (20 + 8) /* quoted: IPv4 header (no options) + 8 bytes */
#define ICMP_Q6 (40 + 8) /* quoted: IPv6 header + 8 bytes */

XLB_INLINE __u16 icmp_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/*
 * Moves the L2 header (14 bytes, or 18 with a VLAN tag) from behind the
 * room just made by bpf_xdp_adjust_head to the new front.
 */
XLB_INLINE int icmp_move_l2(void *data, void *end, __u32 room, __u32 l2)
{
	__u32 *dst = data;
	__u32 *src = data + room;

	if ((void *)src + 18 > end)
		return -1;
	/* 4-byte copies; the VLAN tag is the fifth word when present. */
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	((__u16 *)dst)[6] = ((__u16 *)src)[6];
	if (l2 > sizeof(struct ethhdr))
		*(__u32 *)((void *)dst + 14) = *(__u32 *)((void *)src + 14);
	return 0;
}

/* Turns the frame around: the reply goes back to whoever sent it. */
XLB_INLINE int icmp_swap_macs(void *data, void *end)
{
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return -1;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return 0;
}

/*
 * Rebuilds the frame as L2 + room (the reply's IP and ICMP headers) +
 * quote (the start of the client's datagram, left in place), addressed
 * back to its sender; *l3 points at the room. Returns 0, or a drop reason.
 */
XLB_INLINE __u32 icmp_reshape(struct xdp_md *ctx, __u32 l2, __u32 room,
			      __u32 quote, void **l3)
{
	void *data, *end;
	int delta;

	if (bpf_xdp_adjust_head(ctx, -(int)room))
		return XLB_STAT_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (icmp_move_l2(data, end, room, l2) || icmp_swap_macs(data, end))
		return XLB_STAT_DROP_ENCAP;
	/* The whole frame, fragments included, shrinks to the reply. */
	delta = (int)(l2 + room + quote) - (int)bpf_xdp_get_buff_len(ctx);
	if (delta > 0 || bpf_xdp_adjust_tail(ctx, delta))
		return XLB_STAT_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	*l3 = data + l2;
	if (*l3 + room + quote > end)
		return XLB_STAT_DROP_ENCAP;
	return 0;
}

XLB_INLINE int icmp4_too_big(struct xdp_md *ctx, const struct pkt *p,
			     const struct xlb_config *cfg, __u32 mtu)
{
	__u32 l2 = p->l3_off == 18 ? 18 : 14, room = 20 + 8;
	struct iphdr *o, *q;
	struct icmp_hdr *ic;
	void *data, *end;
	__u32 rc;

	/* DF clear: a router would fragment; IP options: no fixed quote. */
	if (!p->df || !cfg->src4 || p->icmp_err || p->frag)
		return stat_drop(XLB_STAT_DROP_MTU);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	q = data + l2;
	if ((void *)(q + 1) > end || q->ihl != 5)
		return stat_drop(XLB_STAT_DROP_MTU);
	rc = icmp_reshape(ctx, l2, room, ICMP_Q4, (void **)&o);
	if (rc)
		return stat_drop(rc);
	ic = (void *)(o + 1);
	q = (void *)(ic + 1);
	ic->type = ICMP_DEST_UNREACH;
	ic->code = ICMP_FRAG_NEEDED;
	ic->checksum = 0;
	ic->rest = bpf_htonl(mtu & 0xffff);
	ic->checksum = icmp_fold(bpf_csum_diff(0, 0, (void *)ic, 8 + ICMP_Q4, 0));
	o->version = 4;
	o->ihl = 5;
	o->tos = 0;
	o->tot_len = bpf_htons(20 + 8 + ICMP_Q4);
	o->id = 0;
	o->frag_off = 0;
	o->ttl = ENCAP_TTL;
	o->protocol = IPPROTO_ICMP;
	o->check = 0;
	o->saddr = cfg->src4;
	o->daddr = q->saddr;
	o->check = csum_ipv4_hdr(o);
	stat_inc(XLB_STAT_TOO_BIG);
	return XDP_TX;
}

XLB_INLINE int icmp6_too_big(struct xdp_md *ctx, const struct pkt *p,
			     const struct xlb_config *cfg, __u32 mtu)
{
	__u32 l2 = p->l3_off == 18 ? 18 : 14, room = 40 + 8;
	struct ipv6hdr *o, *q;
	struct icmp_hdr *ic;
	__s64 sum;
	__u32 rc;

	if (!(cfg->src6[0] | cfg->src6[1] | cfg->src6[2] | cfg->src6[3]) ||
	    p->icmp_err || p->frag)
		return stat_drop(XLB_STAT_DROP_MTU);
	rc = icmp_reshape(ctx, l2, room, ICMP_Q6, (void **)&o);
	if (rc)
		return stat_drop(rc);
	ic = (void *)(o + 1);
	q = (void *)(ic + 1);
	*(__be32 *)o = bpf_htonl(0x60000000);
	o->payload_len = bpf_htons(8 + ICMP_Q6);
	o->nexthdr = IPPROTO_ICMPV6;
	o->hop_limit = ENCAP_TTL;
	o->saddr.in6_u.u6_addr32[0] = cfg->src6[0];
	o->saddr.in6_u.u6_addr32[1] = cfg->src6[1];
	o->saddr.in6_u.u6_addr32[2] = cfg->src6[2];
	o->saddr.in6_u.u6_addr32[3] = cfg->src6[3];
	o->daddr = q->saddr;
	ic->type = ICMPV6_PKT_TOOBIG;
	ic->code = 0;
	ic->checksum = 0;
	ic->rest = bpf_htonl(mtu);
	/* Pseudo-header (addresses, length, next header), then the message. */
	sum = bpf_csum_diff(0, 0, (void *)&o->saddr, 32, 0);
	sum = bpf_csum_diff(0, 0, (void *)ic, 8 + ICMP_Q6, (__u32)sum);
	sum += bpf_htonl(8 + ICMP_Q6) + bpf_htonl(IPPROTO_ICMPV6);
	ic->checksum = icmp_fold(sum);
	stat_inc(XLB_STAT_TOO_BIG);
	return XDP_TX;
}

#endif /* XLB_ICMP_H */
