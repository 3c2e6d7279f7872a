// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_simulate.c - `xlb simulate VIP CHANGE`: what a change would move and
 * the balance before and after, computed with the real table builders on
 * the live configuration or on a file, without touching anything; beside
 * them the same figures under stable (or under maglev for a stable VIP),
 * so the operator sees what the choice of algorithm costs for this change.
 * stable continues the live table when there is one, else starts from the
 * file's set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "conf.h"
#include "history.h"
#include "table.h"
#include "util.h"

/* Applies CHANGE (argv) to v; returns the changed backend's index or -errno. */
static int sim_change(struct xlb_vip_ent *v, int argc, char **argv,
		      struct xlb_addr *who)
{
	struct xlb_be_ent *b;
	__u32 w = 1, st;

	if (argc < 2)
		return xlb_errf(-EINVAL, "missing CHANGE (del ADDR | add ADDR [W] | weight ADDR W | state ADDR STATE)");
	if (xlb_addr_parse(argv[1], who))
		return -EINVAL;
	if (!strcmp(argv[0], "add")) {
		if (argc > 3 ||
		    (argc == 3 && xlb_parse_u32(argv[2], 0, XLB_WEIGHT_MAX, &w)))
			return xlb_errf(-EINVAL, "invalid weight");
		return xlb_model_be_add(v, who, w, NULL);
	}
	b = xlb_model_be(v, who);
	if (!b)
		return xlb_errf(-ENOENT, "no backend %s in the VIP", argv[1]);
	if (!strcmp(argv[0], "del") && argc == 2)
		return xlb_model_be_del(v, who);
	if (!strcmp(argv[0], "weight") && argc == 3) {
		if (xlb_parse_u32(argv[2], 0, XLB_WEIGHT_MAX, &w))
			return xlb_errf(-EINVAL, "weight '%s' out of range 0-%d",
					argv[2], XLB_WEIGHT_MAX);
		b->weight = w;
		return 0;
	}
	if (!strcmp(argv[0], "state") && argc == 3) {
		if (xlb_state_parse(argv[2], &st))
			return -EINVAL;
		b->state = st;
		return 0;
	}
	return xlb_errf(-EINVAL, "invalid CHANGE '%s'", argv[0]);
}

/* Share of the table's slots whose primary is backend id. */
static double share_of(const struct xlb_slot *t, __u32 size, __u32 id)
{
	__u32 i, n = 0;

	for (i = 0; i < size; i++)
		n += t[i].primary == id;
	return (double)n / size;
}

static double balance_of(const struct xlb_vip_ent *v, const struct xlb_slot *t)
{
	struct xlb_tb_backend *tb;
	double b;

	if (xlb_model_tb(v, &tb))
		return 0;
	b = xlb_table_balance(t, v->table_size, tb, v->n_be);
	free(tb);
	return b;
}

struct sim_fig {
	enum xlb_algo algo;
	bool ok; /* the size suits the algorithm */
	double moved, share, bal0, bal1;
};

/*
 * The figures of the change v -> sv under algorithm a (v, sv: simulation
 * ids; who: the changed backend). stable continues snap when given, its
 * base otherwise.
 */
static int sim_figures(const struct xlb_model *md, struct xlb_vip_ent *v,
		       const struct xlb_model *sim, struct xlb_vip_ent *sv,
		       const struct xlb_addr *who, enum xlb_algo a,
		       const struct xlb_tb_snapshot *snap, struct sim_fig *f)
{
	struct xlb_slot *before = NULL, *after = NULL, *ss = NULL;
	struct xlb_tb_backend *tb = NULL;
	struct xlb_tb_prev pv, pa;
	const struct xlb_be_ent *wb;
	__u8 va = v->algo, sva = sv->algo;
	int err;

	memset(f, 0, sizeof(*f));
	f->algo = a;
	if (xlb_table_size_check(a, v->table_size))
		return 0;
	f->ok = true;
	v->algo = sv->algo = (__u8)a;
	err = 0;
	if (a == XLB_ALGO_STABLE && snap)
		err = xlb_snapshot_prev(snap, &pv, &ss);
	if (!err)
		err = xlb_model_table_prev(md, v,
					   a == XLB_ALGO_STABLE && snap ? &pv : NULL,
					   &before);
	if (!err && a == XLB_ALGO_STABLE) {
		err = xlb_model_tb(v, &tb);
		pa.be = tb;
		pa.n = v->n_be;
		pa.slots = before;
		if (!err)
			err = xlb_model_table_prev(sim, sv, &pa, &after);
	} else if (!err) {
		err = xlb_model_table(sim, sv, &after);
	}
	v->algo = va;
	sv->algo = sva;
	if (!err) {
		f->moved = xlb_table_moved(before, after, v->table_size);
		wb = xlb_model_be(v, who);
		f->share = wb ? share_of(before, v->table_size, wb->id) :
				share_of(after, v->table_size,
					 (__u32)(v->n_be + 1));
		/* A weight change: what the backend gains or gives. */
		if (wb && xlb_model_be(sv, who)) {
			double now = share_of(after, v->table_size, wb->id);

			if (xlb_model_be(sv, who)->weight != wb->weight)
				f->share = now > f->share ? now - f->share :
							    f->share - now;
		}
		f->bal0 = balance_of(v, before);
		f->bal1 = balance_of(sv, after);
	}
	free(tb);
	free(ss);
	free(before);
	free(after);
	return err;
}

