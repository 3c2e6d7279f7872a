// SPDX-License-Identifier: GPL-2.0
/*
 * test_frags.c - fragments of both kinds.
 *
 * Multi-buffer frames, as a driver with a jumbo MTU hands them to XDP:
 * the headers in the linear part, the rest of the datagram in fragments.
 * Each frame runs once as one linear buffer, checked against frames built
 * here, and then split at several points past its headers: the split runs
 * must give the same verdict, the same bytes and the same counters.
 * Forwarded, answered with ICMP when too big for the path, dropped as
 * malformed when its length claims more than the whole frame holds.
 *
 * IP fragments: every fragment of a datagram reaches the backend of its
 * address's alias, in any order; a first fragment only when its ports are
 * a VIP's (a fragmented SYN to port 22 of a VIP address opens nothing),
 * and not without its ports; fragments of a protocol the address serves
 * no VIP of are dropped.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

#define DATAGRAM 3000 /* bytes of IP datagram in each frame */

struct fr_param {
	bool v6;
};

/* Linear parts to split at: just past the headers, and further in. */
static const __u32 splits[] = { 128, 200, 1024, 2000 };

static struct pspec big(bool v6, int len_adj)
{
	__u16 hdr = v6 ? 40 : 20;
	struct pspec p = {
		.src = v6 ? "2001:db8:c::7" : "198.18.0.7",
		.dst = v6 ? "2001:db8::10" : "192.0.2.10",
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = v6 ? 443 : 80,
		.flags = 0x10,
		.frag = v6 ? 0 : 0x4000,
		.dlen = (__u16)(DATAGRAM - hdr - 20),
		.len_adj = len_adj,
	};

	return p;
}

/*
 * Runs in split at every point of splits[]; each must give verdict want
 * and exactly the bytes of the linear run (exp) and count stat once.
 */
static void split_runs(struct pt_env *e, const char *what, const __u8 *in,
		       size_t len, int want, const __u8 *exp, size_t elen,
		       __u32 stat)
{
	static __u8 out[PT_BUF];
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		__u64 s0 = pt_stat(e, stat);
		__u32 outlen = 0, ret = 0;
		int err = pt_run_fd_split(e->prog, e->ifindex, in, (__u32)len,
					  splits[i], out, &outlen, &ret);

		snprintf(name, sizeof(name), "%s, linear part %u of %zu", what,
			 splits[i], len);
		if (err)
			fail_msg("%s: BPF_PROG_TEST_RUN: %s", name, strerror(-err));
		if ((int)ret != want)
			fail_msg("%s: verdict %u, expected %d", name, ret, want);
		if (pt_stat(e, stat) - s0 != 1)
			fail_msg("%s: counter %u not counted once", name, stat);
		pt_assert_bytes(name, exp, elen, out, outlen);
	}
}

/* A 3000-byte datagram of an established flow: the same encapsulation. */
static void test_frags_fwd(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 in[PT_BUF], lin[PT_BUF], exp[PT_BUF];
	struct pspec p = big(fp->v6, 0);
	size_t len = pb_frame(&p, in), elen;
	struct xlb_flow_key k = pt_flow_key(p.src, p.dst, p.sport, p.dport,
					    p.proto);
	struct xlb_flow f;
	__u32 linlen;
	int v;

	v = pt_run(e, in, (__u32)len, lin, &linlen);
	assert_int_equal(v, XDP_TX);
	assert_int_equal(pt_flow_get(e, &k, &f, NULL), 0);
	elen = pt_expect_fwd(e, fp->v6 ? VIP_B : VIP_A, f.backend, in, len, lin,
			     linlen, exp);
	pt_assert_bytes("linear run", exp, elen, lin, linlen);
	split_runs(e, "forwarded", in, len, XDP_TX, exp, elen,
		   XLB_STAT_FLOW_HIT);
}

