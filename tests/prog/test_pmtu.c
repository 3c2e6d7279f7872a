// SPDX-License-Identifier: GPL-2.0
/*
 * test_pmtu.c - a client packet that would not fit the path toward its
 * backend once encapsulated is answered with ICMP "fragmentation needed"
 * (IPv4, DF set) or ICMPv6 "packet too big", byte for byte as built here
 * (checksums by pb_csum, not the program's); DF-clear packets are dropped
 * and counted; a packet that fits exactly is forwarded.
 */
#include <arpa/inet.h>
#include <string.h>
#include "harness.h"
#include "pkt.h"

#define PMTU 1000

struct pm_param {
	bool v6;
};

static void test_too_big(void **state)
{
	struct pt_ctx *c = *state;
	const struct pm_param *pp = c->param;
	struct pt_env *e = c->e;
	__u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	__u32 outlen, overhead = pp->v6 ? 40 : 20;
	struct pspec p = {
		.src = pp->v6 ? "2001:db8:c::7" : "198.18.0.7",
		.dst = pp->v6 ? "2001:db8::10" : "192.0.2.10",
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = pp->v6 ? 443 : 80,
		.flags = 0x10,
		.frag = 0x4000,
	};
	struct pspec q = { 0 };
	size_t inlen, elen, l2 = 14, hdr = pp->v6 ? 40 : 20;
	__u64 sent0 = pt_stat(e, XLB_STAT_TOO_BIG);
	int v;

	pt_set_path_mtu(e, pp->v6 ? 5 : 1, pp->v6 ? 7 : 4, PMTU);
	/* One byte more than the path carries once encapsulated. */
	p.dlen = (__u16)(PMTU - overhead - hdr - 20 + 1);
	inlen = pb_frame(&p, in);
	v = pt_run(e, in, (__u32)inlen, out, &outlen);
	assert_int_equal(v, XDP_TX);

	/* The reply a router would send: from the balancer to the client. */
	q.src = pp->v6 ? "2001:db8:100::1" : "198.51.100.1";
	q.dst = p.src;
	q.proto = pp->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	q.itype = pp->v6 ? 2 : 3;
	q.icode = pp->v6 ? 0 : 4;
	q.irest = PMTU - overhead;
	q.emb = &p;
	q.emb_len = (__u16)(hdr + 8);
	elen = pb_frame(&q, exp);
	/* Back to where the packet came from: the MACs swapped. */
	memcpy(exp, in + 6, 6);
	memcpy(exp + 6, in, 6);
	if (!pp->v6) {
		/* The reply's IPv4 id is 0 (the builder's default is not). */
		put16(exp + l2 + 4, 0);
		put16(exp + l2 + 10, 0);
		put16(exp + l2 + 10, pb_csum(exp + l2, 20, 0));
	}
	pt_assert_bytes("too-big reply", exp, elen, out, outlen);
	assert_int_equal(pt_stat(e, XLB_STAT_TOO_BIG) - sent0, 1);

	/* Exactly at the limit: forwarded. */
	p.dlen--;
	inlen = pb_frame(&p, in);
	assert_int_equal(pt_run(e, in, (__u32)inlen, out, &outlen), XDP_TX);
	assert_int_equal(outlen, inlen + overhead);
}

static void test_df_clear_dropped(void **state)
{
	struct pt_ctx *c = *state;
	struct pt_env *e = c->e;
	__u8 in[PT_BUF], out[PT_BUF];
	__u32 outlen;
	struct pspec p = {
		.src = "198.18.0.8", .dst = "192.0.2.10", .proto = IPPROTO_TCP,
		.sport = 40001, .dport = 80, .flags = 0x10,
		.dlen = PMTU, /* DF clear */
	};
	__u64 d0 = pt_stat(e, XLB_STAT_DROP_MTU);
	size_t inlen;

	pt_set_path_mtu(e, 1, 4, PMTU);
	inlen = pb_frame(&p, in);
	assert_int_equal(pt_run(e, in, (__u32)inlen, out, &outlen), XDP_DROP);
	assert_int_equal(pt_stat(e, XLB_STAT_DROP_MTU) - d0, 1);
}

static const struct pm_param p4 = { false }, p6 = { true };

int pt_tests_pmtu(struct CMUnitTest *t, int max)
{
	int n = 0;

#define ADD(nm, fn, prm)                                                        \
	if (n < max)                                                          \
		t[n++] = (struct CMUnitTest){ nm, fn, pt_setup_std,           \
					      pt_teardown_env, (void *)(prm) }
	ADD("pmtu: v4 too big once encapsulated -> ICMP frag needed", test_too_big, &p4);
	ADD("pmtu: v6 too big once encapsulated -> ICMPv6 packet too big", test_too_big, &p6);
	ADD("pmtu: v4 DF clear, too big -> DROP_MTU", test_df_clear_dropped, &p4);
#undef ADD
	return n;
}
