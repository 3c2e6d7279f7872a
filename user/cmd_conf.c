// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_conf.c - `xlb save` prints the live configuration as a file that
 * `xlb restore FILE` / `xlb apply -f FILE` turn back into the same state.
 * A file that fails validation changes nothing: it is parsed, merged and
 * validated, and every table built, before the first map write.
 */
#include <errno.h>
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

static int apply_file(struct xlb_ctx *c, const char *path)
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
	err = xlb_conf_merge(&conf, &old, &want);
	if (!err) {
		err = xlb_model_commit(&m, &old, &want);
		xlb_model_free(&want);
	}
	xlb_conf_free(&conf);
	xlb_model_free(&old);
	xlb_model_free(&md);
	xlb_maps_close(&m);
	return err ? xlb_fail_rc(c, err) : XLB_EXIT_OK;
}

int cmd_restore(struct xlb_ctx *c, int argc, char **argv)
{
	if (argc != 1)
		return xlb_usage(c, "usage: xlb restore FILE");
	return apply_file(c, argv[0]);
}

int cmd_apply(struct xlb_ctx *c, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[0], "-f"))
		return xlb_usage(c, "usage: xlb apply -f FILE");
	return apply_file(c, argv[1]);
}
