// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_watch.c - `xlb stats --watch`: rates (packets/s, bytes/s, new
 * flows/s) per VIP and backend, refreshed in place like top, from the
 * same per-CPU counters `xlb stats` sums: two reads an interval apart,
 * nothing new asked of the data path.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "util.h"

static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	watch_stop = 1;
}

bool xlb_watch_secs(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.1 || v > 86400)
		return false;
	*out = v;
	return true;
}

void xlb_watch_begin(struct xlb_watch *w)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/* No SA_RESTART: the sleep returns at once and the loop ends. */
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	watch_stop = 0;
	w->shown = 0;
	if (w->secs <= 0)
		w->secs = 1;
}

double xlb_watch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool xlb_watch_wait(struct xlb_watch *w)
{
	double until = xlb_watch_now() + w->secs, left;
	struct timespec ts;

	if (w->count && w->shown >= w->count)
		return false;
	while (!watch_stop && (left = until - xlb_watch_now()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	return !watch_stop;
}

void xlb_watch_screen(struct xlb_watch *w)
{
	/* Home and clear: the screen redrawn in place, without scrollback. */
	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	else if (w->shown)
		fputc('\n', stdout);
	w->shown++;
}

/* One row: a VIP (addr unused) or one of its backends. */
struct wrow {
	struct xlb_vip_key key;
	struct xlb_addr addr;
	bool be;
	__u64 cnt[3]; /* packets, bytes, new flows */
};

struct wsample {
	struct wrow *r;
	size_t n;
	__u64 rx, drops, used, cap;
	double t;
};

static int sample(struct xlb_maps *m, const struct xlb_vip_key *k,
		  struct wsample *s)
{
	struct xlb_model md;
	size_t i, j, n = 0;
	__u64 v;
	int err;

	memset(s, 0, sizeof(*s));
	err = xlb_model_read(m, &md);
	if (err)
		return err;
	for (i = 0; i < md.n_vips; i++)
		n += 1 + md.vips[i].n_be;
	s->r = calloc(n ? n : 1, sizeof(*s->r));
	if (!s->r) {
		xlb_model_free(&md);
		return xlb_errf(-ENOMEM, "out of memory");
	}
	s->t = xlb_watch_now();
	for (i = 0; i < md.n_vips; i++) {
		const struct xlb_vip_ent *ve = &md.vips[i];
		struct wrow *r;

		if (k && memcmp(&ve->key, k, sizeof(*k)))
			continue;
		r = &s->r[s->n++];
		r->key = ve->key;
		xlb_percpu_sum(m->vip_stats, ve->id, r->cnt, 3);
		for (j = 0; j < ve->n_be; j++) {
			r = &s->r[s->n++];
			r->key = ve->key;
			r->addr = ve->be[j].addr;
			r->be = true;
			xlb_percpu_sum(m->be_stats, ve->be[j].id, r->cnt, 3);
		}
	}
	if (!xlb_percpu_sum(m->stats, XLB_STAT_RX, &v, 1))
		s->rx = v;
	for (i = XLB_STAT_DROP_FIRST; i < XLB_STAT_MAX; i++)
		if (!xlb_percpu_sum(m->stats, (__u32)i, &v, 1))
			s->drops += v;
	err = xlb_flows_usage(m, &s->used, &s->cap);
	xlb_model_free(&md);
	if (err) {
		free(s->r);
		s->r = NULL;
	}
	return err;
}

static const struct wrow *find_row(const struct wsample *s, const struct wrow *r)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].be == r->be &&
		    !memcmp(&s->r[i].key, &r->key, sizeof(r->key)) &&
		    (!r->be || !xlb_addr_cmp(&s->r[i].addr, &r->addr)))
			return &s->r[i];
	return NULL;
}

/* A counter's rate; a counter that went back (maps re-made) reads 0. */
static double rate(__u64 now, __u64 then, double dt)
{
	return now >= then && dt > 0 ? (double)(now - then) / dt : 0;
}

