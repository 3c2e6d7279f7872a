// SPDX-License-Identifier: GPL-2.0
/* pkt.c - see pkt.h. */
#include <string.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

static const __u8 mac_lb[6] = { MAC_LB };
static const __u8 mac_client[6] = { MAC_CLIENT_SRC };

__u16 pb_csum(const void *p, size_t n, __u32 initial)
{
	const __u8 *b = p;
	__u32 sum = initial;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (__u32)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Sum (not folded, not inverted) of a pseudo-header. */
static __u32 pseudo_sum(const __u8 *src, const __u8 *dst, int alen, __u32 len,
			__u8 proto)
{
	__u32 s = 0;
	int i;

	for (i = 0; i < alen; i += 2)
		s += (__u32)src[i] << 8 | src[i + 1];
	for (i = 0; i < alen; i += 2)
		s += (__u32)dst[i] << 8 | dst[i + 1];
	s += len >> 16;
	s += len & 0xffff;
	s += proto;
	return s;
}

static void pattern(__u8 *o, size_t n, __u16 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		o[i] = (__u8)(0x30 + ((i + seed) * 7) % 191);
}

static bool is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

size_t pb_l4(const struct pspec *s, __u8 *o)
{
	size_t n;

	if (s->raw) {
		memcpy(o, s->raw, s->rawlen);
		return s->rawlen;
	}
	if (is_icmp(s->proto)) {
		o[0] = s->itype;
		o[1] = s->icode;
		put16(o + 2, 0);
		put32(o + 4, s->irest);
		if (s->emb) {
			n = pb_ip(s->emb, o + 8);
			if (s->emb_len && s->emb_len < n)
				n = s->emb_len;
		} else {
			n = s->dlen;
			pattern(o + 8, n, 0);
		}
		if (s->proto == IPPROTO_ICMP)
			put16(o + 2, pb_csum(o, 8 + n, 0));
		return 8 + n;
	}
	if (s->proto == IPPROTO_TCP) {
		put16(o, s->sport);
		put16(o + 2, s->dport);
		put32(o + 4, 0x01020304);
		put32(o + 8, (s->flags & 0x10) ? 0x0a0b0c0d : 0);
		o[12] = (__u8)((s->doff ? s->doff : 5) << 4);
		o[13] = s->flags;
		put16(o + 14, 0xfaf0);
		put16(o + 16, 0);
		put16(o + 18, 0);
		pattern(o + 20, s->dlen, 1);
		return 20 + s->dlen;
	}
	if (s->proto == IPPROTO_UDP) {
		put16(o, s->sport);
		put16(o + 2, s->dport);
		put16(o + 4, s->udp_len ? s->udp_len : 8 + s->dlen);
		put16(o + 6, 0);
		pattern(o + 8, s->dlen, 2);
		return 8 + s->dlen;
	}
	pattern(o, s->dlen, 3);
	return s->dlen;
}

/* TCP/UDP/ICMPv6 checksum over a complete L4 part. */
static void l4_csum(const struct pspec *s, __u8 *l4, size_t n, const __u8 *src,
		    const __u8 *dst, int alen)
{
	int off;

	if (s->raw || n < 8)
		return;
	if (s->proto == IPPROTO_TCP && n >= 20)
		off = 16;
	else if (s->proto == IPPROTO_UDP)
		off = 6;
	else if (s->proto == IPPROTO_ICMPV6 && alen == 16)
		off = 2;
	else
		return;
	put16(l4 + off, 0);
	put16(l4 + off,
	      pb_csum(l4, n, pseudo_sum(src, dst, alen, (__u32)n, s->proto)));
}

size_t pb_ip(const struct pspec *s, __u8 *o)
{
	__u8 src[16], dst[16];
	size_t l4len, hl;
	int i;

	if (inet_pton(AF_INET, s->src, src) == 1) {
		inet_pton(AF_INET, s->dst, dst);
		hl = 20 + s->optlen;
		l4len = pb_l4(s, o + hl);
		o[0] = 0x40 | (s->ihl ? s->ihl : (__u8)(hl / 4));
		o[1] = s->tos;
		put16(o + 2, (__u16)(hl + l4len + s->len_adj));
		put16(o + 4, s->ipid ? s->ipid : 0x1234);
		put16(o + 6, s->frag);
		o[8] = s->ttl_zero ? 0 : s->ttl ? s->ttl : 64;
		o[9] = s->proto;
		put16(o + 10, 0);
		memcpy(o + 12, src, 4);
		memcpy(o + 16, dst, 4);
		for (i = 0; i < s->optlen; i++)
			o[20 + i] = 0x01; /* NOP */
		if (s->opts) {
			memcpy(o + 20, s->opts, s->optlen);
		} else if (s->optlen >= 4) { /* Router Alert, then NOPs */
			o[20] = 0x94;
			o[21] = 0x04;
			o[22] = 0;
			o[23] = 0;
		}
		if (!(s->frag & 0x3fff))
			l4_csum(s, o + hl, l4len, src, dst, 4);
		put16(o + 10, (__u16)(pb_csum(o, hl, 0) + (s->bad_csum ? 1 : 0)));
		return hl + l4len;
	}
	inet_pton(AF_INET6, s->src, src);
	inet_pton(AF_INET6, s->dst, dst);
	{
		__u8 *p = o + 40;
		bool fragmented = false;

		for (i = 0; i < s->next; i++) {
			__u8 nh = i + 1 < s->next ? s->ext[i + 1] : s->proto;

			if (s->ext[i] == NH_FRAGMENT) {
				p[0] = nh;
				p[1] = 0;
				put16(p + 2, s->v6frag);
				put32(p + 4, s->v6fragid ? s->v6fragid : 0xabcd0123);
				fragmented |= (s->v6frag & 0xfff9) != 0;
				p += 8;
			} else {
				size_t len = 8 * (s->extlen[i] + 1u);

				memset(p, 0, len);
				p[0] = nh;
				p[1] = s->extlen[i];
				if (s->ext[i] == NH_ROUTING) {
					/* Experimental type, none left, unless given. */
					p[2] = s->rh_given ? s->rh_type : 253;
					p[3] = s->rh_given ? s->rh_segs : 0;
				} else {
					p[2] = 1; /* PadN over the rest */
					p[3] = (__u8)(len - 4);
				}
				p += len;
			}
		}
		l4len = pb_l4(s, p);
		if (!fragmented)
			l4_csum(s, p, l4len, src, dst, 16);
		hl = (size_t)(p - o);
	}
	put32(o, 0x60000000u | (__u32)s->tos << 20 | (s->flowlabel & 0xfffff));
	put16(o + 4, (__u16)(hl - 40 + l4len + s->len_adj));
	o[6] = s->next ? s->ext[0] : s->proto;
	o[7] = s->ttl_zero ? 0 : s->ttl ? s->ttl : 64;
	memcpy(o + 8, src, 16);
	memcpy(o + 24, dst, 16);
	return hl + l4len;
}

size_t pb_l2(__u8 *o, const __u8 dst[6], const __u8 src[6], __u16 tpid,
	     __u16 tci, __u16 type)
{
	memcpy(o, dst, 6);
	memcpy(o + 6, src, 6);
	if (tpid) {
		put16(o + 12, tpid);
		put16(o + 14, tci);
		put16(o + 16, type);
		return 18;
	}
	put16(o + 12, type);
	return 14;
}

size_t pb_frame(const struct pspec *s, __u8 *o)
{
	__u16 type = s->ethertype;
	__u8 tmp[4];
	size_t l2;

	if (!type)
		type = inet_pton(AF_INET, s->src, tmp) == 1 ? 0x0800 : 0x86dd;
	l2 = pb_l2(o, s->dmac ? s->dmac : mac_lb, mac_client, s->tpid, s->tci,
		   type);
	return l2 + pb_ip(s, o + l2);
}

size_t pb_arp(__u8 *o, const char *sip, const char *tip)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t l2 = pb_l2(o, bcast, mac_client, 0, 0, 0x0806);
	__u8 *a = o + l2;

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, mac_client, 6);
	inet_pton(AF_INET, sip, a + 14);
	memset(a + 18, 0, 6);
	inet_pton(AF_INET, tip, a + 24);
	memset(a + 28, 0, 18); /* pad to 60 bytes */
	return l2 + 46;
}

