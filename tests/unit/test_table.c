// SPDX-License-Identifier: GPL-2.0
/*
 * test_table.c - unit tests of the table builders (user/table.c). No
 * privileges needed. Most tests run once per algorithm; the algorithm is
 * the cmocka state.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "table.h"

#define SZ XLB_TABLE_SIZE_DEFAULT

static const __u64 seed[2] = { 0x243f6a8885a308d3ULL,
			       0x13198a2e03707344ULL };

/*
 * Backend i: even i in 198.18.0.0/15, odd i in 2001:db8::/32. Ids are
 * deliberately unrelated to the address order.
 */
static void mk(struct xlb_tb_backend *b, __u32 i)
{
	memset(b, 0, sizeof(*b));
	b->id = 60000 - 7 * i;
	b->weight = 1;
	b->ramp = XLB_RAMP_FULL;
	b->healthy = true;
	if (i % 2 == 0) {
		b->family = XLB_AF_INET;
		b->addr[0] = htonl(0xc6120000U + 10 + i * 3);
	} else {
		b->family = XLB_AF_INET6;
		b->addr[0] = htonl(0x20010db8U);
		b->addr[1] = htonl(0x00a00000U + i % 5);
		b->addr[3] = htonl(0x1000U + i);
	}
}

static struct xlb_tb_backend *mk_set(size_t n)
{
	struct xlb_tb_backend *be = calloc(n ? n : 1, sizeof(*be));
	size_t i;

	assert_non_null(be);
	for (i = 0; i < n; i++)
		mk(&be[i], i);
	return be;
}

static struct xlb_tb_params params(enum xlb_algo a, __u32 size)
{
	struct xlb_tb_params p = { .algo = a, .size = size };

	p.seed[0] = seed[0];
	p.seed[1] = seed[1];
	return p;
}

static struct xlb_slot *build(enum xlb_algo a, __u32 size,
			      const struct xlb_tb_backend *be, size_t n)
{
	struct xlb_tb_params p = params(a, size);
	struct xlb_slot *t = calloc(size, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(xlb_table_build(&p, be, n, t), 0);
	return t;
}

static __u32 owned(const struct xlb_slot *t, __u32 size, __u32 id)
{
	__u32 s, c = 0;

	for (s = 0; s < size; s++)
		c += t[s].primary == id;
	return c;
}

static __u64 rnd_state = 88172645463325252ULL;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void shuffle(struct xlb_tb_backend *be, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = rnd() % i;
		struct xlb_tb_backend t = be[i - 1];

		be[i - 1] = be[j];
		be[j] = t;
	}
}

static enum xlb_algo algo_of(void **state)
{
	return *(const enum xlb_algo *)*state;
}

/* Consistent algorithms move only the slots of a backend that changes. */
static bool consistent(enum xlb_algo a)
{
	return a != XLB_ALGO_MODULO;
}

/* Algorithms built on Maglev's fill: prime sizes only. */
static bool prime_only(enum xlb_algo a)
{
	return a == XLB_ALGO_MAGLEV || a == XLB_ALGO_STABLE;
}

/*
 * stable: a slot whose owner is not present holds the owner as its
 * secondary (the table keeps its history). Is s such a slot of t?
 */
static bool owner_kept(enum xlb_algo a, const struct xlb_slot *t, __u32 s,
		       const struct xlb_tb_backend *be, size_t n)
{
	size_t i;

	if (a != XLB_ALGO_STABLE || t[s].secondary == XLB_BACKEND_NONE)
		return false;
	for (i = 0; i < n; i++)
		if (be[i].id == t[s].secondary)
			return !be[i].healthy || be[i].ramp < XLB_RAMP_FULL;
	return false;
}

/*
 * Mark be[bi] unhealthy: its slots must go exactly to their secondaries
 * and, for consistent algorithms, no other primary may change. Returns
 * the number of slots it owned.
 */