static void show(struct xlb_ctx *c, struct xlb_watch *w,
		 const struct wsample *a, const struct wsample *b)
{
	double dt = b->t - a->t;
	struct json_object *root = NULL, *vips = NULL, *vo = NULL, *bes = NULL;
	char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN];
	size_t i;

	xlb_watch_screen(w);
	if (c->json) {
		root = json_object_new_object();
		vips = json_object_new_array();
		json_object_object_add(root, "interval", json_object_new_double(dt));
		json_object_object_add(root, "rx_per_s",
				       json_object_new_double(rate(b->rx, a->rx, dt)));
		json_object_object_add(root, "drops_per_s",
				       json_object_new_double(rate(b->drops, a->drops, dt)));
		json_object_object_add(root, "flow_table_entries",
				       json_object_new_uint64(b->used));
	} else {
		printf("xlb stats: every %.1f s (%.2f s measured); rx %.0f/s, drops %.0f/s; flow table %llu of %llu\n\n",
		       w->secs, dt, rate(b->rx, a->rx, dt), rate(b->drops, a->drops, dt),
		       (unsigned long long)b->used, (unsigned long long)b->cap);
		printf("%-30s %12s %14s %12s\n", "VIP / BACKEND", "PACKETS/S",
		       "BYTES/S", "NEW FLOWS/S");
	}
	for (i = 0; i < b->n; i++) {
		const struct wrow *r = &b->r[i], *p = find_row(a, r);
		double pr[3] = { 0 };
		int k;

		/* A row new since the last read has no rate yet: 0. */
		for (k = 0; p && k < 3; k++)
			pr[k] = rate(r->cnt[k], p->cnt[k], dt);
		if (!r->be)
			xlb_vip_fmt(&r->key, vb, sizeof(vb));
		else
			xlb_addr_fmt(r->addr.family, r->addr.a, ab, sizeof(ab));
		if (!c->json) {
			if (!r->be)
				printf("%-30s %12.1f %14.1f %12.1f\n", vb, pr[0], pr[1], pr[2]);
			else
				printf("  -> %-25s %12.1f %14.1f %12.1f\n", ab, pr[0], pr[1],
				       pr[2]);
			continue;
		}
		{
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, r->be ? "addr" : "vip",
					       json_object_new_string(r->be ? ab : vb));
			json_object_object_add(o, "packets_per_s", json_object_new_double(pr[0]));
			json_object_object_add(o, "bytes_per_s", json_object_new_double(pr[1]));
			json_object_object_add(o, "new_flows_per_s", json_object_new_double(pr[2]));
			if (!r->be) {
				if (vo) {
					json_object_object_add(vo, "backends", bes);
					json_object_array_add(vips, vo);
				}
				vo = o;
				bes = json_object_new_array();
			} else {
				json_object_array_add(bes, o);
			}
		}
	}
	if (c->json) {
		if (vo) {
			json_object_object_add(vo, "backends", bes);
			json_object_array_add(vips, vo);
		}
		json_object_object_add(root, "vips", vips);
		xlb_json_print(c, root);
	}
	fflush(stdout);
}

int xlb_stats_watch(struct xlb_ctx *c, const struct xlb_vip_key *k,
		    struct xlb_watch *w)
{
	struct wsample a, b;
	struct xlb_maps m;
	int err;

	err = xlb_maps_open_ro(c->pin_dir, &m);
	if (err)
		return xlb_fail_rc(c, err);
	xlb_watch_begin(w);
	err = sample(&m, k, &a);
	while (!err && xlb_watch_wait(w)) {
		err = sample(&m, k, &b);
		if (err)
			break;
		show(c, w, &a, &b);
		free(a.r);
		a = b;
	}
	free(a.r);
	xlb_maps_close(&m);
	/* Ended by a signal or the count: a normal end. */
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}
