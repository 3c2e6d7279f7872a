// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_vip.c - `xlb vip` and `xlb backend`: every writer reads the pinned
 * state under the lock, edits the model, and commits it whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "digest.h"
#include "table.h"
#include "util.h"

#define DRAIN_TIMEOUT_S 300

/* Commits md over old, reporting once; frees both and closes m. */
static int finish(struct xlb_ctx *c, struct xlb_maps *m, struct xlb_model *old,
		  struct xlb_model *md)
{
	int err = xlb_model_commit(m, old, md);

	xlb_model_free(old);
	xlb_model_free(md);
	xlb_maps_close(m);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

static int abort_with(struct xlb_ctx *c, struct xlb_maps *m,
		      struct xlb_model *old, struct xlb_model *md, int code)
{
	xlb_model_free(old);
	xlb_model_free(md);
	xlb_maps_close(m);
	if (code == XLB_EXIT_USAGE)
		return xlb_usage(c, "%s", xlb_errmsg());
	return xlb_fail(c, code, "%s", xlb_errmsg());
}

static int parse_prefixes(const char *s, __u8 *v4, __u8 *v6)
{
	char buf[16], *comma;
	__u32 a, b;

	if (strlen(s) >= sizeof(buf))
		return xlb_errf(-EINVAL, "invalid --src-prefix '%s' (want V4LEN,V6LEN)", s);
	strcpy(buf, s);
	comma = strchr(buf, ',');
	if (!comma)
		return xlb_errf(-EINVAL, "invalid --src-prefix '%s' (want V4LEN,V6LEN)", s);
	*comma = '\0';
	if (xlb_parse_u32(buf, 0, 32, &a) || xlb_parse_u32(comma + 1, 0, 128, &b))
		return xlb_errf(-EINVAL,
				"invalid --src-prefix '%s' (IPv4 0-32, IPv6 0-128)", s);
	*v4 = (__u8)a;
	*v6 = (__u8)b;
	return 0;
}

/* Applies vip options argv[from..] to v; returns 0 or -EINVAL. */
int xlb_vip_opts(struct xlb_vip_ent *v, int argc, char **argv, int from)
{
	struct xlb_seen seen = { 0 };
	int i;

	for (i = from; i < argc; i++) {
		const char *o = argv[i], *val = xlb_opt_value(argc, argv, &i);
		enum xlb_algo a;

		if (!val)
			return xlb_errf(-EINVAL, "%s needs a value", o);
		if ((!strcmp(o, "--algo") || !strcmp(o, "--table-size") ||
		     !strcmp(o, "--fwd") || !strcmp(o, "--src-prefix")) &&
		    xlb_opt_once(&seen, o))
			return -EINVAL;
		if (!strcmp(o, "--algo")) {
			if (xlb_algo_parse(val, &a))
				return xlb_errf(-EINVAL,
						"invalid algorithm '%s' (want maglev, ring, rendezvous or modulo)",
						val);
			v->algo = (__u8)a;
		} else if (!strcmp(o, "--table-size")) {
			if (xlb_parse_u32(val, 1, XLB_TABLE_SIZE_MAX, &v->table_size))
				return xlb_errf(-EINVAL,
						"invalid --table-size '%s' (want 1-%d)",
						val, XLB_TABLE_SIZE_MAX);
		} else if (!strcmp(o, "--fwd")) {
			if (xlb_fwd_parse(val, &v->fwd))
				return -EINVAL;
		} else if (!strcmp(o, "--src-prefix")) {
			if (parse_prefixes(val, &v->v4_prefix, &v->v6_prefix))
				return -EINVAL;
		} else {
			return xlb_errf(-EINVAL, "unknown option '%s'", o);
		}
	}
	if (xlb_table_size_check((enum xlb_algo)v->algo, v->table_size))
		return xlb_errf(-EINVAL, "table size %u is not usable by %s%s",
				v->table_size, xlb_algo_name((enum xlb_algo)v->algo),
				v->algo == XLB_ALGO_MAGLEV ? " (needs a prime)" : "");
	return 0;
}

static int vip_add(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model old, md;
	struct xlb_vip_key k;
	struct xlb_vip_ent *v, scratch;
	struct xlb_addr a;
	struct xlb_maps m;
	int err;

	if (argc < 1)
		return xlb_usage(c, "usage: xlb vip add VIP [--algo A] [--table-size N] [--fwd ipip|l2dsr] [--src-prefix V4LEN,V6LEN]");
	if (xlb_vip_parse(argv[0], &k))
		return xlb_usage(c, "%s", xlb_errmsg());
	xlb_addr_from_vip(&k, &a);
	if (xlb_addr_check_unicast(&a, "VIP"))
		return xlb_usage(c, "%s", xlb_errmsg());
	/* Options are checked before anything is opened. */
	memset(&scratch, 0, sizeof(scratch));
	scratch.table_size = XLB_TABLE_SIZE_DEFAULT;
	scratch.v4_prefix = 32;
	scratch.v6_prefix = 128;
	if (xlb_vip_opts(&scratch, argc, argv, 1))
		return xlb_usage(c, "%s", xlb_errmsg());
	err = xlb_begin(c, &m, &old, &md);
	if (err)
		return xlb_fail_rc(c, err);
	if (xlb_model_vip_add(&md, &k, &v))
		return abort_with(c, &m, &old, &md, XLB_EXIT_FAIL);
	xlb_vip_opts(v, argc, argv, 1);
	return finish(c, &m, &old, &md);
}

static int vip_del(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model old, md;
	struct xlb_vip_key k;
	struct xlb_maps m;
	int err;

	if (argc != 1)
		return xlb_usage(c, "usage: xlb vip del VIP");
	if (xlb_vip_parse(argv[0], &k))
		return xlb_usage(c, "%s", xlb_errmsg());
	err = xlb_begin(c, &m, &old, &md);
	if (err)
		return xlb_fail_rc(c, err);
	if (xlb_model_vip_del(&md, &k))
		return abort_with(c, &m, &old, &md, XLB_EXIT_FAIL);
	return finish(c, &m, &old, &md);
}

static struct json_object *be_json(const struct xlb_maps *m,
				   const struct xlb_be_ent *b, __u32 flows)
{
	struct json_object *o = json_object_new_object();
	char ab[XLB_ADDR_STRLEN];
	__u64 cnt[3] = { 0 };

	xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
	xlb_percpu_sum(m->be_stats, b->id, cnt, 3);
	json_object_object_add(o, "addr", json_object_new_string(ab));
	json_object_object_add(o, "id", json_object_new_int64(b->id));
	json_object_object_add(o, "weight", json_object_new_int64(b->weight));
	json_object_object_add(o, "state",
			       json_object_new_string(xlb_state_name(b->state)));
	json_object_object_add(o, "ramp", json_object_new_int64(b->ramp));
	json_object_object_add(o, "flows", json_object_new_int64(flows));
	json_object_object_add(o, "packets", json_object_new_uint64(cnt[0]));
	json_object_object_add(o, "bytes", json_object_new_uint64(cnt[1]));
	json_object_object_add(o, "new_flows", json_object_new_uint64(cnt[2]));
	if (b->drain_deadline_ns)
		json_object_object_add(o, "drain_deadline_ns",
				       json_object_new_uint64(b->drain_deadline_ns));
	return o;
}

/*
 * Compares the digest --expect gave with the VIP's (VIP given) or the
 * node's table digest: a rollout waits for every node to print the same.
 */
static int expect_check(const char *what, __u64 have, __u64 want)
{
	char hb[XLB_DIGEST_STRLEN], wb[XLB_DIGEST_STRLEN];

	if (have == want)
		return 0;
	xlb_digest_fmt(have, hb);
	xlb_digest_fmt(want, wb);
	return xlb_errf(-EBADMSG, "digest mismatch: %s has %s, expected %s", what,
			hb, wb);
}

static void digest_json(struct json_object *o, const struct xlb_vip_digest *d)
{
	char tb[XLB_DIGEST_STRLEN], cb[XLB_DIGEST_STRLEN];

	xlb_digest_fmt(d->table, tb);
	xlb_digest_fmt(d->config, cb);
	json_object_object_add(o, "digest", json_object_new_string(tb));
	json_object_object_add(o, "config_digest", json_object_new_string(cb));
}

static int vip_show(struct xlb_ctx *c, int argc, char **argv)
{
	static const char use[] = "usage: xlb vip show [VIP] [--expect DIGEST]";
	struct json_object *arr = NULL;
	struct xlb_vip_digest nd;
	const char *vip = NULL;
	struct xlb_vip_key k;
	struct xlb_model md;
	struct xlb_maps m;
	__u32 *flows = NULL;
	bool expect = false;
	__u64 want = 0;
	size_t i, j;
	int err, a, mismatch = 0;

	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--expect")) {
			if (a + 1 >= argc)
				return xlb_usage(c, "%s", use);
			if (xlb_digest_parse(argv[++a], &want))
				return xlb_usage(c, "%s", xlb_errmsg());
			expect = true;
		} else if (!vip && argv[a][0] != '-') {
			vip = argv[a];
		} else {
			return xlb_usage(c, "%s", use);
		}
	}
	if (vip && xlb_vip_parse(vip, &k))
		return xlb_usage(c, "%s", xlb_errmsg());
	err = xlb_maps_open_ro(c->pin_dir, &m);
	if (!err)
		err = xlb_model_read(&m, &md);
	if (err) {
		xlb_maps_close(&m);
		return xlb_fail_rc(c, err);
	}
	if (vip && !xlb_model_vip(&md, &k)) {
		err = xlb_errf(-ENOENT, "no VIP %s", vip);
		goto out;
	}
	flows = calloc(XLB_MAX_BACKENDS, sizeof(*flows));
	if (!flows) {
		err = -ENOMEM;
		goto out;
	}
	xlb_flows_count(&m, flows);
	if (c->json)
		arr = json_object_new_array();
	else
		printf("%-28s %-10s %8s %-6s %-10s %-16s %s\n  %-26s %6s %-6s %5s %8s %12s %12s\n",
		       "VIP", "ALGO", "SLOTS", "FWD", "SRC-PREFIX", "DIGEST",
		       "CONFIG-DIGEST", "-> BACKEND", "WEIGHT", "STATE", "RAMP",
		       "FLOWS", "PACKETS", "BYTES");
	for (i = 0; i < md.n_vips; i++) {
		const struct xlb_vip_ent *v = &md.vips[i];
		char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN], pb[16];
		char tb[XLB_DIGEST_STRLEN], cb[XLB_DIGEST_STRLEN];
		struct xlb_vip_digest d;

		if (vip && memcmp(&v->key, &k, sizeof(k)))
			continue;
		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		err = xlb_vip_digest(&m, &md, v, &d);
		if (err)
			goto out;
		if (vip && expect)
			mismatch = expect_check(vb, d.table, want);
		if (c->json) {
			struct json_object *o = json_object_new_object();
			struct json_object *bes = json_object_new_array();
			struct json_object *pfx = json_object_new_array();

			json_object_object_add(o, "vip", json_object_new_string(vb));
			json_object_object_add(o, "id", json_object_new_int64(v->id));
			json_object_object_add(o, "algo",
					       json_object_new_string(xlb_algo_name((enum xlb_algo)v->algo)));
			json_object_object_add(o, "table_size",
					       json_object_new_int64(v->table_size));
			json_object_object_add(o, "fwd",
					       json_object_new_string(xlb_fwd_name(v->fwd)));
			json_object_array_add(pfx, json_object_new_int(v->v4_prefix));
			json_object_array_add(pfx, json_object_new_int(v->v6_prefix));
			json_object_object_add(o, "src_prefix", pfx);
			json_object_object_add(o, "generation",
					       json_object_new_int64(v->generation));
			digest_json(o, &d);
			for (j = 0; j < v->n_be; j++)
				json_object_array_add(bes, be_json(&m, &v->be[j],
								   flows[v->be[j].id]));
			json_object_object_add(o, "backends", bes);
			json_object_array_add(arr, o);
			continue;
		}
		xlb_digest_fmt(d.table, tb);
		xlb_digest_fmt(d.config, cb);
		snprintf(pb, sizeof(pb), "/%u,/%u", v->v4_prefix, v->v6_prefix);
		printf("%-28s %-10s %8u %-6s %-10s %-16s %s\n", vb,
		       xlb_algo_name((enum xlb_algo)v->algo), v->table_size,
		       xlb_fwd_name(v->fwd), pb, tb, cb);
		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *b = &v->be[j];
			__u64 cnt[3] = { 0 };

			xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
			xlb_percpu_sum(m.be_stats, b->id, cnt, 3);
			printf("  -> %-23s %6u %-6s %4u%% %8u %12llu %12llu\n", ab,
			       b->weight, xlb_state_name(b->state), b->ramp / 10,
			       flows[b->id], (unsigned long long)cnt[0],
			       (unsigned long long)cnt[1]);
		}
	}
	if (!vip) {
		/* The node's digest: one value a rollout can compare. */
		err = xlb_node_digest(&m, &md, &nd);
		if (err)
			goto out;
		if (expect)
			mismatch = expect_check("this node", nd.table, want);
		if (!c->json) {
			char tb[XLB_DIGEST_STRLEN], cb[XLB_DIGEST_STRLEN];

			xlb_digest_fmt(nd.table, tb);
			xlb_digest_fmt(nd.config, cb);
			printf("node digest %s config-digest %s (%zu VIP%s)\n", tb, cb,
			       md.n_vips, md.n_vips == 1 ? "" : "s");
		}
	}
	if (c->json)
		xlb_json_print(c, arr);
	if (mismatch) {
		/* The data went out whole; the verdict goes to stderr, so
		 * that stdout stays one JSON document. */
		fprintf(stderr, "xlb: %s\n", xlb_errmsg());
		err = 0;
	}
