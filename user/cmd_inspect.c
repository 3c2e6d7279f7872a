// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_inspect.c - commands that explain: `lookup` (which backend, by the
 * data path's own hash and the live table), `table`, `simulate` (what a
 * change would move, without doing it) and `stats`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "stat.h"
#include "metrics.h"
#include "table.h"
#include "util.h"


/* Opens the maps read-only and finds the VIP named by s. */
static int inspect_begin(struct xlb_ctx *c, const char *s, struct xlb_maps *m,
			 struct xlb_model *md, struct xlb_vip_ent **v)
{
	struct xlb_vip_key k;
	int err;

	if (xlb_vip_parse(s, &k))
		return xlb_usage(c, "%s", xlb_errmsg());
	err = xlb_maps_open_ro(c->pin_dir, m);
	if (!err) {
		err = xlb_model_read(m, md);
		if (err)
			xlb_maps_close(m);
	}
	if (err)
		return xlb_fail_rc(c, err);
	*v = xlb_model_vip(md, &k);
	if (!*v) {
		xlb_model_free(md);
		xlb_maps_close(m);
		return xlb_fail(c, XLB_EXIT_FAIL, "no VIP %s", s);
	}
	return 0;
}

static const struct xlb_be_ent *be_by_id(const struct xlb_vip_ent *v, __u32 id)
{
	size_t i;

	for (i = 0; i < v->n_be; i++)
		if (v->be[i].id == id)
			return &v->be[i];
	return NULL;
}

static struct json_object *be_addr_json(const struct xlb_vip_ent *v, __u32 id,
					char *buf, size_t len)
{
	const struct xlb_be_ent *b = be_by_id(v, id);

	snprintf(buf, len, "-");
	if (!b)
		return NULL;
	xlb_addr_fmt(b->addr.family, b->addr.a, buf, len);
	return json_object_new_string(buf);
}

int cmd_lookup(struct xlb_ctx *c, int argc, char **argv)
{
	const struct xlb_slot *t = NULL;
	struct xlb_addr *clients;
	struct json_object *arr = NULL;
	struct xlb_vip_ent *v;
	struct xlb_model md;
	struct xlb_maps m;
	int i, rc;

	if (argc < 2)
		return xlb_usage(c, "usage: xlb lookup VIP CLIENT [CLIENT...]");
	clients = calloc((size_t)argc, sizeof(*clients));
	if (!clients)
		return xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
	/* Every client is checked before anything is read. */
	for (i = 1; i < argc; i++)
		if (xlb_addr_parse(argv[i], &clients[i])) {
			free(clients);
			return xlb_usage(c, "%s", xlb_errmsg());
		}
	rc = inspect_begin(c, argv[0], &m, &md, &v);
	if (rc) {
		free(clients);
		return rc;
	}
	for (i = 1; i < argc; i++)
		if (clients[i].family != v->key.family) {
			rc = xlb_usage(c, "client %s is not of the VIP's address family",
				       argv[i]);
			goto out;
		}
	if (xlb_table_map_live(&m, v, &t)) {
		rc = xlb_fail_rc(c, -ENOENT);
		goto out;
	}
	if (c->json)
		arr = json_object_new_array();
	else
		printf("%-40s %7s  %-24s %-24s %s\n", "CLIENT", "SLOT", "PRIMARY",
		       "SECONDARY", "SERVES");
	for (i = 1; i < argc; i++) {
		__u32 s = xlb_model_slot(&md.cfg, v, &clients[i]);
		const struct xlb_be_ent *p = be_by_id(v, t[s].primary), *sec;
		char pb[XLB_ADDR_STRLEN], sb[XLB_ADDR_STRLEN];
		struct json_object *jp, *js;

		jp = be_addr_json(v, t[s].primary, pb, sizeof(pb));
		js = be_addr_json(v, t[s].secondary, sb, sizeof(sb));
		if (c->json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "client",
					       json_object_new_string(argv[i]));
			json_object_object_add(o, "primary", jp);
			json_object_object_add(o, "secondary", js);
			json_object_array_add(arr, o);
			continue;
		}
		sec = be_by_id(v, t[s].secondary);
		printf("%-40s %7u  %-24s %-24s %s\n", argv[i], s, pb, sb,
		       p && p->state == XLB_BE_UP ? "primary" :
		       sec && sec->state == XLB_BE_UP ? "secondary" : "none");
	}
	if (c->json)
		xlb_json_print(c, arr);
	rc = XLB_EXIT_OK;
