/* SPDX-License-Identifier: GPL-2.0 */
/*
 * encap.h - sending a VIP packet on to its backend: push an outer IPv4 or
 * IPv6 header (ipip mode) or rewrite only the Ethernet addresses (l2dsr).
 * The inner packet is never modified, so no inner checksum changes.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include "csum.h"
#include "parse.h"
#include "stats.h"

#define ENCAP_TTL 64

#ifndef IPPROTO_IPIP
#define IPPROTO_IPIP 4
#endif

/*
 * Removes a client's VLAN tag from the frame (l2 of 18 bytes) before it
 * leaves by another interface than it came in on, where the tag would put
 * it on a VLAN of that segment (VLAN hopping). Back out the ingress
 * interface (XDP_TX) it keeps the tag. Returns the L2 length left.
 */
XLB_INLINE __u32 encap_untag(struct xdp_md *ctx, __u32 l2, int same_dev)
{
	if (l2 != 18 || same_dev)
		return l2;
	/* Leaves the tag's inner EtherType where an untagged frame has it. */
	if (bpf_xdp_adjust_head(ctx, 4))
		return 0;
	return 14;
}

/*
 * Writes the L2 header at the front bpf_xdp_adjust_head just made, room
 * bytes before the old one: the next hop's addresses, the outer EtherType,
 * and a VLAN tag (l2 = 18) copied from the old header before the outer IP
 * header overwrites it.
 */
XLB_INLINE int encap_l2(void *data, void *end, __u32 room, __u32 l2,
			const struct xlb_nexthop *nh, __be16 proto)
{
	struct ethhdr *eth = data;

	if (data + room + 18 > end)
		return -1;
	if (l2 == sizeof(*eth)) {
		eth->h_proto = proto;
	} else {
		/* TPID and TCI move; the tag's inner type is the outer's. */
		*(__u32 *)(data + 12) = *(__u32 *)(data + room + 12);
		*(__be16 *)(data + 16) = proto;
	}
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	return 0;
}

XLB_INLINE __u32 encap_ipv4(struct xdp_md *ctx, const struct pkt *p,
			    const struct xlb_backend *be,
			    const struct xlb_config *cfg,
			    const struct xlb_nexthop *nh, __u32 l2_in)
{
	__u32 l2 = l2_in == 18 ? 18 : 14, w[3];
	struct iphdr *o;
	void *data, *end;
	__u64 sum;

	if (!cfg->src4)
		return XLB_STAT_DROP_NO_SRC;
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XLB_STAT_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (encap_l2(data, end, sizeof(struct iphdr), l2, nh,
		     bpf_htons(ETH_P_IP)))
		return XLB_STAT_DROP_ENCAP;
	o = data + l2;
	if ((void *)(o + 1) > end)
		return XLB_STAT_DROP_ENCAP;
	/*
	 * Built as five words and summed in registers: byte and bit-field
	 * stores read back as 16-bit words for the checksum would wait for
	 * each other (no store forwarding across them). Words are in memory
	 * order; the one's-complement sum does not care which.
	 */
	w[0] = bpf_htonl(0x45000000 | ((__u32)p->tos << 16) |
			 (p->ip_len + sizeof(*o)));
	/* Reassembly needs distinct ids when DF is clear: reuse the inner. */
	/* IPv6 inside never fragments on the way; IPv4 keeps its DF bit. */
	w[1] = (p->family == XLB_AF_INET ? (__u32)p->ip_id : 0) |
	       ((p->df || p->family == XLB_AF_INET6) ?
			(__u32)bpf_htons(IP_DF) << 16 :
			0);
	w[2] = bpf_htonl(((__u32)ENCAP_TTL << 24) |
			 ((p->family == XLB_AF_INET ? IPPROTO_IPIP :
						      IPPROTO_IPV6)
			  << 16));
	sum = (__u64)w[0] + w[1] + w[2] + cfg->src4 + be->addr[0];
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	w[2] |= (__u32)(~sum & 0xffff) << 16;
	((__u32 *)o)[0] = w[0];
	((__u32 *)o)[1] = w[1];
	((__u32 *)o)[2] = w[2];
	o->saddr = cfg->src4;
	o->daddr = be->addr[0];
	return 0;
}

XLB_INLINE __u32 encap_ipv6(struct xdp_md *ctx, const struct pkt *p,
			    const struct xlb_backend *be,
			    const struct xlb_config *cfg,
			    const struct xlb_nexthop *nh, __u32 l2_in)
{
	__u32 l2 = l2_in == 18 ? 18 : 14;
	struct ipv6hdr *o;
	void *data, *end;
	__u32 fl;

	if (!(cfg->src6[0] | cfg->src6[1] | cfg->src6[2] | cfg->src6[3]))
		return XLB_STAT_DROP_NO_SRC;
	/* A flow label per client flow spreads flows over backend queues. */
	fl = (bpf_ntohs(p->fk.sport) ^ bpf_ntohl(p->fk.src[3]) ^
	      bpf_ntohl(p->fk.src[0])) & 0xfffff;
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ipv6hdr)))
		return XLB_STAT_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (encap_l2(data, end, sizeof(struct ipv6hdr), l2, nh,
		     bpf_htons(ETH_P_IPV6)))
		return XLB_STAT_DROP_ENCAP;
	o = data + l2;
	if ((void *)(o + 1) > end)
		return XLB_STAT_DROP_ENCAP;
	*(__be32 *)o = bpf_htonl(0x60000000 | ((__u32)p->tos << 20) | fl);
	o->payload_len = bpf_htons(p->ip_len);
	o->nexthdr = p->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	o->hop_limit = ENCAP_TTL;
	o->saddr.in6_u.u6_addr32[0] = cfg->src6[0];
	o->saddr.in6_u.u6_addr32[1] = cfg->src6[1];
	o->saddr.in6_u.u6_addr32[2] = cfg->src6[2];
	o->saddr.in6_u.u6_addr32[3] = cfg->src6[3];
	o->daddr.in6_u.u6_addr32[0] = be->addr[0];
	o->daddr.in6_u.u6_addr32[1] = be->addr[1];
	o->daddr.in6_u.u6_addr32[2] = be->addr[2];
	o->daddr.in6_u.u6_addr32[3] = be->addr[3];
	return 0;
}

/* l2dsr: the packet stays as it is; only the frame is re-addressed. */
XLB_INLINE __u32 encap_l2dsr(struct xdp_md *ctx, const struct pkt *p,
			     const struct xlb_backend *be,
			     const struct xlb_nexthop *nh)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (be->family != p->family)
		return XLB_STAT_DROP_FAMILY;
	if ((void *)(eth + 1) > end)
		return XLB_STAT_DROP_ENCAP;
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	return 0;
}

#endif /* XLB_ENCAP_H */
