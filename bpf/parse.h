/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - packet parsing: Ethernet, one optional VLAN tag, IPv4 (with
 * options), IPv6 (with a bounded chain of extension headers), TCP, UDP and
 * the packet embedded in ICMP/ICMPv6 errors. The result is the flow key of
 * the client-to-VIP direction plus what forwarding needs.
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "frame.h"
#include "xlb.h"

#define XLB_INLINE static __always_inline

/* ICMP and ICMPv6 share this 8-byte header (linux/icmp.h pulls in libc). */
struct icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};

#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PARAMPROB 4

#define PARSE_MAX_EXTHDRS 4 /* IPv6 extension headers skipped at most */

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP_DF 0x4000

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/*
 * Verdict of parsing: PARSE_OK, PARSE_PASS, or why a packet to a possible
 * VIP address must not be forwarded (an enum xlb_stat drop reason; the
 * key then holds its addresses and protocol, for the alias lookup).
 */
enum parse_res {
	PARSE_OK = 0, /* a candidate for VIP lookup */
	PARSE_PASS = 1, /* not for us: hand to the kernel unchanged */
	PARSE_BAD = XLB_STAT_DROP_MALFORMED, /* truncated or inconsistent */
};
_Static_assert(XLB_STAT_DROP_FIRST > PARSE_PASS, "drop reasons are verdicts");

/* struct pkt's frag bits. */
#define PKT_FRAG 0x1 /* an IP fragment: steered by its address's alias */
#define PKT_FRAG_FIRST 0x2 /* offset 0: its ports are in the key */
#define PKT_FRAG_NOPROTO 0x4 /* IPv6: the fragment header names an
				extension header: the protocol-0 alias */

struct pkt {
	struct xlb_flow_key fk; /* client -> VIP */
	__u32 l3_off; /* bytes of L2 header (14 or 18) */
	__u32 ip_len; /* IP datagram length (outer if an ICMP error) */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 of the IP header */
	__u8 tos; /* DSCP/ECN byte */
	__u8 frag; /* PKT_FRAG* bits if an IP fragment, else 0 */
	__u8 icmp_err; /* 1 if the key comes from an ICMP error's payload */
	__u8 tcp_flags; /* byte 13 of the TCP header, 0 otherwise */
	__u8 df; /* IPv4 DF set on the packet */
	__be16 ip_id; /* IPv4 identification, for the outer header */
};

/*
 * Reads the ports (and TCP flags) of an L4 header. avail is what the IP
 * datagram holds from l4 on: a frame may be longer than its datagram
 * (Ethernet padding), and padding is not a header.
 */
XLB_INLINE int parse_l4_ports(void *l4, void *end, __u32 avail, __u8 proto,
			      __be16 *src, __be16 *dst, __u8 *flags, int full)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if (avail < (full ? sizeof(*th) : 8))
			return -1;
		if (full) {
			if ((void *)(th + 1) > end)
				return -1;
			/* A header longer than the segment is no segment. */
			if (th->doff < 5 || th->doff * 4 > avail)
				return -1;
			*flags = ((__u8 *)th)[13];
		} else if (l4 + 8 > end) {
			return -1;
		}
		*src = th->source;
		*dst = th->dest;
		return 0;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if (avail < sizeof(*uh) || (void *)(uh + 1) > end)
			return -1;
		if (full && (bpf_ntohs(uh->len) < sizeof(*uh) ||
			     bpf_ntohs(uh->len) > avail))
			return -1;
		*src = uh->source;
		*dst = uh->dest;
		return 0;
	}
	return -1;
}

/*
 * The packet embedded in an ICMP error was sent by a backend (VIP -> client):
 * swap it into the client -> VIP key so the error reaches that backend.
 */