out:
	xlb_table_unmap(t, v->table_size);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	free(clients);
	return rc;
}

/* Index of backend id in v->be, or -1. */
static int be_index(const struct xlb_vip_ent *v, __u32 id)
{
	const struct xlb_be_ent *b = be_by_id(v, id);

	return b ? (int)(b - v->be) : -1;
}

static struct json_object *index_json(int i)
{
	return i < 0 ? NULL : json_object_new_int(i);
}

int cmd_table(struct xlb_ctx *c, int argc, char **argv)
{
	const struct xlb_slot *t = NULL;
	struct xlb_vip_ent *v;
	struct xlb_model md;
	struct xlb_maps m;
	__u32 i, start, *owned, *second;
	size_t j;
	int rc;

	if (argc != 1)
		return xlb_usage(c, "usage: xlb table VIP");
	rc = inspect_begin(c, argv[0], &m, &md, &v);
	if (rc)
		return rc;
	if (xlb_table_map_live(&m, v, &t)) {
		rc = xlb_fail_rc(c, -ENOENT);
		goto out;
	}
	if (c->json) {
		struct json_object *o = json_object_new_object();
		struct json_object *bes = json_object_new_array();
		struct json_object *st = json_object_new_array();
		struct json_object *pri = json_object_new_array_ext((int)v->table_size);
		struct json_object *sec = json_object_new_array_ext((int)v->table_size);
		char ab[XLB_ADDR_STRLEN];

		for (j = 0; j < v->n_be; j++) {
			xlb_addr_fmt(v->be[j].addr.family, v->be[j].addr.a, ab,
				     sizeof(ab));
			json_object_array_add(bes, json_object_new_string(ab));
			json_object_array_add(st, json_object_new_string(
							  xlb_state_name(v->be[j].state)));
		}
		for (i = 0; i < v->table_size; i++) {
			json_object_array_add(pri, index_json(be_index(v, t[i].primary)));
			json_object_array_add(sec, index_json(be_index(v, t[i].secondary)));
		}
		json_object_object_add(o, "size", json_object_new_int64(v->table_size));
		json_object_object_add(o, "backends", bes);
		json_object_object_add(o, "state", st);
		json_object_object_add(o, "primary", pri);
		json_object_object_add(o, "secondary", sec);
		xlb_json_print(c, o);
		rc = XLB_EXIT_OK;
		goto out;
	}

	owned = calloc(v->n_be + 1, sizeof(*owned));
	second = calloc(v->n_be + 1, sizeof(*second));
	if (!owned || !second) {
		free(owned);
		free(second);
		rc = xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < v->table_size; i++) {
		int p = be_index(v, t[i].primary), s = be_index(v, t[i].secondary);

		owned[p < 0 ? v->n_be : (size_t)p]++;
		second[s < 0 ? v->n_be : (size_t)s]++;
	}
	printf("%s: %u slots, %s\n%-26s %-6s %8s %7s %10s\n", argv[0],
	       v->table_size, xlb_algo_name((enum xlb_algo)v->algo), "BACKEND",
	       "STATE", "SLOTS", "SHARE", "SECONDARY");
	for (j = 0; j <= v->n_be; j++) {
		char ab[XLB_ADDR_STRLEN] = "(none)";

		if (j == v->n_be && !owned[j] && !second[j])
			break;
		if (j < v->n_be)
			xlb_addr_fmt(v->be[j].addr.family, v->be[j].addr.a, ab,
				     sizeof(ab));
		printf("%-26s %-6s %8u %6.2f%% %10u\n", ab,
		       j < v->n_be ? xlb_state_name(v->be[j].state) : "-", owned[j],
		       100.0 * owned[j] / v->table_size, second[j]);
	}
	free(owned);
	free(second);
	/* The whole table, as runs of slots with the same pair. */
	printf("\n%-15s %-26s %s\n", "SLOTS", "PRIMARY", "SECONDARY");
	for (start = 0, i = 1; i <= v->table_size; i++) {
		char pb[XLB_ADDR_STRLEN], sb[XLB_ADDR_STRLEN], range[32];

		if (i < v->table_size && t[i].primary == t[start].primary &&
		    t[i].secondary == t[start].secondary)
			continue;
		be_addr_json(v, t[start].primary, pb, sizeof(pb));
		be_addr_json(v, t[start].secondary, sb, sizeof(sb));
		if (i - 1 == start)
			snprintf(range, sizeof(range), "%u", start);
		else
			snprintf(range, sizeof(range), "%u-%u", start, i - 1);
		/* be_addr_json returned NULL objects; nothing to free. */
		printf("%-15s %-26s %s\n", range, pb, sb);
		start = i;
	}
	rc = XLB_EXIT_OK;
out:
	xlb_table_unmap(t, v->table_size);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	return rc;
}

