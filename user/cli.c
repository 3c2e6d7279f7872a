// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "util.h"

static void vreport(struct xlb_ctx *c, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c && c->quiet) {
		xlb_errf(-EIO, "%s", msg);
		return;
	}
	if (c && c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		xlb_json_print(c, o);
	} else {
		fprintf(stderr, "xlb: %s\n", msg);
	}
}

int xlb_fail(struct xlb_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, fmt, ap);
	va_end(ap);
	return code;
}

int xlb_fail_rc(struct xlb_ctx *c, int rc)
{
	const char *m = xlb_errmsg();

	if (*m)
		return xlb_fail(c, XLB_EXIT_FAIL, "%s", m);
	return xlb_fail(c, XLB_EXIT_FAIL, "%s", strerror(rc < 0 ? -rc : rc));
}

int xlb_usage(struct xlb_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, fmt, ap);
	va_end(ap);
	if (!c || (!c->json && !c->quiet))
		fprintf(stderr, "Try 'xlb help'.\n");
	return XLB_EXIT_USAGE;
}

void xlb_json_print(struct xlb_ctx *c, struct json_object *o)
{
	int flags = c->pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
				JSON_C_TO_STRING_PLAIN;

	printf("%s\n", json_object_to_json_string_ext(o, flags |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int xlb_dispatch(struct xlb_ctx *c, const struct xlb_cmd *cmds, int argc,
		 char **argv, const char *what)
{
	const struct xlb_cmd *cmd;

	if (argc < 1)
		return xlb_usage(c, "%s: missing subcommand", what);
	for (cmd = cmds; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[0]))
			return cmd->fn(c, argc - 1, argv + 1);
	if (!what)
		return xlb_usage(c, "unknown command '%s'", argv[0]);
	return xlb_usage(c, "%s: unknown subcommand '%s'", what, argv[0]);
}

int xlb_begin(struct xlb_ctx *c, struct xlb_maps *m, struct xlb_model *old,
	      struct xlb_model *md)
{
	int err;

	err = xlb_maps_open(c->pin_dir, m);
	if (!err)
		err = xlb_maps_lock(m);
	if (!err)
		err = xlb_model_read(m, old);
	if (!err) {
		err = xlb_model_copy(old, md);
		if (err)
			xlb_model_free(old);
	}
	if (err)
		xlb_maps_close(m);
	return err;
}

const char *xlb_opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int xlb_opt_once(struct xlb_seen *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return xlb_errf(-EINVAL, "%s given twice", name);
	if (s->n < (int)ARRAY_SIZE(s->name))
		snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", name);
	return 0;
}

void xlb_await_checks(const struct xlb_ctx *c, const struct xlb_model *old,
		      struct xlb_model *md)
{
	char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN];
	size_t i, j;

	if (!xlb_daemon_running(c->pin_dir))
		return;
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *lv = xlb_model_vip(old, &v->key);

		if (!v->checked || !lv)
			continue;
		for (j = 0; j < v->n_be; j++) {
			struct xlb_be_ent *b = &v->be[j];

			if (b->state != XLB_BE_UP || xlb_model_be(lv, &b->addr))
				continue;
			b->state = XLB_BE_DOWN;
			b->pending = true;
			xlb_vip_fmt(&v->key, vb, sizeof(vb));
			xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
			if (!c->json)
				fprintf(stderr,
					"xlb: %s of %s starts down: the daemon brings it up when its checks pass\n",
					ab, vb);
		}
	}
}