out:
	free(flows);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	if (err)
		return xlb_fail_rc(c, err);
	return mismatch ? XLB_EXIT_FAIL : XLB_EXIT_OK;
}

int cmd_vip(struct xlb_ctx *c, int argc, char **argv)
{
	static const struct xlb_cmd cmds[] = {
		{ "add", vip_add },
		{ "del", vip_del },
		{ "show", vip_show },
		{ "check", cmd_vip_check },
		{ NULL, NULL },
	};

	return xlb_dispatch(c, cmds, argc, argv, "vip");
}

struct be_opts {
	bool has_weight, has_state, has_drain;
	__u32 weight, state, drain_s;
};

static int parse_be_opts(int argc, char **argv, struct be_opts *o, bool set)
{
	struct xlb_seen seen = { 0 };
	int i;

	memset(o, 0, sizeof(*o));
	o->drain_s = DRAIN_TIMEOUT_S;
	for (i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = xlb_opt_value(argc, argv, &i);

		if (!val)
			return xlb_errf(-EINVAL, "%s needs a value", opt);
		if ((!strcmp(opt, "--weight") ||
		     (set && (!strcmp(opt, "--state") ||
			      !strcmp(opt, "--drain-timeout")))) &&
		    xlb_opt_once(&seen, opt))
			return -EINVAL;
		if (!strcmp(opt, "--weight")) {
			if (xlb_parse_u32(val, 0, XLB_WEIGHT_MAX, &o->weight))
				return xlb_errf(-ERANGE,
						"invalid --weight '%s' (want 0-%d)",
						val, XLB_WEIGHT_MAX);
			o->has_weight = true;
		} else if (set && !strcmp(opt, "--state")) {
			if (xlb_state_parse(val, &o->state))
				return -EINVAL;
			o->has_state = true;
		} else if (set && !strcmp(opt, "--drain-timeout")) {
			if (xlb_parse_u32(val, 0, 86400 * 365, &o->drain_s))
				return xlb_errf(-ERANGE,
						"invalid --drain-timeout '%s' (want "
						"seconds, 0-%d)",
						val, 86400 * 365);
			o->has_drain = true;
		} else {
			return xlb_errf(-EINVAL, "unknown option '%s'", opt);
		}
	}
	return 0;
}