static __u32 check_exact(enum xlb_algo a, __u32 size, struct xlb_tb_backend *be,
			 size_t n, size_t bi)
{
	struct xlb_slot *base = build(a, size, be, n), *t;
	__u32 id = be[bi].id, s, mine = 0, bad_sec = 0, bad_other = 0;
	bool was = be[bi].healthy;

	be[bi].healthy = false;
	t = build(a, size, be, n);
	be[bi].healthy = was;
	for (s = 0; s < size; s++) {
		if (base[s].primary == id) {
			mine++;
			/* A kept owner is no fallback: the next present is. */
			if (!owner_kept(a, base, s, be, n))
				bad_sec += t[s].primary != base[s].secondary;
		} else if (consistent(a)) {
			bad_other += t[s].primary != base[s].primary;
		}
		/* A secondary is never the primary itself. */
		if (base[s].primary != XLB_BACKEND_NONE)
			assert_int_not_equal(base[s].primary,
					     base[s].secondary);
	}
	assert_int_equal(bad_sec, 0);
	assert_int_equal(bad_other, 0);
	free(base);
	free(t);
	return mine;
}

/* ---- names and sizes -------------------------------------------------- */

static void t_algo_names(void **state)
{
	static const char *const names[] = { "maglev", "ring", "rendezvous",
					    "modulo", "stable" };
	enum xlb_algo a;
	int i;

	for (i = 0; i < XLB_ALGO_COUNT; i++) {
		a = XLB_ALGO_COUNT;
		assert_int_equal(xlb_algo_parse(names[i], &a), 0);
		assert_int_equal(a, i);
		assert_string_equal(xlb_algo_name(a), names[i]);
	}
	assert_int_equal(XLB_ALGO_MAGLEV, 0); /* the default */
	assert_int_equal(xlb_algo_parse("Maglev", &a), -EINVAL);
	assert_int_equal(xlb_algo_parse("", &a), -EINVAL);
	assert_int_equal(xlb_algo_parse("consistent", &a), -EINVAL);
	assert_int_equal(xlb_algo_parse("maglev ", &a), -EINVAL);
	assert_int_equal(xlb_algo_parse(NULL, &a), -EINVAL);
	assert_string_equal(xlb_algo_name(XLB_ALGO_COUNT), "unknown");
}

static void t_size_check(void **state)
{
	enum xlb_algo a;

	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 65537), 0);
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 2), 0);
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 251), 0);
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 4194301), 0);
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 65536), -EINVAL);
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 1), -EINVAL);
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 65535), -EINVAL);
	/* 4087 = 61 * 67 */
	assert_int_equal(xlb_table_size_check(XLB_ALGO_MAGLEV, 4087), -EINVAL);
	for (a = 0; a < XLB_ALGO_COUNT; a++) {
		assert_int_equal(xlb_table_size_check(a, 0), -EINVAL);
		assert_int_equal(
		    xlb_table_size_check(a, XLB_TABLE_SIZE_MAX + 1), -EINVAL);
		assert_int_equal(xlb_table_size_check(a, UINT32_MAX), -EINVAL);
		assert_int_equal(xlb_table_size_check(a, 65537), 0);
		if (!prime_only(a)) {
			assert_int_equal(xlb_table_size_check(a, 1), 0);
			assert_int_equal(xlb_table_size_check(a, 65536), 0);
			assert_int_equal(
			    xlb_table_size_check(a, XLB_TABLE_SIZE_MAX), 0);
		}
	}
	assert_int_equal(xlb_table_size_check(XLB_ALGO_COUNT, 65537), -EINVAL);
}

/* ---- helpers on finished tables --------------------------------------- */

