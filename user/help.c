// SPDX-License-Identifier: GPL-2.0
/*
 * help.c - every command's grammar in one table: `xlb help`, `xlb help
 * CMD`, `xlb CMD --help` and the usage text all print from it.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "help.h"
#include "xlb.h"

struct help {
	const char *cmd; /* "vip add": the words that name it */
	const char *synopsis; /* what follows the words */
	const char *what; /* one line */
	const char *opts; /* option table, or NULL */
};

static const struct help helps[] = {
	{ "attach", "DEV [--mode native|generic] [--seed HEX32] [--src4 ADDR] [--src6 ADDR] [--flows N]",
	  "load the data path onto DEV, with its maps pinned under --pin-dir",
	  "  --mode native|generic  XDP mode (default native)\n"
	  "  --seed HEX32           deployment seed: the same on every node (default random)\n"
	  "  --src4 ADDR            outer IPv4 source for encapsulation (default DEV's)\n"
	  "  --src6 ADDR            outer IPv6 source for encapsulation (default DEV's)\n"
	  "  --flows N              flow-table entries, a power of two (set when the maps are made)\n" },
	{ "detach", "DEV", "remove the data path from DEV (the maps and their state stay pinned)", NULL },
	{ "decap attach", "DEV --from PREFIX [--from PREFIX]... [--mode native|generic]",
	  "on a backend: strip the balancers' tunnels in XDP",
	  "  --from PREFIX          accept tunnels only from these sources (required; up to 16 a family)\n"
	  "  --mode native|generic  XDP mode (default native)\n" },
	{ "decap detach", "DEV", "remove the decapsulator from DEV", NULL },
	{ "decap stats", "DEV", "the decapsulator's counters", NULL },
	{ "vip add", "VIP [--algo ALGO] [--table-size N] [--fwd ipip|l2dsr] [--src-prefix V4LEN,V6LEN]",
	  "add a virtual service",
	  "  --algo ALGO              maglev (default), stable, ring, rendezvous, modulo\n"
	  "  --table-size N           slots (default 65537; a prime for maglev and stable)\n"
	  "  --fwd ipip|l2dsr         encapsulate (default) or rewrite MACs only\n"
	  "  --src-prefix V4,V6       client prefix lengths hashed (default 32,128)\n" },
	{ "vip del", "VIP", "remove a virtual service and its backends", NULL },
	{ "vip show", "[VIP] [--expect DIGEST]",
	  "VIPs, their backends, states, counters and table digests",
	  "  --expect DIGEST          exit 1 unless the VIP's (or with no VIP the node's)\n"
	  "                           digest is DIGEST: gate a rollout on agreement\n" },
	{ "vip check", "VIP [--min-up N]", "exit 0 when VIP has at least N usable backends (default 1), else 1",
	  "  --min-up N               backends that must be up\n" },
	{ "backend add", "VIP ADDR [--weight W]", "add a backend to VIP",
	  "  --weight W               share of the table, 0-65535 (default 1; 0 takes no new clients)\n" },
	{ "backend set", "VIP ADDR [--weight W] [--state up|down|drain] [--drain-timeout S]",
	  "change a backend's weight or state",
	  "  --weight W               share of the table, 0-65535\n"
	  "  --state up|down|drain    down: its clients move to their secondaries now;\n"
	  "                           drain: keeps its flows, takes no new ones\n"
	  "  --drain-timeout S        a draining backend is removed after S seconds\n" },
	{ "backend del", "VIP ADDR", "remove a backend (its clients move to their secondaries)", NULL },
	{ "lookup", "VIP CLIENT [CLIENT...]", "the backend a client's new connection reaches, and the fallback", NULL },
	{ "table", "VIP", "the VIP's live table: every slot's primary and secondary", NULL },
	{ "simulate", "VIP CHANGE [-f FILE] [--algo ALGO]",
	  "how many clients a change would move, without making it",
	  "  CHANGE := del ADDR | add ADDR [W] | weight ADDR W | state ADDR up|down|drain\n"
	  "  -f FILE                  the VIP as a configuration file says, not as it is live\n"
	  "  --algo ALGO              as if the VIP used ALGO\n" },
	{ "status", "", "the data path, the maps, the daemon and every VIP at a glance", NULL },
	{ "stats", "[VIP] [--prometheus] [--watch [SECONDS] [-n COUNT]]",
	  "counters, drops by reason, rates",
	  "  --prometheus             the Prometheus text format (node_exporter's textfile collector)\n"
	  "  --watch [SECONDS]        packets/s, bytes/s, new flows/s per VIP and backend,\n"
	  "                           refreshed in place every SECONDS (default 1)\n"
	  "  -n, --count COUNT        with --watch: stop after COUNT screens\n" },
	{ "top", "VIP [-n N] [--prefix LEN] [--watch [SECONDS] [--count COUNT]]",
	  "the busiest client sources of a VIP, by flows",
	  "  -n N                     how many (default 10)\n"
	  "  --prefix LEN             group sources by this prefix length\n"
	  "  --watch [SECONDS]        refresh in place, with new flows/s per source\n"
	  "  --count COUNT            with --watch: stop after COUNT screens\n" },
	{ "save", "[--snapshot-dir DIR] [--config FILE]",
	  "print the configuration as a file restore and apply take",
	  "  --snapshot-dir DIR       write stable VIPs' table snapshots there, so a new node\n"
	  "                           reproduces the tables byte for byte\n"
	  "  --config FILE            with FILE's checks, slow start, drain and daemon\n"
	  "                           settings: a file to replace the daemon's with\n" },
	{ "restore", "[--reseed] [--new-src] [--adopt-history] FILE", "make the state what FILE says (as apply -f)",
	  "  --reseed                 allow another seed: every client moves, pinned flows are lost\n"
	  "  --new-src                allow other outer source addresses\n"
	  "  --adopt-history          a stable VIP takes the file's table snapshot over this\n"
	  "                           node's own history when they differ (clients move)\n" },
	{ "apply", "[--reseed] [--new-src] [--adopt-history] -f FILE", "make the state what FILE says, in one commit",
	  "  --reseed                 allow another seed: every client moves, pinned flows are lost\n"
	  "  --new-src                allow other outer source addresses\n"
	  "  --adopt-history          a stable VIP takes the file's table snapshot over this\n"
	  "                           node's own history when they differ (clients move)\n" },
	{ "check", "FILE", "validate a configuration file as the daemon would (for CI and reloads)", NULL },
	{ "daemon", "--config FILE [--log-level LEVEL]",
	  "health checks, failover, draining, slow start, metrics; SIGHUP reloads FILE",
	  "  --config FILE            the configuration (xlb.conf(5))\n"
	  "  --log-level LEVEL        error, warning, notice, info or debug (default info)\n" },
	{ "node show", "", "this node's announcement and drain state", NULL },
	{ "node drain", "[--timeout S] [--wait]",
	  "withdraw every VIP's route, keep forwarding for the drain timeout",
	  "  --timeout S              forward for S seconds before reporting drained\n"
	  "                           (default the file's drain_timeout)\n"
	  "  --wait                   return once the node is drained\n" },
	{ "node undrain", "", "announce the VIPs again", NULL },
	{ "help", "[COMMAND]", "this text, or a command's", NULL },
};

