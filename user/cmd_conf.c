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
 *
 * A stable VIP's table depends on its history, which the configuration
 * alone does not say: `save --snapshot-dir DIR` writes each stable VIP's
 * live table's snapshot to DIR/DIGEST.xlbt (named by content, so a later
 * save never overwrites what an older file refers to) and names it in
 * the file; restore and apply continue from it where the node has no
 * table of its own (history.h).
 *
 * Health checks, slow start, drain timeouts and the daemon's own settings
 * (interface, mode, metrics) live in the daemon's file, not in the maps:
 * `save --config FILE` takes them from FILE, so that what it prints,
 * given to the daemon, checks every backend as FILE did (VIPs and
 * backends added with the CLI get the defaults the daemon gives them).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include "cli.h"
#include "conf.h"
#include "history.h"
#include "util.h"

/* Writes snapshot s as DIR/DIGEST.xlbt (whole or not at all); *path: malloc'd. */
static int snap_write(const char *dir, const struct xlb_tb_snapshot *s,
		      char **path)
{
	char tmp[PATH_MAX + 64], fin[PATH_MAX + 32];
	size_t len;
	void *buf;
	FILE *f;
	int err;

	err = xlb_snapshot_encode(s, &buf, &len);
	if (err)
		return err;
	snprintf(fin, sizeof(fin), "%s/%016llx.xlbt", dir,
		 (unsigned long long)xlb_snapshot_digest(s));
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", fin, (int)getpid());
	f = fopen(tmp, "wb");
	if (!f) {
		free(buf);
		return xlb_errf(-errno, "can't write %s: %s", tmp, strerror(errno));
	}
	err = fwrite(buf, 1, len, f) == len ? 0 : -EIO;
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -EIO;
	free(buf);
	if (!err && rename(tmp, fin))
		err = -errno;
	if (err) {
		unlink(tmp);
		return xlb_errf(err, "can't write %s: %s", fin, strerror(-err));
	}
	*path = strdup(fin);
	return *path ? 0 : -ENOMEM;
}

int cmd_save(struct xlb_ctx *c, int argc, char **argv)
{
	char dir[PATH_MAX], **paths = NULL, vb[XLB_VIP_STRLEN];
	__u64 *digests = NULL;
	const char *sdir = NULL, *cpath = NULL;
	struct xlb_conf conf = { 0 };
	bool has_conf = false;
	struct xlb_model md;
	struct xlb_maps m;
	size_t i;
	int err;

	for (i = 0; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--snapshot-dir") && i + 1 < (size_t)argc && !sdir)
			sdir = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < (size_t)argc && !cpath)
			cpath = argv[++i];
		else
			return xlb_usage(c, "usage: xlb save [--snapshot-dir DIR] [--config FILE]");
	}
	if (sdir && !realpath(sdir, dir))
		return xlb_fail(c, XLB_EXIT_FAIL, "can't use %s: %s", sdir,
				strerror(errno));
	/* A file the daemon would refuse gives nothing to copy. */
	if (cpath) {
		err = xlb_conf_load(cpath, &conf);
		if (err)
			return xlb_fail_rc(c, err);
		has_conf = true;
	}
	err = xlb_maps_open(c->pin_dir, &m);
	if (!err) {
		err = xlb_model_read(&m, &md);
		if (err)
			xlb_maps_close(&m);
	}
	if (err) {
		if (has_conf)
			xlb_conf_free(&conf);
		return xlb_fail_rc(c, err);
	}
	paths = calloc(md.n_vips + 1, sizeof(*paths));
	digests = calloc(md.n_vips + 1, sizeof(*digests));
	if (!paths || !digests)
		err = -ENOMEM;
	for (i = 0; i < md.n_vips && !err; i++) {
		struct xlb_vip_ent *v = &md.vips[i];
		struct xlb_tb_snapshot s;

		if (v->algo != XLB_ALGO_STABLE)
			continue;
		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		if (!sdir) {
			fprintf(stderr,
				"xlb: %s: stable table saved without its snapshot (--snapshot-dir DIR): a restore elsewhere starts a new history and does not reproduce this table\n",
				vb);
			continue;
		}
		err = xlb_history_snapshot(&m, &md, v, &s);
		if (err) {
			err = xlb_errf(err, "%s: can't take the table's snapshot: %s",
				       vb, strerror(-err));
			break;
		}
		digests[i] = xlb_snapshot_digest(&s);
		err = snap_write(dir, &s, &paths[i]);
		xlb_snapshot_free(&s);
	}
	xlb_maps_close(&m);
	if (!err)
		err = xlb_conf_write_snap(stdout, &md, has_conf ? &conf : NULL,
					  paths, digests);
	if (!err && fflush(stdout))
		err = xlb_errf(-errno, "can't write: %s", strerror(errno));
	for (i = 0; paths && i < md.n_vips; i++)
		free(paths[i]);
	free(paths);
	free(digests);
	xlb_model_free(&md);
	if (has_conf)
		xlb_conf_free(&conf);
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
	if (!err)
		xlb_await_checks(c, &old, &want);
	if (!err) {
		size_t i;

		/* stable VIPs' snapshots: where a table without one continues. */
		for (i = 0; i < conf.model.n_vips && !err; i++)
			if (conf.vips[i].snap)
				err = xlb_history_offer(&conf.vips[i].key,
							conf.vips[i].snap);
		if (!err)
			err = xlb_history_check(&m, &old, &want,
						flags & XLB_MERGE_ADOPT_HISTORY);
		if (!err)
			err = xlb_model_commit(&m, &old, &want);
		xlb_history_forget();
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
		} else if (!strcmp(argv[i], "--adopt-history")) {
			*flags |= XLB_MERGE_ADOPT_HISTORY;
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
		return xlb_usage(c, "usage: xlb restore [--reseed] [--new-src] [--adopt-history] FILE");
	return apply_file(c, path, flags);
}

int cmd_apply(struct xlb_ctx *c, int argc, char **argv)
{
	unsigned int flags;
	const char *path;

	if (apply_args(argc, argv, true, &path, &flags))
		return xlb_usage(c, "usage: xlb apply [--reseed] [--new-src] [--adopt-history] -f FILE");
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