XLB_INLINE int parse_icmp4_inner(struct pkt *p, void *inner, void *end,
				 __u32 avail)
{
	struct iphdr *ih = inner;
	__u32 ihl;

	if (avail < sizeof(*ih) || (void *)(ih + 1) > end)
		return PARSE_PASS;
	if (ih->version != 4 || ih->ihl < 5)
		return PARSE_PASS;
	if (ih->protocol != IPPROTO_TCP && ih->protocol != IPPROTO_UDP)
		return PARSE_PASS;
	ihl = ih->ihl * 4;
	if (ihl > avail)
		return PARSE_PASS;
	if (parse_l4_ports(inner + ihl, end, avail - ihl, ih->protocol,
			   &p->fk.dport, &p->fk.sport, &p->tcp_flags, 0))
		return PARSE_PASS;
	p->fk.src[0] = ih->daddr;
	p->fk.dst[0] = ih->saddr;
	p->fk.proto = ih->protocol;
	p->tcp_flags = 0;
	p->icmp_err = 1;
	return PARSE_OK;
}

/* The IPv4 header's part of the key (its addresses and protocol). */
XLB_INLINE void parse_ipv4_key(struct pkt *p, const struct iphdr *iph)
{
	p->family = XLB_AF_INET;
	p->fk.family = XLB_AF_INET;
	p->fk.src[0] = iph->saddr;
	p->fk.dst[0] = iph->daddr;
	p->fk.proto = iph->protocol;
}

/* What the outer header copies from an IPv4 datagram of tot bytes. */
XLB_INLINE void parse_ipv4_meta(struct pkt *p, const struct iphdr *iph,
				__u32 tot)
{
	p->tos = iph->tos;
	p->ip_len = tot;
	p->df = !!(iph->frag_off & bpf_htons(IP_DF));
	p->ip_id = iph->id;
}

/*
 * Sources no router forwards from (RFC 1812 5.3.7, RFC 4291 2.5.2-2.7):
 * this network (0/8), loopback, multicast, limited broadcast; the
 * unspecified, loopback, IPv4-mapped and multicast IPv6 addresses.
 */
XLB_INLINE int parse_martian4(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) == 0xe ||
	       h == 0xffffffff;
}

XLB_INLINE int parse_martian6(const __be32 *a)
{
	if ((bpf_ntohl(a[0]) >> 24) == 0xff)
		return 1;
	if (a[0] | a[1])
		return 0;
	return (!a[2] && (!a[3] || a[3] == bpf_htonl(1))) ||
	       a[2] == bpf_htonl(0xffff);
}

/* Whether an IPv4 header of ihl bytes (in the frame) sums right. */
XLB_INLINE int parse_ipv4_csum_ok(const struct iphdr *iph, __u32 ihl,
				  void *end)
{
	const __u32 *w = (const void *)iph;
	__u64 s = 0;
	int i;

	for (i = 0; i < 15; i++) {
		if (i * 4 >= ihl)
			break;
		if ((void *)(w + i + 1) > end)
			return 0;
		s += w[i];
	}
	return csum_fold64(s) == 0xffff;
}

/* IPOPT_END, IPOPT_NOOP, IPOPT_LSRR, IPOPT_SSRR: linux/ip.h. */
/* The IPv4 options walk's state (bpf_loop's context). */
struct ipopt_walk {
	__u8 o[40]; /* the options, copied out of the frame */
	__u32 olen; /* their length, 4 to 40 */
	__u32 off; /* the option at hand */
	int rc; /* 0 or the drop reason */
};

/* One option of the walk: 1 stops it, 0 goes on to the next. */
static long parse_ipv4_opt(__u32 i, void *arg)
{
	struct ipopt_walk *w = arg;
	__u32 off = w->off, len;
	__u8 type;

	if (off >= w->olen || off >= sizeof(w->o))
		return 1;
	type = w->o[off];
	if (type == IPOPT_END)
		return 1;
	if (type == IPOPT_NOOP) {
		w->off = off + 1;
		return 0;
	}
	len = off + 1 < w->olen && off + 1 < sizeof(w->o) ? w->o[off + 1] : 0;
	if (len < 2 || off + len > w->olen) {
		w->rc = XLB_STAT_DROP_IP_OPTION;
		return 1;
	}
	if (type == IPOPT_LSRR || type == IPOPT_SSRR) {
		w->rc = XLB_STAT_DROP_SRC_ROUTE;
		return 1;
	}
	w->off = off + len;
	return 0;
}