static void t_moved_balance(void **state)
{
	struct xlb_slot a[10], b[10];
	struct xlb_tb_backend be[4];
	int i;

	for (i = 0; i < 4; i++)
		mk(&be[i], i);
	/* be0 w1 owns 3, be1 w2 owns 5, be2 ramping owns 1, be3 down. */
	be[1].weight = 2;
	be[2].ramp = 500;
	be[3].healthy = false;
	for (i = 0; i < 10; i++) {
		__u32 id = i < 3   ? be[0].id
			   : i < 8 ? be[1].id
			   : i < 9 ? be[2].id
				   : XLB_BACKEND_NONE;

		a[i].primary = b[i].primary = id;
		a[i].secondary = b[i].secondary = XLB_BACKEND_NONE;
	}
	assert_true(xlb_table_moved(a, b, 10) == 0.0);
	b[0].primary = be[1].id;
	b[9].primary = be[0].id;
	b[5].secondary = be[0].id; /* secondaries do not count */
	assert_true(fabs(xlb_table_moved(a, b, 10) - 0.2) < 1e-12);
	/* Fair shares over be0, be1 only: 10/3 and 20/3. */
	assert_true(fabs(xlb_table_balance(a, 10, be, 4) - 0.9) < 1e-12);
	a[8].primary = be[0].id;
	assert_true(fabs(xlb_table_balance(a, 10, be, 4) - 1.2) < 1e-12);
	/* Nobody eligible: nothing to measure. */
	be[0].healthy = be[1].healthy = false;
	assert_true(xlb_table_balance(a, 10, be, 4) == 0.0);
}

/* ---- per algorithm ---------------------------------------------------- */

static void t_determinism(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 40, i;
	struct xlb_tb_backend *be = mk_set(n), *sh = mk_set(n);
	struct xlb_slot *t1, *t2, *t3, *t4;
	struct xlb_tb_params p = params(a, SZ);
	__u32 s;

	for (i = 0; i < n; i++)
		be[i].weight = 1 + i % 4;
	be[3].healthy = false;
	be[4].ramp = 300;
	be[5].weight = 0;
	/* IPv4 ignores addr[1..3]. */
	be[6].addr[2] = htonl(0xdeadbeef);
	t1 = build(a, SZ, be, n);
	t2 = build(a, SZ, be, n);
	assert_memory_equal(t1, t2, SZ * sizeof(*t1));
	memcpy(sh, be, n * sizeof(*be));
	sh[6].addr[2] = 0;
	shuffle(sh, n);
	free(t2);
	t2 = build(a, SZ, sh, n);
	assert_memory_equal(t1, t2, SZ * sizeof(*t1));

	/* Other ids (another machine): the same table up to the renaming. */
	{
		__u32 *orig = calloc(n, sizeof(*orig)), bad = 0;

		assert_non_null(orig);
		for (i = 0; i < n; i++) {
			orig[i] = sh[i].id;
			sh[i].id = 5 + 11 * i;
		}
		t3 = build(a, SZ, sh, n);
		for (s = 0; s < SZ; s++) {
			__u32 pe = XLB_BACKEND_NONE, se = XLB_BACKEND_NONE;

			for (i = 0; i < n; i++) {
				if (t1[s].primary == orig[i])
					pe = sh[i].id;
				if (t1[s].secondary == orig[i])
					se = sh[i].id;
			}
			bad += pe != t3[s].primary || se != t3[s].secondary;
		}
		assert_int_equal(bad, 0);
		free(orig);
	}

	/* The seed matters (modulo only hashes for ramp subsets). */
	p.seed[0] ^= 1;
	t4 = calloc(SZ, sizeof(*t4));
	assert_int_equal(xlb_table_build(&p, be, n, t4), 0);
	if (consistent(a))
		assert_true(xlb_table_moved(t1, t4, SZ) > 0.5);
	else
		assert_true(xlb_table_moved(t1, t4, SZ) > 0.0);
	free(be);
	free(sh);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
}

static void t_exact_secondaries(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 12, i;
	struct xlb_tb_backend *be = mk_set(n), *big;

	/* Small set, every backend; weights, a ramping and a DOWN one. */
	for (i = 0; i < n; i++)
		be[i].weight = 1 + i % 3;
	be[2].ramp = 500;
	be[7].healthy = false;
	for (i = 0; i < n; i++)
		if (be[i].healthy)
			assert_true(check_exact(a, SZ, be, n, i) > 0);

	/* One odd weight: rendezvous switches between its two paths. */
	for (i = 0; i < n; i++)
		be[i].weight = 2;
	be[4].weight = 3;
	check_exact(a, SZ, be, n, 4);
	free(be);

	/* 100 backends, a sample. */
	big = mk_set(100);
	for (i = 0; i < 100; i += 13)
		assert_true(check_exact(a, SZ, big, 100, i) > 0);
	free(big);
}