size_t pb_l2_len(const __u8 *f, size_t len, __u16 *type)
{
	__u16 t;

	if (len < 14)
		return 0;
	t = get16(f + 12);
	if (t == 0x8100 || t == 0x88a8) {
		if (len < 18)
			return 0;
		*type = get16(f + 16);
		return 18;
	}
	*type = t;
	return 14;
}

size_t pb_ip_len(const __u8 *ip)
{
	if ((ip[0] >> 4) == 4)
		return get16(ip + 2);
	return 40 + (size_t)get16(ip + 4);
}

size_t pt_expect_fwd(const struct pt_env *e, __u32 vip_id, __u32 be_id,
		     const __u8 *in, size_t inlen, const __u8 *got,
		     size_t glen, __u8 *exp)
{
	const struct xlb_backend *be = &e->be[be_id];
	const struct xlb_nexthop *nh = &e->nh[be_id];
	__u16 type = 0, tpid = 0, tci = 0;
	size_t l2 = pb_l2_len(in, inlen, &type), n, ilen;
	const __u8 *ip = in + l2;
	bool v6in = (ip[0] >> 4) == 6;
	__u8 tos, *o;

	/* A client's VLAN tag never leaves by another interface. */
	bool untag = l2 == 18 && nh->ifindex != e->ifindex;

	if (e->vip[vip_id].v.fwd == XLB_FWD_L2DSR) {
		memcpy(exp, nh->dmac, 6);
		memcpy(exp + 6, nh->smac, 6);
		if (untag) {
			memcpy(exp + 12, in + 16, inlen - 16);
			return inlen - 4;
		}
		memcpy(exp + 12, in + 12, inlen - 12);
		return inlen;
	}
	if (l2 == 18 && !untag) {
		tpid = get16(in + 12);
		tci = get16(in + 14);
	}
	tos = v6in ? (__u8)((ip[0] & 0xf) << 4 | ip[1] >> 4) : ip[1];
	ilen = pb_ip_len(ip);
	if (be->family == XLB_AF_INET) {
		n = pb_l2(exp, nh->dmac, nh->smac, tpid, tci, 0x0800);
		o = exp + n;
		o[0] = 0x45;
		o[1] = tos;
		put16(o + 2, (__u16)(ilen + 20));
		/* The ID is the program's choice: take it from the output. */
		if (glen >= n + 6)
			memcpy(o + 4, got + n + 4, 2);
		else
			put16(o + 4, 0);
		/* DF copied from IPv4; IPv6 is never fragmented on the way. */
		put16(o + 6, (v6in || (get16(ip + 6) & 0x4000)) ? 0x4000 : 0);
		o[8] = 64;
		o[9] = v6in ? IPPROTO_IPV6 : IPPROTO_IPIP;
		put16(o + 10, 0);
		memcpy(o + 12, &e->cfg.src4, 4);
		memcpy(o + 16, &be->addr[0], 4);
		put16(o + 10, pb_csum(o, 20, 0));
		n += 20;
	} else {
		__u32 fl = 0;

		n = pb_l2(exp, nh->dmac, nh->smac, tpid, tci, 0x86dd);
		o = exp + n;
		/* The flow label is the program's choice: take it from got. */
		if (glen >= n + 4)
			fl = get32(got + n) & 0xfffff;
		put32(o, 0x60000000u | (__u32)tos << 20 | fl);
		put16(o + 4, (__u16)ilen);
		o[6] = v6in ? IPPROTO_IPV6 : IPPROTO_IPIP;
		o[7] = 64;
		memcpy(o + 8, e->cfg.src6, 16);
		memcpy(o + 24, be->addr, 16);
		n += 40;
	}
	memcpy(exp + n, ip, inlen - l2);
	return n + inlen - l2;
}