/*
 * The daemon's /metrics once, for node_exporter's textfile collector
 * (without the health checks, which live in the daemon).
 */
static int stats_prometheus(struct xlb_ctx *c)
{
	struct xlb_maps m;
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = xlb_maps_open(c->pin_dir, &m);
	if (err)
		return xlb_fail_rc(c, err);
	err = xlb_metrics_render(&m, NULL, &buf, &len);
	xlb_maps_close(&m);
	if (!err && (fwrite(buf, 1, len, stdout) != len || fflush(stdout)))
		err = xlb_errf(-EIO, "can't write: %s", strerror(errno));
	free(buf);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

int cmd_stats(struct xlb_ctx *c, int argc, char **argv)
{
	struct json_object *root = NULL, *glob = NULL, *vips = NULL;
	struct xlb_vip_key k;
	struct xlb_model md;
	struct xlb_maps m;
	__u64 v, used, cap;
	size_t i, j;
	int err;

	struct xlb_watch w = { 0 };
	const char *vip = NULL;
	int a;

	if (argc >= 1 && !strcmp(argv[argc - 1], "--prometheus"))
		return argc == 1 ? stats_prometheus(c) :
				   xlb_usage(c, "usage: xlb stats --prometheus");
	/* [VIP] [--watch [SECONDS]] [-n COUNT]: a number is the interval. */
	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--watch")) {
			if (w.on)
				return xlb_usage(c, "stats: --watch given twice");
			w.on = true;
			if (a + 1 < argc && xlb_watch_secs(argv[a + 1], &w.secs))
				a++;
		} else if (!strcmp(argv[a], "-n") || !strcmp(argv[a], "--count")) {
			if (a + 1 >= argc || xlb_parse_u32(argv[a + 1], 1, 1000000000, &w.count))
				return xlb_usage(c, "invalid %s '%s' (want a count of screens)",
						 argv[a], a + 1 < argc ? argv[a + 1] : "");
			a++;
		} else if (w.on && !w.secs && xlb_watch_secs(argv[a], &w.secs)) {
			continue;
		} else if (!vip && argv[a][0] != '-') {
			vip = argv[a];
		} else {
			return xlb_usage(c, "usage: xlb stats [VIP] [--prometheus] [--watch [SECONDS]] [-n COUNT]");
		}
	}
	if (w.count && !w.on)
		return xlb_usage(c, "stats: -n COUNT goes with --watch");
	if (vip && xlb_vip_parse(vip, &k))
		return xlb_usage(c, "%s", xlb_errmsg());
	argc = vip ? 1 : 0;
	argv = vip ? (char **)&vip : argv;
	err = xlb_maps_open_ro(c->pin_dir, &m);
	if (!err) {
		err = xlb_model_read(&m, &md);
		if (err)
			xlb_maps_close(&m);
	}
	if (err)
		return xlb_fail_rc(c, err);
	if (argc == 1 && !xlb_model_vip(&md, &k)) {
		xlb_model_free(&md);
		xlb_maps_close(&m);
		return xlb_fail(c, XLB_EXIT_FAIL, "no VIP %s", argv[0]);
	}
	if (w.on) {
		xlb_model_free(&md);
		xlb_maps_close(&m);
		return xlb_stats_watch(c, argc == 1 ? &k : NULL, &w);
	}
	if (c->json) {
		root = json_object_new_object();
		glob = json_object_new_object();
		vips = json_object_new_array();
	}
	if (argc == 0) {
		if (!c->json)
			printf("%-20s %14s\n", "COUNTER", "VALUE");
		for (i = 0; i < XLB_STAT_MAX; i++) {
			if (xlb_percpu_sum(m.stats, (__u32)i, &v, 1))
				continue;
			if (c->json)
				json_object_object_add(glob, xlb_stat_name(i),
						       json_object_new_uint64(v));
			else
				printf("%-20s %14llu\n", xlb_stat_name(i),
				       (unsigned long long)v);
		}
		/* How full the flow table is: what `attach --flows` sizes. */
		err = xlb_flows_usage(&m, &used, &cap);
		if (err) {
			json_object_put(root);
			json_object_put(glob);
			json_object_put(vips);
			xlb_model_free(&md);
			xlb_maps_close(&m);
			return xlb_fail_rc(c, err);
		}
		if (c->json) {
			struct json_object *ft = json_object_new_object();

			json_object_object_add(ft, "entries", json_object_new_uint64(used));
			json_object_object_add(ft, "capacity", json_object_new_uint64(cap));
			json_object_object_add(root, "flow_table", ft);
		} else {
			printf("%-20s %14llu of %llu entries\n", "flow_table",
			       (unsigned long long)used, (unsigned long long)cap);
		}
	}
	if (!c->json)
		printf("\n%-30s %14s %16s %12s\n", "VIP / BACKEND", "PACKETS",
		       "BYTES", "NEW FLOWS");
	for (i = 0; i < md.n_vips; i++) {
		const struct xlb_vip_ent *ve = &md.vips[i];
		struct json_object *vo = NULL, *bes = NULL;
		char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN];
		__u64 cnt[3] = { 0 };

		if (argc == 1 && memcmp(&ve->key, &k, sizeof(k)))
			continue;
		xlb_vip_fmt(&ve->key, vb, sizeof(vb));
		xlb_percpu_sum(m.vip_stats, ve->id, cnt, 3);
		if (c->json) {
			vo = json_object_new_object();
			bes = json_object_new_array();
			json_object_object_add(vo, "vip", json_object_new_string(vb));
			json_object_object_add(vo, "packets", json_object_new_uint64(cnt[0]));
			json_object_object_add(vo, "bytes", json_object_new_uint64(cnt[1]));
			json_object_object_add(vo, "new_flows", json_object_new_uint64(cnt[2]));
		} else {
			printf("%-30s %14llu %16llu %12llu\n", vb,
			       (unsigned long long)cnt[0], (unsigned long long)cnt[1],
			       (unsigned long long)cnt[2]);
		}
		for (j = 0; j < ve->n_be; j++) {
			const struct xlb_be_ent *b = &ve->be[j];

			xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
			xlb_percpu_sum(m.be_stats, b->id, cnt, 3);
			if (c->json) {
				struct json_object *bo = json_object_new_object();

				json_object_object_add(bo, "addr", json_object_new_string(ab));
				json_object_object_add(bo, "packets",
						       json_object_new_uint64(cnt[0]));
				json_object_object_add(bo, "bytes",
						       json_object_new_uint64(cnt[1]));
				json_object_object_add(bo, "new_flows",
						       json_object_new_uint64(cnt[2]));
				json_object_array_add(bes, bo);
			} else {
				printf("  -> %-25s %14llu %16llu %12llu\n", ab,
				       (unsigned long long)cnt[0],
				       (unsigned long long)cnt[1],
				       (unsigned long long)cnt[2]);
			}
		}
		if (c->json) {
			json_object_object_add(vo, "backends", bes);
			json_object_array_add(vips, vo);
		}
	}
	if (c->json) {
		if (argc == 0)
			json_object_object_add(root, "global", glob);
		else
			json_object_put(glob);
		json_object_object_add(root, "vips", vips);
		xlb_json_print(c, root);
	}
	xlb_model_free(&md);
	xlb_maps_close(&m);
	return XLB_EXIT_OK;
}

