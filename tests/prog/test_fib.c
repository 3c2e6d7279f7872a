// SPDX-License-Identifier: GPL-2.0
/*
 * test_fib.c - the real next-hop path: with the per-CPU cache empty the
 * program asks bpf_fib_lookup. Runs in a private network namespace
 * (unshare, then setns back) with veth pairs, addresses, permanent
 * neighbour entries and forwarding enabled:
 *
 *   xa (ifindex 10, 02:00:00:00:0a:01) 10.9.0.1/24 2001:db8:9::1/64
 *      neighbours 10.9.0.2, 2001:db8:9::2; 10.50.0.0/24 via 10.9.0.2
 *   xc (ifindex 12, 02:00:00:00:0c:01) 10.8.0.1/24, neighbour 10.8.0.2
 *
 * Packets enter on xa. The process is pinned to CPU 0 (main.c), so the
 * per-CPU cache entry written is CPU 0's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

#define XA 10
#define XC 12

static const __u8 mac_xa[6] = { 2, 0, 0, 0, 0x0a, 1 };
static const __u8 mac_xc[6] = { 2, 0, 0, 0, 0x0c, 1 };
static const __u8 mac_n2[6] = { 2, 0, 0, 0, 0x09, 2 };
static const __u8 mac_n2b[6] = { 2, 0, 0, 0, 0x09, 0x99 };
static const __u8 mac_n6[6] = { 2, 0, 0, 0, 0x09, 0x62 };
static const __u8 mac_c2[6] = { 2, 0, 0, 0, 0x08, 2 };

struct fib_ctx {
	struct pt_ctx c; /* must be first: pt_teardown_env frees it */
	int saved_ns;
};

static int sh(const char *cmd)
{
	char buf[4096];
	int rc;

	snprintf(buf, sizeof(buf), "set -e; %s%s", cmd,
		 pt_verbose ? "" : " >/dev/null 2>&1");
	rc = system(buf);
	if (rc)
		print_message("# command failed (%d): %s\n", rc, cmd);
	return rc;
}

static void sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("open %s: %s", path, strerror(errno));
	fputs(val, f);
	if (fclose(f))
		fail_msg("write %s: %s", path, strerror(errno));
}

static int setup_fib(void **state)
{
	struct fib_ctx *fc = calloc(1, sizeof(*fc));
	struct pt_env *e;
	__u32 id;

	assert_non_null(fc);
	fc->saved_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fc->saved_ns >= 0);
	if (unshare(CLONE_NEWNET))
		fail_msg("unshare(CLONE_NEWNET): %s", strerror(errno));
	*state = fc;
	if (sh("ip link set lo up; "
	       "ip link add xa index 10 address 02:00:00:00:0a:01 type veth "
	       "peer name xb index 11 address 02:00:00:00:0b:01; "
	       "ip link add xc index 12 address 02:00:00:00:0c:01 type veth "
	       "peer name xd index 13 address 02:00:00:00:0d:01; "
	       "for d in xa xb xc xd; do ip link set $d up; done; "
	       "ip addr add 10.9.0.1/24 dev xa; "
	       "ip addr add 10.8.0.1/24 dev xc; "
	       "ip -6 addr add 2001:db8:9::1/64 dev xa nodad; "
	       "ip neigh add 10.9.0.2 lladdr 02:00:00:00:09:02 dev xa nud permanent; "
	       "ip neigh add 10.8.0.2 lladdr 02:00:00:00:08:02 dev xc nud permanent; "
	       "ip -6 neigh add 2001:db8:9::2 lladdr 02:00:00:00:09:62 dev xa nud permanent; "
	       "ip route add 10.50.0.0/24 via 10.9.0.2 dev xa"))
		fail_msg("building the test namespace failed (ip, veth)");
	/* Explicitly off everywhere but lo, IPv6's global switch included. */
	sysctl("/proc/sys/net/ipv4/conf/all/forwarding", "0");
	sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "0");
	sysctl("/proc/sys/net/ipv4/conf/lo/forwarding", "1");
	sysctl("/proc/sys/net/ipv6/conf/lo/forwarding", "1");

	e = pt_env_open();
	fc->c.e = e;
	e->ifindex = XA;
	pt_add_vip(e, 1, "192.0.2.10", 80, IPPROTO_TCP, XLB_FWD_IPIP, 1, 32, 128,
		   true);
	pt_add_vip(e, 2, "192.0.2.30", 80, IPPROTO_TCP, XLB_FWD_L2DSR, 1, 32, 128,
		   true);
	pt_add_vip(e, 3, "2001:db8::10", 443, IPPROTO_TCP, XLB_FWD_IPIP, 1, 32,
		   128, true);
	pt_add_backend(e, 1, 1, "10.9.0.2", XLB_BE_UP);
	pt_add_backend(e, 2, 1, "10.9.0.3", XLB_BE_UP); /* no neighbour */
	pt_add_backend(e, 3, 1, "10.77.0.1", XLB_BE_UP); /* no route */
	pt_add_backend(e, 4, 1, "10.8.0.2", XLB_BE_UP); /* via xc */
	pt_add_backend(e, 5, 1, "2001:db8:9::2", XLB_BE_UP);
	pt_add_backend(e, 6, 1, "2001:db8:9::3", XLB_BE_UP); /* no neighbour */
	pt_add_backend(e, 7, 1, "10.50.0.1", XLB_BE_UP); /* via gateway */
	/* The next-hop cache starts empty: every CPU's entry zero. */
	for (id = 1; id <= 7; id++) {
		struct xlb_nexthop zero = { 0 };

		pt_set_nexthop(e, id, &zero);
	}
	return 0;
}