/* A new backend's address: one packets can be tunnelled to. */
static int be_addr_check(const struct xlb_vip_key *k, const struct xlb_addr *a)
{
	char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN];
	struct xlb_addr va;

	if (xlb_addr_check_unicast(a, "backend"))
		return -EINVAL;
	/* Sent to its own VIP, a packet would come back to the balancer. */
	xlb_addr_from_vip(k, &va);
	if (!xlb_addr_cmp(a, &va)) {
		xlb_vip_fmt(k, vb, sizeof(vb));
		xlb_addr_fmt(a->family, a->a, ab, sizeof(ab));
		return xlb_errf(-EINVAL, "backend %s is the address of its VIP %s",
				ab, vb);
	}
	return 0;
}

/*
 * Parses VIP ADDR [opts]; opens and reads state. Only an added backend's
 * address is checked: one already live can still be set or deleted.
 */
static int be_begin(struct xlb_ctx *c, int argc, char **argv, bool set,
		    bool add, struct be_opts *o, struct xlb_maps *m,
		    struct xlb_model *old, struct xlb_model *md,
		    struct xlb_vip_ent **v, struct xlb_addr *a)
{
	struct xlb_vip_key k;
	char vb[XLB_VIP_STRLEN];
	int err;

	if (argc < 2)
		return xlb_usage(c, "usage: xlb backend %s VIP ADDR [--weight W]%s",
				 set ? "set" : "add/del",
				 set ? " [--state up|down|drain] [--drain-timeout S]" : "");
	if (xlb_vip_parse(argv[0], &k) || xlb_addr_parse(argv[1], a) ||
	    (add && be_addr_check(&k, a)) || parse_be_opts(argc, argv, o, set))
		return xlb_usage(c, "%s", xlb_errmsg());
	err = xlb_begin(c, m, old, md);
	if (err)
		return xlb_fail_rc(c, err);
	*v = xlb_model_vip(md, &k);
	if (!*v) {
		xlb_vip_fmt(&k, vb, sizeof(vb));
		xlb_errf(-ENOENT, "no VIP %s", vb);
		return abort_with(c, m, old, md, XLB_EXIT_FAIL);
	}
	return 0;
}