/* Half the backends DOWN: slots deep in the preference lists. */
static void t_exact_many_down(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 30, i;
	struct xlb_tb_backend *be = mk_set(n);

	for (i = 0; i < n; i++) {
		be[i].healthy = i % 2 == 0;
		be[i].weight = 1 + i % 4;
	}
	be[6].ramp = 100;
	for (i = 0; i < n; i += 2)
		check_exact(a, SZ, be, n, i);
	/* Down to two, then one healthy backend. */
	for (i = 4; i < n; i++)
		be[i].healthy = false;
	check_exact(a, SZ, be, n, 0);
	check_exact(a, SZ, be, n, 2);
	free(be);
}

/* DOWN moves only the backend's slots (consistent algorithms). */
static void t_down(void **state)
{
	enum xlb_algo a = algo_of(state);
	struct xlb_tb_backend *be = mk_set(100);
	struct xlb_slot *base, *t;
	__u32 s, moved;
	size_t i;

	if (!consistent(a)) {
		/* modulo remaps nearly everything: that is its purpose. */
		base = build(a, SZ, be, 100);
		be[50].healthy = false;
		t = build(a, SZ, be, 100);
		assert_true(xlb_table_moved(base, t, SZ) > 0.5);
		free(base);
		free(t);
		free(be);
		return;
	}
	base = build(a, SZ, be, 100);
	for (i = 1; i < 100; i += 19) {
		__u32 mine = owned(base, SZ, be[i].id);

		be[i].healthy = false;
		t = build(a, SZ, be, 100);
		be[i].healthy = true;
		moved = 0;
		for (s = 0; s < SZ; s++)
			moved += t[s].primary != base[s].primary;
		assert_int_equal(moved, mine);
		assert_int_equal(owned(t, SZ, be[i].id), 0);
		free(t);
	}
	free(base);
	free(be);
}

static void t_weights(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 10, i;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *t;
	double other = 0, ratio, lo = 1.8, hi = 2.2;

	/* gcd 10: the same as weights 2 and 1. */
	for (i = 0; i < n; i++)
		be[i].weight = 10;
	be[3].weight = 20;
	t = build(a, SZ, be, n);
	for (i = 0; i < n; i++)
		if (i != 3)
			other += owned(t, SZ, be[i].id) / (double)(n - 1);
	ratio = owned(t, SZ, be[3].id) / other;
	if (a == XLB_ALGO_RING) {
		/* 160 points per unit of weight: a few percent of noise. */
		lo = 1.6;
		hi = 2.4;
	}
	assert_true(ratio > lo && ratio < hi);
	free(t);

	/* A heavier spread: owned share tracks weight share. */
	for (i = 0; i < n; i++)
		be[i].weight = 1 + i;
	t = build(a, SZ, be, n);
	for (i = 0; i < n; i++) {
		double fair = SZ * (1.0 + i) / 55.0;
		double r = owned(t, SZ, be[i].id) / fair;

		assert_true(r > (a == XLB_ALGO_RING ? 0.75 : 0.9));
		assert_true(r < (a == XLB_ALGO_RING ? 1.25 : 1.1));
	}
	free(t);
	free(be);
}

static void t_weight_zero(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 20, i;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *t, *without;
	__u32 s;

	be[8].weight = 0;
	t = build(a, SZ, be, n);
	for (s = 0; s < SZ; s++) {
		assert_int_not_equal(t[s].primary, be[8].id);
		assert_int_not_equal(t[s].secondary, be[8].id);
	}
	/* Exactly as if it were not configured. */
	for (i = 8; i + 1 < n; i++)
		be[i] = be[i + 1];
	without = build(a, SZ, be, n - 1);
	assert_memory_equal(t, without, SZ * sizeof(*t));
	free(t);
	free(without);
	free(be);
}