/*
 * Walks the IPv4 options after the 20 bytes at l3 (olen bytes, 1 to 40):
 * 0 when well formed and none routes by source, else the drop reason. A
 * router must not honour a source route to a VIP (the backend would route
 * the packet, or its replies, on); record route and timestamps only
 * record, and are forwarded as they are. Copied out and walked by
 * bpf_loop, whose step the verifier checks once: an open-coded walk was
 * a path per option layout, through the rest of the program, past the
 * verifier's limit.
 */
XLB_INLINE int parse_ipv4_opts(struct xdp_md *ctx, __u32 l3, __u32 olen)
{
	struct ipopt_walk w = { .olen = olen };

	if (olen < 1 || olen > sizeof(w.o))
		return PARSE_BAD;
	if (bpf_xdp_load_bytes(ctx, l3 + sizeof(struct iphdr), w.o, olen))
		return PARSE_BAD;
	bpf_loop(sizeof(w.o), parse_ipv4_opt, &w, 0);
	return w.rc;
}

XLB_INLINE int parse_ipv4(struct xdp_md *ctx, struct pkt *p, void *data,
			  void *end)
{
	struct iphdr *iph = data + p->l3_off;
	__u32 ihl, tot;
	void *l4;

	if ((void *)(iph + 1) > end)
		return PARSE_PASS;
	if (iph->version != 4 || iph->ihl < 5)
		return PARSE_PASS;
	/* Key fields first: a PARSE_BAD verdict needs the address. */
	parse_ipv4_key(p, iph);
	ihl = iph->ihl * 4;
	l4 = (void *)iph + ihl;
	if (l4 > end)
		return PARSE_BAD;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < ihl || !frame_holds(ctx, data, end, iph, tot))
		return PARSE_BAD;
	parse_ipv4_meta(p, iph, tot);
	if (!parse_ipv4_csum_ok(iph, ihl, end))
		return XLB_STAT_DROP_IP_CSUM;
	if (!iph->ttl)
		return XLB_STAT_DROP_TTL;
	if (ihl > sizeof(*iph)) {
		int rc = parse_ipv4_opts(ctx, p->l3_off,
					 ihl - sizeof(*iph));

		if (rc)
			return rc;
	}

	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		/* Fragments are steered by their address's alias. */
		if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
			return PARSE_PASS;
		p->frag = PKT_FRAG;
		if (iph->frag_off & bpf_htons(IP_OFFSET))
			return PARSE_OK; /* payload only: nothing to check */
		/* The first fragment's ports must be a VIP's (lb_frag_vip). */
		if (parse_l4_ports(l4, end, tot - ihl, iph->protocol,
				   &p->fk.sport, &p->fk.dport, &p->tcp_flags, 0))
			return XLB_STAT_DROP_FRAG_SHORT;
		p->frag |= PKT_FRAG_FIRST;
		return PARSE_OK;
	}
	if (iph->protocol == IPPROTO_ICMP) {
		struct icmp_hdr *ic = l4;

		if (tot - ihl < sizeof(*ic) || (void *)(ic + 1) > end)
			return PARSE_PASS;
		if (ic->type != ICMP_DEST_UNREACH &&
		    ic->type != ICMP_TIME_EXCEEDED)
			return PARSE_PASS;
		if (parse_icmp4_inner(p, (void *)(ic + 1), end,
				      tot - ihl - sizeof(*ic)) != PARSE_OK)
			return PARSE_PASS;
		/* An error about a VIP's packet is addressed to the VIP. */
		if (p->fk.dst[0] != iph->daddr)
			return PARSE_PASS;
		/* Its sender's address too must be one a router forwards. */
		if (parse_martian4(iph->saddr))
			return XLB_STAT_DROP_BAD_SRC;
		return PARSE_OK;
	}
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return PARSE_PASS;
	if (parse_l4_ports(l4, end, tot - ihl, iph->protocol, &p->fk.sport,
			   &p->fk.dport, &p->tcp_flags, 1))
		return PARSE_BAD;
	return PARSE_OK;
}

