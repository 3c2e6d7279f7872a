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
#include "util.h"
#include "xlb.h"

#include "version.h" /* XLB_COMMIT, made by make from git */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlb [OPTIONS] COMMAND\n"
		"OPTIONS := { --pin-dir DIR | --lock-timeout S | -j|--json | -p|--pretty | -v|--verbose | -h|--help | -V|--version }\n"
		"COMMAND := {\n"
		"  attach DEV [--mode native|generic] [--seed HEX32] [--src4 ADDR] [--src6 ADDR]\n"
		"         [--flows N]\n"
		"  detach DEV\n"
		"  decap attach DEV --from PREFIX [--from PREFIX]... [--mode native|generic]\n"
		"  decap { detach DEV | stats DEV }\n"
		"  vip add VIP [--algo ALGO] [--table-size N] [--fwd ipip|l2dsr]\n"
		"              [--src-prefix V4LEN,V6LEN]\n"
		"  vip del VIP\n"
		"  vip show [VIP]\n"
		"  backend add VIP ADDR [--weight W]\n"
		"  backend set VIP ADDR [--weight W] [--state up|down|drain] [--drain-timeout S]\n"
		"  backend del VIP ADDR\n"
		"  lookup VIP CLIENT [CLIENT...]\n"
		"  table VIP\n"
		"  simulate VIP CHANGE [-f FILE] [--algo ALGO]\n"
		"  status                          data path, maps, daemon, VIPs at a glance\n"
		"  vip check VIP [--min-up N]      exit 0 when VIP has N usable backends\n"
		"  check FILE                      validate a configuration as the daemon would\n"
		"  stats [VIP] [--prometheus]\n"
		"  top VIP [-n N] [--prefix LEN]     busiest client sources by flows\n"
		"  save [--snapshot-dir DIR] [--config FILE]   FILE: the daemon's, for its checks\n"
		"  restore [--reseed] [--new-src] FILE\n"
		"  apply [--reseed] [--new-src] -f FILE\n"
		"  daemon --config FILE\n"
		"}\n"
		"VIP    := ADDR:PORT/PROTO   (IPv6 in brackets: [2001:db8::1]:443/tcp)\n"
		"PROTO  := tcp | udp\n"
		"ALGO   := maglev | ring | rendezvous | modulo   (default maglev)\n"
		"CHANGE := del ADDR | add ADDR [W] | weight ADDR W | state ADDR up|down|drain\n"
		"Pinned maps live in --pin-dir (default " XLB_PIN_DIR_DEFAULT "), a directory\n"
		"on bpffs that only root may own or write. Writers wait up to --lock-timeout\n"
		"seconds (default 5) for another xlb's lock on it.\n");
}

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

static int cmd_help(struct xlb_ctx *c, int argc, char **argv)
{
	usage(stdout);
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
			usage(stdout);
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
	return xlb_dispatch(&c, commands, argc - optind, argv + optind, NULL);
}