static void t_ramp(void **state)
{
	static const __u32 ramps[] = { 0, 1, 100, 250, 500, 750, 999, 1000 };
	enum xlb_algo a = algo_of(state);
	size_t n = 20, b = 5, k;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *full, *prev = NULL, *t, *down;
	__u32 id = be[b].id, s, f;

	full = build(a, SZ, be, n);
	f = owned(full, SZ, id);
	be[b].healthy = false;
	down = build(a, SZ, be, n);
	be[b].healthy = true;
	for (k = 0; k < sizeof(ramps) / sizeof(ramps[0]); k++) {
		__u32 r = ramps[k], mine, bad_mono = 0, bad_other = 0;
		__u32 bad_sec = 0;
		long dev;

		be[b].ramp = r;
		t = build(a, SZ, be, n);
		mine = owned(t, SZ, id);
		for (s = 0; s < SZ; s++) {
			/* Slots it gives up go to its secondary. */
			if (full[s].primary == id && t[s].primary != id)
				bad_sec += t[s].primary != full[s].secondary;
			if (!prev)
				continue;
			/* Monotonic: a slot taken stays taken. */
			if (prev[s].primary == id)
				bad_mono += t[s].primary != id;
			/* Nobody else's slots change. */
			if (prev[s].primary != t[s].primary)
				bad_other +=
				    prev[s].primary != id && t[s].primary != id;
		}
		assert_int_equal(bad_mono, 0);
		assert_int_equal(bad_other, 0);
		assert_int_equal(bad_sec, 0);
		/* About r / 1000 of its full-ramp slots. */
		dev = (long)mine * XLB_RAMP_FULL - (long)r * f;
		assert_true(labs(dev) <= 50L * f);
		if (r == 0) {
			assert_int_equal(mine, 0);
			/* Consistent: as if DOWN, secondaries included. */
			if (consistent(a))
				assert_memory_equal(t, down, SZ * sizeof(*t));
		}
		if (r == XLB_RAMP_FULL)
			assert_memory_equal(t, full, SZ * sizeof(*t));
		free(prev);
		prev = t;
	}
	/* Beyond full is full. */
	be[b].ramp = 5000;
	t = build(a, SZ, be, n);
	assert_memory_equal(t, full, SZ * sizeof(*t));
	free(t);
	/* Ramping backends still get exact secondaries. */
	be[b].ramp = 400;
	be[b + 1].ramp = 700;
	check_exact(a, SZ, be, n, b);
	check_exact(a, SZ, be, n, b + 1);
	check_exact(a, SZ, be, n, b + 2);
	free(prev);
	free(full);
	free(down);
	free(be);
}

static void t_none(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 8, i;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *t;
	__u32 s;

	/* All unhealthy, all ramp 0, all weight 0, no backends at all. */
	for (i = 0; i < 4; i++) {
		size_t j;

		for (j = 0; j < n; j++) {
			mk(&be[j], j);
			be[j].healthy = i != 0;
			be[j].ramp = i == 1 ? 0 : XLB_RAMP_FULL;
			be[j].weight = i == 2 ? 0 : 1;
		}
		t = build(a, SZ, be, i == 3 ? 0 : n);
		for (s = 0; s < SZ; s++) {
			assert_int_equal(t[s].primary, XLB_BACKEND_NONE);
			if (!owner_kept(a, t, s, be, n))
				assert_int_equal(t[s].secondary,
						 XLB_BACKEND_NONE);
		}
		free(t);
	}
	free(be);
}

static void t_one_two(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 10, i;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *t;
	__u32 s, c0 = 0;

	/* One backend configured. */
	t = build(a, SZ, &be[1], 1);
	for (s = 0; s < SZ; s++) {
		assert_int_equal(t[s].primary, be[1].id);
		assert_int_equal(t[s].secondary, XLB_BACKEND_NONE);
	}
	free(t);
	/* One healthy out of ten. */
	for (i = 0; i < n; i++)
		be[i].healthy = i == 6;
	t = build(a, SZ, be, n);
	for (s = 0; s < SZ; s++) {
		assert_int_equal(t[s].primary, be[6].id);
		if (!owner_kept(a, t, s, be, n))
			assert_int_equal(t[s].secondary, XLB_BACKEND_NONE);
	}
	free(t);
	/* Two: each the other's secondary. */
	be[3].healthy = true;
	t = build(a, SZ, be, n);
	for (s = 0; s < SZ; s++) {
		bool p0 = t[s].primary == be[3].id;

		c0 += p0;
		assert_true(p0 || t[s].primary == be[6].id);
		if (!owner_kept(a, t, s, be, n))
			assert_int_equal(t[s].secondary,
					 p0 ? be[6].id : be[3].id);
	}
	assert_true(c0 > SZ / 2 - SZ / 20 && c0 < SZ / 2 + SZ / 20);
	free(t);
	free(be);
}

