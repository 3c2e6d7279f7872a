// SPDX-License-Identifier: GPL-2.0
/*
 * test_flow.c - the flow table: established flows survive table swaps,
 * SYNs take the new table, DOWN backends lose their flows, DRAIN keeps
 * them but takes no new ones, both slot owners unusable drops, idle UDP
 * entries expire, resets open nothing, atime refresh granularity, and
 * which way of a flow-table set a new flow takes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

#define CL4 "203.0.113.5"
#define CL6 "2001:db8:c::5"

struct fam_param {
	bool v6;
};

struct fl {
	__u32 vip;
	const char *client, *vaddr;
	__u16 vport;
	__u8 proto;
};

static struct fl fl_of(bool v6)
{
	if (v6)
		return (struct fl){ VIP_B, CL6, "2001:db8::10", 443, IPPROTO_TCP };
	return (struct fl){ VIP_A, CL4, "192.0.2.10", 80, IPPROTO_TCP };
}

/* The backend id whose address is the output's outer destination. */
static __u32 out_backend(const struct pt_env *e, const __u8 *out, __u32 len)
{
	__u16 type = 0;
	size_t l2 = pb_l2_len(out, len, &type);
	__u32 id;

	for (id = 0; id < PT_MAX_BE; id++) {
		const struct xlb_backend *b = &e->be[id];

		if (!b->flags)
			continue;
		if (type == 0x0800 && b->family == XLB_AF_INET && len >= l2 + 20 &&
		    !memcmp(out + l2 + 16, b->addr, 4))
			return id;
		if (type == 0x86dd && b->family == XLB_AF_INET6 &&
		    len >= l2 + 40 && !memcmp(out + l2 + 24, b->addr, 16))
			return id;
	}
	return XLB_BACKEND_NONE;
}

/*
 * Sends one packet of the flow and checks it went, byte for byte, to
 * want (XLB_BACKEND_NONE: must be dropped with DROP_NO_BACKEND).
 */
static void send_expect(struct pt_env *e, const struct fl *f, __u16 sport,
			__u8 flags, __u32 want, const char *what)
{
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	struct pspec p = { .src = f->client, .dst = f->vaddr, .proto = f->proto,
			   .sport = sport, .dport = f->vport, .flags = flags,
			   .dlen = 16 };
	__u64 nb0 = pt_stat(e, XLB_STAT_DROP_NO_BACKEND);
	__u32 outlen;
	size_t inlen = pb_frame(&p, in), elen;
	int v = pt_run(e, in, (__u32)inlen, out, &outlen);

	if (want == XLB_BACKEND_NONE) {
		if (v != XDP_DROP)
			fail_msg("%s: verdict %d, expected XDP_DROP", what, v);
		if (pt_stat(e, XLB_STAT_DROP_NO_BACKEND) - nb0 != 1)
			fail_msg("%s: DROP_NO_BACKEND not counted", what);
		return;
	}
	if (v != XDP_TX)
		fail_msg("%s: verdict %d, expected XDP_TX", what, v);
	if (out_backend(e, out, outlen) != want)
		fail_msg("%s: went to backend %u, expected %u", what,
			 out_backend(e, out, outlen), want);
	elen = pt_expect_fwd(e, f->vip, want, in, inlen, out, outlen, exp);
	pt_assert_bytes(what, exp, elen, out, outlen);
}

static struct xlb_flow_key key_of(const struct fl *f, __u16 sport)
{
	return pt_flow_key(f->client, f->vaddr, sport, f->vport, f->proto);
}

static void expect_entry(struct pt_env *e, const struct fl *f, __u16 sport,
			 __u32 want, const char *what)
{
	struct xlb_flow_key k = key_of(f, sport);
	struct xlb_flow v;

	if (pt_flow_get(e, &k, &v, NULL))
		fail_msg("%s: no flow entry", what);
	if (v.backend != want)
		fail_msg("%s: flow entry points to %u, expected %u", what, v.backend,
			 want);
}

static void expect_no_entry(struct pt_env *e, const struct fl *f, __u16 sport,
			    const char *what)
{
	struct xlb_flow_key k = key_of(f, sport);
	struct xlb_flow v;

	if (pt_flow_get(e, &k, &v, NULL) != -ENOENT)
		fail_msg("%s: unexpected flow entry (backend %u)", what, v.backend);
}

static __u32 slot_of(struct pt_env *e, const struct fl *f)
{
	__be32 cl[4];

	pt_addr(f->client, cl);
	return pt_expect_slot(e, f->vip, cl);
}

#define DELTA(e, st, body)                                                    \
	({                                                                   \
		__u64 _b = pt_stat((e), (st));                               \
		body;                                                        \
		pt_stat((e), (st)) - _b;                                     \
	})