/* `xlb top`: the VIP's flows grouped by client source prefix. */
struct top_ent {
	__be32 prefix[4];
	__u32 backend;
	bool fresh; /* not in the previous walk (--watch) */
};

struct top_walk {
	const struct xlb_vip_ent *v;
	unsigned int plen;
	struct top_ent *e;
	size_t n, cap;
	/* --watch: the flows of this walk and of the last, sorted. */
	struct xlb_flow_key *keys, *prev;
	size_t n_prev;
	bool have_prev;
};

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_flow_key));
}

static void mask_addr(__be32 *a, __u8 family, unsigned int plen)
{
	unsigned int bits = family == XLB_AF_INET ? 32 : 128, i;

	for (i = 0; i < 4; i++) {
		unsigned int keep = plen > i * 32 ? plen - i * 32 : 0;

		if (i * 32 >= bits || keep == 0)
			a[i] = 0;
		else if (keep < 32)
			a[i] &= htonl(~0U << (32 - keep));
	}
}

static int top_one(const struct xlb_flow_key *k, const struct xlb_flow *f,
		   void *arg)
{
	struct top_walk *w = arg;
	struct top_ent *tmp;

	if (k->family != w->v->key.family || k->proto != w->v->key.proto ||
	    k->dport != w->v->key.port ||
	    memcmp(k->dst, w->v->key.addr, sizeof(k->dst)))
		return 0;
	if (w->n == w->cap) {
		struct xlb_flow_key *kt;

		w->cap = w->cap ? w->cap * 2 : 1024;
		tmp = realloc(w->e, w->cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		w->e = tmp;
		kt = realloc(w->keys, w->cap * sizeof(*kt));
		if (!kt)
			return -ENOMEM;
		w->keys = kt;
	}
	w->keys[w->n] = *k;
	/*
	 * A flow the last walk did not hold is new since: what the data
	 * path keeps per flow has no birth time, and this costs it nothing.
	 */
	w->e[w->n].fresh = w->have_prev &&
			   !bsearch(k, w->prev, w->n_prev, sizeof(*k), key_cmp);
	memcpy(w->e[w->n].prefix, k->src, sizeof(k->src));
	mask_addr(w->e[w->n].prefix, k->family, w->plen);
	w->e[w->n].backend = f->backend;
	w->n++;
	return 0;
}

static int top_cmp_prefix(const void *a, const void *b)
{
	const struct top_ent *x = a, *y = b;
	int c = memcmp(x->prefix, y->prefix, sizeof(x->prefix));

	return c ? c : (x->backend > y->backend) - (x->backend < y->backend);
}

struct top_row {
	__be32 prefix[4];
	size_t flows, backends, fresh;
	__u32 first_be;
};

static int top_cmp_flows(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->flows != y->flows)
		return x->flows < y->flows ? 1 : -1;
	return memcmp(x->prefix, y->prefix, sizeof(x->prefix));
}

