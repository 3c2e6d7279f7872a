/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - what every `xlb` command shares: global options, exit codes,
 * error reporting at the command boundary, JSON output through json-c.
 */
#ifndef XLB_CLI_H
#define XLB_CLI_H

#include <stdbool.h>
#include <json-c/json.h>
#include "maps.h"
#include "model.h"

#define XLB_VERSION "0.2.0"

enum { XLB_EXIT_OK = 0, XLB_EXIT_FAIL = 1, XLB_EXIT_USAGE = 2 };

struct xlb_ctx {
	const char *pin_dir;
	bool json;
	bool pretty;
	/*
	 * Set when one command runs another (the daemon re-attaching): failures
	 * are recorded with xlb_errf for the caller to report, nothing printed.
	 */
	bool quiet;
};

struct xlb_cmd {
	const char *name;
	int (*fn)(struct xlb_ctx *c, int argc, char **argv);
};

/* Runs the subcommand argv[0] from cmds (what: the group, NULL at the top). */
int xlb_dispatch(struct xlb_ctx *c, const struct xlb_cmd *cmds, int argc,
		 char **argv, const char *what);

/* Prints "xlb: msg" (or {"error": msg} with -j) and returns code. */
int xlb_fail(struct xlb_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports the library's recorded error for rc; -EINVAL etc. map to 1. */
int xlb_fail_rc(struct xlb_ctx *c, int rc);
/* Usage error: message plus a hint; returns XLB_EXIT_USAGE. */
int xlb_usage(struct xlb_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints a JSON value to stdout (pretty with -p) and releases it. */
void xlb_json_print(struct xlb_ctx *c, struct json_object *o);

/* Opens and locks the maps and reads the model (for writers). */
int xlb_begin(struct xlb_ctx *c, struct xlb_maps *m, struct xlb_model *old,
	      struct xlb_model *md);

/* Looks an option's value up: "--name VALUE"; advances *i. */
const char *xlb_opt_value(int argc, char **argv, int *i);

/* The options one parse has met, to refuse any given twice. */
struct xlb_seen {
	char name[16][32];
	int n;
};

/*
 * Notes option name; -EINVAL with "NAME given twice" recorded when this
 * parse met it already (a second value would silently win otherwise).
 */
int xlb_opt_once(struct xlb_seen *s, const char *name);

/* Applies vip add options argv[from..] to v; 0 or -EINVAL. */
int xlb_vip_opts(struct xlb_vip_ent *v, int argc, char **argv, int from);

/*
 * --watch: screens refreshed every secs until SIGINT or SIGTERM, or count
 * screens (0: no end). On a terminal each screen replaces the last, as
 * top does; elsewhere screens follow each other, each after a blank line.
 */
struct xlb_watch {
	bool on;
	double secs; /* default 1 */
	__u32 count; /* 0: until a signal */
	__u32 shown;
};
/* A number of seconds for --watch (0.1-86400); false when s is not one. */
bool xlb_watch_secs(const char *s, double *out);
/* Installs the SIGINT/SIGTERM handlers that end the loop. */
void xlb_watch_begin(struct xlb_watch *w);
/* Waits out the interval; false once the loop is to end. */
bool xlb_watch_wait(struct xlb_watch *w);
/* Starts a screen: clears a terminal, else a blank line between screens. */
void xlb_watch_screen(struct xlb_watch *w);
/* Monotonic seconds. */
double xlb_watch_now(void);
int xlb_stats_watch(struct xlb_ctx *c, const struct xlb_vip_key *k,
		    struct xlb_watch *w);

/* Command groups. */
int cmd_attach(struct xlb_ctx *c, int argc, char **argv);
int cmd_detach(struct xlb_ctx *c, int argc, char **argv);
int cmd_decap(struct xlb_ctx *c, int argc, char **argv);
int cmd_vip(struct xlb_ctx *c, int argc, char **argv);
int cmd_backend(struct xlb_ctx *c, int argc, char **argv);
int cmd_lookup(struct xlb_ctx *c, int argc, char **argv);
int cmd_table(struct xlb_ctx *c, int argc, char **argv);
int cmd_simulate(struct xlb_ctx *c, int argc, char **argv);
int cmd_stats(struct xlb_ctx *c, int argc, char **argv);
int cmd_top(struct xlb_ctx *c, int argc, char **argv);
int cmd_save(struct xlb_ctx *c, int argc, char **argv);
int cmd_restore(struct xlb_ctx *c, int argc, char **argv);
int cmd_apply(struct xlb_ctx *c, int argc, char **argv);
int cmd_daemon(struct xlb_ctx *c, int argc, char **argv);
int cmd_node(struct xlb_ctx *c, int argc, char **argv);

/*
 * The node in its fleet, as `xlb node show -j` prints it: state, the
 * daemon's pid, why nothing is announced, digests, each VIP address's
 * announcement and the routes of xlb's protocol the kernel has (for
 * `xlb status`). 0 or -errno.
 */
int xlb_node_status(const char *pin_dir, struct json_object **out);
int cmd_status(struct xlb_ctx *c, int argc, char **argv);
int cmd_vip_check(struct xlb_ctx *c, int argc, char **argv);
int cmd_check(struct xlb_ctx *c, int argc, char **argv);

/*
 * Whether an `xlb daemon` runs for pin_dir (it holds the pin directory's
 * daemon guard, see instance_lock in daemon.c).
 */
bool xlb_daemon_running(const char *pin_dir);

/*
 * With the daemon running: a backend that md adds (not in old) to a VIP
 * the daemon checks waits for its checks, DOWN and pending, instead of
 * taking clients before anything has looked at it; said on stderr.
 */
void xlb_await_checks(const struct xlb_ctx *c, const struct xlb_model *old,
		      struct xlb_model *md);

#endif /* XLB_CLI_H */