static void test_hit_miss_counters(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	__u32 x = e->vip[f.vip].slots[slot_of(e, &f)].primary;
	struct xlb_counters v0 = pt_vip_ctr(e, f.vip), v1;
	__u64 d;

	d = DELTA(e, XLB_STAT_FLOW_MISS, send_expect(e, &f, 1000, 0x10, x, "first packet"));
	assert_int_equal(d, 1);
	expect_entry(e, &f, 1000, x, "after the first packet");
	d = DELTA(e, XLB_STAT_FLOW_HIT, send_expect(e, &f, 1000, 0x10, x, "second packet"));
	assert_int_equal(d, 1);
	d = DELTA(e, XLB_STAT_FLOW_HIT, send_expect(e, &f, 1000, 0x18, x, "third packet"));
	assert_int_equal(d, 1);
	v1 = pt_vip_ctr(e, f.vip);
	assert_int_equal(v1.packets - v0.packets, 3);
	assert_int_equal(v1.new_flows - v0.new_flows, 1);
}

static void test_table_swap(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	struct pt_vip *pv = &e->vip[f.vip];
	__u32 s = slot_of(e, &f), x = pv->slots[s].primary, y, z, i;
	__u64 d;

	send_expect(e, &f, 1000, 0x10, x, "before the swap");
	/* New table: every slot now owned by y (secondary z). */
	y = x == (fp->v6 ? 5u : 1u) ? x + 1 : x - 1;
	z = fp->v6 ? 7 : 4;
	if (z == x || z == y)
		z = fp->v6 ? 5 : 1;
	for (i = 0; i < pv->v.table_size; i++) {
		pv->slots[i].primary = y;
		pv->slots[i].secondary = z;
	}
	pt_swap_table(e, f.vip);
	d = DELTA(e, XLB_STAT_FLOW_HIT,
		  send_expect(e, &f, 1000, 0x10, x, "established flow after the swap"));
	assert_int_equal(d, 1);
	send_expect(e, &f, 1000, 0x14, x, "RST of the established flow");
	expect_entry(e, &f, 1000, x, "after the RST");
	send_expect(e, &f, 2000, 0x10, y, "new flow (non-SYN miss) after the swap");
	expect_entry(e, &f, 2000, y, "new flow");
	d = DELTA(e, XLB_STAT_FLOW_MISS,
		  send_expect(e, &f, 1000, 0x02, y, "SYN reusing the tuple"));
	assert_int_equal(d, 1);
	expect_entry(e, &f, 1000, y, "after the SYN");
	send_expect(e, &f, 1000, 0x10, y, "flow after the SYN");
}

static void test_backend_down(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	struct xlb_slot sl = e->vip[f.vip].slots[slot_of(e, &f)];
	__u64 r, s;

	send_expect(e, &f, 1000, 0x10, sl.primary, "before DOWN");
	pt_set_state(e, sl.primary, XLB_BE_DOWN);
	s = pt_stat(e, XLB_STAT_SECONDARY);
	r = DELTA(e, XLB_STAT_FLOW_RESELECT,
		  send_expect(e, &f, 1000, 0x10, sl.secondary,
			      "established flow on a DOWN backend"));
	assert_int_equal(r, 1);
	assert_int_equal(pt_stat(e, XLB_STAT_SECONDARY) - s, 1);
	expect_entry(e, &f, 1000, sl.secondary, "re-chosen flow");
	send_expect(e, &f, 1000, 0x10, sl.secondary, "re-chosen flow, next packet");
	send_expect(e, &f, 3000, 0x10, sl.secondary, "new flow, primary DOWN");
	send_expect(e, &f, 3001, 0x02, sl.secondary, "new SYN, primary DOWN");
	/* Back UP: the re-chosen flows stay where they are now. */
	pt_set_state(e, sl.primary, XLB_BE_UP);
	send_expect(e, &f, 1000, 0x10, sl.secondary, "flow after the primary is UP again");
	send_expect(e, &f, 4000, 0x10, sl.primary, "new flow, primary UP again");
}

static void test_backend_drain(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	struct xlb_slot sl = e->vip[f.vip].slots[slot_of(e, &f)];
	__u64 d;

	send_expect(e, &f, 1000, 0x10, sl.primary, "before DRAIN");
	pt_set_state(e, sl.primary, XLB_BE_DRAIN);
	d = DELTA(e, XLB_STAT_FLOW_HIT,
		  send_expect(e, &f, 1000, 0x10, sl.primary,
			      "established flow on a DRAIN backend"));
	assert_int_equal(d, 1);
	expect_entry(e, &f, 1000, sl.primary, "draining flow");
	d = DELTA(e, XLB_STAT_SECONDARY,
		  send_expect(e, &f, 5000, 0x10, sl.secondary, "new flow (miss), DRAIN"));
	assert_int_equal(d, 1);
	send_expect(e, &f, 5001, 0x02, sl.secondary, "new SYN, DRAIN");
	send_expect(e, &f, 1000, 0x02, sl.secondary, "SYN reusing a draining tuple");
	expect_entry(e, &f, 1000, sl.secondary, "after the SYN");
}