static void t_sizes(void **state)
{
	enum xlb_algo a = algo_of(state);
	struct xlb_tb_backend *be = mk_set(10);
	struct xlb_tb_params p = params(a, 0);
	struct xlb_slot *t = calloc(XLB_TABLE_SIZE_MAX, sizeof(*t));
	__u32 sizes[] = { 2, 3, 7, 251, 4093, XLB_TABLE_SIZE_MAX };
	size_t k, i;

	assert_non_null(t);
	assert_int_equal(xlb_table_build(&p, be, 10, t), -EINVAL);
	p.size = XLB_TABLE_SIZE_MAX + 1;
	assert_int_equal(xlb_table_build(&p, be, 10, t), -EINVAL);
	p.size = 65536;
	assert_int_equal(xlb_table_build(&p, be, 10, t),
			 prime_only(a) ? -EINVAL : 0);
	/* Maglev: more eligible backends than slots is an error. */
	p.size = 7;
	assert_int_equal(xlb_table_build(&p, be, 8, t),
			 prime_only(a) ? -EINVAL : 0);
	be[7].healthy = false;
	assert_int_equal(xlb_table_build(&p, be, 8, t), 0);
	be[7].healthy = true;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		__u32 s, nb = sizes[k] < 10 ? sizes[k] : 10, cnt[10] = { 0 };

		p.size = sizes[k];
		if (prime_only(a) && p.size == XLB_TABLE_SIZE_MAX)
			p.size = 4194301; /* largest prime below */
		assert_int_equal(xlb_table_build(&p, be, nb, t), 0);
		for (s = 0; s < p.size; s++) {
			for (i = 0; i < nb; i++)
				if (t[s].primary == be[i].id)
					break;
			assert_true(i < nb);
			cnt[i]++;
			assert_int_not_equal(t[s].secondary, t[s].primary);
		}
		/* Maglev fills exact quotas at any size. */
		if (prime_only(a))
			for (i = 0; i < nb; i++)
				assert_true(cnt[i] == p.size / nb ||
					    cnt[i] == p.size / nb + 1);
	}
	if (!prime_only(a)) {
		p.size = 1;
		assert_int_equal(xlb_table_build(&p, be, 10, t), 0);
		assert_int_not_equal(t[0].primary, XLB_BACKEND_NONE);
		assert_int_not_equal(t[0].secondary, XLB_BACKEND_NONE);
	}
	free(t);
	free(be);
}

static void t_invalid(void **state)
{
	enum xlb_algo a = algo_of(state);
	struct xlb_tb_backend *be = mk_set(6);
	struct xlb_tb_params p = params(a, SZ);
	struct xlb_slot *t = calloc(SZ, sizeof(*t));

	assert_int_equal(xlb_table_build(NULL, be, 6, t), -EINVAL);
	assert_int_equal(xlb_table_build(&p, be, 6, NULL), -EINVAL);
	assert_int_equal(xlb_table_build(&p, NULL, 6, t), -EINVAL);
	be[2].family = 0;
	assert_int_equal(xlb_table_build(&p, be, 6, t), -EINVAL);
	mk(&be[2], 2);
	be[2].weight = XLB_WEIGHT_MAX + 1;
	assert_int_equal(xlb_table_build(&p, be, 6, t), -EINVAL);
	be[2].weight = XLB_WEIGHT_MAX;
	assert_int_equal(xlb_table_build(&p, be, 6, t), 0);
	be[2].id = XLB_BACKEND_NONE;
	assert_int_equal(xlb_table_build(&p, be, 6, t), -EINVAL);
	mk(&be[2], 2);
	/* The same address twice has no canonical order. */
	be[4] = be[2];
	be[4].id = 12345;
	assert_int_equal(xlb_table_build(&p, be, 6, t), -EINVAL);
	be[3] = be[1];
	be[3].id = 777;
	be[3].healthy = false;
	assert_int_equal(xlb_table_build(&p, be, 4, t), -EINVAL);
	/* Same bits, other family: distinct backends. */
	mk(&be[3], 3);
	be[3].addr[0] = be[2].addr[0];
	assert_int_equal(xlb_table_build(&p, be, 4, t), 0);
	p.algo = XLB_ALGO_COUNT;
	assert_int_equal(xlb_table_build(&p, be, 4, t), -EINVAL);
	free(t);
	free(be);
}