/* Too big for a 1000-byte path once encapsulated: the same ICMP reply. */
static void test_frags_too_big(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 in[PT_BUF], lin[PT_BUF];
	struct pspec p = big(fp->v6, 0);
	size_t len = pb_frame(&p, in);
	__u32 linlen, hdr = fp->v6 ? 40 : 20;
	int v;

	pt_set_path_mtu(e, fp->v6 ? 5 : 1, fp->v6 ? 7 : 4, 1000);
	v = pt_run(e, in, (__u32)len, lin, &linlen);
	assert_int_equal(v, XDP_TX);
	/* L2, the reply's IP and ICMP headers, the quote (header + 8). */
	assert_int_equal(linlen, 14 + hdr + 8 + hdr + 8);
	split_runs(e, "too big", in, len, XDP_TX, lin, linlen,
		   XLB_STAT_TOO_BIG);
}

/* A length field claiming a byte more than the whole frame: dropped. */
static void test_frags_short(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 in[PT_BUF], lin[PT_BUF];
	struct pspec p = big(fp->v6, 1);
	size_t len = pb_frame(&p, in);
	__u32 linlen;
	int v;

	v = pt_run(e, in, (__u32)len, lin, &linlen);
	assert_int_equal(v, XDP_DROP);
	split_runs(e, "length beyond the frame", in, len, XDP_DROP, lin, linlen,
		   XLB_STAT_DROP_MALFORMED);
}

/* ---- IP fragments ---------------------------------------------------- */

#define CL4 "203.0.113.5"
#define CL6 "2001:db8:c::5"
#define FRAG_ID 0x5eed

/*
 * A fragment of a datagram to dst: its L4 bytes (the datagram's payload,
 * transport header first) from off to off + n, more following or not.
 * With dst_first (IPv6), the fragment header names destination options
 * that lead the fragmentable part.
 */
static size_t frag_frame(bool v6, const char *dst, __u8 proto, const __u8 *l4,
			 size_t off, size_t n, bool more, bool dst_first,
			 __u8 *out)
{
	struct pspec p = { .src = v6 ? CL6 : CL4, .dst = dst, .proto = proto,
			   .raw = l4 + off, .rawlen = (__u16)n };

	if (v6) {
		p.ext[p.next++] = NH_FRAGMENT;
		if (dst_first)
			p.proto = NH_DSTOPTS;
		p.v6frag = (__u16)(off | (more ? 1 : 0));
		p.v6fragid = FRAG_ID;
	} else {
		p.frag = (__u16)((more ? 0x2000 : 0) | off / 8);
		p.ipid = FRAG_ID;
	}
	return pb_frame(&p, out);
}

/* A transport header and payload: 8 + 112 bytes, the ports first. */
static size_t frag_l4(__u8 proto, __u16 dport, bool dst_first, __u8 *l4)
{
	struct pspec w = { .src = CL4, .dst = "192.0.2.10", .proto = proto,
			   .sport = 40000, .dport = dport, .flags = 0x02,
			   .dlen = (__u16)(proto == IPPROTO_TCP ? 100 : 112) };
	size_t n = 0;

	if (dst_first) { /* destination options (PadN), then the transport */
		memset(l4, 0, 8);
		l4[0] = proto;
		l4[2] = 1;
		l4[3] = 4;
		n = 8;
	}
	return n + pb_l4(&w, l4 + n);
}

/*
 * Runs a fragment: verdict want, counter stat moved by one and no other
 * drop reason; forwarded ones must be exactly the encapsulation toward
 * the backend of vip's table for the client.
 */
static void frag_run(struct pt_env *e, const char *what, const __u8 *in,
		     size_t len, int want, __u32 stat, __u32 vip, bool v6)
{
	static __u8 out[PT_BUF], exp[PT_BUF];
	__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX];
	__u32 outlen, i;
	int v;

	pt_stats_all(e, before);
	v = pt_run(e, in, (__u32)len, out, &outlen);
	pt_stats_all(e, after);
	if (v != want)
		fail_msg("%s: verdict %d, expected %d", what, v, want);
	if (after[stat] - before[stat] != 1)
		fail_msg("%s: %s moved by %llu, expected 1", what,
			 pt_stat_name(stat),
			 (unsigned long long)(after[stat] - before[stat]));
	for (i = XLB_STAT_DROP_FIRST; i < XLB_STAT_MAX; i++)
		if (i != stat && after[i] != before[i])
			fail_msg("%s: %s counted", what, pt_stat_name(i));
	if (want == XDP_TX) {
		__be32 cl[4];
		size_t elen;

		pt_addr(v6 ? CL6 : CL4, cl);
		elen = pt_expect_fwd(e, vip, pt_expect_be(e, vip, cl), in, len,
				     out, outlen, exp);
		pt_assert_bytes(what, exp, elen, out, outlen);
	} else if (want == XDP_PASS) {
		pt_assert_bytes(what, in, len, out, outlen);
	}
}