static void test_no_backend(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	struct xlb_slot sl = e->vip[f.vip].slots[slot_of(e, &f)];
	struct xlb_flow_key k = key_of(&f, 6000);

	send_expect(e, &f, 1000, 0x10, sl.primary, "flow on the primary");
	pt_flow_put(e, &k, sl.secondary, pt_now_coarse());
	pt_set_state(e, sl.primary, XLB_BE_DOWN);
	pt_set_state(e, sl.secondary, XLB_BE_DRAIN);
	send_expect(e, &f, 7000, 0x10, XLB_BACKEND_NONE, "new flow, primary DOWN, secondary DRAIN");
	send_expect(e, &f, 7001, 0x02, XLB_BACKEND_NONE, "SYN, primary DOWN, secondary DRAIN");
	expect_no_entry(e, &f, 7000, "dropped new flow");
	send_expect(e, &f, 6000, 0x10, sl.secondary, "flow pinned to the DRAIN secondary");
	send_expect(e, &f, 1000, 0x10, XLB_BACKEND_NONE, "flow on the DOWN primary");
	pt_set_state(e, sl.secondary, XLB_BE_DOWN);
	send_expect(e, &f, 6000, 0x10, XLB_BACKEND_NONE, "flow on a secondary now DOWN");
}

static void test_udp_expiry(void **state)
{
	struct pt_ctx *c = *state;
	struct pt_env *e = c->e;
	struct fl u = { VIP_C, CL4, "192.0.2.20", 53, IPPROTO_UDP };
	struct fl t = fl_of(false);
	__u32 su = slot_of(e, &u), st = slot_of(e, &t);
	__u32 xu = e->vip[VIP_C].slots[su].primary;
	__u32 xt = e->vip[VIP_A].slots[st].primary, i;
	__u32 yu = xu == 8 ? 9 : 8, yt = xt == 1 ? 2 : 1;
	__u64 d;

	e->cfg.udp_timeout_ns = 300000000ULL; /* 300 ms */
	pt_write_config(e);
	send_expect(e, &u, 5353, 0, xu, "udp flow");
	send_expect(e, &t, 1000, 0x10, xt, "tcp flow");
	for (i = 0; i < e->vip[VIP_C].v.table_size; i++)
		e->vip[VIP_C].slots[i] = (struct xlb_slot){ yu, xu };
	pt_swap_table(e, VIP_C);
	for (i = 0; i < e->vip[VIP_A].v.table_size; i++)
		e->vip[VIP_A].slots[i] = (struct xlb_slot){ yt, xt };
	pt_swap_table(e, VIP_A);
	send_expect(e, &u, 5353, 0, xu, "udp flow within its timeout");
	usleep(500000);
	d = DELTA(e, XLB_STAT_FLOW_EXPIRED,
		  send_expect(e, &u, 5353, 0, yu, "udp flow idle past its timeout"));
	assert_int_equal(d, 1);
	expect_entry(e, &u, 5353, yu, "expired udp flow re-chosen");
	d = DELTA(e, XLB_STAT_FLOW_EXPIRED,
		  send_expect(e, &t, 1000, 0x10, xt, "tcp flow, same idle time"));
	assert_int_equal(d, 0);
}

static void test_rst(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	__u32 x = e->vip[f.vip].slots[slot_of(e, &f)].primary;

	send_expect(e, &f, 1000, 0x04, x, "RST without a flow");
	expect_no_entry(e, &f, 1000, "RST");
	send_expect(e, &f, 1001, 0x14, x, "RST|ACK without a flow");
	expect_no_entry(e, &f, 1001, "RST|ACK");
	send_expect(e, &f, 1002, 0x10, x, "ACK");
	expect_entry(e, &f, 1002, x, "ACK");
	send_expect(e, &f, 1002, 0x04, x, "RST of an existing flow");
	expect_entry(e, &f, 1002, x, "after the RST");
}