/* A slot's backend as its place in be[] (n when none): ids are names. */
static __u64 place_of(__u32 id, const struct xlb_tb_backend *be, size_t n)
{
	size_t i;

	for (i = 0; i < n && be[i].id != id; i++)
		;
	return i;
}

/*
 * Identical across machines: fingerprints of fixed inputs, over which
 * backend holds each slot (not how ids or "none" are written).
 */
static __u64 fingerprint(const struct xlb_slot *t, __u32 size,
			 const struct xlb_tb_backend *be, size_t n)
{
	__u64 h = 1469598103934665603ULL;
	__u32 s;

	for (s = 0; s < size; s++) {
		h = (h ^ place_of(t[s].primary, be, n)) * 1099511628211ULL;
		h = (h ^ place_of(t[s].secondary, be, n)) * 1099511628211ULL;
	}
	return h;
}

static const __u64 golden[XLB_ALGO_COUNT] = {
	[XLB_ALGO_MAGLEV] = 0x934f7ea3f213ca8dULL,
	[XLB_ALGO_RING] = 0x409cefa5155b7230ULL,
	[XLB_ALGO_RENDEZVOUS] = 0x1c6f411df256d9adULL,
	[XLB_ALGO_MODULO] = 0xda0e52627f1e408bULL,
	[XLB_ALGO_STABLE] = 0xd2b8c01c478167afULL,
};

static void t_golden(void **state)
{
	enum xlb_algo a = algo_of(state);
	size_t n = 24, i;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *t;
	__u64 fp;

	for (i = 0; i < n; i++)
		be[i].weight = 1 + i % 3;
	be[5].healthy = false;
	be[9].ramp = 250;
	t = build(a, 4093, be, n);
	fp = fingerprint(t, 4093, be, n);
	if (getenv("XLB_TEST_PRINT_GOLDEN"))
		printf("golden %s 0x%016llxULL\n", xlb_algo_name(a),
		       (unsigned long long)fp);
	assert_true(fp == golden[a]);
	free(t);
	free(be);
}

/* ---- maglev targets --------------------------------------------------- */

/*
 * At 100 and 1000 equal backends: balance <= 1.01; a DOWN moves exactly
 * the backend's slots (1.00x), each to its old secondary, and balance
 * stays <= 1.01.
 */
static void maglev_down_n(size_t n, size_t step)
{
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *base = build(XLB_ALGO_MAGLEV, SZ, be, n), *t;
	size_t i;

	assert_true(xlb_table_balance(base, SZ, be, n) <= 1.01);
	for (i = 0; i < n; i += step) {
		__u32 mine = owned(base, SZ, be[i].id), s, moved = 0, bad = 0;
		size_t j;
		double bal;

		be[i].healthy = false;
		t = build(XLB_ALGO_MAGLEV, SZ, be, n);
		for (s = 0; s < SZ; s++) {
			if (t[s].primary == base[s].primary)
				continue;
			moved++;
			bad += base[s].primary != be[i].id ||
			       t[s].primary != base[s].secondary;
		}
		assert_int_equal(bad, 0);
		assert_int_equal(moved, mine);
		bal = xlb_table_balance(t, SZ, be, n);
		assert_true(bal <= 1.01);
		/* Even spread: every survivor within one slot of the rest. */
		for (j = 0; j < n; j++) {
			__u32 o = owned(t, SZ, be[j].id), lo = SZ / (n - 1);

			if (j != i)
				assert_true(o == lo || o == lo + 1);
		}
		be[i].healthy = true;
		free(t);
	}
	free(base);
	free(be);
}