/* Fragments of one datagram to the VIP's port, last first: all forwarded. */
static void test_ipfrag_order(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 l4[256], in[PT_BUF];
	const char *dst = fp->v6 ? "2001:db8::10" : "192.0.2.10";
	const __u32 vip = fp->v6 ? VIP_B : VIP_A;
	static const size_t cut[] = { 0, 48, 96, 120 };
	static const int order[] = { 2, 0, 1 };
	size_t n = frag_l4(IPPROTO_TCP, fp->v6 ? 443 : 80, false, l4), len;
	int i, k;

	assert_int_equal(n, 120);
	for (i = 0; i < 3; i++) {
		char what[64];

		k = order[i];
		len = frag_frame(fp->v6, dst, IPPROTO_TCP, l4, cut[k],
				 cut[k + 1] - cut[k], k < 2, false, in);
		snprintf(what, sizeof(what), "fragment at %zu (%d of 3 sent)",
			 cut[k], i + 1);
		frag_run(e, what, in, len, XDP_TX, XLB_STAT_FRAG, vip, fp->v6);
	}
	assert_int_equal(pt_flow_count(e), 0);
}

/*
 * A fragmented SYN to port 22 of a VIP address (only 80 or 443 is a
 * VIP's): its first fragment is dropped, so the backend never completes
 * the datagram; the later ones, which hold no ports, still go where the
 * alias says and die in the backend's reassembly. The same for a UDP
 * datagram to port 161 of a UDP VIP's address.
 */
static void test_ipfrag_port(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 l4[256], in[PT_BUF];
	const char *tcp_dst = fp->v6 ? "2001:db8::10" : "192.0.2.10";
	const char *udp_dst = fp->v6 ? "2001:db8::20" : "192.0.2.20";
	size_t len;

	frag_l4(IPPROTO_TCP, 22, false, l4);
	len = frag_frame(fp->v6, tcp_dst, IPPROTO_TCP, l4, 0, 48, true, false, in);
	frag_run(e, "first fragment to tcp/22", in, len, XDP_DROP,
		 XLB_STAT_DROP_FRAG_PORT, 0, fp->v6);
	len = frag_frame(fp->v6, tcp_dst, IPPROTO_TCP, l4, 48, 72, false, false,
			 in);
	frag_run(e, "last fragment to tcp/22 (no ports: the alias)", in, len,
		 XDP_TX, XLB_STAT_FRAG, fp->v6 ? VIP_B : VIP_A, fp->v6);

	frag_l4(IPPROTO_UDP, 161, false, l4);
	len = frag_frame(fp->v6, udp_dst, IPPROTO_UDP, l4, 0, 64, true, false, in);
	frag_run(e, "first fragment to udp/161", in, len, XDP_DROP,
		 XLB_STAT_DROP_FRAG_PORT, 0, fp->v6);
	/* And to the VIP's own port it goes on. */
	frag_l4(IPPROTO_UDP, 53, false, l4);
	len = frag_frame(fp->v6, udp_dst, IPPROTO_UDP, l4, 0, 64, true, false, in);
	frag_run(e, "first fragment to udp/53", in, len, XDP_TX, XLB_STAT_FRAG,
		 fp->v6 ? VIP_D : VIP_C, fp->v6);
	assert_int_equal(pt_flow_count(e), 0);
}

