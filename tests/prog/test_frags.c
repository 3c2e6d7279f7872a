// SPDX-License-Identifier: GPL-2.0
/*
 * test_frags.c - multi-buffer frames, as a driver with a jumbo MTU hands
 * them to XDP: the headers in the linear part, the rest of the datagram
 * in fragments. Each frame runs once as one linear buffer, checked
 * against frames built here, and then split at several points past its
 * headers: the split runs must give the same verdict, the same bytes and
 * the same counters. Forwarded, answered with ICMP when too big for the
 * path, dropped as malformed when its length claims more than the whole
 * frame holds.
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
#undef ADD
	return n;
}