static void t_maglev_down_100(void **state)
{
	maglev_down_n(100, 7);
}

static void t_maglev_down_1000(void **state)
{
	maglev_down_n(1000, 111);
}

/* Weighted quotas are exact: floor or ceil of size * w / sum(w). */
static void t_maglev_quotas(void **state)
{
	size_t n = 9, i;
	struct xlb_tb_backend *be = mk_set(n);
	struct xlb_slot *t;
	__u64 wsum = 0, got = 0;

	for (i = 0; i < n; i++) {
		be[i].weight = (__u32)(1 + i * i * 7);
		wsum += be[i].weight;
	}
	t = build(XLB_ALGO_MAGLEV, SZ, be, n);
	for (i = 0; i < n; i++) {
		__u64 q = (__u64)SZ * be[i].weight / wsum;
		__u64 o = owned(t, SZ, be[i].id);

		assert_true(o == q || o == q + 1);
		got += o;
	}
	assert_int_equal(got, SZ);
	assert_true(xlb_table_balance(t, SZ, be, n) <= 1.01);
	free(t);
	/* Weighted DOWN: the rest stays within 1% of its weighted share. */
	for (i = 0; i < n; i++) {
		be[i].healthy = false;
		t = build(XLB_ALGO_MAGLEV, SZ, be, n);
		assert_true(xlb_table_balance(t, SZ, be, n) <= 1.01);
		be[i].healthy = true;
		free(t);
	}
	free(be);
}

/* Ring: weights whose points would exceed the cap are scaled down. */
static void t_ring_cap(void **state)
{
	static const __u32 w[] = { 65535, 65534, 30001, 7 };
	struct xlb_tb_backend *be = mk_set(4);
	struct xlb_slot *t;
	double sum = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		be[i].weight = w[i];
		sum += w[i];
	}
	t = build(XLB_ALGO_RING, SZ, be, 4);
	for (i = 0; i < 3; i++) {
		double r = owned(t, SZ, be[i].id) / (SZ * w[i] / sum);

		assert_true(r > 0.97 && r < 1.03);
	}
	free(t);
	check_exact(XLB_ALGO_RING, SZ, be, 4, 1);
	free(be);
}

static const enum xlb_algo all_algos[XLB_ALGO_COUNT] = {
	XLB_ALGO_MAGLEV, XLB_ALGO_RING, XLB_ALGO_RENDEZVOUS, XLB_ALGO_MODULO,
	XLB_ALGO_STABLE
};

/* One test per algorithm, named algo/test. */
#define PER_ALGO(fn)                                                   \
	{ "maglev/" #fn, fn, NULL, NULL, (void *)&all_algos[0] },     \
	{ "ring/" #fn, fn, NULL, NULL, (void *)&all_algos[1] },       \
	{ "rendezvous/" #fn, fn, NULL, NULL, (void *)&all_algos[2] }, \
	{ "modulo/" #fn, fn, NULL, NULL, (void *)&all_algos[3] },     \
	{ "stable/" #fn, fn, NULL, NULL, (void *)&all_algos[4] }

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_algo_names),
	    cmocka_unit_test(t_size_check),
	    cmocka_unit_test(t_moved_balance),
	    PER_ALGO(t_determinism),
	    PER_ALGO(t_exact_secondaries),
	    PER_ALGO(t_exact_many_down),
	    PER_ALGO(t_down),
	    PER_ALGO(t_weights),
	    PER_ALGO(t_weight_zero),
	    PER_ALGO(t_ramp),
	    PER_ALGO(t_none),
	    PER_ALGO(t_one_two),
	    PER_ALGO(t_sizes),
	    PER_ALGO(t_invalid),
	    PER_ALGO(t_golden),
	    cmocka_unit_test(t_maglev_down_100),
	    cmocka_unit_test(t_maglev_down_1000),
	    cmocka_unit_test(t_maglev_quotas),
	    cmocka_unit_test(t_ring_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
