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
#include <unistd.h>
#include <sys/wait.h>
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

/* ---- stable: history ---------------------------------------------------- */

/*
 * A history under test: the current set (be[0..n-1]) and table. Each step
 * builds the next table from the current one (stable) or from the set
 * alone (any other algorithm, for the contrast).
 */
struct hstate {
	enum xlb_algo algo;
	__u32 size;
	struct xlb_tb_backend *be;
	size_t n, cap;
	struct xlb_slot *t;
	__u32 next_addr; /* addresses of added backends: mk(i) for fresh i */
};

static struct xlb_slot *hbuild(const struct hstate *h,
			       const struct xlb_tb_backend *be, size_t n)
{
	struct xlb_tb_params p = params(h->algo, h->size);
	struct xlb_tb_prev pv = { .be = h->be, .n = h->n, .slots = h->t };
	struct xlb_slot *t = calloc(h->size, sizeof(*t));

	assert_non_null(t);
	if (h->algo == XLB_ALGO_STABLE && h->t)
		p.prev = &pv;
	assert_int_equal(xlb_table_build(&p, be, n, t), 0);
	return t;
}

static void hinit(struct hstate *h, enum xlb_algo a, __u32 size, size_t n,
		  size_t cap, bool mixed)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	h->algo = a;
	h->size = size;
	h->cap = cap;
	h->be = calloc(cap, sizeof(*h->be));
	assert_non_null(h->be);
	for (i = 0; i < n; i++) {
		mk(&h->be[i], (__u32)i);
		h->be[i].id = (__u32)(cap - 1 - i); /* unrelated to addresses */
		/* Fixed, so that two histories start alike. */
		if (mixed)
			h->be[i].weight = 1 + ((i * 2654435761U) >> 7) % 4;
	}
	h->n = n;
	h->next_addr = (__u32)n;
	h->t = hbuild(h, h->be, n);
}

static void hfree(struct hstate *h)
{
	free(h->be);
	free(h->t);
}

/* A free id (ids are reused, as the controller reuses them). */
static __u32 free_id(const struct hstate *h)
{
	__u32 id;
	size_t i;

	for (id = 0;; id++) {
		for (i = 0; i < h->n && h->be[i].id != id; i++)
			;
		if (i == h->n)
			return id;
	}
}

/* Loads of be[] in t, by primary (every backend healthy). */
static void loads_of(const struct xlb_slot *t, __u32 size,
		     const struct xlb_tb_backend *be, size_t n, __u32 *load,
		     __u32 *w)
{
	__u32 *pos = malloc(65536 * sizeof(*pos)), s;
	size_t i;

	assert_non_null(pos);
	memset(pos, 0xff, 65536 * sizeof(*pos));
	for (i = 0; i < n; i++) {
		pos[be[i].id] = (__u32)i;
		load[i] = 0;
		w[i] = be[i].weight;
	}
	for (s = 0; s < size; s++)
		if (pos[t[s].primary] != UINT32_MAX)
			load[pos[t[s].primary]]++;
	free(pos);
}

/*
 * Balance at the integer optimum, checked here without the library: no
 * backend's load per weight above another's plus one slot, so that no
 * move of a slot can lower the largest ratio, and every slot owned.
 */
static bool at_optimum(const struct xlb_slot *t, __u32 size,
		       const struct xlb_tb_backend *be, size_t n)
{
	__u32 *load = calloc(n, sizeof(*load)), *w = calloc(n, sizeof(*w));
	__u64 sum = 0;
	size_t i, hi = 0, lo = 0;
	bool ok;

	assert_non_null(load);
	assert_non_null(w);
	loads_of(t, size, be, n, load, w);
	for (i = 0; i < n; i++) {
		sum += load[i];
		if ((__u64)load[i] * w[hi] > (__u64)load[hi] * w[i])
			hi = i;
		if ((__u64)(load[i] + 1) * w[lo] < (__u64)(load[lo] + 1) * w[i])
			lo = i;
	}
	ok = sum == size &&
	     (__u64)load[hi] * w[lo] <= (__u64)(load[lo] + 1) * w[hi];
	free(load);
	free(w);
	return ok;
}