static const char globals[] =
	"OPTIONS := { --pin-dir DIR | --lock-timeout S | -j|--json | -p|--pretty |\n"
	"             -v|--verbose | -h|--help | -V|--version }\n"
	"VIP     := ADDR:PORT/PROTO   (IPv6 in brackets: [2001:db8::1]:443/tcp)\n"
	"PROTO   := tcp | udp\n"
	"Pinned maps live in --pin-dir (default " XLB_PIN_DIR_DEFAULT "), a directory\n"
	"on bpffs that only root may own or write. Writers wait up to --lock-timeout\n"
	"seconds (default 5) for another xlb's lock on it.\n";

void xlb_help_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: xlb [OPTIONS] COMMAND\n       xlb help COMMAND | xlb COMMAND --help\nCOMMAND := {\n");
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		fprintf(f, "  %s %s\n", helps[i].cmd, helps[i].synopsis);
	fprintf(f, "}\n%s", globals);
}

int xlb_help_print(FILE *f, const char *cmd)
{
	size_t i, n = strlen(cmd), shown = 0;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		const struct help *h = &helps[i];

		/* "vip" shows every "vip ..." command; "vip add" just it. */
		if (strncmp(h->cmd, cmd, n) ||
		    (h->cmd[n] && h->cmd[n] != ' '))
			continue;
		fprintf(f, "%sUsage: xlb [OPTIONS] %s %s\n  %s\n", shown ? "\n" : "",
			h->cmd, h->synopsis, h->what);
		if (h->opts)
			fprintf(f, "%s", h->opts);
		shown++;
	}
	if (!shown)
		return -1;
	fprintf(f, "\n%s", globals);
	return 0;
}

/* Text for roff: a backslash doubled, a leading dot or quote escaped. */
static void roff_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void xlb_help_roff(FILE *f)
{
	const char *p, *nl;
	char line[256];
	size_t i, n;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		const struct help *h = &helps[i];

		fputs(".TP\n.B xlb ", f);
		roff_text(f, h->cmd);
		fputs(" ", f);
		roff_text(f, h->synopsis);
		fputs("\n", f);
		roff_text(f, h->what);
		fputs(".\n", f);
		/* Each "  --opt ARG   what" line of the table on a line of its own. */
		for (p = h->opts; p && (nl = strchr(p, '\n')); p = nl + 1) {
			while (*p == ' ')
				p++;
			n = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p) :
								   sizeof(line) - 1;
			memcpy(line, p, n);
			line[n] = '\0';
			fputs(".br\n", f);
			roff_text(f, line);
			fputs("\n", f);
		}
	}
}