/* Fragments of a protocol the VIP address serves no VIP of: dropped. */
static void test_ipfrag_proto(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 l4[256], in[PT_BUF];
	const char *dst = fp->v6 ? "2001:db8::10" : "192.0.2.10"; /* tcp only */
	size_t len;

	frag_l4(IPPROTO_UDP, 53, false, l4);
	len = frag_frame(fp->v6, dst, IPPROTO_UDP, l4, 0, 64, true, false, in);
	frag_run(e, "first udp fragment to a tcp-only VIP address", in, len,
		 XDP_DROP, XLB_STAT_DROP_FRAG_PROTO, 0, fp->v6);
	len = frag_frame(fp->v6, dst, IPPROTO_UDP, l4, 64, 56, false, false, in);
	frag_run(e, "later udp fragment to a tcp-only VIP address", in, len,
		 XDP_DROP, XLB_STAT_DROP_FRAG_PROTO, 0, fp->v6);
	/* An address without aliases is not judged here: the kernel's. */
	len = frag_frame(fp->v6, fp->v6 ? "2001:db8::40" : "192.0.2.40",
			 IPPROTO_UDP, l4, 64, 56, false, false, in);
	frag_run(e, "udp fragment to a VIP address without aliases", in, len,
		 XDP_PASS, XLB_STAT_PASS, 0, fp->v6);
}

/*
 * Overlapping fragments: a second first fragment (offset 0) is checked
 * like the first, so one naming port 22 is dropped; one overlapping the
 * first fragment's bytes past the ports goes to the same backend, whose
 * reassembly discards the datagram (RFC 5722; Linux for IPv4 too).
 */
static void test_ipfrag_overlap(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 l4[256], l4b[256], in[PT_BUF];
	const char *dst = fp->v6 ? "2001:db8::10" : "192.0.2.10";
	const __u32 vip = fp->v6 ? VIP_B : VIP_A;
	size_t len;

	frag_l4(IPPROTO_TCP, fp->v6 ? 443 : 80, false, l4);
	frag_l4(IPPROTO_TCP, 22, false, l4b);
	len = frag_frame(fp->v6, dst, IPPROTO_TCP, l4, 0, 48, true, false, in);
	frag_run(e, "first fragment to the VIP's port", in, len, XDP_TX,
		 XLB_STAT_FRAG, vip, fp->v6);
	len = frag_frame(fp->v6, dst, IPPROTO_TCP, l4b, 0, 48, true, false, in);
	frag_run(e, "second first fragment, to port 22", in, len, XDP_DROP,
		 XLB_STAT_DROP_FRAG_PORT, 0, fp->v6);
	len = frag_frame(fp->v6, dst, IPPROTO_TCP, l4b, 8, 112, false, false, in);
	frag_run(e, "fragment overlapping the first past its ports", in, len,
		 XDP_TX, XLB_STAT_FRAG, vip, fp->v6);
}

/* A first fragment too short to hold its ports is dropped. */
static void test_ipfrag_short(void **state)
{
	struct pt_ctx *c = *state;
	const struct fr_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 l4[256], in[PT_BUF];
	const char *dst = fp->v6 ? "2001:db8::10" : "192.0.2.10";
	size_t len;

	frag_l4(IPPROTO_TCP, fp->v6 ? 443 : 80, false, l4);
	len = frag_frame(fp->v6, dst, IPPROTO_TCP, l4, 0, 2, true, false, in);
	frag_run(e, "first fragment of 2 bytes", in, len, XDP_DROP,
		 XLB_STAT_DROP_FRAG_SHORT, 0, fp->v6);
	len = frag_frame(fp->v6, dst, IPPROTO_TCP, l4, 0, 8, true, false, in);
	frag_run(e, "first fragment of 8 bytes (the ports)", in, len, XDP_TX,
		 XLB_STAT_FRAG, fp->v6 ? VIP_B : VIP_A, fp->v6);
}

/*
 * IPv6, the fragment header naming destination options: later fragments
 * go by the address's protocol-0 alias, and so does the first, once the
 * transport header found past the options has a VIP's port. A first
 * fragment without its transport header, or with one no VIP serves, is
 * dropped.
 */