enum ev { EV_REMOVE, EV_ADD, EV_WEIGHT };

/*
 * Applies one event to h (be[k] removed, a fresh backend added, or be[k]
 * given weight w) and builds the next table. Returns the slots that
 * moved; *need is what the changed backend had to give or take.
 */
static __u32 hstep(struct hstate *h, enum ev e, size_t k, __u32 w,
		   __u32 *need)
{
	struct xlb_tb_backend *nb = calloc(h->cap, sizeof(*nb));
	struct xlb_slot *t;
	size_t n = h->n, i;
	__u32 moved = 0, s, id, before;

	assert_non_null(nb);
	memcpy(nb, h->be, n * sizeof(*nb));
	switch (e) {
	case EV_REMOVE:
		id = nb[k].id;
		before = owned(h->t, h->size, id);
		nb[k] = nb[--n];
		break;
	case EV_ADD:
		assert_true(n < h->cap);
		mk(&nb[n], h->next_addr++);
		nb[n].id = id = free_id(h);
		nb[n].weight = w;
		before = 0;
		n++;
		break;
	default:
		id = nb[k].id;
		before = owned(h->t, h->size, id);
		nb[k].weight = w;
	}
	t = hbuild(h, nb, n);
	for (s = 0; s < h->size; s++)
		moved += t[s].primary != h->t[s].primary;
	*need = e == EV_REMOVE ? before : (__u32)labs((long)owned(t, h->size, id) - (long)before);
	/* Unchanged backends keep their ids: nothing else to rename. */
	for (i = 0; i < n; i++)
		assert_int_not_equal(nb[i].id, XLB_BACKEND_NONE);
	free(h->be);
	free(h->t);
	h->be = nb;
	h->n = n;
	h->t = t;
	return moved;
}

/* Single add, remove and weight changes: 1.00x, optimum after each. */
static void stable_single(size_t n, bool mixed)
{
	struct hstate h;
	__u32 need, moved, k;

	hinit(&h, XLB_ALGO_STABLE, SZ, n, n + 8, mixed);
	assert_true(at_optimum(h.t, SZ, h.be, h.n));
	for (k = 0; k < 3; k++) {
		moved = hstep(&h, EV_REMOVE, (k * 37) % h.n, 0, &need);
		assert_true(need > 0);
		assert_int_equal(moved, need);
		assert_true(at_optimum(h.t, SZ, h.be, h.n));
		moved = hstep(&h, EV_ADD, 0, mixed ? 1 + k : 1, &need);
		assert_true(need > 0);
		assert_int_equal(moved, need);
		assert_true(at_optimum(h.t, SZ, h.be, h.n));
		/* Up, then down (weight 1 -> 4 -> 2, or 4 -> 1 -> 3). */
		moved = hstep(&h, EV_WEIGHT, (k * 11) % h.n,
			      h.be[(k * 11) % h.n].weight == 4 ? 1 : 4, &need);
		assert_true(need > 0);
		assert_int_equal(moved, need);
		assert_true(at_optimum(h.t, SZ, h.be, h.n));
		moved = hstep(&h, EV_WEIGHT, (k * 11) % h.n,
			      h.be[(k * 11) % h.n].weight == 4 ? 2 : 3, &need);
		assert_true(need > 0);
		assert_int_equal(moved, need);
		assert_true(at_optimum(h.t, SZ, h.be, h.n));
	}
	hfree(&h);
}

static void t_stable_single_100(void **state)
{
	stable_single(100, false);
	stable_single(100, true);
}

static void t_stable_single_1000(void **state)
{
	stable_single(1000, false);
	stable_single(1000, true);
}

/*
 * The contrast: Maglev, a function of the set alone, moves more than the
 * changed backend's slots on the operator's removals and additions.
 */