XLB_INLINE void parse_copy6(__be32 *dst, const struct in6_addr *a)
{
	dst[0] = a->in6_u.u6_addr32[0];
	dst[1] = a->in6_u.u6_addr32[1];
	dst[2] = a->in6_u.u6_addr32[2];
	dst[3] = a->in6_u.u6_addr32[3];
}

XLB_INLINE int parse_icmp6_inner(struct pkt *p, void *inner, void *end,
				 __u32 avail)
{
	struct ipv6hdr *ih = inner;

	if (avail < sizeof(*ih) || (void *)(ih + 1) > end)
		return PARSE_PASS;
	if (ih->version != 6)
		return PARSE_PASS;
	if (ih->nexthdr != IPPROTO_TCP && ih->nexthdr != IPPROTO_UDP)
		return PARSE_PASS;
	if (parse_l4_ports((void *)(ih + 1), end, avail - sizeof(*ih),
			   ih->nexthdr, &p->fk.dport, &p->fk.sport,
			   &p->tcp_flags, 0))
		return PARSE_PASS;
	parse_copy6(p->fk.src, &ih->daddr);
	parse_copy6(p->fk.dst, &ih->saddr);
	p->fk.proto = ih->nexthdr;
	p->tcp_flags = 0;
	p->icmp_err = 1;
	return PARSE_OK;
}

/* The IPv6 header's part of the key (next header: the protocol if final). */
XLB_INLINE void parse_ipv6_key(struct pkt *p, const struct ipv6hdr *ip6h)
{
	p->family = XLB_AF_INET6;
	p->fk.family = XLB_AF_INET6;
	parse_copy6(p->fk.src, &ip6h->saddr);
	parse_copy6(p->fk.dst, &ip6h->daddr);
	p->fk.proto = ip6h->nexthdr;
}

/* What the outer header copies from an IPv6 packet of plen payload bytes. */
XLB_INLINE void parse_ipv6_meta(struct pkt *p, const struct ipv6hdr *ip6h,
				__u32 plen)
{
	p->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
	p->ip_len = sizeof(*ip6h) + plen;
}