static int backend_add(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model old, md;
	struct xlb_vip_ent *v;
	struct xlb_be_ent *b;
	struct xlb_addr a;
	struct be_opts o;
	struct xlb_maps m;
	int rc;

	rc = be_begin(c, argc, argv, false, true, &o, &m, &old, &md, &v, &a);
	if (rc)
		return rc;
	if (xlb_model_be_add(v, &a, o.has_weight ? o.weight : 1, &b))
		return abort_with(c, &m, &old, &md, XLB_EXIT_FAIL);
	/* As one new in the daemon's file: it waits for its checks. */
	xlb_await_checks(c, &old, &md);
	return finish(c, &m, &old, &md);
}

static int backend_set(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model old, md;
	struct xlb_vip_ent *v;
	struct xlb_be_ent *b;
	struct xlb_addr a;
	struct be_opts o;
	struct xlb_maps m;
	int rc;

	rc = be_begin(c, argc, argv, true, false, &o, &m, &old, &md, &v, &a);
	if (rc)
		return rc;
	b = xlb_model_be(v, &a);
	if (!b) {
		xlb_errf(-ENOENT, "no backend %s in VIP %s", argv[1], argv[0]);
		return abort_with(c, &m, &old, &md, XLB_EXIT_FAIL);
	}
	if (o.has_weight)
		b->weight = o.weight;
	if (o.has_state && o.state != b->state) {
		b->state = o.state;
		b->since_ns = xlb_now_real_ns();
		b->drain_deadline_ns = 0;
		if (o.state == XLB_BE_DRAIN)
			b->drain_deadline_ns =
				b->since_ns + (__u64)o.drain_s * 1000000000ULL;
	} else if (o.has_drain && b->state == XLB_BE_DRAIN) {
		b->drain_deadline_ns = b->since_ns + (__u64)o.drain_s * 1000000000ULL;
	}
	return finish(c, &m, &old, &md);
}

static int backend_del(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model old, md;
	struct xlb_vip_ent *v;
	struct xlb_addr a;
	struct be_opts o;
	struct xlb_maps m;
	int rc;

	if (argc != 2)
		return xlb_usage(c, "usage: xlb backend del VIP ADDR");
	rc = be_begin(c, argc, argv, false, false, &o, &m, &old, &md, &v, &a);
	if (rc)
		return rc;
	if (xlb_model_be_del(v, &a))
		return abort_with(c, &m, &old, &md, XLB_EXIT_FAIL);
	return finish(c, &m, &old, &md);
}

int cmd_backend(struct xlb_ctx *c, int argc, char **argv)
{
	static const struct xlb_cmd cmds[] = {
		{ "add", backend_add },
		{ "set", backend_set },
		{ "del", backend_del },
		{ NULL, NULL },
	};

	return xlb_dispatch(c, cmds, argc, argv, "backend");
}