static void test_atime(void **state)
{
	struct pt_ctx *c = *state;
	struct pt_env *e = c->e;
	struct fl f = fl_of(false);
	__u32 x = e->vip[f.vip].slots[slot_of(e, &f)].primary;
	struct xlb_flow_key k1 = key_of(&f, 1000), k2 = key_of(&f, 1001);
	__u64 now = pt_now_coarse(), old = now - 5000000000ULL,
	      recent = now - 100000000ULL;
	struct xlb_flow v;
	__u64 at;

	pt_flow_put(e, &k1, x, old);
	pt_flow_put(e, &k2, x, recent);
	send_expect(e, &f, 1000, 0x10, x, "flow idle 5 s");
	send_expect(e, &f, 1001, 0x10, x, "flow idle 0.1 s");
	assert_int_equal(pt_flow_get(e, &k1, &v, &at), 0);
	if (at < now)
		fail_msg("atime of a flow idle 5 s not refreshed (%llu < %llu)",
			 (unsigned long long)at, (unsigned long long)now);
	assert_int_equal(pt_flow_get(e, &k2, &v, &at), 0);
	if (at != recent)
		fail_msg("atime refreshed within its 1 s step");
}

/* A flow of its own client address and port. */
struct set_flow {
	char client[INET6_ADDRSTRLEN];
	__u16 sport;
	struct fl f;
	__u32 be; /* where the table sends it */
};

/* n flows to f's VIP whose keys all fall in one flow-table set. */
static void same_set_flows(struct pt_env *e, bool v6, struct set_flow *out,
			   int n)
{
	struct fl base = fl_of(v6);
	struct xlb_flow_key k;
	__u32 set = 0, a, port;
	__be32 cl[4];
	int found = 0;

	/* From 2: 198.51.100.1 is the balancer's own (cfg.src4), no client. */
	for (a = 2; a < 255 && found < n; a++) {
		char client[INET6_ADDRSTRLEN];

		snprintf(client, sizeof(client),
			 v6 ? "2001:db8:c::%x" : "198.51.100.%u", a);
		k = pt_flow_key(client, base.vaddr, 0, base.vport, base.proto);
		for (port = 1024; port < 65536 && found < n; port++) {
			k.sport = htons((__u16)port);
			if (found && pt_flow_set(e, &k) != set)
				continue;
			set = pt_flow_set(e, &k);
			memcpy(out[found].client, client, sizeof(client));
			out[found].sport = (__u16)port;
			out[found].f = base;
			out[found].f.client = out[found].client;
			pt_addr(client, cl);
			out[found].be = pt_expect_be(e, base.vip, cl);
			found++;
		}
	}
	assert_int_equal(found, n);
}

/*
 * A set's replacement order: a new flow takes an empty way while there
 * is one, then the least recently seen way (whatever its position), and
 * a flow the set holds keeps its way.
 */
static void test_set_replace(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct set_flow w[5];
	struct xlb_flow_key k;
	__u64 now = pt_now_coarse();
	int i;

	same_set_flows(e, fp->v6, w, 5);
	/* Two old entries; the second (way 1) is the older. */
	k = key_of(&w[0].f, w[0].sport);
	pt_flow_put(e, &k, w[0].be, now - 1000000000ULL);
	k = key_of(&w[1].f, w[1].sport);
	pt_flow_put(e, &k, w[1].be, now - 2000000000ULL);
	send_expect(e, &w[2].f, w[2].sport, 0x10, w[2].be, "third flow");
	send_expect(e, &w[3].f, w[3].sport, 0x10, w[3].be, "fourth flow");
	for (i = 0; i < 4; i++)
		expect_entry(e, &w[i].f, w[i].sport, w[i].be,
			     "set with empty ways: nothing replaced");

	send_expect(e, &w[4].f, w[4].sport, 0x10, w[4].be, "fifth flow");
	expect_no_entry(e, &w[1].f, w[1].sport,
			"full set: the least recently seen way replaced");
	expect_entry(e, &w[0].f, w[0].sport, w[0].be, "full set: way 0 kept");
	for (i = 2; i < 5; i++)
		expect_entry(e, &w[i].f, w[i].sport, w[i].be,
			     "full set: recent ways kept");

	/* A SYN of a held flow rewrites its own way, evicting nothing. */
	send_expect(e, &w[2].f, w[2].sport, 0x02, w[2].be, "SYN of a held flow");
	k = key_of(&w[2].f, w[2].sport);
	assert_int_equal(pt_flow_ways(e, &k), 1);
	for (i = 0; i < 5; i++)
		if (i != 1)
			expect_entry(e, &w[i].f, w[i].sport, w[i].be,
				     "after the SYN");
}

/*
 * A way another CPU is filling (its tag XLB_FLOW_BUSY) is never matched
 * and never taken; with every way busy the flow is forwarded, not
 * recorded, and counted.
 */
