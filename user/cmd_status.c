// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_status.c - `xlb status`: the whole balancer at a glance (where the
 * data path runs, the maps' layout, the seed's fingerprint, the flow
 * table's use, whether a daemon runs, a line per VIP), and `xlb vip check`
 * for scripts that announce a VIP only while it can serve (keepalived's
 * track_script, a routing daemon's health hook).
 *
 * Both are built from one JSON object, printed as JSON with -j and as
 * aligned text otherwise, so the two outputs never disagree.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cli.h"
#include "conf.h"
#include "digest.h"
#include "record.h"
#include "util.h"
#include "xdpinfo.h"

bool xlb_daemon_running(const char *pin_dir)
{
	return xlb_pin_guard_holder(pin_dir, XLB_PIN_DAEMON_GUARD) > 0;
}

/* Backends of v that take new flows: UP with a weight. */
static size_t vip_usable(const struct xlb_vip_ent *v)
{
	size_t i, n = 0;

	for (i = 0; i < v->n_be; i++)
		if (v->be[i].state == XLB_BE_UP && v->be[i].weight)
			n++;
	return n;
}

/*
 * One VIP's summary. Every per-VIP field of `status` is assembled here
 * and nowhere else: fields added for a VIP (its table digest, whether a
 * node announces it) go into this object, and both outputs show them.
 */
static struct json_object *
vip_status(const struct xlb_maps *m, const struct xlb_model *md,
	   const struct xlb_vip_ent *v, bool attached)
{
	struct json_object *o = json_object_new_object();
	size_t i, n[XLB_BE_DRAIN + 1] = {0}, usable = vip_usable(v);
	char vb[XLB_VIP_STRLEN], db[XLB_DIGEST_STRLEN];
	struct xlb_vip_digest dg;
	bool have = !xlb_vip_digest(m, md, v, &dg);

	for (i = 0; i < v->n_be; i++)
		if (v->be[i].state <= XLB_BE_DRAIN)
			n[v->be[i].state]++;
	xlb_vip_fmt(&v->key, vb, sizeof(vb));
	json_object_object_add(o, "vip", json_object_new_string(vb));
	json_object_object_add(o, "serving",
			       json_object_new_boolean(attached && usable > 0));
	json_object_object_add(o, "backends_usable",
			       json_object_new_int64((int64_t)usable));
	json_object_object_add(o, "backends_up",
			       json_object_new_int64((int64_t)n[XLB_BE_UP]));
	json_object_object_add(o, "backends_down",
			       json_object_new_int64((int64_t)n[XLB_BE_DOWN]));
	json_object_object_add(o, "backends_drain",
			       json_object_new_int64((int64_t)n[XLB_BE_DRAIN]));
	json_object_object_add(o, "backends_total",
			       json_object_new_int64((int64_t)v->n_be));
	json_object_object_add(o, "generation",
			       json_object_new_int64(v->generation));
	/* The fleet's agreement: equal on every node of one configuration. */
	if (have)
		xlb_digest_fmt(dg.table, db);
	json_object_object_add(o, "digest",
			       have ? json_object_new_string(db) : NULL);
	if (have)
		xlb_digest_fmt(dg.config, db);
	json_object_object_add(o, "config_digest",
			       have ? json_object_new_string(db) : NULL);
	return o;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	/* A JSON null (no digest) reads as "". */
	return json_object_object_get_ex(o, k, &v) && v ?
		       json_object_get_string(v) :
		       "";
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v)
						   : 0;
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) &&
	       json_object_get_boolean(v);
}

