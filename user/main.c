// SPDX-License-Identifier: GPL-2.0
/* main.c - the `xlb` command line: global options and dispatch. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "cli.h"
#include "util.h"

#define XLB_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlb [OPTIONS] COMMAND\n"
		"OPTIONS := { --pin-dir DIR | -j|--json | -p|--pretty | -v|--verbose | -h|--help | -V|--version }\n"
		"COMMAND := {\n"
		"  attach DEV [--mode native|generic] [--seed HEX32] [--src4 ADDR] [--src6 ADDR]\n"
		"         [--flows N]\n"
		"  detach DEV\n"
		"  decap { attach DEV [--mode native|generic] | detach DEV }\n"
		"  vip add VIP [--algo ALGO] [--table-size N] [--fwd ipip|l2dsr]\n"
		"              [--src-prefix V4LEN,V6LEN]\n"
		"  vip del VIP\n"
		"  vip show [VIP] [--expect DIGEST]\n"
		"  backend add VIP ADDR [--weight W]\n"
		"  backend set VIP ADDR [--weight W] [--state up|down|drain] [--drain-timeout S]\n"
		"  backend del VIP ADDR\n"
		"  lookup VIP CLIENT [CLIENT...]\n"
		"  table VIP\n"
		"  simulate VIP CHANGE [-f FILE] [--algo ALGO]\n"
		"  stats [VIP]\n"
		"  top VIP [-n N] [--prefix LEN]     busiest client sources by flows\n"
		"  save\n"
		"  restore [--reseed] [--new-src] FILE\n"
		"  apply [--reseed] [--new-src] -f FILE\n"
		"  daemon --config FILE\n"
		"  node { show | drain [--timeout S] [--wait] | undrain }\n"
		"}\n"
		"VIP    := ADDR:PORT/PROTO   (IPv6 in brackets: [2001:db8::1]:443/tcp)\n"
		"PROTO  := tcp | udp\n"
		"ALGO   := maglev | ring | rendezvous | modulo   (default maglev)\n"
		"CHANGE := del ADDR | add ADDR [W] | weight ADDR W | state ADDR up|down|drain\n"
		"Pinned maps live in --pin-dir (default " XLB_PIN_DIR_DEFAULT ").\n");
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
	{ "top", cmd_top },
	{ "save", cmd_save },
	{ "restore", cmd_restore },
	{ "apply", cmd_apply },
	{ "daemon", cmd_daemon },
	{ "node", cmd_node },
	{ "help", cmd_help },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct xlb_ctx c = { .pin_dir = XLB_PIN_DIR_DEFAULT };
	int opt;

	/* '+': stop at the command so its own options reach it. */
	while ((opt = getopt_long(argc, argv, "+jpvhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			c.pin_dir = optarg;
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
			printf("xlb %s\n", XLB_VERSION);
			return XLB_EXIT_OK;
		default:
			usage(stderr);
			return XLB_EXIT_USAGE;
		}
	}
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	if (optind >= argc)
		return xlb_usage(&c, "missing command");
	return xlb_dispatch(&c, commands, argc - optind, argv + optind, NULL);
}