static void t_maglev_contrast(void **state)
{
	static const size_t ns[] = { 100, 1000 };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct hstate m, st;
		__u32 need, mm, sm;

		hinit(&m, XLB_ALGO_MAGLEV, SZ, ns[i], ns[i] + 2, false);
		hinit(&st, XLB_ALGO_STABLE, SZ, ns[i], ns[i] + 2, false);
		mm = hstep(&m, EV_REMOVE, ns[i] / 2, 0, &need);
		assert_true(mm > need + need / 4); /* Maglev: >= 1.25x */
		sm = hstep(&st, EV_REMOVE, ns[i] / 2, 0, &need);
		assert_int_equal(sm, need);
		mm = hstep(&m, EV_ADD, 0, 1, &need);
		assert_true(mm > need + need / 4);
		sm = hstep(&st, EV_ADD, 0, 1, &need);
		assert_int_equal(sm, need);
		if (getenv("XLB_TEST_PRINT_GOLDEN"))
			printf("N=%zu maglev add %.2fx\n", ns[i],
			       (double)mm / need);
		hfree(&m);
		hfree(&st);
	}
}

/*
 * 1,000 random events, n kept in [lo, hi]: every step moves exactly what
 * the changed backend gives or takes and ends at the optimum.
 */
static void stable_churn(size_t lo, size_t hi, bool mixed, __u32 events)
{
	struct hstate h;
	__u32 e, need, moved;

	hinit(&h, XLB_ALGO_STABLE, SZ, (lo + hi) / 2, hi + 1, mixed);
	for (e = 0; e < events; e++) {
		__u64 r = rnd();
		enum ev ev = (enum ev)(r % 3);
		size_t k = (r >> 8) % h.n;
		__u32 w = mixed ? 1 + (r >> 32) % 4 : 1;

		if (ev == EV_REMOVE && h.n <= lo)
			ev = EV_ADD;
		if (ev == EV_ADD && h.n >= hi)
			ev = EV_REMOVE;
		if (ev == EV_WEIGHT && !mixed)
			ev = h.n > lo ? EV_REMOVE : EV_ADD;
		if (ev == EV_WEIGHT && w == h.be[k].weight)
			w = w % 4 + 1;
		moved = hstep(&h, ev, k, w, &need);
		if (moved != need || !at_optimum(h.t, SZ, h.be, h.n))
			fail_msg("event %u (%d on %zu backends): moved %u, needed %u",
				 e, ev, h.n, moved, need);
	}
	hfree(&h);
}

static void t_stable_churn_100(void **state)
{
	stable_churn(80, 120, true, 1000);
	stable_churn(80, 120, false, 1000);
}

static void t_stable_churn_1000(void **state)
{
	stable_churn(900, 1100, true, 1000);
}

/* ---- stable: determinism, snapshots, health ------------------------------ */

/* ids as another machine would have them. */
#define ID_MAP(id) ((id) ^ 0x0aaaU)

/* The history of t_stable_replay: n ~ 60, mixed weights, one change a step. */
static void replay_step(struct hstate *h, __u64 *g)
{
	__u64 r;
	enum ev ev;
	__u32 need;

	*g ^= *g << 13;
	*g ^= *g >> 7;
	*g ^= *g << 17;
	r = *g;
	ev = (enum ev)(r % 3);
	if (ev == EV_REMOVE && h->n <= 50)
		ev = EV_ADD;
	if (ev == EV_ADD && h->n >= 70)
		ev = EV_REMOVE;
	hstep(h, ev, (r >> 8) % h->n, 1 + (r >> 32) % 4, &need);
}

/* Address of backend id in be[], hashed (NONE: a constant). */
static __u64 addr_key(__u32 id, const struct xlb_tb_backend *be, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (be[i].id == id)
			return ((__u64)be[i].family << 56) ^ be[i].addr[0] ^
			       ((__u64)be[i].addr[3] << 20) ^
			       ((__u64)be[i].addr[1] << 40);
	return 0x5a5a;
}