XLB_INLINE int parse_ipv6(struct xdp_md *ctx, struct pkt *p, void *data,
			  void *end)
{
	struct ipv6hdr *ip6h = data + p->l3_off;
	__u32 off, plen, dend;
	__u8 nh;
	int i;

	if ((void *)(ip6h + 1) > end)
		return PARSE_PASS;
	if (ip6h->version != 6)
		return PARSE_PASS;
	parse_ipv6_key(p, ip6h);
	plen = bpf_ntohs(ip6h->payload_len);
	if (!frame_holds(ctx, data, end, ip6h + 1, plen))
		return PARSE_BAD;
	parse_ipv6_meta(p, ip6h, plen);
	if (!ip6h->hop_limit)
		return XLB_STAT_DROP_TTL;

	nh = ip6h->nexthdr;
	off = p->l3_off + sizeof(*ip6h);
	dend = off + plen; /* where the datagram ends; padding may follow */
#pragma unroll
	for (i = 0; i < PARSE_MAX_EXTHDRS; i++) {
		struct ipv6_opt_hdr *oh;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;
		if (off > 1500) /* keeps the offset bounded for the verifier */
			return PARSE_PASS;
		oh = data + off;
		if (off + 8 > dend || (void *)oh + 8 > end)
			return p->frag ? XLB_STAT_DROP_FRAG_SHORT : PARSE_BAD;
		if (nh == IPPROTO_FRAGMENT) {
			struct frag_hdr {
				__u8 nexthdr, reserved;
				__be16 frag_off;
				__be32 id;
			} *fh = (void *)oh;

			if ((void *)(fh + 1) > end)
				return PARSE_BAD;
			nh = fh->nexthdr;
			off += 8;
			if (fh->frag_off & bpf_htons(0xfff9)) {
				if (p->frag) /* one datagram, one fragment header */
					return PARSE_BAD;
				/*
				 * A real fragment. The header names the same first
				 * header in every fragment of a datagram; an extension
				 * header there (the transport unknown to later
				 * fragments) steers by the protocol-0 alias.
				 */
				p->frag = PKT_FRAG;
				if (nh != IPPROTO_TCP && nh != IPPROTO_UDP) {
					if (nh != IPPROTO_DSTOPTS &&
					    nh != IPPROTO_ROUTING)
						return PARSE_PASS;
					p->frag |= PKT_FRAG_NOPROTO;
				}
				p->fk.proto = p->frag & PKT_FRAG_NOPROTO ? 0 : nh;
				/* Past offset 0 what follows is payload: stop. */
				if (fh->frag_off & bpf_htons(0xfff8))
					return PARSE_OK;
				/* The first goes on to its transport header. */
			}
		} else if (nh == IPPROTO_ROUTING) {
			/*
			 * Type 0 is deprecated (RFC 5095); any routing header
			 * with segments left names a destination past the
			 * VIP, which the VIP's backend must not be asked to
			 * route to.
			 */
			if (((__u8 *)oh)[2] == 0 || ((__u8 *)oh)[3] != 0)
				return XLB_STAT_DROP_SRC_ROUTE;
			nh = oh->nexthdr;
			off += (oh->hdrlen + 1) * 8;
		} else {
			nh = oh->nexthdr;
			off += (oh->hdrlen + 1) * 8;
		}
	}
	if (p->frag) {
		/*
		 * A first fragment (RFC 7112: the whole header chain in it):
		 * its ports must be a VIP's; one whose transport header
		 * cannot be found here must not go on without the check.
		 */
		if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
		    nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT ||
		    off > 1600 || off > dend)
			return off > 1600 ? PARSE_PASS : XLB_STAT_DROP_FRAG_SHORT;
		if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
			return XLB_STAT_DROP_FRAG_PROTO;
		if (parse_l4_ports(data + off, end, dend - off, nh,
				   &p->fk.sport, &p->fk.dport, &p->tcp_flags, 0))
			return XLB_STAT_DROP_FRAG_SHORT;
		p->fk.proto = nh;
		p->frag |= PKT_FRAG_FIRST;
		return PARSE_OK;
	}
	p->fk.proto = nh;
	if (off > 1600 || off > dend)
		return off > 1600 ? PARSE_PASS : PARSE_BAD;
	if (nh == IPPROTO_ICMPV6) {
		struct icmp_hdr *ic = data + off;
		const __be32 *outer = ip6h->daddr.in6_u.u6_addr32;

		if (off + sizeof(*ic) > dend || (void *)(ic + 1) > end)
			return PARSE_PASS;
		if (ic->type < ICMPV6_DEST_UNREACH ||
		    ic->type > ICMPV6_PARAMPROB)
			return PARSE_PASS;
		if (parse_icmp6_inner(p, (void *)(ic + 1), end,
				      dend - off - sizeof(*ic)) != PARSE_OK)
			return PARSE_PASS;
		/* An error about a VIP's packet is addressed to the VIP. */
		if (p->fk.dst[0] != outer[0] || p->fk.dst[1] != outer[1] ||
		    p->fk.dst[2] != outer[2] || p->fk.dst[3] != outer[3])
			return PARSE_PASS;
		/* Its sender's address too must be one a router forwards. */
		if (parse_martian6(ip6h->saddr.in6_u.u6_addr32))
			return XLB_STAT_DROP_BAD_SRC;
		return PARSE_OK;
	}
	if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
		return PARSE_PASS;
	if (parse_l4_ports(data + off, end, dend - off, nh, &p->fk.sport,
			   &p->fk.dport, &p->tcp_flags, 1))
		return PARSE_BAD;
	return PARSE_OK;
}