static void test_set_busy(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct set_flow w[5];
	struct xlb_flow_key k;
	__u64 now = pt_now_coarse(), d;
	int i;

	same_set_flows(e, fp->v6, w, 5);
	for (i = 0; i < 4; i++) { /* w[0] the oldest, w[1] the next */
		k = key_of(&w[i].f, w[i].sport);
		pt_flow_put(e, &k, w[i].be, now - (4 - i) * 1000000000ULL);
	}
	k = key_of(&w[0].f, w[0].sport);
	pt_flow_mark_busy(e, &k);
	d = DELTA(e, XLB_STAT_FLOW_MISS,
		  send_expect(e, &w[0].f, w[0].sport, 0x10, w[0].be,
			      "flow whose way is busy"));
	assert_int_equal(d, 1);
	expect_no_entry(e, &w[1].f, w[1].sport,
			"the oldest way not busy is replaced");
	expect_entry(e, &w[0].f, w[0].sport, w[0].be, "recorded again");
	assert_int_equal(pt_flow_busy_ways(e, &k), 1);

	pt_flow_mark_busy(e, &k);
	for (i = 2; i < 4; i++) {
		k = key_of(&w[i].f, w[i].sport);
		pt_flow_mark_busy(e, &k);
	}
	d = DELTA(e, XLB_STAT_FLOW_BUSY,
		  send_expect(e, &w[4].f, w[4].sport, 0x10, w[4].be,
			      "every way busy"));
	assert_int_equal(d, 1);
	expect_no_entry(e, &w[4].f, w[4].sport, "every way busy");
	assert_int_equal(pt_flow_busy_ways(e, &k), 4);
}

/*
 * Two CPUs recording flows into one set at once. Three flows per CPU,
 * each CPU's flows on their own backend, share one 4-way set, so every
 * SYN records its flow in place of another, and both CPUs often pick the
 * same least recently seen way at the same moment. After each SYN an ACK
 * of the same flow must go to that flow's backend: an entry that paired
 * one CPU's key with the other's backend would send it elsewhere. (With
 * ways written unclaimed, clear tag then fill, this caught such an ACK
 * in about one run of four; claimed, a run here skips ~2,000 records.)
 */
#define RACE_FLOWS 3
#define RACE_ROUNDS 500000

struct race_arg {
	struct pt_env *e;
	int cpu;
	struct set_flow *w; /* RACE_FLOWS flows */
	pthread_barrier_t *start;
	long wrong, runs; /* ACKs sent elsewhere; SYN+ACK pairs run */
	int err;
};

static void *race_worker(void *p)
{
	struct race_arg *a = p;
	static __thread __u8 syn[RACE_FLOWS][PT_BUF], ack[RACE_FLOWS][PT_BUF],
		out[PT_BUF];
	size_t len[RACE_FLOWS];
	__u32 outlen, ret;
	cpu_set_t set;
	int i, r;

	for (i = 0; i < RACE_FLOWS; i++) {
		struct pspec ps = { .src = a->w[i].client, .dst = a->w[i].f.vaddr,
				    .proto = a->w[i].f.proto,
				    .sport = a->w[i].sport,
				    .dport = a->w[i].f.vport, .flags = 0x02,
				    .dlen = 16 };

		len[i] = pb_frame(&ps, syn[i]);
		ps.flags = 0x10;
		pb_frame(&ps, ack[i]);
	}
	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	a->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(a->start);
	for (r = 0; r < RACE_ROUNDS && !a->err; r++) {
		i = r % RACE_FLOWS;
		a->err = pt_run_fd(a->e->prog, a->e->ifindex, syn[i],
				   (__u32)len[i], out, &outlen, &ret);
		if (!a->err)
			a->err = pt_run_fd(a->e->prog, a->e->ifindex, ack[i],
					   (__u32)len[i], out, &outlen, &ret);
		if (a->err)
			break;
		a->runs++;
		if (ret != XDP_TX || out_backend(a->e, out, outlen) != a->w[i].be)
			a->wrong++;
	}
	return NULL;
}

/* Up to max online CPU ids, from /sys/devices/system/cpu/online. */
static int online_cpus(int *out, int max)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int a, b, n = 0;
	char sep = ',';

	if (!f)
		return 0;
	while (n < max && sep == ',' && fscanf(f, "%d", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-' &&
		    (fscanf(f, "%d", &b) != 1 || fscanf(f, "%c", &sep) != 1))
			sep = '\n';
		for (; a <= b && n < max; a++)
			out[n++] = a;
	}
	fclose(f);
	return n;
}

