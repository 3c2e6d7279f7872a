// SPDX-License-Identifier: GPL-2.0
/*
 * bench_table.c - table build times and quality at the default size.
 *
 * Prints, in plain text with each figure's target beside it: the median
 * build time (with secondaries) for maglev at 10, 100 and 1000 backends
 * and for the other algorithms at 100; maglev's balance; and the moved
 * fraction relative to the ideal (the share of the backend concerned) when
 * a backend goes DOWN, is removed from the configuration, or is added.
 * Then stable: one change at 1000 backends (table with secondaries, from
 * the previous table), its disruption and balance beside maglev's, and
 * the replay of a 1,000-event history.
 * Single-threaded; always exits 0 unless memory runs out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "table.h"

#define SIZE	XLB_TABLE_SIZE_DEFAULT
#define ROUNDS	9
#define SAMPLES 16 /* backends DOWNed, removed or added per measure */

static const __u64 seed[2] = { 0x0123456789abcdefULL,
			       0xfedcba9876543210ULL };

/* Backend i: alternately 198.18.0.0/15 and 2001:db8::/32. */
static void mk_backend(struct xlb_tb_backend *b, __u32 i)
{
	memset(b, 0, sizeof(*b));
	b->id = i;
	b->weight = 1;
	b->ramp = XLB_RAMP_FULL;
	b->healthy = true;
	if (i % 2 == 0) {
		b->family = XLB_AF_INET;
		b->addr[0] = htonl(0xc6120000U + 7 + i / 2);
	} else {
		b->family = XLB_AF_INET6;
		b->addr[0] = htonl(0x20010db8U);
		b->addr[2] = htonl(i * 2654435761U);
		b->addr[3] = htonl(i);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void build_or_die(const struct xlb_tb_params *p,
			 const struct xlb_tb_backend *be, size_t n,
			 struct xlb_slot *t)
{
	int err = xlb_table_build(p, be, n, t);

	if (err) {
		fprintf(stderr, "build failed: %d\n", err);
		exit(1);
	}
}

static double build_ms(enum xlb_algo algo, __u32 n, struct xlb_slot *t)
{
	struct xlb_tb_params p = { .algo = algo, .size = SIZE };
	struct xlb_tb_backend *be = calloc(n, sizeof(*be));
	double ms[ROUNDS];
	int r;

	memcpy(p.seed, seed, sizeof(seed));
	for (__u32 i = 0; i < n; i++)
		mk_backend(&be[i], i);
	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ms();

		build_or_die(&p, be, n, t);
		ms[r] = now_ms() - t0;
	}
	free(be);
	qsort(ms, ROUNDS, sizeof(ms[0]), dcmp);
	return ms[ROUNDS / 2];
}

static __u32 owned(const struct xlb_slot *t, __u32 id)
{
	__u32 s, c = 0;

	for (s = 0; s < SIZE; s++)
		c += t[s].primary == id;
	return c;
}

struct quality {
	double bal, down, down_bal, rm, rm_max, rm_bal, add, add_max, add_bal;
};

/*
 * Disruption = moved fraction / the concerned backend's share of slots
 * (its share before for DOWN and removal, after for addition); 1.00x is
 * the minimum. Averages over SAMPLES backends, worst case for DOWN.
 */
static void quality(enum xlb_algo algo, __u32 n, struct quality *q)
{
	struct xlb_tb_params p = { .algo = algo, .size = SIZE };
	struct xlb_slot *base = calloc(SIZE, sizeof(*base));
	struct xlb_slot *t = calloc(SIZE, sizeof(*t));
	struct xlb_tb_backend *be = calloc(n + 1, sizeof(*be));
	struct xlb_tb_backend *rm = calloc(n, sizeof(*rm));
	__u32 k;

	memset(q, 0, sizeof(*q));
	memcpy(p.seed, seed, sizeof(seed));
	for (__u32 i = 0; i <= n; i++)
		mk_backend(&be[i], i);
	build_or_die(&p, be, n, base);
	q->bal = xlb_table_balance(base, SIZE, be, n);
	for (k = 0; k < SAMPLES; k++) {
		__u32 b = (__u32)((__u64)k * n / SAMPLES), j, m = 0;
		double share = (double)owned(base, b) / SIZE, d;

		/* DOWN: only b's slots may move. */
		be[b].healthy = false;
		build_or_die(&p, be, n, t);
		d = xlb_table_moved(base, t, SIZE) / share;
		if (d > q->down)
			q->down = d;
		d = xlb_table_balance(t, SIZE, be, n);
		if (d > q->down_bal)
			q->down_bal = d;
		be[b].healthy = true;

		/* Removed from the configuration. */
		for (j = 0; j < n; j++)
			if (j != b)
				rm[m++] = be[j];
		build_or_die(&p, rm, m, t);
		d = xlb_table_moved(base, t, SIZE) / share;
		q->rm += d / SAMPLES;
		if (d > q->rm_max)
			q->rm_max = d;
		d = xlb_table_balance(t, SIZE, rm, m);
		if (d > q->rm_bal)
			q->rm_bal = d;

		/* One more backend, a fresh address each sample. */
		mk_backend(&be[n], n + 2 * k + (n % 2));
		build_or_die(&p, be, n + 1, t);
		share = (double)owned(t, be[n].id) / SIZE;
		d = xlb_table_moved(base, t, SIZE) / share;
		q->add += d / SAMPLES;
		if (d > q->add_max)
			q->add_max = d;
		d = xlb_table_balance(t, SIZE, be, n + 1);
		if (d > q->add_bal)
			q->add_bal = d;
	}
	free(base);
	free(t);
	free(be);
	free(rm);
}

/* ---- stable ---------------------------------------------------------- */

struct st_fig {
	double ms_rm, ms_add, ms_w; /* median ms of one change */
	double rm, add, w; /* worst disruption */
	double bal; /* worst balance after a change */
};

/* Builds the next table of a stable history from t (built for pb). */
static double stable_next(const struct xlb_tb_backend *pb, size_t pn,
			  const struct xlb_slot *t,
			  const struct xlb_tb_backend *be, size_t n,
			  struct xlb_slot *out)
{
	struct xlb_tb_params p = { .algo = XLB_ALGO_STABLE, .size = SIZE };
	struct xlb_tb_prev pv = { .be = pb, .n = pn, .slots = t };
	double t0;

	memcpy(p.seed, seed, sizeof(seed));
	p.prev = &pv;
	t0 = now_ms();
	build_or_die(&p, be, n, out);
	return now_ms() - t0;
}

static __u32 moved_slots(const struct xlb_slot *a, const struct xlb_slot *b)
{
	__u32 s, m = 0;

	for (s = 0; s < SIZE; s++)
		m += a[s].primary != b[s].primary;
	return m;
}

/*
 * SAMPLES removals, additions and weight changes (1 -> 3) at n backends,
 * each from the same base table.
 */
static void stable_quality(__u32 n, struct st_fig *f)
{
	struct xlb_tb_params p = { .algo = XLB_ALGO_STABLE, .size = SIZE };
	struct xlb_slot *base = calloc(SIZE, sizeof(*base));
	struct xlb_slot *t = calloc(SIZE, sizeof(*t));
	struct xlb_tb_backend *be = calloc(n + 1, sizeof(*be));
	struct xlb_tb_backend *rm = calloc(n, sizeof(*rm));
	double ms[3][SAMPLES], d;
	__u32 k, i;

	memset(f, 0, sizeof(*f));
	memcpy(p.seed, seed, sizeof(seed));
	for (i = 0; i <= n; i++)
		mk_backend(&be[i], i);
	build_or_die(&p, be, n, base);
	for (k = 0; k < SAMPLES; k++) {
		__u32 b = (__u32)((__u64)k * n / SAMPLES), m = 0, before;

		for (i = 0; i < n; i++)
			if (i != b)
				rm[m++] = be[i];
		ms[0][k] = stable_next(be, n, base, rm, m, t);
		d = (double)moved_slots(base, t) / owned(base, be[b].id);
		f->rm = d > f->rm ? d : f->rm;
		d = xlb_table_balance(t, SIZE, rm, m);
		f->bal = d > f->bal ? d : f->bal;

		mk_backend(&be[n], n + 2 * k + (n % 2));
		ms[1][k] = stable_next(be, n, base, be, n + 1, t);
		d = (double)moved_slots(base, t) / owned(t, be[n].id);
		f->add = d > f->add ? d : f->add;
		d = xlb_table_balance(t, SIZE, be, n + 1);
		f->bal = d > f->bal ? d : f->bal;

		before = owned(base, be[b].id);
		memcpy(rm, be, n * sizeof(*rm));
		rm[b].weight = 3;
		ms[2][k] = stable_next(be, n, base, rm, n, t);
		d = (double)moved_slots(base, t) /
		    (owned(t, be[b].id) - before);
		f->w = d > f->w ? d : f->w;
		d = xlb_table_balance(t, SIZE, rm, n);
		f->bal = d > f->bal ? d : f->bal;
	}
	for (i = 0; i < 3; i++)
		qsort(ms[i], SAMPLES, sizeof(ms[i][0]), dcmp);
	f->ms_rm = ms[0][SAMPLES / 2];
	f->ms_add = ms[1][SAMPLES / 2];
	f->ms_w = ms[2][SAMPLES / 2];
	free(base);
	free(t);
	free(be);
	free(rm);
}

/*
 * A history of events one commit each, n kept within 10% of n0, weights
 * 1-4: total ms. Every table is built in full, secondaries included.
 */
static double stable_replay(__u32 n0, __u32 events)
{
	__u32 cap = n0 + n0 / 10 + 1, n = n0, next = n0, e, i;
	struct xlb_tb_backend *be = calloc(cap, sizeof(*be));
	struct xlb_tb_backend *nb = calloc(cap, sizeof(*nb));
	struct xlb_slot *t = calloc(SIZE, sizeof(*t));
	struct xlb_slot *nt = calloc(SIZE, sizeof(*nt));
	struct xlb_tb_params p = { .algo = XLB_ALGO_STABLE, .size = SIZE };
	__u64 r = 88172645463325252ULL;
	double total = 0;

	memcpy(p.seed, seed, sizeof(seed));
	for (i = 0; i < n; i++) {
		mk_backend(&be[i], i);
		be[i].weight = 1 + i % 4;
	}
	build_or_die(&p, be, n, t);
	for (e = 0; e < events; e++) {
		__u32 k, op;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		k = (__u32)(r >> 8) % n;
		op = r % 3;
		if (op == 0 && n <= n0 - n0 / 10)
			op = 1;
		if (op == 1 && n >= cap - 1)
			op = 0;
		memcpy(nb, be, n * sizeof(*nb));
		if (op == 0) {
			nb[k] = nb[n - 1];
			total += stable_next(be, n, t, nb, n - 1, nt);
			n--;
		} else if (op == 1) {
			/* A fresh address, a free id. */
			mk_backend(&nb[n], next++);
			nb[n].id = nb[k].id;
			nb[k].id = XLB_MAX_BACKENDS + e % 1000;
			nb[n].weight = 1 + (r >> 32) % 4;
			total += stable_next(be, n, t, nb, n + 1, nt);
			n++;
		} else {
			nb[k].weight = nb[k].weight % 4 + 1;
			total += stable_next(be, n, t, nb, n, nt);
		}
		memcpy(be, nb, n * sizeof(*be));
		memcpy(t, nt, SIZE * sizeof(*t));
	}
	free(be);
	free(nb);
	free(t);
	free(nt);
	return total;
}

/* One aligned line: what, figure, target. */
static void row(const char *algo, const char *what, __u32 n, const char *fig,
		const char *target)
{
	char label[64];

	snprintf(label, sizeof(label), "%-10s %-18s N=%u", algo, what, n);
	printf("%-40s %10s   (%s)\n", label, fig, target);
}

int main(void)
{
	static const __u32 ns[] = { 10, 100, 1000 };
	static const char *const target_ms[] = { "target < 5 ms",
						 "target < 5 ms",
						 "target < 50 ms" };
	struct xlb_slot *t = calloc(SIZE, sizeof(*t));
	char fig[32], tgt[64];
	enum xlb_algo a;
	unsigned int i;

	if (!t)
		return 1;
	printf("table size %u slots, equal weights, mixed IPv4/IPv6, "
	       "median of %d builds\n\n",
	       SIZE, ROUNDS);
	for (i = 0; i < 3; i++) {
		snprintf(fig, sizeof(fig), "%.2f ms",
			 build_ms(XLB_ALGO_MAGLEV, ns[i], t));
		row("maglev", "build", ns[i], fig, target_ms[i]);
	}
	for (a = XLB_ALGO_RING; a < XLB_ALGO_COUNT; a++) {
		snprintf(fig, sizeof(fig), "%.2f ms", build_ms(a, 100, t));
		row(xlb_algo_name(a), "build", 100, fig, "no target");
	}
	for (i = 1; i < 3; i++) {
		struct quality q;
		__u32 n = ns[i];

		printf("\n");
		quality(XLB_ALGO_MAGLEV, n, &q);
		snprintf(fig, sizeof(fig), "%.4f", q.bal);
		row("maglev", "balance", n, fig, "target <= 1.01");
		snprintf(fig, sizeof(fig), "%.3fx", q.down);
		snprintf(tgt, sizeof(tgt), "target 1.00x; worst of %d",
			 SAMPLES);
		row("maglev", "DOWN disruption", n, fig, tgt);
		snprintf(fig, sizeof(fig), "%.4f", q.down_bal);
		row("maglev", "DOWN balance", n, fig, "target <= 1.01");
		snprintf(fig, sizeof(fig), "%.3fx", q.rm);
		snprintf(tgt, sizeof(tgt),
			 "stretch <= 1.05x; mean of %d, worst %.3fx", SAMPLES,
			 q.rm_max);
		row("maglev", "remove disruption", n, fig, tgt);
		snprintf(fig, sizeof(fig), "%.4f", q.rm_bal);
		row("maglev", "remove balance", n, fig, "target <= 1.01");
		snprintf(fig, sizeof(fig), "%.3fx", q.add);
		snprintf(tgt, sizeof(tgt),
			 "stretch <= 1.05x; mean of %d, worst %.3fx", SAMPLES,
			 q.add_max);
		row("maglev", "add disruption", n, fig, tgt);
		snprintf(fig, sizeof(fig), "%.4f", q.add_bal);
		row("maglev", "add balance", n, fig, "target <= 1.01");
	}
	printf("\n");
	for (i = 1; i < 3; i++) {
		struct st_fig f;
		__u32 n = ns[i];

		stable_quality(n, &f);
		snprintf(fig, sizeof(fig), "%.2f ms", f.ms_rm);
		row("stable", "remove, build", n, fig,
		    n == 1000 ? "target well under 50 ms" : "no target");
		snprintf(fig, sizeof(fig), "%.2f ms", f.ms_add);
		row("stable", "add, build", n, fig,
		    n == 1000 ? "target well under 50 ms" : "no target");
		snprintf(fig, sizeof(fig), "%.2f ms", f.ms_w);
		row("stable", "weight, build", n, fig,
		    n == 1000 ? "target well under 50 ms" : "no target");
		snprintf(fig, sizeof(fig), "%.3fx", f.rm);
		snprintf(tgt, sizeof(tgt), "target 1.00x; worst of %d", SAMPLES);
		row("stable", "remove disruption", n, fig, tgt);
		snprintf(fig, sizeof(fig), "%.3fx", f.add);
		row("stable", "add disruption", n, fig, tgt);
		snprintf(fig, sizeof(fig), "%.3fx", f.w);
		row("stable", "weight disruption", n, fig, tgt);
		snprintf(fig, sizeof(fig), "%.4f", f.bal);
		row("stable", "balance after", n, fig,
		    "integer optimum (worst of all)");
	}
	for (i = 1; i < 3; i++) {
		snprintf(fig, sizeof(fig), "%.0f ms",
			 stable_replay(ns[i], 1000));
		row("stable", "replay 1000 events", ns[i], fig,
		    "weights 1-4, N within 10%");
	}
	free(t);
	return 0;
}