/* One screen of `xlb top`; dt > 0 adds new flows per second. */
static int top_screen(struct xlb_ctx *c, struct xlb_maps *m,
		      const struct xlb_vip_ent *v, const char *name,
		      unsigned int plen, __u32 limit, struct top_walk *w, double dt)
{
	struct top_row *rows = NULL;
	struct json_object *arr = NULL;
	struct xlb_flow_key *kt;
	size_t i, nrows = 0;

	w->v = v;
	w->plen = plen;
	w->n = 0;
	if (xlb_flows_walk(m, top_one, w))
		return xlb_fail(c, XLB_EXIT_FAIL, "can't read the flow table");
	qsort(w->e, w->n, sizeof(*w->e), top_cmp_prefix);
	rows = calloc(w->n ? w->n : 1, sizeof(*rows));
	if (!rows)
		return xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
	for (i = 0; i < w->n; i++) {
		struct top_row *r = nrows ? &rows[nrows - 1] : NULL;

		if (!r || memcmp(r->prefix, w->e[i].prefix, sizeof(r->prefix))) {
			r = &rows[nrows++];
			memcpy(r->prefix, w->e[i].prefix, sizeof(r->prefix));
			r->first_be = w->e[i].backend;
		} else if (w->e[i].backend != w->e[i - 1].backend) {
			r->backends++;
		}
		if (!r->flows)
			r->backends = 1;
		r->flows++;
		r->fresh += w->e[i].fresh;
	}
	qsort(rows, nrows, sizeof(*rows), top_cmp_flows);
	if (c->json)
		arr = json_object_new_array();
	else if (dt > 0)
		printf("%s: %zu flows from %zu /%u sources (new flows/s over %.2f s)\n%-44s %8s %7s %10s  %s\n",
		       name, w->n, nrows, plen, dt, "SOURCE", "FLOWS", "SHARE",
		       "NEW/S", "BACKEND");
	else
		printf("%s: %zu flows from %zu /%u sources\n%-44s %8s %7s  %s\n",
		       name, w->n, nrows, plen, "SOURCE", "FLOWS", "SHARE",
		       "BACKEND");
	for (i = 0; i < nrows && i < limit; i++) {
		char ab[XLB_ADDR_STRLEN], src[XLB_ADDR_STRLEN + 8], bb[XLB_ADDR_STRLEN];
		const struct xlb_be_ent *b = be_by_id(v, rows[i].first_be);
		double nps = dt > 0 ? (double)rows[i].fresh / dt : 0;

		xlb_addr_fmt(v->key.family, rows[i].prefix, ab, sizeof(ab));
		snprintf(src, sizeof(src), "%s/%u", ab, plen);
		snprintf(bb, sizeof(bb), "-");
		if (b)
			xlb_addr_fmt(b->addr.family, b->addr.a, bb, sizeof(bb));
		if (c->json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "source", json_object_new_string(src));
			json_object_object_add(o, "flows", json_object_new_int64((int64_t)rows[i].flows));
			json_object_object_add(o, "share", json_object_new_double(
								  (double)rows[i].flows / (double)w->n));
			if (dt > 0)
				json_object_object_add(o, "new_flows_per_s",
						       json_object_new_double(nps));
			json_object_object_add(o, "backend", b ? json_object_new_string(bb) : NULL);
			json_object_object_add(o, "backends", json_object_new_int64((int64_t)rows[i].backends));
			json_object_array_add(arr, o);
			continue;
		}
		if (dt > 0)
			printf("%-44s %8zu %6.2f%% %10.1f  %s%s\n", src, rows[i].flows,
			       100.0 * (double)rows[i].flows / (double)w->n, nps, bb,
			       rows[i].backends > 1 ? " (and others)" : "");
		else
			printf("%-44s %8zu %6.2f%%  %s%s\n", src, rows[i].flows,
			       100.0 * (double)rows[i].flows / (double)w->n, bb,
			       rows[i].backends > 1 ? " (and others)" : "");
	}
	if (c->json)
		xlb_json_print(c, arr);
	fflush(stdout);
	free(rows);
	/* This walk's flows, sorted: the next screen's "before". */
	qsort(w->keys, w->n, sizeof(*w->keys), key_cmp);
	kt = w->prev;
	w->prev = w->keys;
	w->n_prev = w->n;
	w->keys = kt;
	kt = realloc(w->keys, (w->cap ? w->cap : 1) * sizeof(*kt));
	if (!kt)
		return xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
	w->keys = kt;
	w->have_prev = true;
	return XLB_EXIT_OK;
}