static int teardown_fib(void **state)
{
	struct fib_ctx *fc = *state;

	if (!fc)
		return 0;
	pt_env_close(fc->c.e);
	if (setns(fc->saved_ns, CLONE_NEWNET))
		fprintf(stderr, "setns back: %s\n", strerror(errno));
	close(fc->saved_ns);
	free(fc);
	return 0;
}

/* Points the single slot of vip at be. */
static void use_backend(struct pt_env *e, __u32 vip, __u32 be)
{
	e->vip[vip].slots[0] = (struct xlb_slot){ be, XLB_BACKEND_NONE };
	pt_swap_table(e, vip);
}

static struct xlb_nexthop nh_cpu0(struct pt_env *e, __u32 id)
{
	struct xlb_nexthop *all = calloc(e->ncpus, sizeof(*all)), r;

	assert_non_null(all);
	assert_int_equal(bpf_map_lookup_elem(e->nexthop, &id, all), 0);
	r = all[0];
	free(all);
	return r;
}

/* A SYN (so the table decides) to vip; returns the verdict. */
static int send_syn(struct pt_env *e, __u32 vip, __u8 *in, size_t *inlen,
		    __u8 *out, __u32 *outlen)
{
	struct pspec p = { .src = vip == 3 ? "2001:db8:c::5" : "203.0.113.5",
			   .dst = vip == 1 ? "192.0.2.10" :
				  vip == 2 ? "192.0.2.30" : "2001:db8::10",
			   .proto = IPPROTO_TCP, .sport = 40000,
			   .dport = vip == 3 ? 443 : 80, .flags = 0x02,
			   .frag = vip == 3 ? 0 : 0x4000 };

	*inlen = pb_frame(&p, in);
	return pt_run(e, in, (__u32)*inlen, out, outlen);
}