static void status_print(struct json_object *st)
{
	struct json_object *dp, *ft, *vips, *d, *node;
	size_t i, n;

	json_object_object_get_ex(st, "datapath", &dp);
	json_object_object_get_ex(st, "flow_table", &ft);
	json_object_object_get_ex(st, "vips", &vips);
	json_object_object_get_ex(st, "daemon", &d);
	if (jbool(dp, "attached"))
		printf("%-12s %s (%s mode), program id %lld\n", "interface",
		       jstr(dp, "interface"), jstr(dp, "mode"),
		       (long long)jint(dp, "prog_id"));
	else
		printf("%-12s NOT ATTACHED: no interface runs xlb's program on "
		       "these maps\n",
		       "interface");
	printf("%-12s %s\n", "pin_dir", jstr(st, "pin_dir"));
	printf("%-12s %lld (this build: %lld)\n", "map_layout",
	       (long long)jint(st, "map_layout"),
	       (long long)jint(st, "build_layout"));
	printf("%-12s fingerprint %s\n", "seed", jstr(st, "seed_fingerprint"));
	printf("%-12s %lld of %lld entries (%.1f%%)\n", "flow_table",
	       (long long)jint(ft, "entries"), (long long)jint(ft, "capacity"),
	       jint(ft, "capacity") ? 100.0 * (double)jint(ft, "entries") /
					  (double)jint(ft, "capacity")
				    : 0.0);
	printf("%-12s %lld\n", "commits", (long long)jint(st, "commits"));
	printf("%-12s %s\n", "daemon",
	       jbool(d, "running") ? "running" : "not running");
	if (json_object_object_get_ex(st, "node", &node))
		printf("%-12s %s%s%s, digest %s\n", "node", jstr(node, "state"),
		       *jstr(node, "why") ? ": " : "", jstr(node, "why"),
		       *jstr(node, "digest") ? jstr(node, "digest") : "-");
	n = json_object_array_length(vips);
	printf("\n%-30s %-8s %-16s %s\n", "VIP", "SERVING", "DIGEST", "BACKENDS");
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(vips, i);

		printf("%-30s %-8s %-16s %lld/%lld usable (%lld up, %lld down, "
		       "%lld draining)\n",
		       jstr(v, "vip"), jbool(v, "serving") ? "yes" : "NO",
		       *jstr(v, "digest") ? jstr(v, "digest") : "-",
		       (long long)jint(v, "backends_usable"),
		       (long long)jint(v, "backends_total"),
		       (long long)jint(v, "backends_up"),
		       (long long)jint(v, "backends_down"),
		       (long long)jint(v, "backends_drain"));
	}
}

/* The status object of the balancer behind m (md read from it). */
static int status_build(struct xlb_ctx *c, struct xlb_maps *m,
			const struct xlb_model *md, struct json_object **out)
{
	struct json_object *st, *dp, *ft, *d, *vips, *node;
	struct xlb_xdp_info xi;
	struct xlb_commit h;
	__u64 used = 0, cap = 0;
	char fpr[9];
	size_t i;
	int err;

	err = xlb_xdp_find(m, NULL, &xi);
	if (!err)
		err = xlb_flows_usage(m, &used, &cap);
	if (!err)
		err = xlb_record_header(m, &h);
	if (err)
		return err;
	st = json_object_new_object();
	dp = json_object_new_object();
	json_object_object_add(dp, "attached",
			       json_object_new_boolean(xi.prog_id != 0));
	if (xi.prog_id) {
		json_object_object_add(dp, "interface",
				       json_object_new_string(xi.dev));
		json_object_object_add(dp, "mode",
				       json_object_new_string(xi.mode));
		json_object_object_add(dp, "prog_id",
				       json_object_new_int64(xi.prog_id));
	}
	json_object_object_add(st, "datapath", dp);
	json_object_object_add(st, "pin_dir",
			       json_object_new_string(c->pin_dir));
	json_object_object_add(st, "map_layout",
			       json_object_new_int64(md->cfg.abi));
	json_object_object_add(st, "build_layout",
			       json_object_new_int64(XLB_ABI));
	json_object_object_add(st, "version",
			       json_object_new_string(XLB_VERSION));
	xlb_seed_fpr(md->cfg.seed, fpr);
	json_object_object_add(st, "seed_fingerprint",
			       json_object_new_string(fpr));
	ft = json_object_new_object();
	json_object_object_add(ft, "entries", json_object_new_uint64(used));
	json_object_object_add(ft, "capacity", json_object_new_uint64(cap));
	json_object_object_add(st, "flow_table", ft);
	json_object_object_add(st, "commits", json_object_new_uint64(h.gen));
	d = json_object_new_object();
	json_object_object_add(
	    d, "running",
	    json_object_new_boolean(xlb_daemon_running(c->pin_dir)));
	json_object_object_add(st, "daemon", d);
	vips = json_object_new_array();
	for (i = 0; i < md->n_vips; i++)
		json_object_array_add(
		    vips, vip_status(m, md, &md->vips[i], xi.prog_id != 0));
	json_object_object_add(st, "vips", vips);
	/* Announcement and drain (node.c): absent when it can't be read. */
	if (!xlb_node_status(c->pin_dir, &node))
		json_object_object_add(st, "node", node);
	xlb_err_clear();
	*out = st;
	return 0;
}