static void test_ipfrag_v6_ext(void **state)
{
	struct pt_ctx *c = *state;
	struct pt_env *e = c->e;
	static __u8 l4[256], in[PT_BUF];
	const char *dst = "2001:db8::10";
	size_t len;

	frag_l4(IPPROTO_TCP, 443, true, l4);
	len = frag_frame(true, dst, 0, l4, 0, 56, true, true, in);
	frag_run(e, "first fragment, options then tcp/443", in, len, XDP_TX,
		 XLB_STAT_FRAG, VIP_B, true);
	len = frag_frame(true, dst, 0, l4, 56, 72, false, true, in);
	frag_run(e, "last fragment of it", in, len, XDP_TX, XLB_STAT_FRAG,
		 VIP_B, true);
	len = frag_frame(true, dst, 0, l4, 0, 8, true, true, in);
	frag_run(e, "first fragment holding the options alone", in, len,
		 XDP_DROP, XLB_STAT_DROP_FRAG_SHORT, 0, true);
	frag_l4(IPPROTO_TCP, 22, true, l4);
	len = frag_frame(true, dst, 0, l4, 0, 56, true, true, in);
	frag_run(e, "first fragment, options then tcp/22", in, len, XDP_DROP,
		 XLB_STAT_DROP_FRAG_PORT, 0, true);
	frag_l4(IPPROTO_TCP, 443, true, l4);
	l4[0] = IPPROTO_ICMPV6; /* the options lead to ICMPv6 */
	len = frag_frame(true, dst, 0, l4, 0, 56, true, true, in);
	frag_run(e, "first fragment, options then icmpv6", in, len, XDP_DROP,
		 XLB_STAT_DROP_FRAG_PROTO, 0, true);
}

static const struct fr_param r4 = { false }, r6 = { true };

int pt_tests_frags(struct CMUnitTest *t, int max)
{
	int n = 0;

#define ADD(nm, fn, prm)                                                        \
	if (n < max)                                                          \
		t[n++] = (struct CMUnitTest){ nm, fn, pt_setup_std,           \
					      pt_teardown_env, (void *)(prm) }
	ADD("frags: v4 multi-buffer datagram forwarded as when linear", test_frags_fwd, &r4);
	ADD("frags: v6 multi-buffer datagram forwarded as when linear", test_frags_fwd, &r6);
	ADD("frags: v4 multi-buffer, too big for the path -> the same ICMP", test_frags_too_big, &r4);
	ADD("frags: v6 multi-buffer, too big for the path -> the same ICMPv6", test_frags_too_big, &r6);
	ADD("frags: v4 length beyond the whole frame -> DROP_MALFORMED", test_frags_short, &r4);
	ADD("frags: v6 length beyond the whole frame -> DROP_MALFORMED", test_frags_short, &r6);
	ADD("ipfrag: v4 fragments out of order reach one backend", test_ipfrag_order, &r4);
	ADD("ipfrag: v6 fragments out of order reach one backend", test_ipfrag_order, &r6);
	ADD("ipfrag: v4 first fragment to tcp/22, udp/161 -> DROP_FRAG_PORT", test_ipfrag_port, &r4);
	ADD("ipfrag: v6 first fragment to tcp/22, udp/161 -> DROP_FRAG_PORT", test_ipfrag_port, &r6);
	ADD("ipfrag: v4 udp fragments to a tcp-only address -> DROP_FRAG_PROTO", test_ipfrag_proto, &r4);
	ADD("ipfrag: v6 udp fragments to a tcp-only address -> DROP_FRAG_PROTO", test_ipfrag_proto, &r6);
	ADD("ipfrag: v4 overlapping fragments", test_ipfrag_overlap, &r4);
	ADD("ipfrag: v6 overlapping fragments", test_ipfrag_overlap, &r6);
	ADD("ipfrag: v4 first fragment without its ports -> DROP_FRAG_SHORT", test_ipfrag_short, &r4);
	ADD("ipfrag: v6 first fragment without its ports -> DROP_FRAG_SHORT", test_ipfrag_short, &r6);
	ADD("ipfrag: v6 fragment header naming dest options", test_ipfrag_v6_ext, &r6);
#undef ADD
	return n;
}