static __u64 addr_fp(const struct xlb_slot *t, __u32 size,
		     const struct xlb_tb_backend *be, size_t n)
{
	__u64 h = 1469598103934665603ULL;
	__u32 s;

	for (s = 0; s < size; s++) {
		h = (h ^ addr_key(t[s].primary, be, n)) * 1099511628211ULL;
		h = (h ^ addr_key(t[s].secondary, be, n)) * 1099511628211ULL;
	}
	return h;
}

/* The same history replayed with other ids and be[] in another order. */
static __u64 replay_elsewhere(__u32 steps)
{
	struct hstate h;
	__u64 g = 0x9e3779b97f4a7c15ULL, fp;
	struct xlb_slot *t = NULL;
	struct xlb_tb_backend *pb = NULL;
	size_t pn = 0;
	__u32 i;

	hinit(&h, XLB_ALGO_STABLE, 4093, 60, 80, true);
	for (i = 0; i < steps; i++)
		replay_step(&h, &g);
	/* Rebuild the whole history with mapped ids and shuffled sets. */
	{
		struct hstate h2;
		__u64 g2 = 0x9e3779b97f4a7c15ULL;
		struct xlb_tb_backend *sh;
		struct xlb_tb_params p = params(XLB_ALGO_STABLE, 4093);
		struct xlb_tb_prev pv;
		size_t k;

		hinit(&h2, XLB_ALGO_STABLE, 4093, 60, 80, true);
		for (i = 0; i <= steps; i++) {
			if (i)
				replay_step(&h2, &g2);
			sh = calloc(h2.n, sizeof(*sh));
			assert_non_null(sh);
			memcpy(sh, h2.be, h2.n * sizeof(*sh));
			for (k = 0; k < h2.n; k++)
				sh[k].id = ID_MAP(sh[k].id);
			shuffle(sh, h2.n);
			pv.be = pb;
			pv.n = pn;
			pv.slots = t;
			p.prev = t ? &pv : NULL;
			{
				struct xlb_slot *nt = calloc(4093, sizeof(*nt));

				assert_non_null(nt);
				assert_int_equal(xlb_table_build(&p, sh, h2.n, nt), 0);
				free(t);
				t = nt;
			}
			free(pb);
			pb = sh;
			pn = h2.n;
		}
		fp = addr_fp(t, 4093, pb, pn);
		hfree(&h2);
	}
	assert_true(fp == addr_fp(h.t, 4093, h.be, h.n));
	free(t);
	free(pb);
	hfree(&h);
	return fp;
}

/*
 * Determinism: the same history in two processes, with other ids and
 * orders, gives the same table; a snapshot taken midway, saved, loaded
 * and continued with the remaining events gives the full replay's bytes.
 */