static int read_state(struct xlb_ctx *c, struct xlb_maps *m,
		      struct xlb_model *md)
{
	int err = xlb_maps_open(c->pin_dir, m);

	if (!err) {
		err = xlb_model_read(m, md);
		if (err)
			xlb_maps_close(m);
	}
	return err;
}

int cmd_status(struct xlb_ctx *c, int argc, char **argv)
{
	struct json_object *st = NULL;
	struct xlb_model md;
	struct xlb_maps m;
	int err;

	if (argc)
		return xlb_usage(c, "usage: xlb status");
	err = read_state(c, &m, &md);
	if (err)
		return xlb_fail_rc(c, err);
	err = status_build(c, &m, &md, &st);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	if (err)
		return xlb_fail_rc(c, err);
	if (c->json) {
		xlb_json_print(c, st);
	} else {
		status_print(st);
		json_object_put(st);
	}
	return XLB_EXIT_OK;
}

int cmd_vip_check(struct xlb_ctx *c, int argc, char **argv)
{
	struct json_object *o;
	struct xlb_xdp_info xi;
	struct xlb_vip_key k;
	struct xlb_vip_ent *v;
	struct xlb_model md;
	struct xlb_maps m;
	__u32 min_up = 1;
	size_t usable;
	bool ok;
	int err, i;

	if (argc < 1)
		return xlb_usage(c, "usage: xlb vip check VIP [--min-up N]");
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *val = xlb_opt_value(argc, argv, &i);

		if (strcmp(o, "--min-up"))
			return xlb_usage(c, "vip check: unknown option '%s'",
					 o);
		if (!val || xlb_parse_u32(val, 1, XLB_MAX_BACKENDS, &min_up))
			return xlb_usage(c,
					 "invalid --min-up '%s' (want 1 to %u)",
					 val ? val : "", XLB_MAX_BACKENDS);
	}
	if (xlb_vip_parse(argv[0], &k))
		return xlb_usage(c, "%s", xlb_errmsg());
	err = read_state(c, &m, &md);
	if (err)
		return xlb_fail_rc(c, err);
	err = xlb_xdp_find(&m, NULL, &xi);
	v = xlb_model_vip(&md, &k);
	if (err || !v) {
		xlb_model_free(&md);
		xlb_maps_close(&m);
		if (err)
			return xlb_fail_rc(c, err);
		return xlb_fail(c, XLB_EXIT_FAIL, "no VIP %s", argv[0]);
	}
	/* Without the program on an interface nothing serves, whatever the maps
	 * say. */
	usable = vip_usable(v);
	ok = xi.prog_id && usable >= min_up;
	if (c->json) {
		o = vip_status(&m, &md, v, xi.prog_id != 0);
		json_object_object_add(o, "min_up",
				       json_object_new_int64(min_up));
		json_object_object_add(o, "ok", json_object_new_boolean(ok));
		xlb_json_print(c, o);
	} else {
		printf("%s: %s: %zu of %zu backends usable (want %u)%s\n",
		       argv[0], ok ? "ok" : "NOT OK", usable, v->n_be, min_up,
		       xi.prog_id ? "" : "; the data path is not attached");
	}
	xlb_model_free(&md);
	xlb_maps_close(&m);
	return ok ? XLB_EXIT_OK : XLB_EXIT_FAIL;
}