/* Forwarded through a FIB answer: exact bytes with these MACs. */
static void expect_fib_fwd(struct pt_env *e, __u32 vip, __u32 be, int verdict,
			   const __u8 *dmac, const __u8 *smac, __u32 ifindex,
			   bool reset, const char *what)
{
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	__u64 r0 = pt_stat(e, XLB_STAT_NH_REFRESH);
	struct xlb_nexthop nh;
	__u32 outlen;
	size_t inlen, elen;
	int v;

	if (reset) {
		struct xlb_nexthop zero = { 0 };

		pt_set_nexthop(e, be, &zero);
	}
	use_backend(e, vip, be);
	v = send_syn(e, vip, in, &inlen, out, &outlen);
	if (v != verdict)
		fail_msg("%s: verdict %d, expected %d (drops: no_neigh %llu no_route %llu)",
			 what, v, verdict,
			 (unsigned long long)pt_stat(e, XLB_STAT_DROP_NO_NEIGH),
			 (unsigned long long)pt_stat(e, XLB_STAT_DROP_NO_ROUTE));
	if (pt_stat(e, XLB_STAT_NH_REFRESH) - r0 != 1)
		fail_msg("%s: NH_REFRESH not counted once", what);
	nh = nh_cpu0(e, be);
	assert_memory_equal(nh.dmac, dmac, 6);
	assert_memory_equal(nh.smac, smac, 6);
	assert_int_equal(nh.ifindex, ifindex);
	if (nh.expires_ns <= pt_now_coarse() ||
	    nh.expires_ns > pt_now_coarse() + e->cfg.nexthop_ttl_ns + 100000000ULL)
		fail_msg("%s: cache expiry %llu not now + ttl", what,
			 (unsigned long long)nh.expires_ns);
	/* The expectation uses the MACs the FIB must have given. */
	memcpy(e->nh[be].dmac, dmac, 6);
	memcpy(e->nh[be].smac, smac, 6);
	elen = pt_expect_fwd(e, vip, be, in, inlen, out, outlen, exp);
	pt_assert_bytes(what, exp, elen, out, outlen);
}

static void expect_fib_drop(struct pt_env *e, __u32 vip, __u32 be,
			    __u32 stat, const char *what)
{
	static __u8 in[PT_BUF], out[PT_BUF];
	__u64 d0 = pt_stat(e, stat), r0 = pt_stat(e, XLB_STAT_NH_REFRESH);
	struct xlb_nexthop nh;
	__u32 outlen;
	size_t inlen;
	int v;

	use_backend(e, vip, be);
	v = send_syn(e, vip, in, &inlen, out, &outlen);
	if (v != XDP_DROP)
		fail_msg("%s: verdict %d, expected XDP_DROP", what, v);
	if (pt_stat(e, stat) - d0 != 1)
		fail_msg("%s: %s not counted", what, pt_stat_name(stat));
	assert_int_equal(pt_stat(e, XLB_STAT_NH_REFRESH) - r0, 0);
	nh = nh_cpu0(e, be);
	if (nh.expires_ns)
		fail_msg("%s: a failed lookup filled the cache", what);
}

static void test_fib_resolve(void **state)
{
	struct pt_env *e = ((struct pt_ctx *)*state)->e;

	expect_fib_fwd(e, 1, 1, XDP_TX, mac_n2, mac_xa, XA, true, "ipip, neighbour on the ingress link");
	expect_fib_fwd(e, 1, 4, XDP_REDIRECT, mac_c2, mac_xc, XC, true, "ipip, neighbour on another link");
	expect_fib_fwd(e, 1, 5, XDP_TX, mac_n6, mac_xa, XA, true, "4in6, IPv6 neighbour");
	expect_fib_fwd(e, 1, 7, XDP_TX, mac_n2, mac_xa, XA, true, "ipip, backend behind a gateway");
	expect_fib_fwd(e, 3, 5, XDP_TX, mac_n6, mac_xa, XA, true, "ip6ip6, IPv6 neighbour");
	expect_fib_fwd(e, 2, 1, XDP_TX, mac_n2, mac_xa, XA, true, "l2dsr, on-link backend");
}

static void test_fib_failures(void **state)
{
	struct pt_env *e = ((struct pt_ctx *)*state)->e;

	expect_fib_drop(e, 1, 2, XLB_STAT_DROP_NO_NEIGH, "IPv4 backend without a neighbour entry");
	expect_fib_drop(e, 1, 6, XLB_STAT_DROP_NO_NEIGH, "IPv6 backend without a neighbour entry");
	expect_fib_drop(e, 1, 3, XLB_STAT_DROP_NO_ROUTE, "unreachable backend");
	expect_fib_drop(e, 2, 7, XLB_STAT_DROP_NOT_ONLINK, "l2dsr backend behind a gateway");
	sysctl("/proc/sys/net/ipv4/conf/lo/forwarding", "0");
	expect_fib_drop(e, 1, 1, XLB_STAT_DROP_NO_ROUTE, "forwarding disabled on lo");
}

