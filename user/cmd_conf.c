// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_conf.c - `xlb save` prints the live configuration as a file that
 * `xlb restore FILE` / `xlb apply -f FILE` turn back into the same state.
 * A file that fails validation changes nothing: it is parsed, merged and
 * validated, and every table built, before the first map write.
 *
 * The seed and the outer sources, made when attaching, are not changed
 * under traffic unless asked for (--reseed, --new-src: see
 * xlb_conf_merge), and what that breaks is said on stderr.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "conf.h"
#include "util.h"

int cmd_save(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model md;
	struct xlb_maps m;
	int err;

	if (argc)
		return xlb_usage(c, "usage: xlb save");
	err = xlb_maps_open(c->pin_dir, &m);
	if (!err) {
		err = xlb_model_read(&m, &md);
		xlb_maps_close(&m);
	}
	if (err)
		return xlb_fail_rc(c, err);
	err = xlb_conf_write(stdout, &md, NULL);
	xlb_model_free(&md);
	if (!err && fflush(stdout))
		err = xlb_errf(-errno, "can't write: %s", strerror(errno));
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

/* Says on stderr what a change that --reseed or --new-src let through breaks. */
static void say_fixed_changes(const struct xlb_model *old,
			      const struct xlb_model *md)
{
	char a[XLB_ADDR_STRLEN], b[XLB_ADDR_STRLEN];

	/* A balancer without VIPs had nothing to break. */
	if (!old->n_vips)
		return;
	if (memcmp(old->cfg.seed, md->cfg.seed, sizeof(md->cfg.seed))) {
		xlb_seed_fpr(old->cfg.seed, a);
		xlb_seed_fpr(md->cfg.seed, b);
		fprintf(stderr,
			"xlb: reseeded (fingerprint %s -> %s): every client has moved to another table slot and every established flow has lost its pinning; every node behind the same route needs the same seed\n",
			a, b);
	}
	if (old->cfg.src4 != md->cfg.src4) {
		xlb_addr_fmt(XLB_AF_INET, &old->cfg.src4, a, sizeof(a));
		xlb_addr_fmt(XLB_AF_INET, &md->cfg.src4, b, sizeof(b));
		fprintf(stderr,
			"xlb: src4 changed %s -> %s: backends that accept tunnelled packets only from %s drop them\n",
			a, b, a);
	}
	if (memcmp(old->cfg.src6, md->cfg.src6, sizeof(md->cfg.src6))) {
		xlb_addr_fmt(XLB_AF_INET6, old->cfg.src6, a, sizeof(a));
		xlb_addr_fmt(XLB_AF_INET6, md->cfg.src6, b, sizeof(b));
		fprintf(stderr,
			"xlb: src6 changed %s -> %s: backends that accept tunnelled packets only from %s drop them\n",
			a, b, a);
	}
}

static int apply_file(struct xlb_ctx *c, const char *path, unsigned int flags)
{
	struct xlb_model old, md, want;
	struct xlb_conf conf;
	struct xlb_maps m;
	int err;

	err = xlb_conf_load(path, &conf);
	if (err)
		return xlb_fail_rc(c, err);
	err = xlb_begin(c, &m, &old, &md);
	if (err) {
		xlb_conf_free(&conf);
		return xlb_fail_rc(c, err);
	}
	err = xlb_conf_merge(&conf, &old, flags, &want);
	if (!err) {
		err = xlb_model_commit(&m, &old, &want);
		if (!err)
			say_fixed_changes(&old, &want);
		xlb_model_free(&want);
	}
	xlb_conf_free(&conf);
	xlb_model_free(&old);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

/*
 * [--reseed] [--new-src] and, for apply, -f FILE, in any order; the file
 * is *path. -EINVAL on anything else.
 */
static int apply_args(int argc, char **argv, bool f_opt, const char **path,
		      unsigned int *flags)
{
	int i;

	*path = NULL;
	*flags = 0;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--reseed")) {
			*flags |= XLB_MERGE_RESEED;
		} else if (!strcmp(argv[i], "--new-src")) {
			*flags |= XLB_MERGE_NEW_SRC;
		} else if (f_opt && !strcmp(argv[i], "-f") && i + 1 < argc &&
			   !*path) {
			*path = argv[++i];
		} else if (!f_opt && argv[i][0] != '-' && !*path) {
			*path = argv[i];
		} else {
			return -EINVAL;
		}
	}
	return *path ? 0 : -EINVAL;
}

int cmd_restore(struct xlb_ctx *c, int argc, char **argv)
{
	unsigned int flags;
	const char *path;

	if (apply_args(argc, argv, false, &path, &flags))
		return xlb_usage(c, "usage: xlb restore [--reseed] [--new-src] FILE");
	return apply_file(c, path, flags);
}

int cmd_apply(struct xlb_ctx *c, int argc, char **argv)
{
	unsigned int flags;
	const char *path;

	if (apply_args(argc, argv, true, &path, &flags))
		return xlb_usage(c, "usage: xlb apply [--reseed] [--new-src] -f FILE");
	return apply_file(c, path, flags);
}

/*
 * `xlb check FILE`: what the daemon would say of FILE at a start or a
 * reload, without changing anything: the file alone, and against the
 * running balancer when there is one (the seed and the sources it would
 * refuse to change). For CI and for ExecReload's pre-check, so that
 * `systemctl reload` fails on a file the daemon would refuse.
 */
int cmd_check(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_model live, md;
	struct xlb_conf conf;
	struct xlb_maps m;
	bool against = false;
	size_t i, nbe = 0;
	int err;

	if (argc != 1 || argv[0][0] == '-')
		return xlb_usage(c, "usage: xlb check FILE");
	err = xlb_conf_load(argv[0], &conf);
	if (err)
		return xlb_fail_rc(c, err);
	/* No maps here: the file alone is all there is to check. */
	if (!xlb_maps_open(c->pin_dir, &m)) {
		err = xlb_model_read(&m, &live);
		xlb_maps_close(&m);
		if (!err) {
			err = xlb_conf_merge(&conf, &live, 0, &md);
			if (!err)
				xlb_model_free(&md);
			xlb_model_free(&live);
			against = true;
		}
	}
	for (i = 0; i < conf.model.n_vips; i++)
		nbe += conf.model.vips[i].n_be;
	if (!err && c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(argv[0]));
		json_object_object_add(o, "ok", json_object_new_boolean(true));
		json_object_object_add(o, "vips",
				       json_object_new_int64((int64_t)conf.model.n_vips));
		json_object_object_add(o, "backends", json_object_new_int64((int64_t)nbe));
		json_object_object_add(o, "checked_against_live",
				       json_object_new_boolean(against));
		xlb_json_print(c, o);
	} else if (!err) {
		printf("%s: ok (%zu VIPs, %zu backends%s)\n", argv[0],
		       conf.model.n_vips, nbe,
		       against ? "; fits the running balancer" : "");
	}
	xlb_conf_free(&conf);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}