int cmd_top(struct xlb_ctx *c, int argc, char **argv)
{
	struct top_walk w = { 0 };
	struct xlb_watch wt = { 0 };
	struct xlb_vip_key vk;
	struct xlb_vip_ent *v;
	struct xlb_model md;
	struct xlb_maps m;
	__u32 limit = 10, plen = 0;
	bool plen_given = false;
	struct xlb_seen seen = { 0 };
	double t0, t1;
	int rc, a, err;

	for (a = 1; a < argc; a++) {
		const char *o = argv[a], *val;

		/* --watch takes an optional interval. */
		if (!strcmp(o, "--watch")) {
			if (xlb_opt_once(&seen, o))
				return xlb_usage(c, "top: %s", xlb_errmsg());
			wt.on = true;
			if (a + 1 < argc && xlb_watch_secs(argv[a + 1], &wt.secs))
				a++;
			continue;
		}
		val = xlb_opt_value(argc, argv, &a);
		if (!val)
			return xlb_usage(c, "%s needs a value", o);
		if ((!strcmp(o, "-n") || !strcmp(o, "--prefix") ||
		     !strcmp(o, "--count")) &&
		    xlb_opt_once(&seen, o))
			return xlb_usage(c, "top: %s", xlb_errmsg());
		if (!strcmp(o, "-n")) {
			if (xlb_parse_u32(val, 1, 1000000, &limit))
				return xlb_usage(c, "invalid -n '%s' (want 1-1000000)", val);
		} else if (!strcmp(o, "--prefix")) {
			if (xlb_parse_u32(val, 0, 128, &plen))
				return xlb_usage(c, "invalid --prefix '%s' (want 0-128)", val);
			plen_given = true;
		} else if (!strcmp(o, "--count")) {
			if (xlb_parse_u32(val, 1, 1000000000, &wt.count))
				return xlb_usage(c, "invalid --count '%s'", val);
		} else {
			return xlb_usage(c, "top: unknown option '%s'", o);
		}
	}
	if (argc < 1)
		return xlb_usage(c, "usage: xlb top VIP [-n N] [--prefix LEN] [--watch [SECONDS]] [--count COUNT]");
	if (wt.count && !wt.on)
		return xlb_usage(c, "top: --count goes with --watch");
	rc = inspect_begin(c, argv[0], &m, &md, &v);
	if (rc)
		return rc;
	if (!plen_given)
		plen = v->key.family == XLB_AF_INET ? v->v4_prefix : v->v6_prefix;
	if (v->key.family == XLB_AF_INET && plen > 32) {
		rc = xlb_usage(c, "--prefix %u is longer than an IPv4 address", plen);
		goto out;
	}
	if (!wt.on) {
		rc = top_screen(c, &m, v, argv[0], plen, limit, &w, 0);
		goto out;
	}
	/* A first walk to count from, then a screen every interval. */
	xlb_watch_begin(&wt);
	w.v = v;
	w.plen = plen;
	if (xlb_flows_walk(&m, top_one, &w)) {
		rc = xlb_fail(c, XLB_EXIT_FAIL, "can't read the flow table");
		goto out;
	}
	qsort(w.keys, w.n, sizeof(*w.keys), key_cmp);
	{
		struct xlb_flow_key *kt = w.prev;

		w.prev = w.keys;
		w.n_prev = w.n;
		w.keys = kt;
		kt = realloc(w.keys, (w.cap ? w.cap : 1) * sizeof(*kt));
		if (!kt) {
			rc = xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
			goto out;
		}
		w.keys = kt;
		w.have_prev = true;
	}
	vk = v->key;
	t0 = xlb_watch_now();
	rc = XLB_EXIT_OK;
	while (rc == XLB_EXIT_OK && xlb_watch_wait(&wt)) {
		/* Backends come and go: the VIP as it is now. */
		xlb_model_free(&md);
		err = xlb_model_read(&m, &md);
		if (err) {
			memset(&md, 0, sizeof(md));
			rc = xlb_fail_rc(c, err);
			break;
		}
		v = xlb_model_vip(&md, &vk);
		if (!v) {
			rc = xlb_fail(c, XLB_EXIT_FAIL, "no VIP %s (removed)", argv[0]);
			break;
		}
		t1 = xlb_watch_now();
		xlb_watch_screen(&wt);
		rc = top_screen(c, &m, v, argv[0], plen, limit, &w, t1 - t0);
		t0 = t1;
	}
out:
	free(w.e);
	free(w.keys);
	free(w.prev);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	return rc;
}