/* The cache is used until it expires, then refreshed from the FIB. */
static void test_fib_cache(void **state)
{
	struct pt_env *e = ((struct pt_ctx *)*state)->e;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	struct xlb_nexthop stale = { .dmac = { 2, 0, 0, 0, 0xde, 0xad },
				     .smac = { 2, 0, 0, 0, 0xbe, 0xef },
				     .ifindex = XA,
				     .expires_ns = 1 };
	__u32 outlen;
	size_t inlen, elen;
	__u64 r0;
	int v;

	/* An expired entry with wrong MACs is refreshed. */
	pt_set_nexthop(e, 1, &stale);
	expect_fib_fwd(e, 1, 1, XDP_TX, mac_n2, mac_xa, XA, false, "expired cache entry refreshed");
	/* The neighbour moves; the still-valid cache keeps the old MAC. */
	if (sh("ip neigh replace 10.9.0.2 lladdr 02:00:00:00:09:99 dev xa nud permanent"))
		fail_msg("ip neigh replace failed");
	r0 = pt_stat(e, XLB_STAT_NH_REFRESH);
	v = send_syn(e, 1, in, &inlen, out, &outlen);
	assert_int_equal(v, XDP_TX);
	assert_int_equal(pt_stat(e, XLB_STAT_NH_REFRESH) - r0, 0);
	elen = pt_expect_fwd(e, 1, 1, in, inlen, out, outlen, exp);
	pt_assert_bytes("valid cache entry used without a lookup", exp, elen, out,
			outlen);
	/* Expired: the new MAC is learnt. */
	stale = nh_cpu0(e, 1);
	stale.expires_ns = 1;
	pt_set_nexthop(e, 1, &stale);
	expect_fib_fwd(e, 1, 1, XDP_TX, mac_n2b, mac_xa, XA, false, "refresh after the neighbour moved");
}

/* Sends a SYN to vip 1 through be; its verdict, the cache checked after. */
static int stale_send(struct pt_env *e, __u32 be, __u8 *in, size_t *inlen,
		      __u8 *out, __u32 *outlen)
{
	use_backend(e, 1, be);
	return send_syn(e, 1, in, inlen, out, outlen);
}

/*
 * The kernel loses the neighbour entry (garbage collection, a flush): the
 * MAC the cache learnt is used for another TTL instead of dropping, and
 * the next successful lookup takes over again.
 */
static void test_fib_stale(void **state)
{
	struct pt_env *e = ((struct pt_ctx *)*state)->e;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	struct xlb_nexthop nh;
	__u64 s0, d0;
	__u32 outlen;
	size_t inlen, elen;
	int v;

	expect_fib_fwd(e, 1, 1, XDP_TX, mac_n2, mac_xa, XA, true, "resolved before the loss");
	expect_fib_fwd(e, 1, 5, XDP_TX, mac_n6, mac_xa, XA, true, "IPv6 resolved before the loss");
	if (sh("ip neigh del 10.9.0.2 dev xa; ip -6 neigh del 2001:db8:9::2 dev xa"))
		fail_msg("ip neigh del failed");
	for (__u32 be = 1; be <= 5; be += 4) {
		nh = nh_cpu0(e, be);
		nh.expires_ns = 1;
		pt_set_nexthop(e, be, &nh);
		s0 = pt_stat(e, XLB_STAT_NH_STALE);
		d0 = pt_stat(e, XLB_STAT_DROP_NO_NEIGH);
		v = stale_send(e, be, in, &inlen, out, &outlen);
		if (v != XDP_TX)
			fail_msg("be %u: neighbour gone: verdict %d, expected XDP_TX "
				 "(no_neigh +%llu)", be, v,
				 (unsigned long long)(pt_stat(e, XLB_STAT_DROP_NO_NEIGH) - d0));
		assert_int_equal(pt_stat(e, XLB_STAT_NH_STALE) - s0, 1);
		elen = pt_expect_fwd(e, 1, be, in, inlen, out, outlen, exp);
		pt_assert_bytes("neighbour gone: last known MAC used", exp, elen,
				out, outlen);
		nh = nh_cpu0(e, be);
		if (nh.expires_ns <= pt_now_coarse() ||
		    nh.expires_ns > pt_now_coarse() + e->cfg.nexthop_ttl_ns + 100000000ULL)
			fail_msg("be %u: stale entry not kept for one TTL", be);
		/* Within that TTL, no lookup and no second count. */
		v = stale_send(e, be, in, &inlen, out, &outlen);
		assert_int_equal(v, XDP_TX);
		assert_int_equal(pt_stat(e, XLB_STAT_NH_STALE) - s0, 1);
	}
	/* Resolved again with another MAC: the lookup wins at expiry. */
	if (sh("ip neigh add 10.9.0.2 lladdr 02:00:00:00:09:99 dev xa nud permanent"))
		fail_msg("ip neigh add failed");
	nh = nh_cpu0(e, 1);
	nh.expires_ns = 1;
	pt_set_nexthop(e, 1, &nh);
	expect_fib_fwd(e, 1, 1, XDP_TX, mac_n2b, mac_xa, XA, false, "resolved again after the loss");
}