static struct json_object *fig_json(const struct sim_fig *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "algo", json_object_new_string(xlb_algo_name(f->algo)));
	if (!f->ok) {
		json_object_object_add(o, "error", json_object_new_string(
			"table size not usable by this algorithm"));
		return o;
	}
	json_object_object_add(o, "moved", json_object_new_double(f->moved));
	json_object_object_add(o, "changed_share", json_object_new_double(f->share));
	json_object_object_add(o, "disruption",
			       f->share > 0 ? json_object_new_double(f->moved / f->share) : NULL);
	json_object_object_add(o, "balance_before", json_object_new_double(f->bal0));
	json_object_object_add(o, "balance_after", json_object_new_double(f->bal1));
	return o;
}

int cmd_simulate(struct xlb_ctx *c, int argc, char **argv)
{
	const char *file = NULL, *algo = NULL;
	struct xlb_slot *before = NULL, *after = NULL;
	struct xlb_model md = { 0 }, sim = { 0 };
	struct xlb_conf conf;
	struct xlb_vip_ent *v, *sv;
	struct xlb_vip_key k;
	struct xlb_addr who;
	struct xlb_maps m;
	struct xlb_tb_snapshot snap = { 0 };
	bool has_snap = false;
	struct sim_fig fig[2];
	double moved, share, bal0, bal1;
	struct xlb_seen seen = { 0 };
	char **chg;
	int nchg = 0, i, rc, err;
	size_t j;
	enum xlb_algo a;

	chg = calloc((size_t)argc + 1, sizeof(*chg));
	if (!chg)
		return xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--algo")) {
			const char *o = argv[i], *val = xlb_opt_value(argc, argv, &i);

			if (xlb_opt_once(&seen, o)) {
				free(chg);
				return xlb_usage(c, "simulate: %s", xlb_errmsg());
			}
			if (!val) {
				free(chg);
				return xlb_usage(c, "%s needs a value", o);
			}
			if (!strcmp(o, "-f"))
				file = val;
			else
				algo = val;
		} else {
			chg[nchg++] = argv[i];
		}
	}
	if (argc < 1 || nchg < 2) {
		free(chg);
		return xlb_usage(c, "usage: xlb simulate VIP CHANGE [-f FILE] [--algo ALGO]");
	}
	if (xlb_vip_parse(argv[0], &k) || (algo && xlb_algo_parse(algo, &a))) {
		free(chg);
		return xlb_usage(c, "%s", algo && !*xlb_errmsg() ?
					      "invalid algorithm" : xlb_errmsg());
	}
	if (file) {
		err = xlb_conf_load(file, &conf);
		if (err) {
			free(chg);
			return xlb_fail_rc(c, err);
		}
		err = xlb_model_copy(&conf.model, &md);
		xlb_conf_free(&conf);
	} else {
		err = xlb_maps_open_ro(c->pin_dir, &m);
		if (!err) {
			err = xlb_model_read(&m, &md);
			/* A stable VIP: its live table is where it continues. */
			v = err ? NULL : xlb_model_vip(&md, &k);
			if (v && v->algo == XLB_ALGO_STABLE &&
			    !xlb_history_snapshot(&m, &md, v, &snap))
				has_snap = true;
			xlb_maps_close(&m);
		}
	}
	if (err) {
		free(chg);
		return xlb_fail_rc(c, err);
	}
	v = xlb_model_vip(&md, &k);
	if (!v) {
		rc = xlb_fail(c, XLB_EXIT_FAIL, "no VIP %s", argv[0]);
		goto out;
	}
	if (algo)
		v->algo = (__u8)a;
	/* Simulation ids: positions, stable across the change for survivors. */
	for (j = 0; j < v->n_be; j++)
		v->be[j].id = (__u32)j;
	if (xlb_model_copy(&md, &sim)) {
		rc = xlb_fail(c, XLB_EXIT_FAIL, "out of memory");
		goto out;
	}
	sv = xlb_model_vip(&sim, &k);
	err = sim_change(sv, nchg, chg, &who);
	if (err) {
		rc = xlb_usage(c, "%s", xlb_errmsg());
		goto out;
	}
	for (j = 0; j < sv->n_be; j++)
		if (sv->be[j].id == XLB_ID_NONE)
			sv->be[j].id = (__u32)(v->n_be + 1);
	/* The VIP's algorithm, then the other one of maglev and stable. */
	err = sim_figures(&md, v, &sim, sv, &who, (enum xlb_algo)v->algo,
			  has_snap ? &snap : NULL, &fig[0]);
	if (!err)
		err = sim_figures(&md, v, &sim, sv, &who,
				  v->algo == XLB_ALGO_STABLE ? XLB_ALGO_MAGLEV :
							       XLB_ALGO_STABLE,
				  has_snap ? &snap : NULL, &fig[1]);
	if (err) {
		rc = xlb_fail_rc(c, err);
		goto out;
	}
	moved = fig[0].moved;
	share = fig[0].share;
	bal0 = fig[0].bal0;
	bal1 = fig[0].bal1;
	if (c->json) {
		struct json_object *o = json_object_new_object();
		char cs[128] = "";

		for (i = 0; i < nchg; i++)
			snprintf(cs + strlen(cs), sizeof(cs) - strlen(cs), "%s%s",
				 i ? " " : "", chg[i]);
		json_object_object_add(o, "vip", json_object_new_string(argv[0]));
		json_object_object_add(o, "change", json_object_new_string(cs));
		json_object_object_add(o, "algo", json_object_new_string(
							 xlb_algo_name((enum xlb_algo)v->algo)));
		json_object_object_add(o, "size", json_object_new_int64(v->table_size));
		json_object_object_add(o, "moved", json_object_new_double(moved));
		json_object_object_add(o, "changed_share", json_object_new_double(share));
		json_object_object_add(o, "disruption",
				       share > 0 ? json_object_new_double(moved / share) : NULL);
		json_object_object_add(o, "balance_before", json_object_new_double(bal0));
		json_object_object_add(o, "balance_after", json_object_new_double(bal1));
		json_object_object_add(o, "compare", fig_json(&fig[1]));
		xlb_json_print(c, o);
	} else {
		printf("%s, %s, %u slots: %s %s%s%s\n", argv[0],
		       xlb_algo_name((enum xlb_algo)v->algo), v->table_size, chg[0],
		       chg[1], nchg > 2 ? " " : "", nchg > 2 ? chg[2] : "");
		printf("  keys moved        %6.2f%%  (%.0f of %u slots)\n",
		       100 * moved, moved * v->table_size, v->table_size);
		printf("  backend's share   %6.2f%%\n", 100 * share);
		if (share > 0)
			printf("  disruption        %6.2fx  (moved / backend's share; 1.00x is minimal)\n",
			       moved / share);
		printf("  balance before    %7.3f  (largest share / fair share)\n", bal0);
		printf("  balance after     %7.3f\n", bal1);
		if (!fig[1].ok) {
			printf("  (%s: table size %u not usable)\n",
			       xlb_algo_name(fig[1].algo), v->table_size);
		} else {
			printf("  under %-10s  moved %.2f%%", xlb_algo_name(fig[1].algo),
			       100 * fig[1].moved);
			if (fig[1].share > 0)
				printf(", disruption %.2fx", fig[1].moved / fig[1].share);
			printf(", balance %.3f -> %.3f\n", fig[1].bal0, fig[1].bal1);
		}
	}
	rc = XLB_EXIT_OK;
out:
	free(before);
	free(after);
	free(chg);
	xlb_snapshot_free(&snap);
	xlb_model_free(&sim);
	xlb_model_free(&md);
	return rc;
}