static void t_stable_replay(void **state)
{
	struct hstate full, part;
	__u64 g = 0x9e3779b97f4a7c15ULL, g2 = g, fp_child = 0;
	struct xlb_tb_snapshot snap, back;
	struct xlb_tb_params p = params(XLB_ALGO_STABLE, 4093);
	struct xlb_tb_prev pv;
	struct xlb_slot *ps, *t;
	void *buf;
	size_t len;
	int fd[2], st;
	pid_t pid;
	__u32 i;

	hinit(&full, XLB_ALGO_STABLE, 4093, 60, 80, true);
	for (i = 0; i < 300; i++)
		replay_step(&full, &g);

	hinit(&part, XLB_ALGO_STABLE, 4093, 60, 80, true);
	for (i = 0; i < 150; i++)
		replay_step(&part, &g2);
	assert_int_equal(xlb_snapshot_take(&p, part.be, part.n, part.t, &snap), 0);
	assert_int_equal(xlb_snapshot_encode(&snap, &buf, &len), 0);
	assert_int_equal(xlb_snapshot_decode(buf, len, &back), 0);
	assert_true(xlb_snapshot_digest(&back) == xlb_snapshot_digest(&snap));
	assert_true(back.seed_fp == xlb_snapshot_seed_fp(seed));
	/* A fresh node: only the snapshot and the set, no table of its own. */
	assert_int_equal(xlb_snapshot_prev(&back, &pv, &ps), 0);
	p.prev = &pv;
	t = calloc(4093, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(xlb_table_build(&p, part.be, part.n, t), 0);
	assert_memory_equal(t, part.t, 4093 * sizeof(*t));
	free(part.t);
	part.t = t;
	for (; i < 300; i++)
		replay_step(&part, &g2);
	assert_int_equal(part.n, full.n);
	assert_memory_equal(part.t, full.t, 4093 * sizeof(*t));

	/* Another process. */
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		__u64 fp = replay_elsewhere(300);

		_exit(write(fd[1], &fp, sizeof(fp)) == sizeof(fp) ? 0 : 1);
	}
	close(fd[1]);
	assert_int_equal(read(fd[0], &fp_child, sizeof(fp_child)),
			 sizeof(fp_child));
	close(fd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(fp_child == addr_fp(full.t, 4093, full.be, full.n));

	/* A snapshot made under another seed says so. */
	assert_true(xlb_snapshot_seed_fp(seed) != 0);
	free(buf);
	free(ps);
	xlb_snapshot_free(&snap);
	xlb_snapshot_free(&back);
	hfree(&full);
	hfree(&part);
}

static void t_stable_snapshot_bad(void **state)
{
	struct hstate h;
	struct xlb_tb_snapshot snap, back;
	struct xlb_tb_params p = params(XLB_ALGO_STABLE, 4093);
	struct xlb_slot *t;
	__u32 *own = calloc(4093, sizeof(*own)), s, c = 0;
	unsigned char *b;
	void *buf;
	size_t len;

	assert_non_null(own);
	hinit(&h, XLB_ALGO_STABLE, 4093, 30, 40, true);
	assert_int_equal(xlb_table_owners(&p, h.be, h.n, h.t, own), 0);
	for (s = 0; s < 4093; s++)
		assert_int_equal(h.be[own[s]].id, h.t[s].primary);
	assert_int_equal(xlb_snapshot_take(&p, h.be, h.n, h.t, &snap), 0);
	assert_int_equal(xlb_snapshot_encode(&snap, &buf, &len), 0);
	b = buf;
	/* Any flipped byte, a short or a long file: refused. */
	b[len - 1] ^= 1;
	assert_int_equal(xlb_snapshot_decode(buf, len, &back), -EBADMSG);
	b[len - 1] ^= 1;
	b[40] ^= 1;
	assert_int_equal(xlb_snapshot_decode(buf, len, &back), -EBADMSG);
	b[40] ^= 1;
	assert_int_equal(xlb_snapshot_decode(buf, len - 2, &back), -EBADMSG);
	assert_int_equal(xlb_snapshot_decode(buf, 10, &back), -EBADMSG);
	assert_int_equal(xlb_snapshot_decode(buf, len, &back), 0);
	xlb_snapshot_free(&back);

	/* A hand edit: 40 slots of one backend given to another. */
	t = calloc(4093, sizeof(*t));
	assert_non_null(t);
	memcpy(t, h.t, 4093 * sizeof(*t));
	for (s = 0; s < 4093 && c < 40; s++) {
		if (t[s].primary == h.be[0].id) {
			t[s].primary = h.be[1].id;
			t[s].secondary = h.be[2].id;
			c++;
		}
	}
	assert_int_equal(xlb_table_owners(&p, h.be, h.n, t, own), -EBADMSG);
	/* Another set's table (a backend it doesn't know). */
	memcpy(t, h.t, 4093 * sizeof(*t));
	assert_int_equal(xlb_table_owners(&p, h.be + 1, h.n - 1, t, own),
			 -EBADMSG);
	/* As the builder's prev: refused the same way. */
	{
		struct xlb_tb_prev pv = { .be = h.be + 1, .n = h.n - 1,
					  .slots = t };
		struct xlb_slot *o = calloc(4093, sizeof(*o));

		p.prev = &pv;
		assert_int_equal(xlb_table_build(&p, h.be, h.n, o), -EBADMSG);
		free(o);
	}
	free(t);
	free(buf);
	free(own);
	xlb_snapshot_free(&snap);
	hfree(&h);
}

/* be[k]'s health or ramp changes: the next table (prev: the set as built). */
static void health_step(struct hstate *h, size_t k, bool healthy, __u32 ramp)
{
	struct xlb_tb_backend *nb = calloc(h->cap, sizeof(*nb));
	struct xlb_slot *t;

	assert_non_null(nb);
	memcpy(nb, h->be, h->n * sizeof(*nb));
	nb[k].healthy = healthy;
	nb[k].ramp = ramp;
	t = hbuild(h, nb, h->n);
	free(h->be);
	free(h->t);
	h->be = nb;
	h->t = t;
}

/*
 * Health is on top: a backend DOWN (or ramping) while the operator adds
 * one, then UP again, gives the table of the same history without the
 * failure; removing a DOWN backend moves nothing more.
 */
static void t_stable_health(void **state)
{
	struct hstate up, hs;
	struct xlb_tb_params p = params(XLB_ALGO_STABLE, SZ);
	struct xlb_tb_prev pv;
	struct xlb_slot *t1, *t2;
	__u32 need, s, bad = 0, mode;

	for (mode = 0; mode < 2; mode++) {
		hinit(&up, XLB_ALGO_STABLE, SZ, 100, 110, true);
		hinit(&hs, XLB_ALGO_STABLE, SZ, 100, 110, true);
		hstep(&up, EV_ADD, 0, 3, &need);

		/* be[7] fails (or restarts its slow start): a health commit. */
		health_step(&hs, 7, mode ? true : false, mode ? 300 : XLB_RAMP_FULL);
		hstep(&hs, EV_ADD, 0, 3, &need);
		assert_int_equal(owned(hs.t, SZ, hs.be[7].id) == 0, mode == 0);
		health_step(&hs, 7, true, XLB_RAMP_FULL);
		assert_memory_equal(hs.t, up.t, SZ * sizeof(*hs.t));
		hfree(&up);
		hfree(&hs);
	}

	/* Removal after DOWN: its slots are already where they go. */
	hinit(&hs, XLB_ALGO_STABLE, SZ, 100, 110, true);
	health_step(&hs, 42, false, XLB_RAMP_FULL);
	t1 = calloc(SZ, sizeof(*t1));
	assert_non_null(t1);
	memcpy(t1, hs.t, SZ * sizeof(*t1));
	pv.be = hs.be;
	pv.n = hs.n;
	pv.slots = t1;
	p.prev = &pv;
	{
		struct xlb_tb_backend *nb = calloc(hs.n, sizeof(*nb));

		assert_non_null(nb);
		memcpy(nb, hs.be, hs.n * sizeof(*nb));
		nb[42] = nb[hs.n - 1];
		t2 = calloc(SZ, sizeof(*t2));
		assert_non_null(t2);
		assert_int_equal(xlb_table_build(&p, nb, hs.n - 1, t2), 0);
		for (s = 0; s < SZ; s++)
			bad += t1[s].primary != t2[s].primary;
		assert_int_equal(bad, 0);
		free(nb);
	}
	free(t1);
	free(t2);
	hfree(&hs);
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
	    cmocka_unit_test(t_stable_single_100),
	    cmocka_unit_test(t_stable_single_1000),
	    cmocka_unit_test(t_maglev_contrast),
	    cmocka_unit_test(t_stable_churn_100),
	    cmocka_unit_test(t_stable_churn_1000),
	    cmocka_unit_test(t_stable_replay),
	    cmocka_unit_test(t_stable_snapshot_bad),
	    cmocka_unit_test(t_stable_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