/*
 * Parses from the Ethernet header. Returns enum parse_res. A function of
 * its own (a BPF-to-BPF call): inlined into the whole program, the parser
 * shared its registers with everything after it, and the compiler spilled
 * struct pkt field by field, which cost more than the parsing (measured:
 * 40 ns of an IPv4 packet's parse, 13 ns as a call).
 */
static __noinline int parse_packet(struct xdp_md *ctx, struct pkt *p,
				   void *data, void *end)
{
	struct ethhdr *eth = data;
	__be16 proto;

	if ((void *)(eth + 1) > end)
		return PARSE_PASS;
	proto = eth->h_proto;
	p->l3_off = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		__be16 *inner = data + sizeof(*eth) + 2;

		if ((void *)(inner + 1) > end)
			return PARSE_PASS;
		proto = *inner;
		p->l3_off += 4;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(ctx, p, data, end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(ctx, p, data, end);
	return PARSE_PASS;
}

/*
 * The common shapes, inlined into the program: an untagged IPv4 datagram
 * without options or an IPv6 packet without extension headers, carrying
 * TCP or UDP, not a fragment, whole in the frame's linear part. Returns
 * PARSE_OK with *p filled as parse_packet fills it, from the same helpers,
 * or -1 for parse_packet to decide: every other shape, and every packet
 * these checks would find wrong, so only parse_packet says PARSE_BAD or
 * PARSE_PASS; but the IPv4 header checksum, which the caller checks for
 * VIP traffic alone (parse_fast_csum4_ok). *p may then hold part of the key, which parse_packet writes
 * again. Measured (bench_xdp part 1b, IPv4): established flows and the
 * host's own traffic 5-6 ns cheaper than through parse_packet alone.
 */
XLB_INLINE int parse_fast(struct pkt *p, void *data, void *end)
{
	struct ethhdr *eth = data;
	__u32 len;
	void *l4;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > end || *(__u8 *)iph != 0x45 ||
		    (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) ||
		    !iph->ttl)
			return -1;
		len = bpf_ntohs(iph->tot_len);
		if (len < sizeof(*iph) || (void *)iph + len > end)
			return -1;
		parse_ipv4_key(p, iph);
		parse_ipv4_meta(p, iph, len);
		l4 = iph + 1;
		len -= sizeof(*iph);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > end || ip6h->version != 6 ||
		    !ip6h->hop_limit)
			return -1;
		len = bpf_ntohs(ip6h->payload_len);
		if ((void *)(ip6h + 1) + len > end)
			return -1;
		parse_ipv6_key(p, ip6h);
		parse_ipv6_meta(p, ip6h, len);
		l4 = ip6h + 1;
	} else {
		return -1;
	}
	if (p->fk.proto != IPPROTO_TCP && p->fk.proto != IPPROTO_UDP)
		return -1;
	if (parse_l4_ports(l4, end, len, p->fk.proto, &p->fk.sport,
			   &p->fk.dport, &p->tcp_flags, 1))
		return -1;
	p->l3_off = sizeof(*eth);
	return PARSE_OK;
}

/*
 * The header checksum of the option-less IPv4 header parse_fast took
 * (its checksum is left to VIP traffic, so the host's own packets do not
 * pay it): five words summed in registers.
 */
XLB_INLINE int parse_fast_csum4_ok(void *data, void *end)
{
	const __u32 *w = data + sizeof(struct ethhdr);

	if ((void *)(w + 5) > end)
		return 0;
	return csum_fold64((__u64)w[0] + w[1] + w[2] + w[3] + w[4]) == 0xffff;
}

#endif /* XLB_PARSE_H */