/* A CPU that never resolved the backend borrows another CPU's MAC. */
static void test_fib_borrow(void **state)
{
	struct pt_env *e = ((struct pt_ctx *)*state)->e;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	struct xlb_nexthop *all, nh;
	__u32 id = 2, outlen; /* 10.9.0.3: routed out of xa, no neighbour */
	size_t inlen, elen;
	__u64 s0;
	int v;

	if (e->ncpus < 2)
		skip();
	all = calloc(e->ncpus, sizeof(*all));
	assert_non_null(all);
	all[1] = (struct xlb_nexthop){ .dmac = { 2, 0, 0, 0, 0x09, 3 },
				       .smac = { 2, 0, 0, 0, 0x0a, 1 },
				       .ifindex = XA, .expires_ns = 1 };
	assert_int_equal(bpf_map_update_elem(e->nexthop, &id, all, 0), 0);
	s0 = pt_stat(e, XLB_STAT_NH_STALE);
	v = stale_send(e, id, in, &inlen, out, &outlen);
	assert_int_equal(v, XDP_TX);
	assert_int_equal(pt_stat(e, XLB_STAT_NH_STALE) - s0, 1);
	e->nh[id] = all[1];
	elen = pt_expect_fwd(e, 1, id, in, inlen, out, outlen, exp);
	pt_assert_bytes("CPU 1's MAC borrowed", exp, elen, out, outlen);
	nh = nh_cpu0(e, id);
	assert_memory_equal(nh.dmac, all[1].dmac, 6);
	/* Learnt toward another interface: not borrowed. */
	all[1].ifindex = XC;
	all[0] = (struct xlb_nexthop){ 0 };
	assert_int_equal(bpf_map_update_elem(e->nexthop, &id, all, 0), 0);
	free(all);
	expect_fib_drop(e, 1, id, XLB_STAT_DROP_NO_NEIGH,
			"MAC learnt on another interface not borrowed");
}

int pt_tests_fib(struct CMUnitTest *t, int max)
{
	int n = 0;

	if (n < max)
		t[n++] = (struct CMUnitTest){ "fib: empty cache resolved from FIB (TX, REDIRECT, v4, v6, gateway, l2dsr)",
					      test_fib_resolve, setup_fib,
					      teardown_fib, NULL };
	if (n < max)
		t[n++] = (struct CMUnitTest){ "fib: no neighbour, no route, not on-link, forwarding off",
					      test_fib_failures, setup_fib,
					      teardown_fib, NULL };
	if (n < max)
		t[n++] = (struct CMUnitTest){ "fib: cache used until expiry, then refreshed",
					      test_fib_cache, setup_fib,
					      teardown_fib, NULL };
	if (n < max)
		t[n++] = (struct CMUnitTest){ "fib: neighbour lost, last known MAC kept for a TTL",
					      test_fib_stale, setup_fib,
					      teardown_fib, NULL };
	if (n < max)
		t[n++] = (struct CMUnitTest){ "fib: neighbour never resolved here, another CPU's MAC borrowed",
					      test_fib_borrow, setup_fib,
					      teardown_fib, NULL };
	return n;
}
