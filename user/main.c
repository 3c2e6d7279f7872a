// SPDX-License-Identifier: GPL-2.0
/* main.c - the `xlb` command line: global options and dispatch. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cli.h"
#include "help.h"
#include "util.h"
#include "xlb.h"

#include "version.h" /* XLB_COMMIT, made by make from git */

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if ((level != LIBBPF_WARN && !xlb_verbose) || xlb_quiet_libbpf)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBXDP_WARN && !xlb_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * An option given twice is refused the same way in every command, here
 * rather than in each parser; --from is the one meant to repeat.
 */
static bool repeated_option(struct xlb_ctx *c, int argc, char **argv)
{
	int i, j;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || !argv[i][1] || !strcmp(argv[i], "--from"))
			continue;
		for (j = 1; j < i; j++)
			if (!strcmp(argv[i], argv[j])) {
				xlb_usage(c, "%s given twice", argv[i]);
				return true;
			}
	}
	return false;
}

/* `xlb CMD [SUB] --help`, or -h right after the command's words. */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") ||
		    (i <= 2 && !strcmp(argv[i], "-h")))
			return true;
	return false;
}

static int cmd_help(struct xlb_ctx *c, int argc, char **argv)
{
	char cmd[64];

	if (!argc) {
		xlb_help_usage(stdout);
		return XLB_EXIT_OK;
	}
	if (argc == 1 && !strcmp(argv[0], "--roff")) {
		xlb_help_roff(stdout);
		return XLB_EXIT_OK;
	}
	/* "vip add" if that is a command, else "vip" (argv[1] an argument). */
	if (argc > 1 && argv[1][0] != '-') {
		snprintf(cmd, sizeof(cmd), "%s %s", argv[0], argv[1]);
		if (!xlb_help_print(stdout, cmd))
			return XLB_EXIT_OK;
	}
	if (xlb_help_print(stdout, argv[0]))
		return xlb_usage(c, "help: no command '%s'", argv[0]);
	return XLB_EXIT_OK;
}

static const struct xlb_cmd commands[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "decap", cmd_decap },
	{ "vip", cmd_vip },
	{ "backend", cmd_backend },
	{ "lookup", cmd_lookup },
	{ "table", cmd_table },
	{ "simulate", cmd_simulate },
	{ "stats", cmd_stats },
	{ "status", cmd_status },
	{ "check", cmd_check },
	{ "top", cmd_top },
	{ "save", cmd_save },
	{ "restore", cmd_restore },
	{ "apply", cmd_apply },
	{ "daemon", cmd_daemon },
	{ "node", cmd_node },
	{ "help", cmd_help },
	{ NULL, NULL },
};

/* "--NAME" of the option whose getopt value is val, for messages. */
static const char *opt_name(const struct option *opts, int val)
{
	static char buf[32];

	for (; opts->name; opts++)
		if (opts->val == val)
			break;
	snprintf(buf, sizeof(buf), "--%s", opts->name ? opts->name : "?");
	return buf;
}

/*
 * --pin-dir: one directory however it is spelled with trailing slashes
 * ("DIR/" is DIR); absolute, so that its checks start from the root.
 */
static int pin_dir_arg(const char *arg, const char **out)
{
	static char buf[PATH_MAX];
	size_t n = strlen(arg);

	if (!n)
		return xlb_errf(-EINVAL, "--pin-dir needs a directory (got \"\")");
	if (arg[0] != '/')
		return xlb_errf(-EINVAL, "--pin-dir '%s': give an absolute path", arg);
	if (n >= sizeof(buf))
		return xlb_errf(-ENAMETOOLONG, "--pin-dir: path too long");
	memcpy(buf, arg, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	*out = buf;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct xlb_ctx c = { .pin_dir = XLB_PIN_DIR_DEFAULT };
	struct xlb_seen seen = { 0 };
	__u32 secs;
	int opt;

	/* '+': stop at the command so its own options reach it. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:jpvhV", opts, NULL)) != -1) {
		if (opt != '?' && opt != ':' &&
		    xlb_opt_once(&seen, opt_name(opts, opt)))
			return xlb_usage(&c, "%s", xlb_errmsg());
		switch (opt) {
		case 'd':
			if (pin_dir_arg(optarg, &c.pin_dir))
				return xlb_usage(&c, "%s", xlb_errmsg());
			break;
		case 'L':
			if (xlb_parse_u32(optarg, 0, 3600, &secs))
				return xlb_usage(&c, "invalid --lock-timeout '%s' "
						 "(want seconds, 0-3600)", optarg);
			xlb_lock_timeout_ms = (int)secs * 1000;
			break;
		case 'j':
			c.json = true;
			break;
		case 'p':
			c.json = c.pretty = true;
			break;
		case 'v':
			xlb_verbose = 1;
			break;
		case 'h':
			xlb_help_usage(stdout);
			return XLB_EXIT_OK;
		case 'V':
			printf("xlb %s (commit %s, map layout %d)\n", XLB_VERSION,
			       XLB_COMMIT, XLB_ABI);
			return XLB_EXIT_OK;
		case ':':
			return xlb_usage(&c, "%s needs a value", argv[optind - 1]);
		default:
			return xlb_usage(&c, "unknown option '%s'", argv[optind - 1]);
		}
	}
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	if (optind >= argc)
		return xlb_usage(&c, "missing command");
	if (repeated_option(&c, argc - optind, argv + optind))
		return XLB_EXIT_USAGE;
	if (wants_help(argc - optind, argv + optind))
		return cmd_help(&c, argc - optind, argv + optind);
	return xlb_dispatch(&c, commands, argc - optind, argv + optind, NULL);
}