static void test_set_race(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct set_flow cand[24], w[2][RACE_FLOWS];
	struct race_arg a[2];
	pthread_barrier_t start;
	pthread_t t[2];
	int i, n[2] = { 0, 0 }, g, cpu[2];

	if (online_cpus(cpu, 2) < 2)
		skip();
	/* Flows of one set, grouped by backend: one group per CPU. */
	same_set_flows(e, fp->v6, cand, 24);
	for (i = 0; i < 24; i++) {
		g = cand[i].be == cand[0].be ? 0 : 1;
		if (g == 1 && n[1] && cand[i].be != w[1][0].be)
			continue;
		if (n[g] < RACE_FLOWS)
			w[g][n[g]++] = cand[i];
	}
	if (n[0] < RACE_FLOWS || n[1] < RACE_FLOWS)
		fail_msg("no two backends with %d flows each in one set",
			 RACE_FLOWS);
	for (g = 0; g < 2; g++)
		for (i = 0; i < RACE_FLOWS; i++) /* f.client into the copy */
			w[g][i].f.client = w[g][i].client;

	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	for (g = 0; g < 2; g++) {
		a[g] = (struct race_arg){ .e = e, .cpu = cpu[g], .w = w[g],
					  .start = &start };
		assert_int_equal(pthread_create(&t[g], NULL, race_worker, &a[g]),
				 0);
	}
	for (g = 0; g < 2; g++)
		pthread_join(t[g], NULL);
	pthread_barrier_destroy(&start);
	for (g = 0; g < 2; g++) {
		if (a[g].err)
			fail_msg("CPU %d: %s", g, strerror(abs(a[g].err)));
		if (a[g].wrong)
			fail_msg("CPU %d: %ld of %ld ACKs went to another flow's backend (flow busy %llu)",
				 g, a[g].wrong, a[g].runs,
				 (unsigned long long)pt_stat(e, XLB_STAT_FLOW_BUSY));
	}
	print_message("    %ld SYN+ACK pairs per CPU, %llu records skipped on a busy way\n",
		      a[0].runs,
		      (unsigned long long)pt_stat(e, XLB_STAT_FLOW_BUSY));
}

/* Sends a TCP ACK src -> dst and requires XDP_PASS, the frame unchanged. */
static void send_expect_pass(struct pt_env *e, const char *src,
			     const char *dst, __u16 sport, __u16 dport,
			     const char *what)
{
	static __u8 in[PT_BUF], out[PT_BUF];
	struct pspec p = { .src = src, .dst = dst, .proto = IPPROTO_TCP,
			   .sport = sport, .dport = dport, .flags = 0x10,
			   .dlen = 16 };
	size_t inlen = pb_frame(&p, in);
	__u32 outlen;
	int v = pt_run(e, in, (__u32)inlen, out, &outlen);

	if (v != XDP_PASS)
		fail_msg("%s: verdict %d, expected XDP_PASS", what, v);
	pt_assert_bytes(what, in, inlen, out, outlen);
}

static void filter_rw(struct pt_env *e, struct xlb_vip_filter *f, bool write)
{
	__u32 zero = 0;

	if (write)
		assert_int_equal(bpf_map_update_elem(e->vip_filter, &zero, f, 0), 0);
	else
		assert_int_equal(bpf_map_lookup_elem(e->vip_filter, &zero, f), 0);
}

/*
 * xlb_vip_filter comes before every lookup: with a VIP address's bit
 * clear, even an established flow of that VIP passes unchanged, without
 * a flow hit; with the bit back, the flow is forwarded as before. An
 * address that is no VIP but shares a VIP's bit passes unchanged by the
 * longer way (flow-table probe, VIP lookup).
 */
static void test_vip_filter(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	__u32 x = e->vip[f.vip].slots[slot_of(e, &f)].primary;
	__u32 bit, i;
	struct xlb_vip_filter saved, vf;
	__be32 va[4], oa[4];
	char other[64];
	__u64 d, hit0, pass0;

	send_expect(e, &f, 1000, 0x10, x, "established flow");
	filter_rw(e, &saved, false);
	pt_addr(f.vaddr, va);
	bit = xlb_vip_filter_bit(va);
	if (!((saved.bits[bit / 64] >> (bit % 64)) & 1))
		fail_msg("the VIP address's filter bit is clear");
	vf = saved;
	vf.bits[bit / 64] &= ~(1ULL << (bit % 64));
	filter_rw(e, &vf, true);
	hit0 = pt_stat(e, XLB_STAT_FLOW_HIT);
	pass0 = pt_stat(e, XLB_STAT_PASS);
	send_expect_pass(e, f.client, f.vaddr, 1000, f.vport,
			 "VIP flow with its bit clear");
	assert_int_equal(pt_stat(e, XLB_STAT_FLOW_HIT) - hit0, 0);
	assert_int_equal(pt_stat(e, XLB_STAT_PASS) - pass0, 1);
	filter_rw(e, &saved, true);
	d = DELTA(e, XLB_STAT_FLOW_HIT,
		  send_expect(e, &f, 1000, 0x10, x, "bit set again"));
	assert_int_equal(d, 1);

	/* A non-VIP address of the same bit, found by search. */
	for (i = 1; i < 1u << 20; i++) {
		if (fp->v6)
			snprintf(other, sizeof(other), "2001:db8:ff::%x:%x",
				 i >> 16, i & 0xffff);
		else
			snprintf(other, sizeof(other), "198.18.%u.%u",
				 (i >> 8) & 0xff, i & 0xff);
		pt_addr(other, oa);
		if (xlb_vip_filter_bit(oa) == bit)
			break;
	}
	if (xlb_vip_filter_bit(oa) != bit)
		fail_msg("no address shares the VIP's filter bit");
	d = DELTA(e, XLB_STAT_PASS,
		  send_expect_pass(e, f.client, other, 1000, f.vport,
				   "non-VIP address sharing the VIP's bit"));
	assert_int_equal(d, 1);
}

