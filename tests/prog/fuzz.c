// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - random and mutated packets through xlb_main (and xlb_decap),
 * one BPF_PROG_TEST_RUN each, with an independent oracle:
 *
 *   XDP_PASS      output identical to the input;
 *   XDP_DROP      anything (counted; the totals are checked at the end);
 *   XDP_TX        the input is a complete VIP packet by the oracle's own
 *                 parser (TCP/UDP to a VIP, a fragment to a VIP address
 *                 with a fragment alias whose first fragment holds a VIP's
 *                 ports, or an ICMP/ICMPv6 error quoting a VIP's packet)
 *                 that a router would forward (to the balancer's MAC, a
 *                 valid IPv4 header checksum, well-formed options and no
 *                 source route, TTL above 0, a source that is no martian,
 *                 VIP or balancer address, TCP/UDP lengths inside the
 *                 datagram), and the output is exactly its encapsulation
 *                 (or l2dsr frame) toward the backend the test computes
 *                 from the hash and the table, with a valid outer header;
 *   anything else a failure.
 *
 * The run is split into phases, each a freshly loaded program with the
 * standard topology and a fixed backend-state pattern, so that the right
 * backend is always "primary if UP, else secondary if UP".
 * Deterministic for a seed: prog_test fuzz N --seed S replays a run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

void *pt_decap_open(int *prog_fd);
void pt_decap_close(void *skel);

static __u64 rs;

static inline __u64 rnd(void)
{
	__u64 z = (rs += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline __u32 rn(__u32 n)
{
	return n ? (__u32)(rnd() % n) : 0;
}

static inline bool chance(__u32 pct)
{
	return rn(100) < pct;
}

/* ---------------------------------------------------------------------- */
/* The oracle's parser: is this input a forwardable VIP packet?            */

struct cls {
	__u32 vip;
	__be32 client[4];
	size_t l2;
};

static const struct pt_vip *find_vip(const struct pt_env *e, const void *addr,
				     __u8 family, __u16 port_be, __u8 proto)
{
	const struct pt_vip *last = NULL;
	int i;

	/* Protocol 0: the IPv6 alias of the address; the harness's last write wins. */
	if (!proto) {
		for (i = 0; i < PT_MAX_VIP; i++) {
			const struct pt_vip *v = &e->vip[i];

			if (v->used && v->alias && v->key.family == family &&
			    !memcmp(v->key.addr, addr, 16))
				last = v;
		}
		return last;
	}
	for (i = 0; i < PT_MAX_VIP; i++) {
		const struct pt_vip *v = &e->vip[i];

		if (!v->used || v->key.family != family || v->key.proto != proto)
			continue;
		if (memcmp(v->key.addr, addr, family == XLB_AF_INET ? 4 : 16))
			continue;
		if (port_be == 0 ? v->alias : v->key.port == port_be)
			return v;
	}
	return NULL;
}

static const __u8 fz_mac_lb[6] = { MAC_LB };

/* Sources a router drops (RFC 1812 5.3.7; RFC 4291). */
static bool martian4(const __u8 *a)
{
	return a[0] == 0 || a[0] == 127 || (a[0] >> 4) == 0xe ||
	       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
}

static bool martian6(const __u8 *a)
{
	static const __u8 z[10];

	if (a[0] == 0xff)
		return true;
	if (memcmp(a, z, 10))
		return false;
	if (a[10] == 0xff && a[11] == 0xff) /* IPv4-mapped */
		return true;
	if (a[10] || a[11] || a[12] || a[13] || a[14])
		return false;
	return a[15] <= 1; /* :: or ::1 */
}

/* A client source a VIP may take: no martian, not the VIP, not ours. */
static bool client_ok(const struct pt_env *e, const __u8 *src, const __u8 *vip,
		      bool v6)
{
	if (v6)
		return !martian6(src) && memcmp(src, vip, 16) &&
		       memcmp(src, e->cfg.src6, 16);
	return !martian4(src) && memcmp(src, vip, 4) &&
	       memcmp(src, &e->cfg.src4, 4);
}

/* IPv4 options well formed, none a source route. */
static bool opts_ok(const __u8 *o, size_t olen)
{
	size_t off = 0;

	while (off < olen) {
		if (o[off] == 0)
			return true;
		if (o[off] == 1) {
			off++;
			continue;
		}
		if (off + 2 > olen || o[off + 1] < 2 || off + o[off + 1] > olen)
			return false;
		if (o[off] == 0x83 || o[off] == 0x89)
			return false;
		off += o[off + 1];
	}
	return true;
}

/*
 * strict: transport headers must lie inside the IP datagram (its own
 * length field); otherwise only inside the frame (what parse.h checks).
 */
static bool classify(const struct pt_env *e, const __u8 *f, size_t len,
		     bool strict, struct cls *c)
{
	const struct pt_vip *v = NULL;
	__u16 type = 0;
	size_t l2 = pb_l2_len(f, len, &type), avail, dend;
	const __u8 *ip = f + l2;

	memset(c, 0, sizeof(*c));
	c->l2 = l2;
	if (!l2)
		return false;
	if (memcmp(f, fz_mac_lb, 6)) /* not to the balancer's MAC */
		return false;
	avail = len - l2;
	if (type == 0x0800) {
		size_t hl, tot;
		__u16 fo;
		__u8 proto;

		if (avail < 20 || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5)
			return false;
		hl = (ip[0] & 0xfu) * 4;
		tot = get16(ip + 2);
		if (hl > avail || tot < hl || tot > avail)
			return false;
		if (!ip[8] || pb_csum(ip, hl, 0) || !opts_ok(ip + 20, hl - 20))
			return false;
		dend = strict ? tot : avail;
		fo = get16(ip + 6);
		proto = ip[9];
		if (fo & 0x3fff) {
			if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
				return false;
			if (!client_ok(e, ip + 12, ip + 16, false))
				return false;
			/* A first fragment's ports must be a VIP's. */
			if (!(fo & 0x1fff) &&
			    (dend < hl + 8 ||
			     !find_vip(e, ip + 16, XLB_AF_INET,
				       htons(get16(ip + hl + 2)), proto)))
				return false;
			v = find_vip(e, ip + 16, XLB_AF_INET, 0, proto);
			memcpy(c->client, ip + 12, 4);
		} else if (proto == IPPROTO_ICMP) {
			const __u8 *ic = ip + hl, *em = ic + 8;
			size_t eav, ehl;

			if (dend < hl + 8 || (ic[0] != 3 && ic[0] != 11))
				return false;
			eav = dend - hl - 8;
			if (eav < 20 || em[0] >> 4 != 4 || (em[0] & 0xf) < 5)
				return false;
			ehl = (em[0] & 0xfu) * 4;
			if (em[9] != IPPROTO_TCP && em[9] != IPPROTO_UDP)
				return false;
			if (eav < ehl + 8 || memcmp(em + 12, ip + 16, 4))
				return false;
			if (martian4(ip + 12) || !client_ok(e, em + 16, em + 12, false))
				return false;
			v = find_vip(e, em + 12, XLB_AF_INET,
				     htons(get16(em + ehl)), em[9]);
			memcpy(c->client, em + 16, 4);
		} else if (proto == IPPROTO_TCP) {
			if (dend < hl + 20 || (ip[hl + 12] >> 4) < 5 ||
			    (ip[hl + 12] >> 4) * 4u > dend - hl)
				return false;
			if (!client_ok(e, ip + 12, ip + 16, false))
				return false;
			v = find_vip(e, ip + 16, XLB_AF_INET, htons(get16(ip + hl + 2)),
				     proto);
			memcpy(c->client, ip + 12, 4);
		} else if (proto == IPPROTO_UDP) {
			if (dend < hl + 8 || get16(ip + hl + 4) < 8 ||
			    get16(ip + hl + 4) > dend - hl)
				return false;
			if (!client_ok(e, ip + 12, ip + 16, false))
				return false;
			v = find_vip(e, ip + 16, XLB_AF_INET, htons(get16(ip + hl + 2)),
				     proto);
			memcpy(c->client, ip + 12, 4);
		}
	} else if (type == 0x86dd) {
		size_t off = 40;
		bool frag = false, later = false;
		__u8 nh, alias = 0;
		int i;

		if (avail < 40 || ip[0] >> 4 != 6)
			return false;
		if (40 + (size_t)get16(ip + 4) > avail)
			return false;
		if (!ip[7]) /* hop limit */
			return false;
		dend = strict ? 40 + (size_t)get16(ip + 4) : avail;
		nh = ip[6];
		for (i = 0; i < 16; i++) {
			if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
				break;
			if (off + 8 > dend)
				return false;
			if (nh == 44) {
				nh = ip[off];
				off += 8;
				if (get16(ip + off - 6) & 0xfff9) {
					if (frag)
						return false;
					frag = true;
					/* An extension header first: the protocol-0 alias. */
					alias = (nh == 43 || nh == 60) ? 0 : nh;
					/* Past offset 0: payload follows. */
					if (get16(ip + off - 6) & 0xfff8) {
						later = true;
						break;
					}
				}
			} else {
				/* No source route: type 0, or segments left. */
				if (nh == 43 && (ip[off + 2] == 0 || ip[off + 3]))
					return false;
				nh = ip[off];
				off += (ip[off + 1] + 1u) * 8;
			}
		}
		if (frag) {
			if (!later) {
				/* The first: its transport's ports a VIP's. */
				if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
					return false;
				if (off > dend || dend - off < 8 ||
				    !find_vip(e, ip + 24, XLB_AF_INET6,
					      htons(get16(ip + off + 2)), nh))
					return false;
			}
			if (alias && alias != IPPROTO_TCP && alias != IPPROTO_UDP)
				return false;
			if (!client_ok(e, ip + 8, ip + 24, true))
				return false;
			v = find_vip(e, ip + 24, XLB_AF_INET6, 0, alias);
			memcpy(c->client, ip + 8, 16);
		} else if (nh == IPPROTO_ICMPV6) {
			const __u8 *ic = ip + off, *em = ic + 8;

			if (dend < off + 8 + 48 || ic[0] < 1 || ic[0] > 4)
				return false;
			if (em[0] >> 4 != 6 ||
			    (em[6] != IPPROTO_TCP && em[6] != IPPROTO_UDP))
				return false;
			if (memcmp(em + 8, ip + 24, 16))
				return false;
			if (martian6(ip + 8) || !client_ok(e, em + 24, em + 8, true))
				return false;
			v = find_vip(e, em + 8, XLB_AF_INET6, htons(get16(em + 40)),
				     em[6]);
			memcpy(c->client, em + 24, 16);
		} else if (nh == IPPROTO_TCP) {
			if (dend < off + 20 || (ip[off + 12] >> 4) < 5 ||
			    (ip[off + 12] >> 4) * 4u > dend - off)
				return false;
			if (!client_ok(e, ip + 8, ip + 24, true))
				return false;
			v = find_vip(e, ip + 24, XLB_AF_INET6, htons(get16(ip + off + 2)),
				     nh);
			memcpy(c->client, ip + 8, 16);
		} else if (nh == IPPROTO_UDP) {
			if (dend < off + 8 || get16(ip + off + 4) < 8 ||
			    get16(ip + off + 4) > dend - off)
				return false;
			if (!client_ok(e, ip + 8, ip + 24, true))
				return false;
			v = find_vip(e, ip + 24, XLB_AF_INET6, htons(get16(ip + off + 2)),
				     nh);
			memcpy(c->client, ip + 8, 16);
		}
	}
	if (!v)
		return false;
	c->vip = v->v.id;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Generator                                                               */

struct tvip {
	const char *addr;
	__u16 port;
	__u8 proto;
	bool v6;
	bool alias;
};

static const struct tvip tvips[] = {
	{ "192.0.2.10", 80, IPPROTO_TCP, false, true },
	{ "2001:db8::10", 443, IPPROTO_TCP, true, true },
	{ "192.0.2.20", 53, IPPROTO_UDP, false, true },
	{ "2001:db8::20", 53, IPPROTO_UDP, true, true },
	{ "192.0.2.30", 80, IPPROTO_TCP, false, true },
	{ "2001:db8::30", 80, IPPROTO_TCP, true, true },
	{ "192.0.2.40", 80, IPPROTO_TCP, false, false },
	{ "2001:db8::40", 80, IPPROTO_TCP, true, false },
	{ "192.0.2.50", 4789, IPPROTO_UDP, false, true },
};
#define NTVIPS (sizeof(tvips) / sizeof(tvips[0]))

static const __u8 interesting8[] = { 0, 1, 2, 3, 4, 5, 6, 8, 11, 15, 16, 17,
				     20, 40, 41, 43, 44, 45, 46, 58, 59, 60,
				     64, 0x3f, 0x40, 0x45, 0x46, 0x4f, 0x60,
				     0x7f, 0x80, 0xfe, 0xff };

static void rand_client(char *buf, size_t n, bool v6)
{
	/* A small pool so that flows repeat and hit entries. */
	__u32 k = chance(70) ? rn(64) : (__u32)rnd();

	if (v6)
		snprintf(buf, n, "2001:db8:%x:%x::%x", k >> 16 & 0xffff, k & 0xff,
			 (k >> 8 & 0xff) + 1);
	else
		snprintf(buf, n, "%u.%u.%u.%u", 198 + (k & 1), 18 + (k >> 1 & 1),
			 (k >> 2) & 0xff, ((k >> 10) & 0xff) | 1);
}

/* IPv4 options a router must refuse, or may forward. */
static const __u8 opt_lsrr[8] = { 0x83, 7, 4, 10, 0, 0, 1, 0 };
static const __u8 opt_ssrr[8] = { 1, 0x89, 7, 4, 10, 0, 0, 1 };
static const __u8 opt_rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };
static const __u8 opt_len0[4] = { 0x44, 0, 0, 0 };
static const __u8 opt_len1[4] = { 1, 0x94, 1, 0 };
static const __u8 opt_past[4] = { 1, 7, 12, 4 };
static const __u8 opt_tail[4] = { 1, 1, 1, 7 };

/* Group, broadcast and other hosts' destination MACs. */
static const __u8 mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x0a };
static const __u8 mac_other[6] = { 0x02, 0x1b, 0x00, 0x00, 0x01, 0x99 };

/* Fills the randomisable parts of a spec. */
static void rand_l2l3(struct pspec *p, bool v6)
{
	if (chance(3)) {
		static const __u8 *const macs[] = { mac_bcast, mac_mcast,
						    mac_other };

		p->dmac = macs[rn(3)];
	}
	p->ttl_zero = chance(2);
	if (chance(20)) {
		p->tpid = chance(80) ? 0x8100 : 0x88a8;
		p->tci = (__u16)rn(0x10000);
	}
	p->tos = chance(50) ? (__u8)rnd() : 0;
	if (!v6) {
		p->frag = chance(70) ? 0x4000 : 0;
		if (chance(15))
			p->optlen = (__u8)(4 * (1 + rn(10)));
		if (chance(6)) {
			static const __u8 *const o8[] = { opt_lsrr, opt_ssrr, opt_rr };
			static const __u8 *const o4[] = { opt_len0, opt_len1,
							  opt_past, opt_tail };

			if (chance(50)) {
				p->opts = o8[rn(3)];
				p->optlen = 8;
			} else {
				p->opts = o4[rn(4)];
				p->optlen = 4;
			}
		}
		p->bad_csum = chance(3);
		p->ipid = (__u16)rnd();
	} else {
		p->flowlabel = (__u32)rnd();
		if (chance(30)) {
			static const __u8 kinds[] = { NH_HOPOPTS, NH_ROUTING,
						      NH_DSTOPTS, NH_FRAGMENT };
			int i;

			p->next = (__u8)(1 + rn(5));
			for (i = 0; i < p->next; i++) {
				p->ext[i] = kinds[rn(4)];
				p->extlen[i] = (__u8)(chance(70) ? 0 : rn(4));
			}
			p->v6frag = 0; /* atomic unless a fragment case sets it */
			if (chance(30)) { /* routing headers of any kind */
				static const __u8 types[] = { 0, 2, 3, 4, 253 };

				p->rh_given = true;
				p->rh_type = types[rn(5)];
				p->rh_segs = (__u8)(chance(50) ? 0 : 1 + rn(3));
			}
		}
	}
	p->ttl = (__u8)(1 + rn(255));
}

static size_t gen_vip_packet(__u8 *o, int kind)
{
	const struct tvip *t = &tvips[rn(NTVIPS)];
	char cl[64];
	struct pspec p = { 0 };

	rand_client(cl, sizeof(cl), t->v6);
	p.src = cl;
	if (chance(4)) { /* a source no VIP may take */
		static const char *const bad4[] = { "0.0.0.0", "0.9.9.9", "127.0.0.1",
						    "224.0.0.5", "255.255.255.255",
						    "198.51.100.1" };
		static const char *const bad6[] = { "::", "::1", "ff02::1",
						    "::ffff:203.0.113.5",
						    "2001:db8:100::1" };

		p.src = t->v6 ? bad6[rn(5)] : bad4[rn(6)];
		if (chance(20))
			p.src = t->addr;
	}
	p.dst = t->addr;
	p.proto = t->proto;
	p.sport = (__u16)(chance(50) ? 40000 + rn(8) : rn(0x10000));
	p.dport = chance(90) ? t->port : (__u16)rn(0x10000);
	p.flags = chance(30) ? 0x02 : chance(10) ? 0x04 : (__u8)(0x10 | rn(0x100));
	p.dlen = (__u16)(chance(50) ? rn(64) : rn(1400));
	if (chance(3))
		p.udp_len = (__u16)rn(1500);
	rand_l2l3(&p, t->v6);
	if (kind == 1) { /* fragment */
		static __u8 raw[1500];
		size_t i, n = 8 * (1 + rn(40));

		for (i = 0; i < n; i++)
			raw[i] = (__u8)rnd();
		p.raw = raw;
		p.rawlen = (__u16)n;
		if (!t->v6) {
			p.frag = (__u16)((chance(70) ? 0x2000 : 0) |
					 (chance(30) ? 0 : 1 + rn(0x1000)));
			if (!(p.frag & 0x3fff))
				p.frag |= 0x2000;
		} else {
			p.next = 0;
			if (chance(30))
				p.ext[p.next++] = chance(50) ? NH_HOPOPTS : NH_DSTOPTS;
			p.ext[p.next++] = NH_FRAGMENT;
			if (chance(25)) /* the fragment header names options */
				p.ext[p.next++] = NH_DSTOPTS;
			p.v6frag = (__u16)((chance(30) ? 0 : 8 * (1 + rn(0x1000))) |
					   (chance(70) ? 1 : 0));
			if (!(p.v6frag & 0xfff9))
				p.v6frag |= 1;
		}
		if (chance(50)) { /* a real first fragment: L4 header first */
			p.raw = NULL;
			if (!t->v6)
				p.frag = 0x2000;
			else
				p.v6frag = 1;
		}
	}
	if (kind == 2) { /* ICMP error quoting the VIP's reply */
		static struct pspec emb;
		static char ecl[64];

		memset(&emb, 0, sizeof(emb));
		memcpy(ecl, cl, sizeof(ecl));
		emb.src = t->addr;
		emb.dst = ecl;
		emb.proto = t->proto;
		emb.sport = chance(90) ? t->port : (__u16)rnd();
		emb.dport = p.sport;
		emb.flags = 0x18;
		emb.dlen = (__u16)rn(1300);
		if (!t->v6 && chance(10))
			emb.optlen = 4;
		p.src = t->v6 ? "2001:db8:ff::1" : "198.18.0.1";
		p.proto = t->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		p.itype = t->v6 ? (__u8)(1 + rn(4)) : (chance(70) ? 3 : 11);
		if (chance(5))
			p.itype = (__u8)rn(256);
		p.icode = (__u8)rn(5);
		p.irest = 1400;
		p.emb = &emb;
		p.emb_len = (__u16)(t->v6 ? 48 + rn(600) : 28 + rn(600));
		p.frag = 0;
		if (t->v6) {
			p.next = 0;
			if (chance(20)) {
				p.ext[p.next++] = NH_HOPOPTS;
			}
		}
	}
	return pb_frame(&p, o);
}

static size_t gen_other(__u8 *o)
{
	char cl[64], dst[64];
	struct pspec p = { 0 };
	bool v6 = chance(50);

	switch (rn(4)) {
	case 0:
		return pb_arp(o, "192.0.2.1", chance(50) ? "192.0.2.10" : "192.0.2.99");
	case 1: { /* random bytes, sometimes with an IP ethertype */
		size_t n = 14 + rn(200), i;

		for (i = 0; i < n; i++)
			o[i] = (__u8)rnd();
		if (chance(60))
			put16(o + 12, chance(50) ? 0x0800 : 0x86dd);
		return n;
	}
	default:
		rand_client(cl, sizeof(cl), v6);
		rand_client(dst, sizeof(dst), v6);
		p.src = cl;
		p.dst = dst;
		if (chance(50)) { /* a VIP address of the family */
			const struct tvip *t = &tvips[rn(NTVIPS)];

			if (t->v6 == v6)
				p.dst = t->addr;
		}
		p.proto = interesting8[rn(sizeof(interesting8))];
		if (chance(50))
			p.proto = chance(50) ? IPPROTO_TCP : IPPROTO_UDP;
		p.sport = (__u16)rnd();
		p.dport = (__u16)(chance(50) ? 80 : rnd());
		p.itype = (__u8)rnd();
		p.dlen = (__u16)rn(300);
		rand_l2l3(&p, v6);
		return pb_frame(&p, o);
	}
}

/* Offsets of the IP header and its payload in a frame (best effort). */
static void layout(const __u8 *f, size_t len, size_t *l3, size_t *l4)
{
	__u16 type = 0;
	size_t l2 = pb_l2_len(f, len, &type);

	*l3 = l2 ? l2 : 14;
	*l4 = *l3 + 20;
	if (l2 && len >= l2 + 20) {
		if (type == 0x0800)
			*l4 = l2 + (f[l2] & 0xfu) * 4;
		else if (type == 0x86dd)
			*l4 = l2 + 40;
	}
}

static size_t mutate(__u8 *f, size_t len)
{
	int rounds = 1 + (int)rn(3), r;

	for (r = 0; r < rounds; r++) {
		size_t l3, l4, off;

		if (!len)
			return len;
		layout(f, len, &l3, &l4);
		switch (rn(12)) {
		case 0: /* bit flip in the headers */
			off = rn((__u32)(len < 120 ? len : 120));
			f[off] ^= (__u8)(1u << rn(8));
			break;
		case 1: /* bit flip anywhere */
			f[rn((__u32)len)] ^= (__u8)(1u << rn(8));
			break;
		case 2: /* interesting byte in the headers */
			off = rn((__u32)(len < 100 ? len : 100));
			f[off] = interesting8[rn(sizeof(interesting8))];
			break;
		case 3: /* truncate */
			len = chance(50) ? rn((__u32)len) : len - rn(len < 32 ? (__u32)len : 32);
			break;
		case 4: { /* append (padding) */
			size_t n = 1 + rn(64), i;

			if (len + n > 1500)
				break;
			for (i = 0; i < n; i++)
				f[len + i] = chance(50) ? 0 : (__u8)rnd();
			len += n;
			break;
		}
		case 5: /* IP length field */
			if (l3 + 6 <= len) {
				__u8 *ip = f + l3;
				__u16 v = (ip[0] >> 4) == 6 ? get16(ip + 4) : get16(ip + 2);

				switch (rn(4)) {
				case 0:
					v = (__u16)rnd();
					break;
				case 1:
					v = (__u16)(v + (int)rn(41) - 20);
					break;
				case 2:
					v = (__u16)rn(80);
					break;
				default:
					v = (__u16)(len - l3 - ((ip[0] >> 4) == 6 ? 40 : 0));
				}
				if ((ip[0] >> 4) == 6) {
					put16(ip + 4, v);
				} else {
					put16(ip + 2, v);
					if (chance(70) && l3 + 20 <= len) {
						size_t hl = (ip[0] & 0xfu) * 4;

						if (hl >= 20 && l3 + hl <= len) {
							put16(ip + 10, 0);
							put16(ip + 10, pb_csum(ip, hl, 0));
						}
					}
				}
			}
			break;
		case 6: /* ethertype */
			if (len >= 14) {
				static const __u16 types[] = { 0x0800, 0x86dd, 0x8100,
							       0x88a8, 0x0806, 0x88cc };
				put16(f + 12, chance(80) ? types[rn(6)] : (__u16)rnd());
			}
			break;
		case 7: /* protocol / next header */
			if (l3 + 10 <= len) {
				__u8 *ip = f + l3;

				ip[(ip[0] >> 4) == 6 ? 6 : 9] =
					interesting8[rn(sizeof(interesting8))];
			}
			break;
		case 8: /* IHL or TCP data offset */
			if (l3 < len && chance(50))
				f[l3] = (__u8)((f[l3] & 0xf0) | rn(16));
			else if (l4 + 13 <= len)
				f[l4 + 12] = (__u8)(rn(16) << 4);
			break;
		case 9: /* insert or remove a VLAN tag */
			if (len >= 18 && (get16(f + 12) == 0x8100 || get16(f + 12) == 0x88a8)) {
				memmove(f + 12, f + 16, len - 16);
				len -= 4;
			} else if (len >= 14 && len + 4 <= 1500) {
				memmove(f + 16, f + 12, len - 12);
				put16(f + 12, 0x8100);
				put16(f + 14, (__u16)rnd());
				len += 4;
			}
			break;
		case 10: /* random bytes in the transport header */
			if (l4 < len) {
				size_t n = 1 + rn(8), i;

				for (i = 0; i < n && l4 + i < len; i++)
					f[l4 + rn((__u32)(len - l4 < 40 ? len - l4 : 40))] =
						(__u8)rnd();
			}
			break;
		default: /* fragment bits */
			if (l3 + 8 <= len && (f[l3] >> 4) == 4)
				put16(f + l3 + 6, (__u16)(chance(50) ? rnd() : rnd() & 0x2000));
			break;
		}
	}
	return len;
}

/* ---------------------------------------------------------------------- */

struct fstats {
	unsigned long runs, pass, drop, tx, known_bug, bad;
	unsigned long split; /* run as multi-buffer frames */
};

/*
 * The linear part to run a frame of len bytes with: one frame in four is
 * split at a random point past the Ethernet header (a multi-buffer
 * frame, headers possibly in the fragments), the rest run linear.
 */
static __u32 fuzz_linear(size_t len, struct fstats *st)
{
	if (len <= 15 || !chance(25))
		return (__u32)len;
	st->split++;
	return 14 + rn((__u32)len - 14);
}

static void report(const char *why, const __u8 *in, size_t len, const __u8 *out,
		   size_t olen, unsigned long idx, int verdict)
{
	size_t i;

	fprintf(stderr, "# fuzz packet %lu: %s (verdict %d)\n#  in  (%zu):", idx, why,
		verdict, len);
	for (i = 0; i < len && i < 160; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n#   ", in[i]);
	fprintf(stderr, "\n#  out (%zu):", olen);
	for (i = 0; i < olen && i < 160; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n#   ", out[i]);
	fprintf(stderr, "\n");
}

/* Backend-state patterns of the phases (applied over the std topology). */
static void phase_states(struct pt_env *e, int phase)
{
	__u32 id;

	switch (phase % 4) {
	case 0:
		break;
	case 1: /* some primaries DOWN: secondaries take over */
		for (id = 1; id <= 24; id += 3)
			pt_set_state(e, id, XLB_BE_DOWN);
		break;
	case 2: /* DRAIN and DOWN: some slots without a backend */
		for (id = 1; id <= 24; id++)
			if (id % 4 == 1)
				pt_set_state(e, id, XLB_BE_DRAIN);
			else if (id % 4 == 2)
				pt_set_state(e, id, XLB_BE_DOWN);
		break;
	case 3: /* every UDP entry expires at once; few flows recorded */
		e->cfg.udp_timeout_ns = 1;
		e->cfg.new_flow_limit = 64;
		pt_write_config(e);
		break;
	}
}

static void check_one(struct pt_env *e, const __u8 *in, size_t len,
		      struct fstats *st, unsigned long idx)
{
	static __u8 out[PT_BUF], exp[PT_BUF];
	__u32 outlen = 0, ret = 0;
	struct cls c;
	int err;

	err = pt_run_fd_split(e->prog, e->ifindex, in, (__u32)len,
			      fuzz_linear(len, st), out, &outlen, &ret);
	if (err == -EINVAL && len < 14)
		return;
	if (err) {
		st->bad++;
		fprintf(stderr, "# fuzz packet %lu: test run failed: %s\n", idx,
			strerror(-err));
		return;
	}
	st->runs++;
	if (ret == XDP_PASS) {
		st->pass++;
		if (outlen != len || memcmp(in, out, len)) {
			if (st->bad++ < 10)
				report("XDP_PASS changed the packet", in, len, out, outlen,
				       idx, (int)ret);
		}
		return;
	}
	if (ret == XDP_DROP) {
		st->drop++;
		return;
	}
	if (ret != XDP_TX) {
		if (st->bad++ < 10)
			report("unexpected verdict", in, len, out, outlen, idx, (int)ret);
		return;
	}
	st->tx++;
	if (!classify(e, in, len, true, &c)) {
		if (classify(e, in, len, false, &c)) {
			/* The transport header past the datagram's end. */
			st->known_bug++;
			if (st->bad++ < 10)
				report("forwarded with the L4 header past the IP datagram",
				       in, len, out, outlen, idx, (int)ret);
			return;
		}
		if (st->bad++ < 10)
			report("forwarded a packet that is not a complete VIP packet", in,
			       len, out, outlen, idx, (int)ret);
		return;
	}
	{
		__u32 be = pt_expect_be(e, c.vip, c.client);
		size_t elen;

		if (be == XLB_BACKEND_NONE) {
			if (st->bad++ < 10)
				report("forwarded although no backend is usable", in, len,
				       out, outlen, idx, (int)ret);
			return;
		}
		if (e->vip[c.vip].v.fwd == XLB_FWD_L2DSR &&
		    e->be[be].family != ((in[c.l2] >> 4) == 4 ? XLB_AF_INET : XLB_AF_INET6)) {
			if (st->bad++ < 10)
				report("l2dsr across families", in, len, out, outlen, idx,
				       (int)ret);
			return;
		}
		elen = pt_expect_fwd(e, c.vip, be, in, len, out, outlen, exp);
		if (elen != outlen || memcmp(exp, out, elen)) {
			if (st->bad++ < 10) {
				char why[96];

				snprintf(why, sizeof(why),
					 "output is not the encapsulation toward backend %u", be);
				report(why, in, len, out, outlen, idx, (int)ret);
				pt_diff("fuzz", exp, elen, out, outlen);
			}
		}
	}
}

static long fuzz_main(unsigned long n, __u64 seed, struct fstats *st)
{
	static __u8 pkt[PT_BUF];
	const int phases = 4;
	unsigned long i = 0;
	int ph;

	rs = seed;
	for (ph = 0; ph < phases; ph++) {
		unsigned long end = n * (ph + 1) / phases;
		struct pt_env *e = pt_env_open();
		__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX], drops = 0;
		struct fstats s0 = *st;
		int k;

		pt_std_env(e);
		phase_states(e, ph);
		pt_stats_all(e, before);
		for (; i < end; i++) {
			size_t len;
			__u32 what = rn(100);

			if (what < 30)
				len = gen_vip_packet(pkt, 0);
			else if (what < 45)
				len = gen_vip_packet(pkt, 1);
			else if (what < 60)
				len = gen_vip_packet(pkt, 2);
			else
				len = gen_other(pkt);
			if (what >= 15 && chance(75))
				len = mutate(pkt, len);
			check_one(e, pkt, len, st, i);
		}
		/* The counters agree with the verdicts seen. */
		pt_stats_all(e, after);
		for (k = XLB_STAT_DROP_FIRST; k < XLB_STAT_MAX; k++)
			drops += after[k] - before[k];
		if (after[XLB_STAT_RX] - before[XLB_STAT_RX] != st->runs - s0.runs ||
		    after[XLB_STAT_PASS] - before[XLB_STAT_PASS] != st->pass - s0.pass ||
		    after[XLB_STAT_TX] - before[XLB_STAT_TX] != st->tx - s0.tx ||
		    drops != st->drop - s0.drop) {
			fprintf(stderr,
				"# fuzz phase %d: counters disagree: RX %llu/%lu PASS %llu/%lu "
				"TX %llu/%lu drops %llu/%lu\n",
				ph, (unsigned long long)(after[XLB_STAT_RX] - before[XLB_STAT_RX]),
				st->runs - s0.runs,
				(unsigned long long)(after[XLB_STAT_PASS] - before[XLB_STAT_PASS]),
				st->pass - s0.pass,
				(unsigned long long)(after[XLB_STAT_TX] - before[XLB_STAT_TX]),
				st->tx - s0.tx, (unsigned long long)drops, st->drop - s0.drop);
			st->bad++;
		}
		pt_env_close(e);
	}
	return (long)st->bad;
}

/*
 * A frame xlb_decap may drop: a tunnel (IPIP or IPv6 next header) to one
 * of its local addresses whose outer source is outside the prefixes
 * pt_decap_open gives (198.51.100.0/24, 192.0.2.77; 2001:db8:100::/48,
 * 2001:db8:7::7).
 */
static bool decap_refused(const __u8 *in, size_t len, const char *const *l4,
			  const char *const *l6)
{
	__u16 type = 0;
	size_t ol2 = pb_l2_len(in, len, &type), k;
	const __u8 *oip = in + ol2;
	__u8 a[16], b[16];
	bool local = false;

	if (ol2 && type == 0x0800 && len >= ol2 + 20) {
		if (oip[9] != 4 && oip[9] != 41)
			return false;
		for (k = 0; k < 2; k++) {
			inet_pton(AF_INET, l4[k], a);
			local |= !memcmp(a, oip + 16, 4);
		}
		inet_pton(AF_INET, "198.51.100.0", a);
		inet_pton(AF_INET, "192.0.2.77", b);
		return local && memcmp(a, oip + 12, 3) && memcmp(b, oip + 12, 4);
	}
	if (ol2 && type == 0x86dd && len >= ol2 + 40) {
		if (oip[6] != 4 && oip[6] != 41)
			return false;
		inet_pton(AF_INET6, l6[0], a);
		local = !memcmp(a, oip + 24, 16);
		inet_pton(AF_INET6, "2001:db8:100::", a);
		inet_pton(AF_INET6, "2001:db8:7::7", b);
		return local && memcmp(a, oip + 8, 6) && memcmp(b, oip + 8, 16);
	}
	return false;
}

/*
 * xlb_decap: PASS, output unchanged or exactly the decapsulation; or DROP
 * of a tunnel from a source outside its prefixes.
 */
static long fuzz_decap(unsigned long n, struct fstats *st)
{
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF], inner[PT_BUF];
	static const char *const l4[] = { "10.1.0.1", "10.1.0.2", "10.1.0.3" };
	static const char *const l6[] = { "2001:db8:1::5", "2001:db8:1::6" };
	/* Outer sources: inside a --from prefix, a --from host, outside. */
	static const char *const s4[] = { "198.51.100.1", "192.0.2.77", "203.0.113.66" };
	static const char *const s6[] = { "2001:db8:100::1", "2001:db8:7::7",
					  "2001:db8:101::1" };
	int prog;
	void *skel = pt_decap_open(&prog);
	unsigned long i;

	if (!skel) {
		fprintf(stderr, "# fuzz: loading xlb_decap failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		bool o6 = chance(50), i6 = chance(50);
		struct pspec p = { .src = i6 ? "2001:db8:c::5" : "203.0.113.5",
				   .dst = i6 ? "2001:db8::10" : "192.0.2.10",
				   .proto = IPPROTO_TCP, .sport = 1, .dport = 80,
				   .flags = 0x10, .dlen = (__u16)rn(200) };
		size_t ilen = pb_ip(&p, inner), len, l2, hl = o6 ? 40 : 20;
		__u16 tpid = chance(20) ? 0x8100 : 0;
		__u32 outlen = 0, ret = 0;
		__u8 *ip;
		int err;

		l2 = pb_l2(in, (const __u8[]){ 2, 0xbe, 0, 0, 0, 1 },
			   (const __u8[]){ 2, 0x1b, 0, 0, 0, 1 }, tpid, 5,
			   o6 ? 0x86dd : 0x0800);
		ip = in + l2;
		memset(ip, 0, hl);
		if (!o6) {
			ip[0] = 0x45;
			put16(ip + 2, (__u16)(20 + ilen));
			ip[8] = 64;
			ip[9] = i6 ? 41 : 4;
			inet_pton(AF_INET, s4[rn(3)], ip + 12);
			inet_pton(AF_INET, l4[rn(3)], ip + 16);
			put16(ip + 10, pb_csum(ip, 20, 0));
		} else {
			ip[0] = 0x60;
			put16(ip + 4, (__u16)ilen);
			ip[6] = i6 ? 41 : 4;
			ip[7] = 64;
			inet_pton(AF_INET6, s6[rn(3)], ip + 8);
			inet_pton(AF_INET6, l6[rn(2)], ip + 24);
		}
		memcpy(ip + hl, inner, ilen);
		len = l2 + hl + ilen;
		if (chance(80))
			len = mutate(in, len);
		err = pt_run_fd_split(prog, PT_IFINDEX_LO, in, (__u32)len,
				      fuzz_linear(len, st), out, &outlen, &ret);
		if (err) {
			if (len >= 14) {
				st->bad++;
				fprintf(stderr, "# decap fuzz %lu: test run: %s\n", i,
					strerror(-err));
			}
			continue;
		}
		st->runs++;
		if (ret == XDP_DROP && decap_refused(in, len, l4, l6)) {
			st->drop++;
			continue;
		}
		if (ret != XDP_PASS) {
			if (st->bad++ < 10)
				report("decap: verdict not XDP_PASS", in, len, out, outlen, i,
				       (int)ret);
			continue;
		}
		if (outlen == len && !memcmp(in, out, len)) {
			st->pass++;
			continue;
		}
		/* Decapsulated: check it was allowed and exact. */
		{
			__u16 type = 0;
			size_t ol2 = pb_l2_len(in, len, &type), h = 0;
			const __u8 *oip = in + ol2;
			bool ok = false;
			__u8 nh = 0;

			if (ol2 && type == 0x0800 && len >= ol2 + 20 &&
			    (oip[0] & 0xf) >= 5 && !(get16(oip + 6) & 0x3fff)) {
				size_t k;

				h = (oip[0] & 0xfu) * 4;
				nh = oip[9];
				for (k = 0; k < 2; k++) {
					__u8 a[4];

					inet_pton(AF_INET, l4[k], a);
					ok |= !memcmp(a, oip + 16, 4);
				}
			} else if (ol2 && type == 0x86dd && len >= ol2 + 40) {
				__u8 a[16];

				h = 40;
				nh = oip[6];
				inet_pton(AF_INET6, l6[0], a);
				ok = !memcmp(a, oip + 24, 16);
			}
			ok = ok && (nh == 4 || nh == 41) && len > ol2 + h &&
			     (oip[h] >> 4) == (nh == 4 ? 4 : 6) &&
			     !decap_refused(in, len, l4, l6);
			if (!ok) {
				if (st->bad++ < 10)
					report("decap: stripped a frame it must not touch", in,
					       len, out, outlen, i, (int)ret);
				continue;
			}
			st->tx++;
			memcpy(exp, in, ol2);
			put16(exp + ol2 - 2, nh == 4 ? 0x0800 : 0x86dd);
			memcpy(exp + ol2, in + ol2 + h, len - ol2 - h);
			if (outlen != len - h || memcmp(exp, out, outlen)) {
				if (st->bad++ < 10) {
					report("decap: wrong decapsulation", in, len, out, outlen,
					       i, (int)ret);
					pt_diff("decap fuzz", exp, len - h, out, outlen);
				}
			}
		}
	}
	pt_decap_close(skel);
	return (long)st->bad;
}

long pt_fuzz_run(unsigned long n, __u64 seed, bool quiet)
{
	struct fstats st = { 0 }, ds = { 0 };
	struct timespec t0, t1;
	unsigned long nd = n / 4;
	long bad;

	printf("# fuzz: %lu packets through xlb_main, %lu through xlb_decap, "
	       "seed 0x%llx (replay: prog_test fuzz %lu --seed 0x%llx)\n",
	       n, nd, (unsigned long long)seed, n, (unsigned long long)seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bad = fuzz_main(n, seed, &st);
	bad += fuzz_decap(nd, &ds);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# fuzz: xlb_main %lu run: %lu pass, %lu drop, %lu tx "
	       "(%lu tx with L4 past the datagram end); "
	       "xlb_decap %lu run: %lu unchanged, %lu decapsulated, %lu refused; "
	       "%lu multi-buffer; %ld failures; %.1f s\n",
	       st.runs, st.pass, st.drop, st.tx, st.known_bug, ds.runs, ds.pass,
	       ds.tx, ds.drop, st.split + ds.split, bad,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (!quiet && bad)
		printf("# fuzz: FAILED (seed 0x%llx)\n", (unsigned long long)seed);
	/* A fuzz that never forwards anything tests nothing. */
	if (n >= 10000 && (st.tx < n / 20 || st.pass < n / 20 || ds.tx < nd / 20)) {
		printf("# fuzz: too few forwarded/passed packets, generator broken\n");
		bad++;
	}
	return bad;
}

static void test_fuzz(void **state)
{
	long bad = pt_fuzz_run(pt_fuzz_n, pt_fuzz_seed, true);

	(void)state;
	if (bad)
		fail_msg("fuzz found %ld failures (seed 0x%llx)", bad,
			 (unsigned long long)pt_fuzz_seed);
}

int pt_tests_fuzz(struct CMUnitTest *t, int max)
{
	static char name[128];

	snprintf(name, sizeof(name), "fuzz: %lu packets, oracle on every verdict",
		 pt_fuzz_n);
	if (max < 1)
		return 0;
	t[0] = (struct CMUnitTest){ name, test_fuzz, NULL, NULL, NULL };
	return 1;
}