/*
 * The flow table's size comes from xlb_config.flow_sets (attach --flows):
 * with 1024 sets configured, a flow lives in set hash & 1023, found there
 * by the next packet, whatever the map's own size.
 */
static void test_flow_sets(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	__u32 x = e->vip[f.vip].slots[slot_of(e, &f)].primary;
	struct xlb_flow_key k;
	__u16 sport = 1000;
	__u64 h, d;

	e->cfg.flow_sets = 1024;
	pt_write_config(e);
	/* A port whose set differs under the two sizes. */
	for (;; sport++) {
		k = key_of(&f, sport);
		h = xlb_flow_hash(e->cfg.seed, &k);
		if (xlb_flow_set_of(h, 1024) != xlb_flow_set_of(h, XLB_FLOW_SETS))
			break;
	}
	send_expect(e, &f, sport, 0x10, x, "first packet");
	expect_entry(e, &f, sport, x, "entry in set hash & 1023");
	d = DELTA(e, XLB_STAT_FLOW_HIT,
		  send_expect(e, &f, sport, 0x10, x, "second packet"));
	assert_int_equal(d, 1);
}

/*
 * new_flow_limit: a CPU records at most that many new flows a second.
 * Above it a new flow still goes where its table sends it, unrecorded and
 * counted (flow_limited); recorded flows keep their entries; in the next
 * second recording resumes. 0 is no limit.
 */
static void test_new_flow_limit(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	__u32 x = e->vip[f.vip].slots[slot_of(e, &f)].primary;
	__u16 i;
	__u64 d;

	e->cfg.new_flow_limit = 3;
	pt_write_config(e);
	pt_insert_window_reset(e);
	d = DELTA(e, XLB_STAT_FLOW_LIMITED, for (i = 0; i < 5; i++)
		  send_expect(e, &f, 3000 + i, 0x02, x, "SYN"));
	assert_int_equal(d, 2);
	for (i = 0; i < 3; i++)
		expect_entry(e, &f, 3000 + i, x, "SYN within the limit");
	for (i = 3; i < 5; i++)
		expect_no_entry(e, &f, 3000 + i, "SYN above the limit");
	d = DELTA(e, XLB_STAT_FLOW_HIT,
		  send_expect(e, &f, 3000, 0x10, x, "ACK of a recorded flow"));
	assert_int_equal(d, 1);
	d = DELTA(e, XLB_STAT_FLOW_LIMITED,
		  send_expect(e, &f, 3003, 0x10, x, "ACK, still above the limit"));
	assert_int_equal(d, 1);
	expect_no_entry(e, &f, 3003, "ACK above the limit");

	pt_insert_window_reset(e); /* as when the second has passed */
	d = DELTA(e, XLB_STAT_FLOW_LIMITED,
		  send_expect(e, &f, 3003, 0x10, x, "ACK in the next second"));
	assert_int_equal(d, 0);
	expect_entry(e, &f, 3003, x, "recorded in the next second");

	e->cfg.new_flow_limit = 0;
	pt_write_config(e);
	d = DELTA(e, XLB_STAT_FLOW_LIMITED, for (i = 0; i < 10; i++)
		  send_expect(e, &f, 4000 + i, 0x02, x, "SYN, no limit"));
	assert_int_equal(d, 0);
	for (i = 0; i < 10; i++)
		expect_entry(e, &f, 4000 + i, x, "no limit");
}

/*
 * New flows to a VIP use this CPU's cached copy of its entry while
 * xlb_config.vip_gen stands still, and read the entry anew once it moves
 * (the controller moves it after every change to xlb_vips). Observed
 * through an entry rewritten to name its empty second table place.
 */
static void test_vip_cache(void **state)
{
	struct pt_ctx *c = *state;
	const struct fam_param *fp = c->param;
	struct pt_env *e = c->e;
	struct fl f = fl_of(fp->v6);
	struct pt_vip *pv = &e->vip[f.vip];
	__u32 x = pv->slots[slot_of(e, &f)].primary;
	struct xlb_vip moved = pv->v;
	__u64 d;

	send_expect(e, &f, 5000, 0x02, x, "first new flow: entry cached");
	moved.flags |= XLB_VIP_F_TABLE_B; /* a place with no table */
	assert_int_equal(bpf_map_update_elem(e->vips, &pv->key, &moved, 0), 0);
	send_expect(e, &f, 5001, 0x02, x, "same generation: the cached copy");

	e->cfg.vip_gen++;
	pt_write_config(e);
	{
		static __u8 in[PT_BUF], out[PT_BUF];
		struct pspec p = { .src = f.client, .dst = f.vaddr,
				   .proto = f.proto, .sport = 5002,
				   .dport = f.vport, .flags = 0x02, .dlen = 16 };
		size_t inlen = pb_frame(&p, in);
		__u32 outlen;
		int v = -1;

		/* Read anew, the entry names a place with no table. */
		d = DELTA(e, XLB_STAT_DROP_NO_TABLE,
			  v = pt_run(e, in, (__u32)inlen, out, &outlen));
		assert_int_equal(v, XDP_DROP);
		assert_int_equal(d, 1);
	}

	assert_int_equal(bpf_map_update_elem(e->vips, &pv->key, &pv->v, 0), 0);
	e->cfg.vip_gen++;
	pt_write_config(e);
	send_expect(e, &f, 5003, 0x02, x, "entry restored, generation moved");
}

static const struct fam_param f4 = { false }, f6 = { true };

int pt_tests_flow(struct CMUnitTest *t, int max)
{
	int n = 0;

#define ADD(nm, fn, prm)                                                        \
	if (n < max)                                                          \
		t[n++] = (struct CMUnitTest){ nm, fn, pt_setup_std,           \
					      pt_teardown_env, (void *)(prm) }
	ADD("flow: v4 miss then hits, counters", test_hit_miss_counters, &f4);
	ADD("flow: v6 miss then hits, counters", test_hit_miss_counters, &f6);
	ADD("flow: v4 established flow survives a table swap, SYN re-chooses", test_table_swap, &f4);
	ADD("flow: v6 established flow survives a table swap, SYN re-chooses", test_table_swap, &f6);
	ADD("flow: v4 backend DOWN re-chooses, new flows to secondary", test_backend_down, &f4);
	ADD("flow: v6 backend DOWN re-chooses, new flows to secondary", test_backend_down, &f6);
	ADD("flow: v4 backend DRAIN keeps flows, new flows to secondary", test_backend_drain, &f4);
	ADD("flow: v6 backend DRAIN keeps flows, new flows to secondary", test_backend_drain, &f6);
	ADD("flow: v4 primary and secondary unusable -> DROP_NO_BACKEND", test_no_backend, &f4);
	ADD("flow: v6 primary and secondary unusable -> DROP_NO_BACKEND", test_no_backend, &f6);
	ADD("flow: idle udp entry expires, tcp does not", test_udp_expiry, &f4);
	ADD("flow: v4 RST creates no entry", test_rst, &f4);
	ADD("flow: v6 RST creates no entry", test_rst, &f6);
	ADD("flow: atime refreshed at most once a second", test_atime, &f4);
	ADD("flow: v4 set replacement: empty way, then least recently seen", test_set_replace, &f4);
	ADD("flow: v6 set replacement: empty way, then least recently seen", test_set_replace, &f6);
	ADD("flow: v4 a way being written is neither matched nor taken", test_set_busy, &f4);
	ADD("flow: v6 a way being written is neither matched nor taken", test_set_busy, &f6);
	ADD("flow: two CPUs recording flows into one set never mix entries", test_set_race, &f4);
	ADD("flow: v4 table size from the config (1024 sets)", test_flow_sets, &f4);
	ADD("flow: v6 table size from the config (1024 sets)", test_flow_sets, &f6);
	ADD("flow: v4 VIP filter gates the flow table; shared bits still pass", test_vip_filter, &f4);
	ADD("flow: v6 VIP filter gates the flow table; shared bits still pass", test_vip_filter, &f6);
	ADD("flow: v4 new_flow_limit: above it forwarded, not recorded", test_new_flow_limit, &f4);
	ADD("flow: v6 new_flow_limit: above it forwarded, not recorded", test_new_flow_limit, &f6);
	ADD("flow: v4 cached VIP entry answers until vip_gen moves", test_vip_cache, &f4);
	ADD("flow: v6 cached VIP entry answers until vip_gen moves", test_vip_cache, &f6);
#undef ADD
	return n;
}
